package oncall

import (
	"cmp"
	"slices"
	"time"

	"github.com/supportdesk/ivr/errs"
)

// rotationVersion is one version of a rotation made ready for the schedule:
// its zone loaded, its first hand-off and validity as instants, and its
// participants grouped into runs (consecutive shifts that go to one
// engineer, which make one cover).
type rotationVersion struct {
	rotationID int64
	level      Level
	layer      Layer
	loc        *time.Location
	start      Date      // the date of the first shift
	handoff    ClockTime // wall-clock time of every hand-off of day shifts
	days       int64     // shift length in calendar days, or 0 for hour shifts
	hours      int64     // shift length in nanoseconds when days is 0
	anchor     int64     // the instant the first shift starts
	from, to   int64     // the version applies on [from, to); from >= anchor

	participants []int64
	// runBack[i] and runAhead[i] count the shifts before and after
	// participant i's, in the cycle, that go to the same engineer. Both are
	// nil when one engineer has every shift.
	runBack, runAhead []int
	// restrictions limit the version to their windows; nil when it has none
	// or when they cover every minute of the week.
	restrictions []Restriction
}

// prepareRotations loads the zone of every version and returns the versions
// that can give cover.
func prepareRotations(rotations []Rotation) ([]*rotationVersion, error) {
	zones := map[string]*time.Location{}
	order := make([]int, len(rotations))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		a, b := &rotations[i], &rotations[j]
		if c := cmp.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.Version, b.Version)
	})
	var versions []*rotationVersion
	for n, i := range order {
		r := &rotations[i]
		loc, ok := zones[r.TimeZone]
		if !ok {
			var err error
			if loc, err = LoadZone(r.TimeZone); err != nil {
				return nil, errs.InvalidField("time_zone", "rotation %d version %d: %s", r.ID, r.Version, err)
			}
			zones[r.TimeZone] = loc
		}
		to := lastInstant
		if r.EffectiveTo != nil {
			to = clampInstant(*r.EffectiveTo)
		}
		if n+1 < len(order) && rotations[order[n+1]].ID == r.ID {
			to = min(to, clampInstant(rotations[order[n+1]].EffectiveFrom))
		}
		if v, ok := newRotationVersion(r, loc, clampInstant(r.EffectiveFrom), to); ok {
			versions = append(versions, v)
		}
	}
	return versions, nil
}

// newRotationVersion prepares r, valid on [from, to) in loc; ok is false
// when it gives no cover.
func newRotationVersion(r *Rotation, loc *time.Location, from, to int64) (*rotationVersion, bool) {
	layer := r.Layer
	if layer == 0 {
		layer = Primary
	}
	if !r.Level.Valid() || !layer.Valid() || len(r.Participants) == 0 || r.Start.IsZero() {
		return nil, false
	}
	v := &rotationVersion{
		rotationID:   r.ID,
		level:        r.Level,
		layer:        layer,
		loc:          loc,
		start:        r.Start,
		handoff:      r.Handoff,
		participants: slices.Clone(r.Participants), // the schedule must not change with the caller's slices
	}
	switch {
	case r.ShiftLength.Days > 0:
		v.days = int64(r.ShiftLength.Days)
	case r.ShiftLength.Hours > 0:
		v.hours = int64(r.ShiftLength.Hours) * hourNanos
	default:
		return nil, false
	}
	anchor, ok := instantOf(r.Start.At(r.Handoff, loc))
	if !ok {
		return nil, false
	}
	v.anchor, v.from, v.to = anchor, max(from, anchor), to
	if v.from >= v.to {
		return nil, false
	}
	v.runBack, v.runAhead = participantRuns(v.participants)
	if len(r.Restrictions) > 0 && !restrictionsCoverTheWeek(r.Restrictions) {
		for _, x := range r.Restrictions {
			x.Weekdays = slices.Clone(x.Weekdays)
			v.restrictions = append(v.restrictions, x)
		}
	}
	return v, true
}

