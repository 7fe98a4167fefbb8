// Package latency owns the arithmetic the benchmarks report latencies
// with: quantiles of measured durations, in milliseconds. For tests and
// benchmarks only.
package latency

import (
	"math"
	"slices"
	"time"
)

// Quantile is the q-quantile of ds (nearest rank), 0 for none; it sorts ds.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// Millis is d in milliseconds, as b.ReportMetric takes it.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
