package latency_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/latency"
)

func TestQuantile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := latency.Quantile(ds, q); got != want {
			t.Errorf("Quantile(1..100 ms, %v) = %v, want %v", q, got, want)
		}
	}
	if latency.Quantile(nil, 0.5) != 0 || latency.Millis(1500*time.Microsecond) != 1.5 {
		t.Error("no durations, or milliseconds")
	}
}
