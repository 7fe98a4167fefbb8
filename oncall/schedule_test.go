package oncall

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// at parses an RFC 3339 instant, e.g. "2026-03-08T07:00:00Z".
func at(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func mustDate(tb testing.TB, s string) Date {
	tb.Helper()
	d, err := ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func mustClock(tb testing.TB, s string) ClockTime {
	tb.Helper()
	c, err := ParseClockTime(s)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// rotation returns version 1 of an L1 primary rotation, in force from the
// start of time.
func rotation(tb testing.TB, id int64, zone, handoff string, length ShiftLength, start string, participants ...int64) Rotation {
	tb.Helper()
	return Rotation{
		ID: id, Version: 1, Name: fmt.Sprintf("rotation %d", id), Level: L1, Layer: Primary,
		TimeZone: zone, Handoff: mustClock(tb, handoff), ShiftLength: length,
		Start: mustDate(tb, start), Participants: participants,
	}
}

// restricted returns r limited to the daily window from start to end.
func restricted(tb testing.TB, r Rotation, start, end string, weekdays ...Weekday) Rotation {
	tb.Helper()
	r.Restrictions = append(r.Restrictions, Restriction{Weekdays: weekdays, Start: mustClock(tb, start), End: mustClock(tb, end)})
	return r
}

func mustSchedule(tb testing.TB, rotations []Rotation, overrides []Override, from, to time.Time) *Schedule {
	tb.Helper()
	s, err := NewSchedule(rotations, overrides, from, to)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// describe writes a shift on one line, for comparing and for failure
// messages.
func describe(s Shift) string {
	src := fmt.Sprintf("rotation %d", s.RotationID)
	if s.OverrideID != 0 {
		src = fmt.Sprintf("override %d", s.OverrideID)
	}
	return fmt.Sprintf("%s %s engineer %d %s..%s (%s) by %s", s.Level, s.Layer, s.EngineerID,
		s.Start.UTC().Format(time.RFC3339), s.End.UTC().Format(time.RFC3339), s.End.Sub(s.Start), src)
}

func describeAll(shifts []Shift) string {
	lines := make([]string, len(shifts))
	for i, s := range shifts {
		lines[i] = describe(s)
	}
	return strings.Join(lines, "\n")
}

// want is an expected shift of rotation or override source, on L1 primary.
type want struct {
	engineer   int64
	start, end string
	source     int64 // rotation id, or override id when override is set
	override   bool
}

func (w want) shift(tb testing.TB) Shift {
	tb.Helper()
	s := Shift{Level: L1, Layer: Primary, EngineerID: w.engineer, Start: at(tb, w.start), End: at(tb, w.end)}
	if w.override {
		s.OverrideID = w.source
	} else {
		s.RotationID = w.source
	}
	return s
}

func expectShifts(tb testing.TB, got []Shift, wants []want) {
	tb.Helper()
	expected := make([]Shift, len(wants))
	for i, w := range wants {
		expected[i] = w.shift(tb)
	}
	if g, e := describeAll(got), describeAll(expected); g != e {
		tb.Errorf("shifts:\n%s\nwant:\n%s", g, e)
	}
}

func TestShiftsAcrossDST(t *testing.T) {
	days := func(n int) ShiftLength { return ShiftLength{Days: n} }
	for _, c := range []struct {
		name     string
		rotation Rotation
		from, to string
		want     []want
	}{{
		// Clocks jump from 02:00 EST to 03:00 EDT on 2026-03-08: the
		// 02:30 hand-off happens at 03:00 EDT (07:00Z), half an hour
		// earlier than the usual 07:30Z, and the shifts on either side of
		// it last 23.5 hours.
		name:     "NewYorkDailyHandoffInSpringForwardGap",
		rotation: rotation(t, 1, "America/New_York", "02:30", days(1), "2026-03-01", 1, 2, 3),
		from:     "2026-03-07T12:00:00Z", to: "2026-03-09T12:00:00Z",
		want: []want{
			{1, "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", 1, false}, // 23.5h
			{2, "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", 1, false}, // 23.5h
			{3, "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z", 1, false},
		},
	}, {
		// Clocks go back from 02:00 EDT to 01:00 EST on 2026-11-01: 01:30
		// happens twice and the hand-off takes the first (05:30Z), so the
		// shift after it lasts 25 hours.
		name:     "NewYorkDailyHandoffAmbiguousInFallBack",
		rotation: rotation(t, 1, "America/New_York", "01:30", days(1), "2026-10-25", 1, 2, 3),
		from:     "2026-10-31T12:00:00Z", to: "2026-11-02T12:00:00Z",
		want: []want{
			{1, "2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", 1, false},
			{2, "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", 1, false}, // 25h
			{3, "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z", 1, false},
		},
	}, {
		// Twelve hours are absolute: 08:00/20:00 EST become 09:00/21:00 EDT.
		name:     "NewYorkTwelveHoursAcrossSpringForward",
		rotation: rotation(t, 1, "America/New_York", "08:00", ShiftLength{Hours: 12}, "2026-03-06", 1, 2),
		from:     "2026-03-07T12:00:00Z", to: "2026-03-09T12:00:00Z",
		want: []want{
			{2, "2026-03-07T01:00:00Z", "2026-03-07T13:00:00Z", 1, false},
			{1, "2026-03-07T13:00:00Z", "2026-03-08T01:00:00Z", 1, false},
			{2, "2026-03-08T01:00:00Z", "2026-03-08T13:00:00Z", 1, false},
			{1, "2026-03-08T13:00:00Z", "2026-03-09T01:00:00Z", 1, false},
			{2, "2026-03-09T01:00:00Z", "2026-03-09T13:00:00Z", 1, false},
		},
	}, {
		// Moscow keeps UTC+3 while Europe changes its clocks (2026-03-29).
		name:     "MoscowDailyWhileEuropeChangesClocks",
		rotation: rotation(t, 1, "Europe/Moscow", "09:00", days(1), "2026-03-01", 1, 2),
		from:     "2026-03-28T12:00:00Z", to: "2026-03-30T12:00:00Z",
		want: []want{
			{2, "2026-03-28T06:00:00Z", "2026-03-29T06:00:00Z", 1, false},
			{1, "2026-03-29T06:00:00Z", "2026-03-30T06:00:00Z", 1, false},
			{2, "2026-03-30T06:00:00Z", "2026-03-31T06:00:00Z", 1, false},
		},
	}, {
		name:     "LeapDayIsANormalDay",
		rotation: rotation(t, 1, "Europe/Moscow", "00:00", days(1), "2028-02-27", 1, 2, 3),
		from:     "2028-02-28T00:00:00Z", to: "2028-03-01T00:00:00Z",
		want: []want{
			{2, "2028-02-27T21:00:00Z", "2028-02-28T21:00:00Z", 1, false},
			{3, "2028-02-28T21:00:00Z", "2028-02-29T21:00:00Z", 1, false}, // 2028-02-29 MSK
			{1, "2028-02-29T21:00:00Z", "2028-03-01T21:00:00Z", 1, false},
		},
	}, {
		// A week starting on a Monday at 09:00 EST ends the next Monday at
		// 09:00 EDT: 167 hours.
		name:     "WeeklyAcrossSpringForward",
		rotation: rotation(t, 1, "America/New_York", "09:00", days(7), "2026-03-02", 1, 2),
		from:     "2026-03-05T00:00:00Z", to: "2026-03-12T00:00:00Z",
		want: []want{
			{1, "2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z", 1, false},
			{2, "2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z", 1, false},
		},
	}, {
		// Lord Howe Island moves its clocks by half an hour, from 02:00 to
		// 02:30, on 2026-10-04: that day's 02:15 hand-off happens at 02:30
		// and the shifts either side of it last 23h45m.
		name:     "LordHoweHalfHourSpringForward",
		rotation: rotation(t, 1, "Australia/Lord_Howe", "02:15", days(1), "2026-10-01", 1, 2),
		from:     "2026-10-03T00:00:00Z", to: "2026-10-04T00:00:00Z",
		want: []want{
			{1, "2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z", 1, false}, // 02:15 +10:30 to 02:30 +11:00
			{2, "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z", 1, false}, // 02:30 +11:00 to 02:15 +11:00
		},
	}} {
		t.Run(c.name, func(t *testing.T) {
			// A window around the query, and one far from it.
			near := mustSchedule(t, []Rotation{c.rotation}, nil, at(t, c.from).AddDate(0, 0, -10), at(t, c.to).AddDate(0, 0, 10))
			far := mustSchedule(t, []Rotation{c.rotation}, nil, at(t, "2020-01-01T00:00:00Z"), at(t, "2020-02-01T00:00:00Z"))
			for _, s := range []*Schedule{near, far} {
				got := s.Shifts(L1, at(t, c.from), at(t, c.to))
				expectShifts(t, got, c.want)
			}
		})
	}
}

func TestShiftLengthsOverAYear(t *testing.T) {
	from, to := at(t, "2026-01-01T00:00:00Z"), at(t, "2027-01-01T00:00:00Z")
	for _, c := range []struct {
		name     string
		rotation Rotation
		// lengths counts the shifts of each length within the year.
		lengths map[time.Duration]int
	}{{
		name:     "MoscowDailyAlways24Hours",
		rotation: rotation(t, 1, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2025-12-01", 1, 2),
		lengths:  map[time.Duration]int{24 * time.Hour: 366},
	}, {
		name:     "NewYorkTwelveHoursAlways12Hours",
		rotation: rotation(t, 1, "America/New_York", "08:00", ShiftLength{Hours: 12}, "2025-12-01", 1, 2),
		lengths:  map[time.Duration]int{12 * time.Hour: 731},
	}, {
		name:     "NewYorkDailyOne23AndOne25",
		rotation: rotation(t, 1, "America/New_York", "09:00", ShiftLength{Days: 1}, "2025-12-01", 1, 2),
		lengths:  map[time.Duration]int{23 * time.Hour: 1, 25 * time.Hour: 1, 24 * time.Hour: 364},
	}, {
		name:     "NewYorkWeeklyOne167AndOne169",
		rotation: rotation(t, 1, "America/New_York", "09:00", ShiftLength{Days: 7}, "2025-12-01", 1, 2),
		lengths:  map[time.Duration]int{167 * time.Hour: 1, 169 * time.Hour: 1, 168 * time.Hour: 51},
	}} {
		t.Run(c.name, func(t *testing.T) {
			s := mustSchedule(t, []Rotation{c.rotation}, nil, from, to)
			lengths := map[time.Duration]int{}
			shifts := s.Shifts(L1, from, to)
			for i, sh := range shifts {
				lengths[sh.End.Sub(sh.Start)]++
				if i > 0 && !shifts[i-1].End.Equal(sh.Start) {
					t.Errorf("shift %d does not start where the one before ends:\n%s", i, describeAll(shifts[i-1:i+1]))
				}
			}
			if fmt.Sprint(lengths) != fmt.Sprint(c.lengths) {
				t.Errorf("shift lengths %v, want %v", lengths, c.lengths)
			}
		})
	}
}

func TestFollowTheSun(t *testing.T) {
	// Moscow takes the day, 09:00-21:00 Moscow time (06:00-18:00Z all
	// year); Washington the night.
	moscow := restricted(t, rotation(t, 1, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2025-12-01", 11, 12), "09:00", "21:00")
	from, to := at(t, "2026-01-01T00:00:00Z"), at(t, "2027-01-01T00:00:00Z")
	daily := func(first, last, start, end string) []span {
		var spans []span
		for d := mustDate(t, first); d.DaysSince(mustDate(t, last)) <= 0; d = d.AddDays(1) {
			spans = append(spans, span{at(t, d.String()+"T"+start+":00Z").UnixNano(), at(t, d.String()+"T"+end+":00Z").UnixNano()})
		}
		return spans
	}
	for _, c := range []struct {
		name       string
		washington Rotation
		gaps       []span
		overlaps   []span
	}{{
		name:       "WashingtonInMoscowTime",
		washington: restricted(t, rotation(t, 2, "Europe/Moscow", "21:00", ShiftLength{Days: 1}, "2025-12-01", 21, 22), "21:00", "09:00"),
	}, {
		// 13:00-01:00 in New York is 18:00-06:00Z in winter (EST) and
		// 17:00-05:00Z in summer (EDT). US DST runs from 2026-03-08 07:00Z
		// to 2026-11-01 06:00Z, so the window starting 2026-03-08 13:00 EDT
		// is the first to claim 17:00-18:00Z (Moscow's last hour), and the
		// one starting 2026-10-31 13:00 EDT the last; the window ending
		// 2026-03-09 01:00 EDT is the first to leave 05:00-06:00Z (before
		// Moscow's 09:00) uncovered, and the one ending 2026-11-01 01:00
		// EDT (the earlier 01:00) the last.
		name:       "WashingtonInNewYorkTime",
		washington: restricted(t, rotation(t, 2, "America/New_York", "13:00", ShiftLength{Days: 1}, "2025-12-01", 21, 22), "13:00", "01:00"),
		gaps:       daily("2026-03-09", "2026-11-01", "05:00", "06:00"),
		overlaps:   daily("2026-03-08", "2026-10-31", "17:00", "18:00"),
	}} {
		t.Run(c.name, func(t *testing.T) {
			s := mustSchedule(t, []Rotation{moscow, c.washington}, nil, from, to)
			var gaps []string
			for _, g := range s.Gaps(L1, from, to) {
				gaps = append(gaps, g.Start.Format(time.RFC3339)+".."+g.End.Format(time.RFC3339))
			}
			var wantGaps []string
			for _, g := range c.gaps {
				wantGaps = append(wantGaps, timeOf(g.start).Format(time.RFC3339)+".."+timeOf(g.end).Format(time.RFC3339))
			}
			if strings.Join(gaps, "\n") != strings.Join(wantGaps, "\n") {
				t.Errorf("gaps:\n%s\nwant:\n%s", strings.Join(gaps, "\n"), strings.Join(wantGaps, "\n"))
			}
			var overlaps, wantOverlaps []string
			for _, o := range s.Overlaps(L1, from, to) {
				overlaps = append(overlaps, fmt.Sprintf("%s %s..%s %v", o.Layer, o.Start.Format(time.RFC3339), o.End.Format(time.RFC3339), o.RotationIDs))
			}
			for _, o := range c.overlaps {
				wantOverlaps = append(wantOverlaps, fmt.Sprintf("primary %s..%s [1 2]", timeOf(o.start).Format(time.RFC3339), timeOf(o.end).Format(time.RFC3339)))
			}
			if strings.Join(overlaps, "\n") != strings.Join(wantOverlaps, "\n") {
				t.Errorf("overlaps:\n%s\nwant:\n%s", strings.Join(overlaps, "\n"), strings.Join(wantOverlaps, "\n"))
			}
			// Where both claim an hour, Moscow (the lower id) has it.
			for _, o := range c.overlaps {
				if sh, ok := s.OnCall(L1, Primary, timeOf(o.start)); !ok || sh.RotationID != 1 {
					t.Errorf("OnCall(%s) = %s, %t; want rotation 1", timeOf(o.start), describe(sh), ok)
				}
			}
		})
	}
}

func TestRestrictionWeekdays(t *testing.T) {
	// Office hours in Moscow on weekdays, and Friday evening to Saturday
	// morning.
	r := rotation(t, 1, "Europe/Moscow", "09:00", ShiftLength{Days: 7}, "2026-05-04", 5)
	r = restricted(t, r, "09:00", "18:00", 1, 2, 3, 4, 5)
	r = restricted(t, r, "18:00", "09:00", 5)
	s := mustSchedule(t, []Rotation{r}, nil, at(t, "2026-05-01T00:00:00Z"), at(t, "2026-06-01T00:00:00Z"))
	// Monday 2026-05-11 to Monday 2026-05-18 (Moscow is UTC+3).
	got := s.Shifts(L1, at(t, "2026-05-11T00:00:00Z"), at(t, "2026-05-18T00:00:00Z"))
	expectShifts(t, got, []want{
		{5, "2026-05-11T06:00:00Z", "2026-05-11T15:00:00Z", 1, false},
		{5, "2026-05-12T06:00:00Z", "2026-05-12T15:00:00Z", 1, false},
		{5, "2026-05-13T06:00:00Z", "2026-05-13T15:00:00Z", 1, false},
		{5, "2026-05-14T06:00:00Z", "2026-05-14T15:00:00Z", 1, false},
		{5, "2026-05-15T06:00:00Z", "2026-05-16T06:00:00Z", 1, false}, // Friday 09:00 to Saturday 09:00
	})
}

func TestRotationVersions(t *testing.T) {
	edit := at(t, "2026-02-10T12:00:00Z") // in the middle of a 06:00Z-06:00Z shift
	v1 := rotation(t, 5, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2026-01-01", 1, 2, 3)
	v1.EffectiveFrom = at(t, "2026-01-01T00:00:00Z")
	v2 := rotation(t, 5, "Europe/Moscow", "10:00", ShiftLength{Days: 1}, "2026-02-11", 7, 8)
	v2.Version, v2.EffectiveFrom = 2, edit
	closed := v1
	closed.EffectiveTo = &edit
	from, to := at(t, "2026-01-01T00:00:00Z"), at(t, "2026-04-01T00:00:00Z")
	onlyV1 := mustSchedule(t, []Rotation{v1}, nil, from, to)
	onlyV2 := mustSchedule(t, []Rotation{v2}, nil, from, to)

	for _, c := range []struct {
		name     string
		versions []Rotation
	}{
		{"FirstVersionClosedByTheStore", []Rotation{closed, v2}},
		{"FirstVersionOpenEnded", []Rotation{v1, v2}},
		{"VersionsInAnyOrder", []Rotation{v2, closed}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := mustSchedule(t, c.versions, nil, from, to)
			before := s.Shifts(L1, from, edit)
			wantBefore := onlyV1.Shifts(L1, from, edit)
			wantBefore[len(wantBefore)-1].End = edit // the shift in progress ends with its version
			if describeAll(before) != describeAll(wantBefore) {
				t.Errorf("before the edit:\n%s\nwant:\n%s", describeAll(before), describeAll(wantBefore))
			}
			// Version 2 starts its shifts on 2026-02-11 at 10:00 Moscow:
			// nobody is on call from the edit until then.
			firstV2 := at(t, "2026-02-11T07:00:00Z")
			if gaps := s.Gaps(L1, edit, to); len(gaps) != 1 || !gaps[0].Start.Equal(edit) || !gaps[0].End.Equal(firstV2) {
				t.Errorf("gaps after the edit = %v, want one from %s to %s", gaps, edit, firstV2)
			}
			after := s.Shifts(L1, firstV2, to)
			if want := onlyV2.Shifts(L1, firstV2, to); describeAll(after) != describeAll(want) {
				t.Errorf("after the edit:\n%s\nwant:\n%s", describeAll(after), describeAll(want))
			}
		})
	}

	t.Run("EngineerOnCallAcrossTheEditKeepsOneShift", func(t *testing.T) {
		// Version 2 changes the participants, but shift 40 (2026-02-10)
		// goes to engineer 2 in both: engineer 2 stays on call from the
		// hand-off before the edit to the one after it.
		same := v1
		same.Version, same.EffectiveFrom, same.Participants = 2, edit, []int64{2, 5, 6, 7}
		s := mustSchedule(t, []Rotation{closed, same}, nil, from, to)
		sh, ok := s.OnCall(L1, Primary, edit)
		if w := (want{2, "2026-02-10T06:00:00Z", "2026-02-11T06:00:00Z", 5, false}).shift(t); !ok || describe(sh) != describe(w) {
			t.Errorf("OnCall at the edit = %s, %t; want %s", describe(sh), ok, describe(w))
		}
	})
}

func TestOverrides(t *testing.T) {
	// Moscow, 09:00 hand-off (06:00Z): engineer 1 on 2026-05-10, 2 on the
	// 11th, 1 on the 12th.
	r := rotation(t, 1, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2026-05-02", 1, 2)
	lunch := Override{ID: 40, Level: L1, Layer: Primary, EngineerID: 9, Start: at(t, "2026-05-10T09:00:00Z"), End: at(t, "2026-05-10T12:00:00Z")}
	handoff := Override{ID: 41, Level: L1, Layer: Primary, EngineerID: 8, Start: at(t, "2026-05-12T05:00:00Z"), End: at(t, "2026-05-12T07:00:00Z")}
	secondary := Override{ID: 42, Level: L1, Layer: Secondary, EngineerID: 7, Start: at(t, "2026-05-10T00:00:00Z"), End: at(t, "2026-05-14T00:00:00Z")}
	sameEngineer := Override{ID: 43, Level: L1, Layer: Primary, EngineerID: 1, Start: at(t, "2026-05-14T06:00:00Z"), End: at(t, "2026-05-14T08:00:00Z")}
	shadowed := Override{ID: 44, Level: L1, Layer: Primary, EngineerID: 6, Start: at(t, "2026-05-10T11:00:00Z"), End: at(t, "2026-05-10T13:00:00Z")}
	overrides := []Override{shadowed, sameEngineer, secondary, handoff, lunch}
	from, to := at(t, "2026-05-01T00:00:00Z"), at(t, "2026-06-01T00:00:00Z")
	s := mustSchedule(t, []Rotation{r}, overrides, from, to)
	outside := mustSchedule(t, []Rotation{r}, overrides, from.AddDate(1, 0, 0), to.AddDate(1, 0, 0))

	for _, c := range []struct {
		name string
		at   string
		want want
	}{
		{"OverrideWins", "2026-05-10T10:00:00Z", want{9, "2026-05-10T09:00:00Z", "2026-05-10T12:00:00Z", 40, true}},
		{"RotationBeforeOverrideEndsAtItsStart", "2026-05-10T07:00:00Z", want{1, "2026-05-10T06:00:00Z", "2026-05-10T09:00:00Z", 1, false}},
		{"LowerOverrideIDWinsWhereOverridesOverlap", "2026-05-10T11:30:00Z", want{9, "2026-05-10T09:00:00Z", "2026-05-10T12:00:00Z", 40, true}},
		{"OverlappingOverrideHasTheRest", "2026-05-10T12:30:00Z", want{6, "2026-05-10T12:00:00Z", "2026-05-10T13:00:00Z", 44, true}},
		{"RotationResumesAfterOverride", "2026-05-10T13:00:00Z", want{1, "2026-05-10T13:00:00Z", "2026-05-11T06:00:00Z", 1, false}},
		{"OverrideAcrossHandoff", "2026-05-12T06:30:00Z", want{8, "2026-05-12T05:00:00Z", "2026-05-12T07:00:00Z", 41, true}},
		{"ShiftBeforeHandoffOverride", "2026-05-11T12:00:00Z", want{2, "2026-05-11T06:00:00Z", "2026-05-12T05:00:00Z", 1, false}},
		{"ShiftAfterHandoffOverride", "2026-05-12T07:00:00Z", want{1, "2026-05-12T07:00:00Z", "2026-05-13T06:00:00Z", 1, false}},
		{"OverrideOfTheRotationsOwnEngineerStaysAShiftOfItsOwn", "2026-05-14T07:00:00Z", want{1, "2026-05-14T06:00:00Z", "2026-05-14T08:00:00Z", 43, true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, sched := range []*Schedule{s, outside} {
				got, ok := sched.OnCall(L1, Primary, at(t, c.at))
				if w := c.want.shift(t); !ok || describe(got) != describe(w) {
					t.Errorf("OnCall(%s) = %s, %t; want %s", c.at, describe(got), ok, describe(w))
				}
			}
		})
	}

	t.Run("OverrideOnAnotherLayer", func(t *testing.T) {
		got, ok := s.OnCall(L1, Secondary, at(t, "2026-05-12T00:00:00Z"))
		w := Shift{Level: L1, Layer: Secondary, EngineerID: 7, Start: secondary.Start, End: secondary.End, OverrideID: 42}
		if !ok || describe(got) != describe(w) {
			t.Errorf("OnCall(secondary) = %s, %t; want %s", describe(got), ok, describe(w))
		}
		if _, ok := s.OnCall(L1, Secondary, at(t, "2026-05-14T00:00:00Z")); ok {
			t.Errorf("OnCall(secondary) after the override found someone")
		}
	})
}

func TestRotationPrecedence(t *testing.T) {
	// Rotation 3 covers every day; rotation 2 only Moscow office hours,
	// where it outranks rotation 3.
	all := rotation(t, 3, "Europe/Moscow", "00:00", ShiftLength{Days: 1}, "2026-01-01", 30)
	office := restricted(t, rotation(t, 2, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2026-01-01", 20), "09:00", "18:00")
	from, to := at(t, "2026-01-05T00:00:00Z"), at(t, "2026-01-06T00:00:00Z")
	s := mustSchedule(t, []Rotation{all, office}, nil, from, to)
	expectShifts(t, s.Shifts(L1, from, to), []want{
		{30, "2026-01-04T15:00:00Z", "2026-01-05T06:00:00Z", 3, false},
		{20, "2026-01-05T06:00:00Z", "2026-01-05T15:00:00Z", 2, false},
		{30, "2026-01-05T15:00:00Z", "2026-01-06T06:00:00Z", 3, false},
	})
	overlaps := s.Overlaps(L1, from, to)
	if len(overlaps) != 1 || fmt.Sprint(overlaps[0].RotationIDs) != "[2 3]" ||
		!overlaps[0].Start.Equal(at(t, "2026-01-05T06:00:00Z")) || !overlaps[0].End.Equal(at(t, "2026-01-05T15:00:00Z")) {
		t.Errorf("overlaps = %+v, want rotations 2 and 3 from 06:00Z to 15:00Z", overlaps)
	}
	overlaps[0].RotationIDs[0] = 99 // callers own what they get
	if again := s.Overlaps(L1, from, to); again[0].RotationIDs[0] != 2 {
		t.Errorf("changing a returned overlap changed the schedule")
	}
}

func TestOneEngineerRotation(t *testing.T) {
	r := rotation(t, 1, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2026-01-01", 5)
	r.EffectiveFrom = at(t, "2025-12-01T00:00:00Z")
	ended := r
	end := at(t, "2026-07-01T00:00:00Z")
	ended.EffectiveTo = &end
	override := Override{ID: 1, Level: L1, Layer: Primary, EngineerID: 6, Start: at(t, "2026-03-01T00:00:00Z"), End: at(t, "2026-03-02T00:00:00Z")}
	from, to := at(t, "2026-02-04T00:00:00Z"), at(t, "2026-02-04T12:00:00Z") // a Wednesday
	first := "2026-01-01T06:00:00Z"
	forever := "2262-01-01T00:00:00Z"
	for _, c := range []struct {
		name      string
		rotation  Rotation
		overrides []Override
		want      []want
	}{
		{"OpenEndedIsOneShiftForEver", r, nil, []want{{5, first, forever, 1, false}}},
		{"EndedRotationEndsTheShift", ended, nil, []want{{5, first, "2026-07-01T00:00:00Z", 1, false}}},
		{"OverrideSplitsIt", r, []Override{override}, []want{{5, first, "2026-03-01T00:00:00Z", 1, false}}},
		{"RestrictionsCoveringTheWholeWeekChangeNothing",
			restricted(t, restricted(t, r, "09:00", "21:00"), "21:00", "09:00"), nil, []want{{5, first, forever, 1, false}}},
		{"RestrictionsCutIt", restricted(t, r, "09:00", "21:00"), nil, []want{{5, "2026-02-04T06:00:00Z", "2026-02-04T18:00:00Z", 1, false}}},
		{"RepeatedParticipantMakesOneLongShift", // weeks 5 to 7 of 2026 all go to engineer 5
			func() Rotation {
				w := r
				w.ShiftLength, w.Participants = ShiftLength{Days: 7}, []int64{5, 5, 5, 6}
				return w
			}(),
			nil, []want{{5, "2026-01-29T06:00:00Z", "2026-02-19T06:00:00Z", 1, false}}},
		{"WholeWeekdaysMakeOneShiftAWeek", // Monday 2026-02-02 09:00 to Saturday 09:00
			restricted(t, r, "09:00", "09:00", 1, 2, 3, 4, 5), nil, []want{{5, "2026-02-02T06:00:00Z", "2026-02-07T06:00:00Z", 1, false}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, window := range [][2]time.Time{{from, to}, {from.AddDate(2, 0, 0), to.AddDate(2, 0, 0)}} {
				s := mustSchedule(t, []Rotation{c.rotation}, c.overrides, window[0], window[1])
				got := s.Shifts(L1, from, to)
				expectShifts(t, got, c.want)
				if len(got) > 0 && got[0].OpenEnded() != (c.want[0].end == forever) {
					t.Errorf("OpenEnded() = %t", got[0].OpenEnded())
				}
			}
		})
	}
}

// agreementScenario is a level with follow-the-sun on the primary layer,
// an edited rotation on the secondary, and overrides on both.
func agreementScenario(tb testing.TB) ([]Rotation, []Override) {
	moscow := restricted(tb, rotation(tb, 1, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2026-01-01", 11, 12, 13), "09:00", "21:00")
	washington := restricted(tb, rotation(tb, 2, "America/New_York", "13:00", ShiftLength{Days: 2}, "2026-01-01", 21, 22), "13:00", "01:00", 1, 2, 3, 4, 5)
	second := rotation(tb, 3, "Australia/Lord_Howe", "02:15", ShiftLength{Hours: 30}, "2026-01-01", 31, 32, 32, 33)
	second.Layer = Secondary
	edited := second
	edited.Version, edited.EffectiveFrom, edited.Participants = 2, at(tb, "2026-06-03T10:20:00Z"), []int64{33, 34}
	overrides := []Override{
		{ID: 1, Level: L1, Layer: Primary, EngineerID: 40, Start: at(tb, "2026-06-02T04:00:00Z"), End: at(tb, "2026-06-02T09:00:00Z")},
		{ID: 2, Level: L1, Layer: Secondary, EngineerID: 41, Start: at(tb, "2026-06-04T00:00:00Z"), End: at(tb, "2026-06-09T00:00:00Z")},
		{ID: 3, Level: L1, Layer: Primary, EngineerID: 42, Start: at(tb, "2026-06-07T20:00:00Z"), End: at(tb, "2026-06-08T20:00:00Z")},
	}
	return []Rotation{moscow, washington, second, edited}, overrides
}

func TestInsideAndOutsideWindowAgree(t *testing.T) {
	rotations, overrides := agreementScenario(t)
	windows := map[string][2]string{
		"Wide":   {"2025-01-01T00:00:00Z", "2028-01-01T00:00:00Z"},
		"Narrow": {"2026-06-03T00:00:00Z", "2026-06-05T00:00:00Z"},
		"Empty":  {"2026-06-04T00:00:00Z", "2026-06-04T00:00:00Z"},
		"Far":    {"2030-01-01T00:00:00Z", "2030-02-01T00:00:00Z"},
	}
	schedules := map[string]*Schedule{}
	for name, w := range windows {
		schedules[name] = mustSchedule(t, rotations, overrides, at(t, w[0]), at(t, w[1]))
	}
	reference := schedules["Wide"]
	start := at(t, "2026-05-28T00:00:00Z")
	for name, s := range schedules {
		t.Run(name, func(t *testing.T) {
			for m := 0; m < 20*24*60; m += 17 {
				when := start.Add(time.Duration(m) * time.Minute)
				for _, layer := range Layers {
					got, gotOK := s.OnCall(L1, layer, when)
					want, wantOK := reference.OnCall(L1, layer, when)
					if gotOK != wantOK || describe(got) != describe(want) {
						t.Fatalf("OnCall(%s, %s) = %s, %t; wide window gives %s, %t", layer, when, describe(got), gotOK, describe(want), wantOK)
					}
				}
			}
			for _, r := range [][2]string{
				{"2026-06-03T00:00:00Z", "2026-06-05T00:00:00Z"},
				{"2026-06-03T07:00:00Z", "2026-06-03T07:00:01Z"},
				{"2026-06-01T00:00:00Z", "2026-06-10T00:00:00Z"},
				{"2026-06-04T12:00:00Z", "2026-06-06T00:00:00Z"},
			} {
				from, to := at(t, r[0]), at(t, r[1])
				if got, want := describeAll(s.Shifts(L1, from, to)), describeAll(reference.Shifts(L1, from, to)); got != want {
					t.Errorf("Shifts(%s..%s):\n%s\nwide window gives:\n%s", r[0], r[1], got, want)
				}
				if got, want := fmt.Sprint(s.Gaps(L1, from, to)), fmt.Sprint(reference.Gaps(L1, from, to)); got != want {
					t.Errorf("Gaps(%s..%s) = %s; wide window gives %s", r[0], r[1], got, want)
				}
				if got, want := fmt.Sprint(s.Overlaps(L1, from, to)), fmt.Sprint(reference.Overlaps(L1, from, to)); got != want {
					t.Errorf("Overlaps(%s..%s) = %s; wide window gives %s", r[0], r[1], got, want)
				}
			}
		})
	}
}

func TestOnCallInsideWindowDoesNotAllocate(t *testing.T) {
	rotations, overrides := agreementScenario(t)
	s := mustSchedule(t, rotations, overrides, at(t, "2026-01-01T00:00:00Z"), at(t, "2027-01-01T00:00:00Z"))
	when := at(t, "2026-06-03T12:34:56Z")
	if _, ok := s.OnCall(L1, Primary, when); !ok {
		t.Fatal("nobody on call")
	}
	if allocs := testing.AllocsPerRun(100, func() { s.OnCall(L1, Primary, when) }); allocs != 0 {
		t.Errorf("OnCall allocates %v times", allocs)
	}
}

func TestNewScheduleRejectsAnUnknownZone(t *testing.T) {
	r := rotation(t, 1, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2026-01-01", 1)
	r.TimeZone = "Mars/Olympus_Mons"
	if _, err := NewSchedule([]Rotation{r}, nil, at(t, "2026-01-01T00:00:00Z"), at(t, "2026-02-01T00:00:00Z")); err == nil {
		t.Error("NewSchedule accepted a rotation in an unknown zone")
	}
}

func TestQueriesOutsideWhatTheScheduleRepresents(t *testing.T) {
	r := rotation(t, 1, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2026-01-01", 1, 2)
	s := mustSchedule(t, []Rotation{r}, nil, at(t, "2026-01-01T00:00:00Z"), at(t, "2026-02-01T00:00:00Z"))
	for _, c := range []struct {
		name  string
		level Level
		layer Layer
		at    time.Time
	}{
		{"BeforeTheRotation", L1, Primary, at(t, "2025-06-01T00:00:00Z")},
		{"Year2300", L1, Primary, at(t, "2300-01-01T00:00:00Z")},
		{"ZeroTime", L1, Primary, time.Time{}},
		{"UnknownLevel", Level(7), Primary, at(t, "2026-01-10T00:00:00Z")},
		{"UnknownLayer", L1, Layer(0), at(t, "2026-01-10T00:00:00Z")},
	} {
		t.Run(c.name, func(t *testing.T) {
			if sh, ok := s.OnCall(c.level, c.layer, c.at); ok {
				t.Errorf("OnCall found %s", describe(sh))
			}
		})
	}
	if got := s.Shifts(Level(0), at(t, "2026-01-01T00:00:00Z"), at(t, "2026-01-02T00:00:00Z")); got == nil || len(got) != 0 {
		t.Errorf("Shifts of an unknown level = %#v, want an empty list", got)
	}
}

func TestScheduleIsSafeForConcurrentUse(t *testing.T) {
	rotations, overrides := agreementScenario(t)
	s := mustSchedule(t, rotations, overrides, at(t, "2026-06-01T00:00:00Z"), at(t, "2026-06-10T00:00:00Z"))
	start := at(t, "2026-05-25T00:00:00Z")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range 24 * 20 {
				when := start.Add(time.Duration(h)*time.Hour + time.Duration(g)*time.Minute)
				s.OnCall(L1, Primary, when)
				s.Shifts(L1, when, when.Add(time.Hour))
				s.Gaps(L1, when, when.Add(3*time.Hour))
			}
		}()
	}
	wg.Wait()
}

func TestScheduleKeepsNoReferenceToItsInput(t *testing.T) {
	r := restricted(t, rotation(t, 1, "Europe/Moscow", "09:00", ShiftLength{Days: 1}, "2026-01-01", 1, 2), "09:00", "21:00", 1, 2, 3, 4, 5)
	s := mustSchedule(t, []Rotation{r}, nil, at(t, "2026-01-01T00:00:00Z"), at(t, "2026-02-01T00:00:00Z"))
	outside := at(t, "2026-03-02T12:00:00Z") // a Monday, after the window
	before, _ := s.OnCall(L1, Primary, outside)
	r.Participants[0], r.Participants[1] = 8, 9
	r.Restrictions[0].Weekdays[0] = 0
	after, _ := s.OnCall(L1, Primary, outside)
	if describe(after) != describe(before) {
		t.Errorf("OnCall changed from %s to %s when the caller changed its rotation", describe(before), describe(after))
	}
}
