package oncall

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Property tests: random rotations (zones with and without DST, Lord Howe's
// half-hour change included; day and hour shifts; restrictions; versions)
// and non-overlapping overrides, near the DST changes of 2026.

var propertyZones = []string{"Europe/Moscow", "America/New_York", "UTC", "Australia/Lord_Howe"}

// propertyBases are days a few weeks before a DST change: New York on
// 2026-03-08 and 2026-11-01, Lord Howe on 2026-04-05 and 2026-10-04.
var propertyBases = []time.Time{
	time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 9, 25, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC),
}

// propertyClockTimes are times of day that fall in or next to DST gaps and
// repeats, and around midnight.
var propertyClockTimes = []ClockTime{0, 60, 90, 105, 120, 135, 150, 165, 180, 540, 1260, 1425}

// scenario is one generated level: rotations and overrides on its two
// layers, a window, and a stretch [qa, qb) to look at.
type scenario struct {
	rotations []Rotation
	overrides []Override
	from, to  time.Time // the window
	qa, qb    time.Time
}

func drawClockTime(t *rapid.T, label string) ClockTime {
	if rapid.Bool().Draw(t, label+"_interesting") {
		return rapid.SampledFrom(propertyClockTimes).Draw(t, label)
	}
	return ClockTime(rapid.IntRange(0, 24*60-1).Draw(t, label))
}

func drawInstant(t *rapid.T, base time.Time, minDays, maxDays int, label string) time.Time {
	return base.Add(time.Duration(rapid.IntRange(minDays*24*60, maxDays*24*60).Draw(t, label)) * time.Minute)
}

// drawRotation draws the versions of rotation id on layer; restricted says
// whether they may have restrictions.
func drawRotation(t *rapid.T, base time.Time, id int64, layer Layer, restricted bool) []Rotation {
	versions := rapid.IntRange(1, 3).Draw(t, "versions")
	effective := time.Time{}
	if rapid.Bool().Draw(t, "starts_in_force") {
		effective = drawInstant(t, base, -20, 20, "effective_from")
	}
	var rs []Rotation
	for v := 1; v <= versions; v++ {
		r := Rotation{
			ID: id, Version: v, Name: "generated", Level: L1, Layer: layer,
			TimeZone:      rapid.SampledFrom(propertyZones).Draw(t, "zone"),
			Handoff:       drawClockTime(t, "handoff"),
			Start:         DateOf(drawInstant(t, base, -20, 30, "start")),
			Participants:  rapid.SliceOfN(rapid.Int64Range(1, 5), 1, 4).Draw(t, "participants"),
			EffectiveFrom: effective,
		}
		if rapid.Bool().Draw(t, "by_days") {
			r.ShiftLength.Days = rapid.IntRange(1, 8).Draw(t, "days")
		} else {
			r.ShiftLength.Hours = rapid.IntRange(1, 60).Draw(t, "hours")
		}
		if restricted {
			for range rapid.IntRange(0, 2).Draw(t, "restrictions") {
				r.Restrictions = append(r.Restrictions, Restriction{
					Weekdays: rapid.SliceOfNDistinct(rapid.Custom(func(t *rapid.T) Weekday {
						return Weekday(rapid.IntRange(0, 6).Draw(t, "weekday"))
					}), 0, 3, rapid.ID).Draw(t, "weekdays"),
					Start: drawClockTime(t, "restriction_start"),
					End:   drawClockTime(t, "restriction_end"),
				})
			}
		}
		if n := len(rs); n > 0 {
			next := rs[n-1].EffectiveFrom
			if next.IsZero() {
				next = base
			}
			r.EffectiveFrom = next.Add(time.Duration(rapid.IntRange(60, 30*24*60).Draw(t, "edit_after")) * time.Minute)
			rs[n-1].EffectiveTo = &r.EffectiveFrom
		}
		rs = append(rs, r)
	}
	if rapid.IntRange(0, 3).Draw(t, "ended") == 0 {
		last := &rs[len(rs)-1]
		end := last.EffectiveFrom
		if end.IsZero() {
			end = base
		}
		end = end.Add(time.Duration(rapid.IntRange(60, 40*24*60).Draw(t, "end_after")) * time.Minute)
		last.EffectiveTo = &end
	}
	return rs
}

