// Package demo owns the demo team and the demo tickets that `ivr serve
// --demo` seeds into an empty store so that a newcomer sees real answers at
// once. It goes through the on-call service and the ticket store like any
// admin would, so the data is validated and audited; it imports no
// transport or database package.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// Actor names the seeding in the audit log.
const Actor = "demo"

// Engineer is one member of the demo team.
type Engineer struct {
	Name  string
	Level oncall.Level
	City  string // Moscow or Washington
	Phone string // from the range the North American plan reserves for fiction
}

// Team is the demo team: at each level two engineers in Moscow and two in
// Washington. Every engineer speaks Russian and English, as the support page
// promises. Phone numbers are +1 202 555 01xx, reserved for fiction.
var Team = []Engineer{
	{"Anna Smirnova", oncall.L1, "Moscow", "+12025550101"},
	{"Dmitry Volkov", oncall.L1, "Moscow", "+12025550102"},
	{"Emily Carter", oncall.L1, "Washington", "+12025550103"},
	{"James Miller", oncall.L1, "Washington", "+12025550104"},
	{"Olga Petrova", oncall.L2, "Moscow", "+12025550121"},
	{"Sergey Ivanov", oncall.L2, "Moscow", "+12025550122"},
	{"Michael Brown", oncall.L2, "Washington", "+12025550123"},
	{"Sarah Davis", oncall.L2, "Washington", "+12025550124"},
	{"Ivan Kuznetsov", oncall.L3, "Moscow", "+12025550131"},
	{"Elena Sokolova", oncall.L3, "Moscow", "+12025550132"},
	{"Robert Wilson", oncall.L3, "Washington", "+12025550133"},
	{"Linda Moore", oncall.L3, "Washington", "+12025550134"},
}

// NameOf is the name of the demo engineer whose phone number is number;
// "" for any other number (the fake Twilio's console names the phones it
// rings with it).
func NameOf(number string) string {
	for _, e := range Team {
		if e.Phone == number {
			return e.Name
		}
	}
	return ""
}

// Start is the date the demo rotations begin (a Monday).
var Start = oncall.Date{Year: 2026, Month: time.January, Day: 5}

func zoneOf(city string) string {
	if city == "Moscow" {
		return "Europe/Moscow"
	}
	return "America/New_York"
}

// Seed adds the demo team to svc unless it already has engineers, in which
// case it does nothing and reports seeded=false. Per level it creates:
//   - primary, follow the sun: "Moscow day" 09:00–21:00 Europe/Moscow,
//     handing off daily at 09:00 between the Moscow pair, and "Washington
//     night" 21:00–09:00 Europe/Moscow (the complement, so that US daylight
//     saving time opens no gap), handing off daily at 21:00;
//   - secondary: a weekly rotation of all four, handing off Mondays at
//     10:00 Europe/Moscow.
//
// The escalation policies stay at their defaults.
func Seed(ctx context.Context, svc *oncall.Service) (seeded bool, err error) {
	existing, err := svc.Engineers(ctx)
	if err != nil {
		return false, err
	}
	if len(existing) > 0 {
		return false, nil
	}
	byLevelCity := map[oncall.Level]map[string][]int64{}
	for _, d := range Team {
		e, err := svc.CreateEngineer(ctx, Actor, oncall.Engineer{
			Name:      d.Name,
			Level:     d.Level,
			Languages: []oncall.Language{oncall.Russian, oncall.English},
			TimeZone:  zoneOf(d.City),
			Contacts:  []oncall.ContactMethod{{Phone: d.Phone, SMS: true}},
		})
		if err != nil {
			return false, fmt.Errorf("seed engineer %s: %w", d.Name, err)
		}
		if byLevelCity[d.Level] == nil {
			byLevelCity[d.Level] = map[string][]int64{}
		}
		byLevelCity[d.Level][d.City] = append(byLevelCity[d.Level][d.City], e.ID)
	}
	moscow, err := oncall.LoadZone("Europe/Moscow")
	if err != nil {
		return false, err
	}
	from := Start.At(0, moscow)
	for _, level := range oncall.Levels {
		m, w := byLevelCity[level]["Moscow"], byLevelCity[level]["Washington"]
		rotations := []oncall.Rotation{
			{
				Name: fmt.Sprintf("%s Moscow day", level), Level: level, Layer: oncall.Primary,
				TimeZone: "Europe/Moscow", Handoff: 9 * 60, ShiftLength: oncall.ShiftLength{Days: 1},
				Start: Start, Participants: m,
				Restrictions: []oncall.Restriction{{Start: 9 * 60, End: 21 * 60}},
			},
			{
				Name: fmt.Sprintf("%s Washington night", level), Level: level, Layer: oncall.Primary,
				TimeZone: "Europe/Moscow", Handoff: 21 * 60, ShiftLength: oncall.ShiftLength{Days: 1},
				Start: Start, Participants: w,
				Restrictions: []oncall.Restriction{{Start: 21 * 60, End: 9 * 60}},
			},
			{
				Name: fmt.Sprintf("%s secondary", level), Level: level, Layer: oncall.Secondary,
				TimeZone: "Europe/Moscow", Handoff: 10 * 60, ShiftLength: oncall.ShiftLength{Days: 7},
				Start: Start, Participants: append(append([]int64{}, m...), w...),
			},
		}
		for _, r := range rotations {
			r.EffectiveFrom = from
			if _, err := svc.CreateRotation(ctx, Actor, r); err != nil {
				return false, fmt.Errorf("seed rotation %s: %w", r.Name, err)
			}
		}
	}
	return true, nil
}
