package oncall

import (
	"cmp"
	"slices"
)

// segment is a stretch of instants [start, end) one engineer is on call for
// a layer, with the source that puts them there: a rotation or an override.
type segment struct {
	start, end int64
	engineerID int64
	sourceID   int64 // the rotation's id, or the override's when byOverride
	byOverride bool
}

// sameCover reports whether g and h put the same engineer on call from the
// same source, so that where they meet they make one shift.
func (g segment) sameCover(h segment) bool {
	return g.engineerID == h.engineerID && g.sourceID == h.sourceID && g.byOverride == h.byOverride
}

// outranks reports whether g takes precedence over h where both claim an
// instant: an override over a rotation, then the lower id.
func (g segment) outranks(h segment) bool {
	if g.byOverride != h.byOverride {
		return g.byOverride
	}
	return g.sourceID < h.sourceID
}

// shift returns g as a Shift of level's layer.
func (g segment) shift(level Level, layer Layer) Shift {
	s := Shift{Level: level, Layer: layer, EngineerID: g.engineerID, Start: timeOf(g.start), End: timeOf(g.end)}
	if g.byOverride {
		s.OverrideID = g.sourceID
	} else {
		s.RotationID = g.sourceID
	}
	return s
}

// collision is a stretch of instants [start, end) that the rotations
// rotationIDs (two or more, ascending) all claim.
type collision struct {
	start, end  int64
	rotationIDs []int64
}

// layerSources holds what decides who is on call for one level's layer: its
// rotation versions and overrides, and bounds derived from them.
type layerSources struct {
	versions        []*rotationVersion
	overrides       []segment // by start, then id
	longestOverride int64
	// earliest is the first instant any source covers.
	earliest int64
	// settled is the last instant at which a version or override starts or
	// ends; after it only the periodic hand-offs and windows of the
	// open-ended versions change anything.
	settled int64
	// settleSpan is how long, at most, one cover lasts once settled has
	// passed, unless it never ends.
	settleSpan int64
}

// settle sorts the overrides and derives earliest, settled and settleSpan.
func (l *layerSources) settle() {
	slices.SortFunc(l.overrides, func(g, h segment) int {
		if c := cmp.Compare(g.start, h.start); c != 0 {
			return c
		}
		return cmp.Compare(g.sourceID, h.sourceID)
	})
	l.earliest, l.settled = lastInstant, firstInstant
	// A run of one engineer breaks within its own length; a restriction
	// window, or a window of a rotation that outranks this one, recurs
	// within a week, and within two even when a DST change swallows it once.
	longestRun := int64(0)
	for _, v := range l.versions {
		l.earliest = min(l.earliest, v.from)
		l.settled = max(l.settled, v.from)
		if v.to < lastInstant {
			l.settled = max(l.settled, v.to)
		} else if run := v.longestRun(); run < lastInstant {
			longestRun = max(longestRun, run)
		}
	}
	for _, o := range l.overrides {
		l.earliest = min(l.earliest, o.start)
		l.settled = max(l.settled, o.end)
		l.longestOverride = max(l.longestOverride, o.end-o.start)
	}
	l.settleSpan = later(longestRun, 15*dayNanos)
}

// timeline returns who is on call over [a, b), clipped to it: segments
// sorted and disjoint, adjacent ones of the same cover merged; and where
// rotations collide.
func (l *layerSources) timeline(a, b int64) ([]segment, []collision) {
	if a >= b {
		return nil, nil
	}
	var pieces []segment
	for _, v := range l.versions {
		pieces = v.cover(a, b, pieces)
	}
	// Overrides are sorted by start: skip those that end before a.
	i, _ := slices.BinarySearchFunc(l.overrides, earlier(a, l.longestOverride), func(o segment, at int64) int {
		return cmp.Compare(o.start, at)
	})
	for ; i < len(l.overrides) && l.overrides[i].start < b; i++ {
		o := l.overrides[i]
		if o.start, o.end = max(o.start, a), min(o.end, b); o.start < o.end {
			pieces = append(pieces, o)
		}
	}
	return resolve(pieces)
}

// pieceEdge is where a piece starts (opens) or ends.
type pieceEdge struct {
	at    int64
	piece int
	opens bool
}