// drawOverrides draws overrides of layer that do not overlap each other,
// with ids from ids.
func drawOverrides(t *rapid.T, base time.Time, layer Layer, ids *int64) []Override {
	var os []Override
	cursor := drawInstant(t, base, -5, 20, "overrides_from")
	for range rapid.IntRange(0, 4).Draw(t, "overrides") {
		start := cursor.Add(time.Duration(rapid.IntRange(0, 4*24*60).Draw(t, "override_after")) * time.Minute)
		end := start.Add(time.Duration(rapid.IntRange(1, 3*24*60).Draw(t, "override_minutes")) * time.Minute)
		*ids++
		os = append(os, Override{ID: *ids, Level: L1, Layer: layer, EngineerID: rapid.Int64Range(1, 7).Draw(t, "override_engineer"), Start: start, End: end})
		cursor = end
	}
	return os
}

func drawScenario(t *rapid.T) scenario {
	base := rapid.SampledFrom(propertyBases).Draw(t, "base")
	var sc scenario
	id := int64(0)
	for _, layer := range Layers {
		for range rapid.IntRange(0, 2).Draw(t, "rotations") {
			id++
			sc.rotations = append(sc.rotations, drawRotation(t, base, id, layer, true)...)
		}
	}
	overrideID := int64(0)
	for _, layer := range Layers {
		sc.overrides = append(sc.overrides, drawOverrides(t, base, layer, &overrideID)...)
	}
	sc.from = drawInstant(t, base, -10, 30, "window_from")
	sc.to = sc.from.Add(time.Duration(rapid.IntRange(0, 40*24*60).Draw(t, "window_minutes")) * time.Minute)
	sc.qa = drawInstant(t, base, -15, 45, "query_from")
	sc.qb = sc.qa.Add(time.Duration(rapid.IntRange(1, 15*24*60).Draw(t, "query_minutes")) * time.Minute)
	return sc
}

func (sc scenario) schedule(t *rapid.T, from, to time.Time) *Schedule {
	s, err := NewSchedule(sc.rotations, sc.overrides, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func drawQueryInstant(t *rapid.T, sc scenario, label string) time.Time {
	return sc.qa.Add(time.Duration(rapid.Int64Range(0, int64(sc.qb.Sub(sc.qa))-1).Draw(t, label)))
}

// TestPropertyLayerShiftsAreDisjoint: within one layer no instant is covered
// twice; every listed shift intersects the stretch asked for.
func TestPropertyLayerShiftsAreDisjoint(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t)
		s := sc.schedule(t, sc.from, sc.to)
		shifts := s.Shifts(L1, sc.qa, sc.qb)
		for i, sh := range shifts {
			if !sh.Start.Before(sh.End) || !sh.Start.Before(sc.qb) || !sh.End.After(sc.qa) {
				t.Fatalf("shift %s is empty or outside %s..%s", describe(sh), sc.qa, sc.qb)
			}
			if i == 0 || shifts[i-1].Layer != sh.Layer {
				if i > 0 && shifts[i-1].Layer > sh.Layer {
					t.Fatalf("layers out of order:\n%s", describeAll(shifts))
				}
				continue
			}
			prev := shifts[i-1]
			if prev.End.After(sh.Start) {
				t.Fatalf("shifts overlap:\n%s\n%s", describe(prev), describe(sh))
			}
			if prev.End.Equal(sh.Start) && prev.EngineerID == sh.EngineerID && prev.RotationID == sh.RotationID && prev.OverrideID == sh.OverrideID {
				t.Fatalf("shifts of one cover not merged:\n%s\n%s", describe(prev), describe(sh))
			}
		}
	})
}

// TestPropertyOverridesWin: at any instant inside an override, OnCall
// returns the override's engineer, inside the window and outside it.
func TestPropertyOverridesWin(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t)
		s := sc.schedule(t, sc.from, sc.to)
		for _, o := range sc.overrides {
			length := int64(o.End.Sub(o.Start))
			for _, when := range []time.Time{o.Start, o.End.Add(-1), o.Start.Add(time.Duration(rapid.Int64Range(0, length-1).Draw(t, "inside")))} {
				sh, ok := s.OnCall(o.Level, o.Layer, when)
				if !ok || sh.EngineerID != o.EngineerID || sh.OverrideID != o.ID || !sh.Start.Equal(o.Start) || !sh.End.Equal(o.End) {
					t.Fatalf("OnCall(%s, %s) = %s, %t inside override %+v", o.Layer, when, describe(sh), ok, o)
				}
			}
		}
	})
}

