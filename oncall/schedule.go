package oncall

import (
	"slices"
	"time"
)

// Shift is a stretch of time one engineer is on call for a level's layer.
//
// Start and End are in UTC. Cover that never ends (a rotation with one
// engineer and no end, say) has End at 2262-01-01T00:00:00Z, the last
// instant a schedule represents; OpenEnded reports it.
type Shift struct {
	Level      Level     `json:"level"`
	Layer      Layer     `json:"layer"`
	EngineerID int64     `json:"engineer_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	RotationID int64     `json:"rotation_id,omitempty"` // set when a rotation gives it
	OverrideID int64     `json:"override_id,omitempty"` // set when an override gives it
}

// OpenEnded reports whether s never ends: its End is the last instant a
// schedule represents.
func (s Shift) OpenEnded() bool { return s.End.Unix() >= lastInstantSec }

// Gap is a stretch of time when a level has nobody on call in any layer.
type Gap struct {
	Level Level     `json:"level"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Overlap is a stretch of time when two or more rotations of one level and
// layer both claim it (the lowest rotation id wins; the others are shadowed).
type Overlap struct {
	Level       Level     `json:"level"`
	Layer       Layer     `json:"layer"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	RotationIDs []int64   `json:"rotation_ids"`
}

// Schedule is who is on call for every level and layer, computed from
// rotations and overrides. It holds a precomputed timeline over a window,
// where OnCall is a binary search, and answers outside the window from the
// definitions themselves. It is immutable and safe for concurrent use.
//
// A schedule knows the instants from 1970-01-01 to 2262-01-01 UTC (the range
// of int64 Unix nanoseconds, trimmed to whole years); before and after, it
// finds nobody on call.
type Schedule struct {
	from, to int64 // the precomputed window
	layers   [len(Levels)][len(Layers)]layerTimeline
}

// layerTimeline is one level's layer: what decides who is on call, and the
// result of it over the schedule's window.
type layerTimeline struct {
	sources layerSources
	// segments cover the window, sorted and disjoint; each has its full
	// extent, the first and last included (they may reach outside the window).
	segments []segment
	// byDay[d] is the index of the first segment that ends after day d of
	// the window begins (days of 24 hours from the window's start), and its
	// last entry is len(segments): the segment covering an instant of day d,
	// if any, is among segments[byDay[d] : byDay[d+1]+1].
	byDay []int32
	// collisions are the stretches of the window that two or more rotations
	// claim, clipped to the window.
	collisions []collision
}

// NewSchedule precomputes the timeline of every level and layer over
// [from, to). rotations holds every version of every rotation
// (Rotation.Version, EffectiveFrom, EffectiveTo (nil = open-ended)), overrides
// all overrides. It returns an error only for a rotation whose zone does not
// load.
//
// Versions of one rotation are taken in Version order; each applies until
// its EffectiveTo or the next version's EffectiveFrom, whichever comes
// first. A zero Layer counts as Primary (as Normalize has it). Rotation
// versions and overrides that cannot give cover (no participants, no shift
// length, no start date, end not after start, a level or layer that does not
// exist) are left out.
func NewSchedule(rotations []Rotation, overrides []Override, from, to time.Time) (*Schedule, error) {
	versions, err := prepareRotations(rotations)
	if err != nil {
		return nil, err
	}
	s := &Schedule{from: clampInstant(from), to: clampInstant(to)}
	if s.to < s.from {
		s.to = s.from
	}
	for _, v := range versions {
		lt := s.layer(v.level, v.layer)
		lt.sources.versions = append(lt.sources.versions, v)
	}
	for _, o := range overrides {
		if o.Layer == 0 {
			o.Layer = Primary
		}
		lt := s.layer(o.Level, o.Layer)
		start, end := clampInstant(o.Start), clampInstant(o.End)
		if lt == nil || start >= end {
			continue
		}
		lt.sources.overrides = append(lt.sources.overrides, segment{
			start: start, end: end, engineerID: o.EngineerID, sourceID: o.ID, byOverride: true,
		})
	}
	for i := range s.layers {
		for j := range s.layers[i] {
			lt := &s.layers[i][j]
			lt.sources.settle()
			lt.segments, lt.collisions = lt.sources.timeline(s.from, s.to)
			lt.sources.widen(lt.segments, s.from, s.to)
			lt.byDay = dayIndex(lt.segments, s.from, s.to)
		}
	}
	return s, nil
}

// Window returns the stretch of time NewSchedule precomputed, in UTC.
func (s *Schedule) Window() (from, to time.Time) {
	return timeOf(s.from), timeOf(s.to)
}

// OnCall returns the shift covering t for level/layer, ok=false if nobody.
// Inside the window it is a binary search over the precomputed timeline
// (narrowed to t's day by an index) and does not allocate; outside, it
// computes the answer from the rotations and overrides.
func (s *Schedule) OnCall(level Level, layer Layer, t time.Time) (Shift, bool) {
	lt := s.layer(level, layer)
	at, ok := instantOf(t)
	if lt == nil || !ok {
		return Shift{}, false
	}
	if at < s.from || at >= s.to {
		seg, ok := lt.sources.segmentAt(at)
		if !ok {
			return Shift{}, false
		}
		return seg.shift(level, layer), true
	}
	// Binary search, among the segments of at's day, for the first that
	// ends after at.
	segs, day := lt.segments, (at-s.from)/dayNanos
	lo, hi := int(lt.byDay[day]), min(int(lt.byDay[day+1])+1, len(segs))
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if segs[mid].end <= at {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo >= len(segs) || segs[lo].start > at {
		return Shift{}, false
	}
	return segs[lo].shift(level, layer), true
}

// Shifts lists the shifts of every layer of level that intersect [from, to),
// ordered by layer then start, each with its full (unclipped) extent. The
// list is empty, not nil, when there are none.
func (s *Schedule) Shifts(level Level, from, to time.Time) []Shift {
	shifts := []Shift{}
	a, b := clampInstant(from), clampInstant(to)
	if !level.Valid() || a >= b {
		return shifts
	}
	for _, layer := range Layers {
		for _, seg := range s.segments(level, layer, a, b, true) {
			shifts = append(shifts, seg.shift(level, layer))
		}
	}
	return shifts
}

// Gaps lists the stretches of [from, to) (clipped to it) when level has
// nobody in any layer, by start. The list is empty, not nil, when there are
// none.
func (s *Schedule) Gaps(level Level, from, to time.Time) []Gap {
	gaps := []Gap{}
	a, b := clampInstant(from), clampInstant(to)
	if !level.Valid() || a >= b {
		return gaps
	}
	var covered []span
	for _, layer := range Layers {
		for _, seg := range s.segments(level, layer, a, b, false) {
			covered = append(covered, span{max(seg.start, a), min(seg.end, b)})
		}
	}
	for _, g := range uncovered(covered, a, b) {
		gaps = append(gaps, Gap{Level: level, Start: timeOf(g.start), End: timeOf(g.end)})
	}
	return gaps
}

// Overlaps lists, clipped to [from, to), where rotations of one level+layer
// collide, ordered by layer then start. Overrides do not count: a collision
// is reported even where an override hides it. The list is empty, not nil,
// when there are none.
func (s *Schedule) Overlaps(level Level, from, to time.Time) []Overlap {
	overlaps := []Overlap{}
	a, b := clampInstant(from), clampInstant(to)
	if !level.Valid() || a >= b {
		return overlaps
	}
	for _, layer := range Layers {
		lt := s.layer(level, layer)
		var cs []collision
		if a >= s.from && b <= s.to {
			cs = lt.collisions
		} else {
			_, cs = lt.sources.timeline(a, b)
		}
		for _, c := range cs {
			start, end := max(c.start, a), min(c.end, b)
			if start >= end {
				continue
			}
			overlaps = append(overlaps, Overlap{
				Level: level, Layer: layer, Start: timeOf(start), End: timeOf(end),
				RotationIDs: slices.Clone(c.rotationIDs),
			})
		}
	}
	return overlaps
}

// layer returns the timeline of level's layer, nil for a level or layer that
// does not exist.
func (s *Schedule) layer(level Level, layer Layer) *layerTimeline {
	if !level.Valid() || !layer.Valid() {
		return nil
	}
	return &s.layers[level-1][layer-1]
}

// segments returns the segments of level's layer that intersect [a, b),
// sorted. With fullExtent the first and last are widened to where their
// cover really starts and ends; without, only their part in [a, b) is
// meaningful. The result may share memory with the schedule: do not modify.
func (s *Schedule) segments(level Level, layer Layer, a, b int64, fullExtent bool) []segment {
	lt := s.layer(level, layer)
	if a >= s.from && b <= s.to {
		segs := lt.segments
		i, _ := slices.BinarySearchFunc(segs, a, func(g segment, at int64) int {
			if g.end <= at {
				return -1
			}
			return 1
		})
		j, _ := slices.BinarySearchFunc(segs, b, func(g segment, at int64) int {
			if g.start < at {
				return -1
			}
			return 1
		})
		return segs[i:j]
	}
	segs, _ := lt.sources.timeline(a, b)
	if fullExtent {
		lt.sources.widen(segs, a, b)
	}
	return segs
}