// resolve sweeps over pieces that may overlap (each source's own pieces do
// not) and returns, for each stretch, the piece that outranks the others,
// merged into segments; and the stretches two or more rotations claim.
func resolve(pieces []segment) ([]segment, []collision) {
	edges := make([]pieceEdge, 0, 2*len(pieces))
	for i, p := range pieces {
		edges = append(edges, pieceEdge{p.start, i, true}, pieceEdge{p.end, i, false})
	}
	// All the edges at one instant are applied before the stretch after it
	// is decided: their order does not matter.
	slices.SortFunc(edges, func(x, y pieceEdge) int { return cmp.Compare(x.at, y.at) })
	var segs []segment
	var collisions []collision
	var open []int // pieces covering the current stretch
	for i := 0; i < len(edges); {
		at := edges[i].at
		for ; i < len(edges) && edges[i].at == at; i++ {
			if e := edges[i]; e.opens {
				open = append(open, e.piece)
			} else {
				open = slices.DeleteFunc(open, func(p int) bool { return p == e.piece })
			}
		}
		if i == len(edges) || len(open) == 0 {
			continue
		}
		until := edges[i].at
		winner, rotations := pieces[open[0]], 0
		for _, p := range open {
			if pieces[p].outranks(winner) {
				winner = pieces[p]
			}
			if !pieces[p].byOverride {
				rotations++
			}
		}
		winner.start, winner.end = at, until
		if n := len(segs); n > 0 && segs[n-1].end == at && segs[n-1].sameCover(winner) {
			segs[n-1].end = until
		} else {
			segs = append(segs, winner)
		}
		if rotations >= 2 {
			collisions = addCollision(collisions, pieces, open, at, until)
		}
	}
	return segs, collisions
}

// addCollision appends to collisions the stretch [at, until) claimed by the
// rotation pieces among open, merging it into the last collision when that
// one ends at at with the same rotations.
func addCollision(collisions []collision, pieces []segment, open []int, at, until int64) []collision {
	ids := make([]int64, 0, len(open))
	for _, p := range open {
		if !pieces[p].byOverride {
			ids = append(ids, pieces[p].sourceID)
		}
	}
	slices.Sort(ids)
	if n := len(collisions); n > 0 && collisions[n-1].end == at && slices.Equal(collisions[n-1].rotationIDs, ids) {
		collisions[n-1].end = until
		return collisions
	}
	return append(collisions, collision{at, until, ids})
}

// segmentAt returns the segment covering instant at with its full extent,
// computed from the sources.
func (l *layerSources) segmentAt(at int64) (segment, bool) {
	segs, _ := l.timeline(at, at+1)
	if len(segs) == 0 {
		return segment{}, false
	}
	l.widen(segs, at, at+1)
	return segs[0], true
}

// widen moves the start of the first of segs, cut at a, and the end of the
// last, cut at b, to where their cover really starts and ends.
func (l *layerSources) widen(segs []segment, a, b int64) {
	if len(segs) == 0 {
		return
	}
	if first := &segs[0]; first.start == a {
		first.start = l.startOf(*first)
	}
	if last := &segs[len(segs)-1]; last.end == b {
		last.end = l.endOf(*last)
	}
}

// startOf returns where the cover of g really starts, g being its part from
// g.start. It looks back in stretches that double in length.
func (l *layerSources) startOf(g segment) int64 {
	at, step := g.start, dayNanos
	for at > l.earliest {
		from := max(earlier(at, step), l.earliest)
		segs, _ := l.timeline(from, at)
		if len(segs) == 0 {
			return at
		}
		prev := segs[len(segs)-1]
		if prev.end != at || !prev.sameCover(g) {
			return at
		}
		if prev.start > from {
			return prev.start
		}
		at, step = from, later(step, step)
	}
	return at
}

// endOf returns where the cover of g really ends, g being its part until
// g.end, or lastInstant if it never ends. It looks ahead in stretches that
// double in length, up to the point past which an unbroken cover is one
// that never ends.
func (l *layerSources) endOf(g segment) int64 {
	never := later(max(g.start, l.settled), l.settleSpan)
	at, step := g.end, dayNanos
	for at < never {
		until := min(later(at, step), never)
		segs, _ := l.timeline(at, until)
		if len(segs) == 0 {
			return at
		}
		next := segs[0]
		if next.start != at || !next.sameCover(g) {
			return at
		}
		if next.end < until {
			return next.end
		}
		at, step = until, later(step, step)
	}
	return lastInstant
}

// dayIndex returns, for each day of 24 hours from a until b (the last one
// may be shorter), the index of the first of segs (sorted, disjoint) that
// ends after the day begins; and len(segs) after them.
func dayIndex(segs []segment, a, b int64) []int32 {
	days := (b - a + dayNanos - 1) / dayNanos
	index := make([]int32, days+1)
	i := 0
	for d := range days {
		dayStart := a + d*dayNanos
		for i < len(segs) && segs[i].end <= dayStart {
			i++
		}
		index[d] = int32(i)
	}
	index[days] = int32(len(segs)) //nolint:gosec // G115: a precomputed window of years has far fewer than 2^31 segments, as i above
	return index
}
