package oncall

import (
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
)

// ClockTime is a time of day, minutes after midnight (0 to 1439), written
// "HH:MM".
type ClockTime int

// ParseClockTime accepts "HH:MM" on a 24-hour clock.
func ParseClockTime(s string) (ClockTime, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil || len(strings.TrimSpace(s)) != 5 {
		return 0, fmt.Errorf("%q is not a time of day in 24-hour HH:MM form", s)
	}
	return ClockTime(t.Hour()*60 + t.Minute()), nil
}

// Hour and Minute split c.
func (c ClockTime) Hour() int   { return int(c) / 60 }
func (c ClockTime) Minute() int { return int(c) % 60 }

func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", c.Hour(), c.Minute()) }

func (c ClockTime) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

func (c *ClockTime) UnmarshalText(b []byte) error {
	v, err := ParseClockTime(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Date is a calendar date with no zone, written "YYYY-MM-DD".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate accepts "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in YYYY-MM-DD form", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns d moved by n calendar days.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// DaysSince returns the number of calendar days from e to d.
func (d Date) DaysSince(e Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
	b := time.Date(e.Year, e.Month, e.Day, 12, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Round(24*time.Hour) / (24 * time.Hour))
}

// At returns the instant at which the wall clock in loc shows d at c.
//
// The rule for wall times that do not exist or exist twice:
//   - a time skipped by a spring-forward change (02:30 on a day when clocks
//     jump from 02:00 to 03:00) resolves to the first instant after the gap
//     (03:00 new time);
//   - a time that occurs twice in a fall-back change (01:30 on a day when
//     clocks go from 02:00 back to 01:00) resolves to the earlier instant.
func (d Date) At(c ClockTime, loc *time.Location) time.Time {
	naive := time.Date(d.Year, d.Month, d.Day, c.Hour(), c.Minute(), 0, 0, time.UTC)
	// The zone's offsets a day and a half either side bracket any change
	// near this wall time (zones change offset at most once in three days).
	_, before := naive.Add(-36 * time.Hour).In(loc).Zone()
	_, after := naive.Add(36 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range [2]int{before, after} {
		t := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if DateOf(t) == d && t.Hour() == c.Hour() && t.Minute() == c.Minute() {
			if best.IsZero() || t.Before(best) {
				best = t
			}
		}
	}
	if !best.IsZero() {
		return best
	}
	// The wall time falls in a gap: return the instant of the change, the
	// first whole second whose offset is no longer the one before it.
	lo := naive.Add(-time.Duration(after) * time.Second).Unix()
	hi := naive.Add(-time.Duration(before) * time.Second).Unix()
	if lo > hi {
		lo, hi = hi, lo
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if _, off := time.Unix(mid, 0).In(loc).Zone(); off == before {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return time.Unix(lo, 0).In(loc)
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ShiftLength is how long each participant's shift lasts: whole calendar
// days (hand-off at the same wall-clock time, so a day may be 23 or 25 hours
// long across a DST change) or hours as absolute durations. Exactly one is set.
type ShiftLength struct {
	Days  int `json:"days,omitempty"`
	Hours int `json:"hours,omitempty"`
}

func (s ShiftLength) String() string {
	if s.Days > 0 {
		return fmt.Sprintf("%d days", s.Days)
	}
	return fmt.Sprintf("%d hours", s.Hours)
}

// Restriction limits a rotation to a window of the day in the rotation's
// zone: from Start to End (End at or before Start crosses midnight), on the
// listed weekdays (the day the window starts; empty means every day). A
// rotation with restrictions covers only the union of its windows.
type Restriction struct {
	Weekdays []Weekday `json:"weekdays,omitempty"`
	Start    ClockTime `json:"start"`
	End      ClockTime `json:"end"`
}

// Weekday is a day of the week written as its three-letter English name.
type Weekday time.Weekday

var weekdayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func (w Weekday) String() string {
	if w < 0 || int(w) >= len(weekdayNames) {
		return fmt.Sprintf("Weekday(%d)", int(w))
	}
	return weekdayNames[w]
}

func (w Weekday) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

func (w *Weekday) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	for i, n := range weekdayNames {
		if s == n || (len(s) > 3 && strings.HasPrefix(strings.ToLower(time.Weekday(i).String()), s)) {
			*w = Weekday(i)
			return nil
		}
	}
	return fmt.Errorf("%q is not a weekday (mon … sun)", string(b))
}

// Rotation hands one level's layer from participant to participant, in order,
// every shift. A rotation has versions: an edit adds a version that takes
// effect from EffectiveFrom and never changes who was on call before it.
type Rotation struct {
	ID            int64         `json:"id"`
	Version       int           `json:"version"`
	Name          string        `json:"name"`
	Level         Level         `json:"level"`
	Layer         Layer         `json:"layer"`
	TimeZone      string        `json:"time_zone"`    // IANA zone of Handoff, Start and Restrictions
	Handoff       ClockTime     `json:"handoff"`      // wall-clock time shifts change
	ShiftLength   ShiftLength   `json:"shift_length"` // days or hours
	Start         Date          `json:"start"`        // the first shift starts at Handoff on this date
	Participants  []int64       `json:"participants"` // engineer ids, in order
	Restrictions  []Restriction `json:"restrictions,omitempty"`
	EffectiveFrom time.Time     `json:"effective_from"`         // this version applies from here…
	EffectiveTo   *time.Time    `json:"effective_to,omitempty"` // …until the next version or the end
}

// Location loads r's zone. It fails only for a rotation that was never
// normalised.
func (r Rotation) Location() (*time.Location, error) { return LoadZone(r.TimeZone) }

// Normalize validates r's own fields (not whether its participants exist)
// and returns it with the name trimmed. Errors are *errs.Error naming the
// field.
func (r Rotation) Normalize() (Rotation, error) {
	var err error
	if r.Name, err = CheckName("name", r.Name); err != nil {
		return r, err
	}
	if !r.Level.Valid() {
		return r, errs.InvalidField("level", "must be L1, L2 or L3")
	}
	if r.Layer == 0 {
		r.Layer = Primary
	}
	if !r.Layer.Valid() {
		return r, errs.InvalidField("layer", "must be primary or secondary")
	}
	if _, err := LoadZone(r.TimeZone); err != nil {
		return r, errs.InvalidField("time_zone", "%s", err)
	}
	if r.Handoff < 0 || r.Handoff >= 24*60 {
		return r, errs.InvalidField("handoff", "must be a time of day between 00:00 and 23:59")
	}
	switch sl := r.ShiftLength; {
	case sl.Days > 0 && sl.Hours > 0:
		return r, errs.InvalidField("shift_length", "give days or hours, not both")
	case sl.Days < 0 || sl.Hours < 0:
		return r, errs.InvalidField("shift_length", "must be positive")
	case sl.Days == 0 && sl.Hours == 0:
		return r, errs.InvalidField("shift_length", "is required: {\"days\": N} or {\"hours\": N}")
	case sl.Days > 366:
		return r, errs.InvalidField("shift_length.days", "must be at most 366")
	case sl.Hours > 24*366:
		return r, errs.InvalidField("shift_length.hours", "must be at most 8784")
	}
	if r.Start.IsZero() {
		return r, errs.InvalidField("start", "is required (YYYY-MM-DD)")
	}
	if r.Start.Year < 2000 || r.Start.Year > 2200 {
		return r, errs.InvalidField("start", "must be a date between 2000 and 2200")
	}
	if len(r.Participants) == 0 {
		return r, errs.InvalidField("participants", "needs at least one engineer")
	}
	if len(r.Participants) > 1000 {
		return r, errs.InvalidField("participants", "has more than 1000 engineers")
	}
	for i, id := range r.Participants {
		if id <= 0 {
			return r, errs.InvalidField(fmt.Sprintf("participants[%d]", i), "must be an engineer id")
		}
	}
	for i, x := range r.Restrictions {
		f := fmt.Sprintf("restrictions[%d]", i)
		if x.Start < 0 || x.Start >= 24*60 {
			return r, errs.InvalidField(f+".start", "must be a time of day between 00:00 and 23:59")
		}
		if x.End < 0 || x.End >= 24*60 {
			return r, errs.InvalidField(f+".end", "must be a time of day between 00:00 and 23:59")
		}
		for j, w := range x.Weekdays {
			if w < 0 || w > 6 {
				return r, errs.InvalidField(fmt.Sprintf("%s.weekdays[%d]", f, j), "is not a weekday")
			}
		}
	}
	return r, nil
}