// TestPropertyUnrestrictedShiftsTile: a rotation without restrictions,
// from its first hand-off on, gives shifts that meet exactly, each handed
// over at a hand-off instant (or at an override's edge) to the participant
// whose turn it is.
func TestPropertyUnrestrictedShiftsTile(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := rapid.SampledFrom(propertyBases).Draw(t, "base")
		r := drawRotation(t, base, 1, Primary, false)[0]
		r.EffectiveFrom, r.EffectiveTo = time.Time{}, nil
		ids := int64(0)
		overrides := drawOverrides(t, base, Primary, &ids)
		loc, err := LoadZone(r.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		anchor := r.Start.At(r.Handoff, loc)
		// handoff returns the start of shift k, computed from the rules.
		handoff := func(k int) time.Time {
			if r.ShiftLength.Days > 0 {
				return r.Start.AddDays(k*r.ShiftLength.Days).At(r.Handoff, loc)
			}
			return anchor.Add(time.Duration(k*r.ShiftLength.Hours) * time.Hour)
		}
		from := anchor.Add(time.Duration(rapid.IntRange(0, 20*24*60).Draw(t, "from_minutes")) * time.Minute)
		to := from.Add(time.Duration(rapid.IntRange(1, 20*24*60).Draw(t, "minutes")) * time.Minute)
		window := rapid.SampledFrom([][2]time.Time{{from, to}, {anchor, anchor}, {from.Add(-72 * time.Hour), to.Add(72 * time.Hour)}}).Draw(t, "window")
		s, err := NewSchedule([]Rotation{r}, overrides, window[0], window[1])
		if err != nil {
			t.Fatal(err)
		}
		shifts := s.Shifts(L1, from, to)
		if len(shifts) == 0 || shifts[0].Start.After(from) || shifts[len(shifts)-1].End.Before(to) {
			t.Fatalf("shifts do not cover %s..%s:\n%s", from, to, describeAll(shifts))
		}
		overrideEdge := func(when time.Time) bool {
			return slices.ContainsFunc(overrides, func(o Override) bool { return o.Start.Equal(when) || o.End.Equal(when) })
		}
		k := 0
		for i, sh := range shifts {
			if i > 0 && !shifts[i-1].End.Equal(sh.Start) {
				t.Fatalf("shifts do not meet:\n%s\n%s", describe(shifts[i-1]), describe(sh))
			}
			if sh.OverrideID != 0 {
				continue
			}
			for !handoff(k + 1).After(sh.Start) {
				k++
			}
			if !sh.Start.Equal(handoff(k)) && !overrideEdge(sh.Start) && !sh.Start.Equal(anchor) {
				t.Fatalf("shift %s starts neither at a hand-off nor at an override's edge", describe(sh))
			}
			if want := r.Participants[k%len(r.Participants)]; sh.EngineerID != want {
				t.Fatalf("shift %s goes to engineer %d, whose turn it is (shift %d)", describe(sh), want, k)
			}
		}
	})
}

// TestPropertyOnCallAgreesWithShifts: OnCall(t) is the listed shift
// containing t, with or without a window around t, and gives the engineer
// a plain reading of the definitions gives.
func TestPropertyOnCallAgreesWithShifts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t)
		windowed := sc.schedule(t, sc.from, sc.to)
		bare := sc.schedule(t, sc.from, sc.from)
		shifts := windowed.Shifts(L1, sc.qa, sc.qb)
		if got, want := describeAll(bare.Shifts(L1, sc.qa, sc.qb)), describeAll(shifts); got != want {
			t.Fatalf("Shifts without a window:\n%s\nwith one:\n%s", got, want)
		}
		for range 5 {
			when := drawQueryInstant(t, sc, "at")
			for _, layer := range Layers {
				var listed Shift
				found := false
				for _, sh := range shifts {
					if sh.Layer == layer && !when.Before(sh.Start) && when.Before(sh.End) {
						listed, found = sh, true
					}
				}
				for _, s := range []*Schedule{windowed, bare} {
					if got, ok := s.OnCall(L1, layer, when); ok != found || describe(got) != describe(listed) {
						t.Fatalf("OnCall(%s, %s) = %s, %t; Shifts lists %s, %t", layer, when, describe(got), ok, describe(listed), found)
					}
				}
				if got, want := coverOf(listed), plainReading(t, sc, layer, when); got != want {
					t.Fatalf("OnCall(%s, %s) = %s; the definitions give %+v", layer, when, describe(listed), want)
				}
				if found {
					checkExtent(t, sc, listed)
				}
			}
		}
	})
}

// cover is who is on call and from which source; the zero cover is nobody.
type cover struct {
	engineer   int64
	source     int64
	byOverride bool
}

func coverOf(s Shift) cover {
	if s.OverrideID != 0 {
		return cover{s.EngineerID, s.OverrideID, true}
	}
	return cover{s.EngineerID, s.RotationID, false}
}