// participantRuns returns, for each participant, how many shifts before and
// after its own go to the same engineer, counting round the cycle; nil, nil
// when one engineer has every shift.
func participantRuns(p []int64) (back, ahead []int) {
	n := len(p)
	first := -1 // a participant whose engineer differs from the one before
	for i := range n {
		if p[i] != p[(i+n-1)%n] {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, nil
	}
	back, ahead = make([]int, n), make([]int, n)
	for s := 1; s < n; s++ {
		i := (first + s) % n
		if prev := (i + n - 1) % n; p[i] == p[prev] {
			back[i] = back[prev] + 1
		}
	}
	last := (first + n - 1) % n // its engineer differs from the next one's
	for s := 1; s < n; s++ {
		i := (last + n - s) % n
		if next := (i + 1) % n; p[i] == p[next] {
			ahead[i] = ahead[next] + 1
		}
	}
	return back, ahead
}

// restrictionsCoverTheWeek reports whether the windows of rs cover every
// minute of the week on the wall clock. Then they cover every instant too
// (Date.At never goes backwards, and windows that meet on the wall clock
// meet in time), and the rotation may be treated as unrestricted.
func restrictionsCoverTheWeek(rs []Restriction) bool {
	const week = 7 * 24 * 60
	var covered [week]bool
	for _, r := range rs {
		if r.Start < 0 || r.Start >= 24*60 || r.End < 0 || r.End >= 24*60 {
			return false
		}
		length := int(r.End - r.Start)
		if length <= 0 {
			length += 24 * 60
		}
		for wd := range 7 {
			if !r.appliesOn(time.Weekday(wd)) {
				continue
			}
			first := wd*24*60 + int(r.Start)
			for m := range length {
				covered[(first+m)%week] = true
			}
		}
	}
	return !slices.Contains(covered[:], false)
}

// appliesOn reports whether r has a window starting on weekday wd.
func (r Restriction) appliesOn(wd time.Weekday) bool {
	if len(r.Weekdays) == 0 {
		return true
	}
	return slices.Contains(r.Weekdays, Weekday(wd))
}

// shiftStart returns the instant shift k starts (the first is shift 0).
func (v *rotationVersion) shiftStart(k int64) int64 {
	if v.days == 0 {
		if k > (lastInstant-v.anchor)/v.hours {
			return lastInstant
		}
		return v.anchor + k*v.hours
	}
	if k*v.days > (lastInstant-v.anchor)/(22*hourNanos)+2 {
		return lastInstant // a calendar day lasts 22 hours at least
	}
	return clampInstant(v.start.AddDays(int(k*v.days)).At(v.handoff, v.loc))
}

// shiftAt returns the number of the shift in progress at instant at, which
// is at or after the anchor. It finds it arithmetically, whatever the number
// of shifts since the anchor.
func (v *rotationVersion) shiftAt(at int64) int64 {
	if v.days == 0 {
		return (at - v.anchor) / v.hours
	}
	days := DateOf(time.Unix(0, at).In(v.loc)).DaysSince(v.start)
	k := max(floorDiv(int64(days), v.days), 0)
	// A hand-off after midnight leaves at in the shift before; DST moves a
	// hand-off by at most hours: one step either way settles it.
	for k > 0 && v.shiftStart(k) > at {
		k--
	}
	for v.shiftStart(k+1) <= at {
		k++
	}
	return k
}

// runs appends to dst the runs of shifts (consecutive shifts that go to one
// engineer) that intersect [a, b), clipped to it; v.from <= a < b <= v.to.
func (v *rotationVersion) runs(a, b int64, dst []segment) []segment {
	if v.runBack == nil {
		return append(dst, segment{start: a, end: b, engineerID: v.participants[0], sourceID: v.rotationID})
	}
	n := int64(len(v.participants))
	// The run in progress at a may have started shifts earlier: it is cut
	// at a anyway.
	k := v.shiftAt(a)
	start := v.shiftStart(k)
	for start < b {
		i := k % n
		next := k + int64(v.runAhead[i]) + 1
		end := v.shiftStart(next)
		if s, e := max(start, a), min(end, b); s < e {
			dst = append(dst, segment{start: s, end: e, engineerID: v.participants[i], sourceID: v.rotationID})
		}
		start, k = end, next
	}
	return dst
}

// windows returns the restriction windows that intersect [a, b), clipped to
// it, sorted and merged where they overlap or meet.
func (v *rotationVersion) windows(a, b int64) []span {
	// A window may start the day before the one a falls on and, pushed by
	// a DST gap, end a day later than it would.
	first := DateOf(time.Unix(0, a).In(v.loc)).AddDays(-2)
	last := DateOf(time.Unix(0, b-1).In(v.loc))
	weekday := time.Date(first.Year, first.Month, first.Day, 12, 0, 0, 0, time.UTC).Weekday()
	var ws []span
	for d, n := first, last.DaysSince(first); n >= 0; d, n = d.AddDays(1), n-1 {
		for _, r := range v.restrictions {
			if !r.appliesOn(weekday) {
				continue
			}
			endDate := d
			if r.End <= r.Start {
				endDate = d.AddDays(1)
			}
			s := max(clampInstant(d.At(r.Start, v.loc)), a)
			e := min(clampInstant(endDate.At(r.End, v.loc)), b)
			if s < e {
				ws = append(ws, span{s, e})
			}
		}
		weekday = (weekday + 1) % 7
	}
	return unite(ws)
}

// cover appends to dst what v gives in [a, b): its runs, cut to its
// validity and its restriction windows, sorted and disjoint.
func (v *rotationVersion) cover(a, b int64, dst []segment) []segment {
	a, b = max(a, v.from), min(b, v.to)
	if a >= b {
		return dst
	}
	if v.restrictions == nil {
		return v.runs(a, b, dst)
	}
	runs := v.runs(a, b, nil)
	ws := v.windows(a, b)
	for i, j := 0, 0; i < len(runs) && j < len(ws); {
		if s, e := max(runs[i].start, ws[j].start), min(runs[i].end, ws[j].end); s < e {
			piece := runs[i]
			piece.start, piece.end = s, e
			dst = append(dst, piece)
		}
		if runs[i].end < ws[j].end {
			i++
		} else {
			j++
		}
	}
	return dst
}

// longestRun returns an upper bound of how long one engineer holds v
// without a break from its own hand-offs, or lastInstant when one engineer
// holds it for ever.
func (v *rotationVersion) longestRun() int64 {
	if v.runBack == nil {
		return lastInstant
	}
	shifts := int64(0)
	for i := range v.runBack {
		shifts = max(shifts, int64(v.runBack[i]+v.runAhead[i]+1))
	}
	shift := v.hours
	if v.days > 0 {
		shift = v.days * 26 * hourNanos // a calendar day lasts 26 hours at most
	}
	if shifts > lastInstant/shift {
		return lastInstant
	}
	return shifts * shift
}
