package oncall

import (
	"cmp"
	"slices"
	"time"
)

// The schedule works on instants: int64 Unix nanoseconds, which compare and
// subtract cheaply and carry no zone or monotonic reading. It represents the
// instants from firstInstant to lastInstant; differences of two of them never
// overflow.
const (
	firstInstant    int64 = 0                         // 1970-01-01T00:00:00Z
	lastInstant     int64 = 9_214_646_400_000_000_000 // 2262-01-01T00:00:00Z
	firstInstantSec int64 = 0
	lastInstantSec  int64 = 9_214_646_400

	hourNanos = int64(time.Hour)
	dayNanos  = 24 * hourNanos
)

// instantOf returns t as an instant; ok is false when t lies outside the
// instants a schedule represents.
func instantOf(t time.Time) (at int64, ok bool) {
	sec := t.Unix()
	if sec < firstInstantSec || sec >= lastInstantSec {
		return 0, false
	}
	return t.UnixNano(), true
}

// clampInstant returns t as an instant, moved to firstInstant or lastInstant
// when it lies outside them. The zero time.Time becomes firstInstant.
func clampInstant(t time.Time) int64 {
	sec := t.Unix()
	if sec < firstInstantSec {
		return firstInstant
	}
	if sec >= lastInstantSec {
		return lastInstant
	}
	return t.UnixNano()
}

// timeOf returns instant at as a time in UTC.
func timeOf(at int64) time.Time { return time.Unix(0, at).UTC() }

// later returns at moved d (>= 0) later, stopping at lastInstant.
func later(at, d int64) int64 {
	if at > lastInstant-d {
		return lastInstant
	}
	return at + d
}

// earlier returns at moved d (>= 0) earlier, stopping at firstInstant.
func earlier(at, d int64) int64 {
	if at < firstInstant+d {
		return firstInstant
	}
	return at - d
}

// span is the stretch of instants [start, end).
type span struct{ start, end int64 }

// uncovered returns the stretches of [a, b) that no span of covered
// contains, in order. covered may be unsorted and overlapping; it is sorted
// in place.
func uncovered(covered []span, a, b int64) []span {
	sortSpans(covered)
	var holes []span
	cursor := a
	for _, c := range covered {
		if c.start > cursor {
			holes = append(holes, span{cursor, min(c.start, b)})
		}
		cursor = max(cursor, c.end)
		if cursor >= b {
			return holes
		}
	}
	if cursor < b {
		holes = append(holes, span{cursor, b})
	}
	return holes
}

// unite sorts spans in place and returns them with the overlapping and
// touching ones merged.
func unite(spans []span) []span {
	sortSpans(spans)
	out := spans[:0]
	for _, s := range spans {
		if n := len(out); n > 0 && s.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

func sortSpans(spans []span) {
	slices.SortFunc(spans, func(x, y span) int { return cmp.Compare(x.start, y.start) })
}

// floorDiv returns a/b rounded towards minus infinity, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