// checkExtent checks that the definitions give sh's cover at its start, at
// its last instant and at an instant between, and another cover just before
// it and at its end.
func checkExtent(t *rapid.T, sc scenario, sh Shift) {
	want := coverOf(sh)
	inside := []time.Time{sh.Start, sh.Start.Add(time.Duration(rapid.Int64Range(0, int64(sh.End.Sub(sh.Start))-1).Draw(t, "inside")))}
	if sh.OpenEnded() {
		inside = append(inside, sc.qb.AddDate(1, 0, 0))
	} else {
		inside = append(inside, sh.End.Add(-1))
		if got := plainReading(t, sc, sh.Layer, sh.End); got == want {
			t.Fatalf("shift %s: its cover goes on at its end", describe(sh))
		}
	}
	if got := plainReading(t, sc, sh.Layer, sh.Start.Add(-1)); got == want {
		t.Fatalf("shift %s: its cover has begun before its start", describe(sh))
	}
	for _, when := range inside {
		if got := plainReading(t, sc, sh.Layer, when); got != want {
			t.Fatalf("shift %s: at %s the definitions give %+v", describe(sh), when, got)
		}
	}
}

// plainReading finds who is on call on layer at when by following the rules
// literally: the lowest override in force; else the lowest rotation whose
// version is in force, whose shift (counted from its anchor) has begun and
// whose restriction windows contain when.
func plainReading(t *rapid.T, sc scenario, layer Layer, when time.Time) cover {
	var c cover
	for _, o := range sc.overrides {
		if o.Layer == layer && !when.Before(o.Start) && when.Before(o.End) && (c.engineer == 0 || o.ID < c.source) {
			c = cover{o.EngineerID, o.ID, true}
		}
	}
	if c.byOverride {
		return c
	}
	for _, r := range sc.rotations {
		if r.Layer != layer || when.Before(r.EffectiveFrom) || (r.EffectiveTo != nil && !when.Before(*r.EffectiveTo)) {
			continue
		}
		if c.engineer != 0 && r.ID > c.source {
			continue
		}
		loc, err := LoadZone(r.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		anchor := r.Start.At(r.Handoff, loc)
		if when.Before(anchor) || !inRestrictionWindow(r, loc, when) {
			continue
		}
		k := 0
		for {
			var next time.Time
			if r.ShiftLength.Days > 0 {
				next = r.Start.AddDays((k+1)*r.ShiftLength.Days).At(r.Handoff, loc)
			} else {
				next = anchor.Add(time.Duration((k+1)*r.ShiftLength.Hours) * time.Hour)
			}
			if next.After(when) {
				break
			}
			k++
		}
		c = cover{r.Participants[k%len(r.Participants)], r.ID, false}
	}
	return c
}

func inRestrictionWindow(r Rotation, loc *time.Location, when time.Time) bool {
	if len(r.Restrictions) == 0 {
		return true
	}
	today := DateOf(when.In(loc))
	for d := today.AddDays(-2); d.DaysSince(today) <= 1; d = d.AddDays(1) {
		weekday := Weekday(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday())
		for _, x := range r.Restrictions {
			if len(x.Weekdays) > 0 && !slices.Contains(x.Weekdays, weekday) {
				continue
			}
			end := d.At(x.End, loc)
			if x.End <= x.Start {
				end = d.AddDays(1).At(x.End, loc)
			}
			if !when.Before(d.At(x.Start, loc)) && when.Before(end) {
				return true
			}
		}
	}
	return false
}

// TestPropertyGapsAndCoverTileTheStretch: the gaps of [qa, qb) and the
// stretches someone covers in some layer never meet and together make
// [qa, qb).
func TestPropertyGapsAndCoverTileTheStretch(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t)
		s := sc.schedule(t, sc.from, sc.to)
		a, b := sc.qa.UnixNano(), sc.qb.UnixNano()
		var covered []span
		for _, sh := range s.Shifts(L1, sc.qa, sc.qb) {
			covered = append(covered, span{max(sh.Start.UnixNano(), a), min(sh.End.UnixNano(), b)})
		}
		covered = unite(covered)
		var gaps []span
		for _, g := range s.Gaps(L1, sc.qa, sc.qb) {
			gaps = append(gaps, span{g.Start.UnixNano(), g.End.UnixNano()})
		}
		// Walk both in order: they must alternate and meet exactly.
		all := append(slices.Clone(covered), gaps...)
		sortSpans(all)
		cursor := a
		for _, x := range all {
			if x.start != cursor || x.end <= x.start {
				t.Fatalf("at %s: cover %v and gaps %v do not tile %s..%s", timeOf(cursor), covered, gaps, sc.qa, sc.qb)
			}
			cursor = x.end
		}
		if cursor != b {
			t.Fatalf("cover and gaps end at %s, not %s", timeOf(cursor), sc.qb)
		}
		for i := 1; i < len(gaps); i++ {
			if gaps[i-1].end >= gaps[i].start {
				t.Fatalf("gaps %v are not separate", gaps)
			}
		}
	})
}
