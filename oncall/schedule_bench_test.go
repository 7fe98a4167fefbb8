package oncall

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchNow is "now" for the benchmarks: the window runs from five years
// before it to one year after.
var benchNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// benchTeam builds a support team of 3 levels, each with 50 engineers and
// two layers: the primary follows the sun (Moscow 09:00-21:00 Moscow time,
// Washington 13:00-01:00 New York time, 25 engineers each), the secondary is
// a weekly rotation of all 50. Every rotation has five years of history, a
// new version every 14 months or so (participants reshuffled, hand-off
// moved), and 1,000 overrides are spread over the six years.
func benchTeam() ([]Rotation, []Override) {
	rng := rand.New(rand.NewPCG(1, 2))
	historyStart := benchNow.AddDate(-5, 0, 0)
	var rotations []Rotation
	id := int64(0)
	addRotation := func(level Level, layer Layer, zone string, length ShiftLength, handoff, start, end ClockTime, engineers []int64) {
		id++
		prev := -1 // the index of the version before
		for v, from := 1, historyStart; from.Before(benchNow.AddDate(1, 0, 0)); v, from = v+1, from.AddDate(1, 2, 0) {
			participants := append([]int64(nil), engineers...)
			rng.Shuffle(len(participants), func(i, j int) { participants[i], participants[j] = participants[j], participants[i] })
			r := Rotation{
				ID: id, Version: v, Name: "bench", Level: level, Layer: layer, TimeZone: zone,
				Handoff: handoff + ClockTime(rng.IntN(4)*15), ShiftLength: length,
				Start: DateOf(from), Participants: participants, EffectiveFrom: from,
			}
			if start != end {
				r.Restrictions = []Restriction{{Start: start, End: end}}
			}
			if prev >= 0 {
				rotations[prev].EffectiveTo = &r.EffectiveFrom
			}
			rotations = append(rotations, r)
			prev = len(rotations) - 1
		}
	}
	for _, level := range Levels {
		engineers := make([]int64, 50)
		for i := range engineers {
			engineers[i] = int64(level)*1000 + int64(i) + 1
		}
		addRotation(level, Primary, "Europe/Moscow", ShiftLength{Days: 1}, 9*60, 9*60, 21*60, engineers[:25])
		addRotation(level, Primary, "America/New_York", ShiftLength{Days: 1}, 13*60, 13*60, 1*60, engineers[25:])
		addRotation(level, Secondary, "America/New_York", ShiftLength{Days: 7}, 10*60, 0, 0, engineers)
	}
	// 1,000 overrides, one after another on each layer in turn.
	var overrides []Override
	cursors := map[[2]int]time.Time{}
	for n := range 1000 {
		level, layer := Levels[n%3], Layers[(n/3)%2]
		key := [2]int{int(level), int(layer)}
		if cursors[key].IsZero() {
			cursors[key] = historyStart
		}
		start := cursors[key].Add(time.Duration(rng.IntN(14*24)) * time.Hour)
		end := start.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
		cursors[key] = end
		overrides = append(overrides, Override{
			ID: int64(n + 1), Level: level, Layer: layer, EngineerID: int64(level)*1000 + int64(rng.IntN(50)) + 1,
			Start: start, End: end,
		})
	}
	return rotations, overrides
}

// benchInstants returns n instants spread at random over [from, to).
func benchInstants(n int, from, to time.Time) []time.Time {
	rng := rand.New(rand.NewPCG(3, 4))
	instants := make([]time.Time, n)
	for i := range instants {
		instants[i] = from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)))))
	}
	return instants
}

func benchSchedule(b *testing.B) *Schedule {
	rotations, overrides := benchTeam()
	s, err := NewSchedule(rotations, overrides, benchNow.AddDate(-5, 0, 0), benchNow.AddDate(1, 0, 0))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkNewSchedule(b *testing.B) {
	rotations, overrides := benchTeam()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewSchedule(rotations, overrides, benchNow.AddDate(-5, 0, 0), benchNow.AddDate(1, 0, 0)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOnCall(b *testing.B) {
	s := benchSchedule(b)
	instants := benchInstants(1<<12, benchNow.AddDate(-5, 0, 0), benchNow.AddDate(1, 0, 0))
	found := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t := instants[i&(len(instants)-1)]
		if _, ok := s.OnCall(Levels[i%3], Layers[i&1], t); ok {
			found++
		}
	}
	if found == 0 {
		b.Fatal("nobody on call at any instant")
	}
}

// BenchmarkOnCallOutsideWindow is OnCall computed from the definitions, a
// year or two after the window.
func BenchmarkOnCallOutsideWindow(b *testing.B) {
	s := benchSchedule(b)
	instants := benchInstants(1<<12, benchNow.AddDate(1, 0, 0), benchNow.AddDate(3, 0, 0))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.OnCall(Levels[i%3], Layers[i&1], instants[i&(len(instants)-1)])
	}
}

// BenchmarkBaselineZoneConvert is the cost of reading the wall clock of the
// same instants in a zone, for comparison with OnCall.
func BenchmarkBaselineZoneConvert(b *testing.B) {
	loc, err := LoadZone("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	instants := benchInstants(1<<12, benchNow.AddDate(-5, 0, 0), benchNow.AddDate(1, 0, 0))
	sum := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h, m, s := instants[i&(len(instants)-1)].In(loc).Clock()
		sum += h + m + s
	}
	if sum < 0 {
		b.Fatal("impossible")
	}
}
