package team

import (
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// now is the tests' present: Tuesday 1 December 2026, 15:00 UTC.
var now = time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)

func tp(t time.Time) *time.Time { return &t }

// fixture is a small stored team at now: three engineers, a rotation in
// force with a version to come, one that has not started, an override in
// progress, one to come and one of the past, and an edited policy.
func fixture() (State, time.Time) {
	created := now.Add(-90 * 24 * time.Hour)
	anna := oncall.Engineer{ID: 1, Name: "Anna Smirnova", Level: oncall.L1, Languages: []oncall.Language{oncall.Russian, oncall.English},
		TimeZone: "Europe/Moscow", Contacts: []oncall.ContactMethod{{Phone: "+12025550101", SMS: true}}, CreatedAt: created}
	james := oncall.Engineer{ID: 2, Name: "James Miller", Level: oncall.L1, Languages: []oncall.Language{oncall.English},
		TimeZone: "America/New_York", Contacts: []oncall.ContactMethod{{Phone: "+12025550104"}, {Phone: "+12025550105", SMS: true, Unverified: true}}, CreatedAt: created}
	olga := oncall.Engineer{ID: 4, Name: "Olga Petrova", Level: oncall.L2, Languages: []oncall.Language{oncall.Russian},
		TimeZone: "Europe/Moscow", Contacts: []oncall.ContactMethod{{Phone: "+79161234567", SMS: true}}, CreatedAt: created}
	day := oncall.Rotation{ID: 1, Name: "L1 Moscow day", Level: oncall.L1, Layer: oncall.Primary, TimeZone: "Europe/Moscow",
		Handoff: 9 * 60, ShiftLength: oncall.ShiftLength{Days: 1}, Start: oncall.Date{Year: 2026, Month: 9, Day: 1},
		Participants: []int64{1, 2}, Restrictions: []oncall.Restriction{{Start: 9 * 60, End: 21 * 60}}}
	v1 := day
	v1.Version, v1.EffectiveFrom, v1.EffectiveTo = 1, now.Add(-60*24*time.Hour), tp(now.Add(-30*24*time.Hour))
	v2 := day
	v2.Version, v2.EffectiveFrom, v2.EffectiveTo = 2, now.Add(-30*24*time.Hour), tp(now.Add(7*24*time.Hour))
	v2.Participants = []int64{2, 1}
	v3 := day
	v3.Version, v3.EffectiveFrom = 3, now.Add(7*24*time.Hour)
	v3.Restrictions = []oncall.Restriction{{Weekdays: []oncall.Weekday{1, 2, 3, 4, 5}, Start: 9 * 60, End: 21 * 60}}
	l2 := oncall.Rotation{ID: 2, Version: 1, Name: "L2 weekly", Level: oncall.L2, Layer: oncall.Secondary, TimeZone: "Europe/Moscow",
		Handoff: 10 * 60, ShiftLength: oncall.ShiftLength{Hours: 12}, Start: oncall.Date{Year: 2027, Month: 1, Day: 4},
		Participants: []int64{4}, EffectiveFrom: now.Add(30 * 24 * time.Hour), EffectiveTo: tp(now.Add(200 * 24 * time.Hour))}
	ended := oncall.Rotation{ID: 3, Version: 1, Name: "old", Level: oncall.L3, Layer: oncall.Primary, TimeZone: "UTC",
		Handoff: 0, ShiftLength: oncall.ShiftLength{Days: 7}, Start: oncall.Date{Year: 2026, Month: 1, Day: 5},
		Participants: []int64{4}, EffectiveFrom: now.Add(-300 * 24 * time.Hour), EffectiveTo: tp(now.Add(-24 * time.Hour))}
	past := oncall.Override{ID: 1, Level: oncall.L1, Layer: oncall.Primary, EngineerID: 2,
		Start: now.Add(-48 * time.Hour), End: now.Add(-40 * time.Hour), CreatedAt: created}
	inProgress := oncall.Override{ID: 2, Level: oncall.L1, Layer: oncall.Primary, EngineerID: 1,
		Start: now.Add(-2 * time.Hour), End: now.Add(6 * time.Hour), Reason: "swap with James", CreatedAt: created}
	future := oncall.Override{ID: 3, Level: oncall.L2, Layer: oncall.Secondary, EngineerID: 4,
		Start: now.Add(48 * time.Hour), End: now.Add(60 * time.Hour), CreatedAt: created}
	pols := make([]oncall.Policy, 0, 4)
	for _, p := range oncall.Priorities {
		pols = append(pols, oncall.DefaultPolicy(p))
	}
	pols[3] = oncall.Policy{Priority: oncall.Low, Deadline: oncall.Duration(24 * time.Hour), UpdatedAt: created,
		Steps: []oncall.Step{{Level: oncall.L1, Channels: []oncall.Channel{oncall.SMS}, Delay: oncall.Duration(time.Hour)}}}
	return State{
		Engineers: []oncall.Engineer{anna, james, olga},
		Rotations: []oncall.Rotation{v1, v2, v3, l2, ended},
		Overrides: []oncall.Override{past, inProgress, future},
		Policies:  pols,
	}, now
}
