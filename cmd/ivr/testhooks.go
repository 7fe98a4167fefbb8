package main

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/pager"
)

// Test hooks: what IVR_TEST_PAUSE_AT and IVR_TEST_CLOCK_SPEED turn on, so
// that a crash test can stop the real process at a named point of the
// pager's work and let its escalation steps pass in seconds. Neither is
// for production; serve logs a warning when one is set.

// fastClock runs k times faster than real time from its start.
type fastClock struct {
	start time.Time
	k     float64
}

func (c fastClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.k))
}

func (c fastClock) After(d time.Duration) <-chan time.Time {
	return time.After(time.Duration(float64(d) / c.k))
}

// pauseMarker is the log message of a pause at IVR_TEST_PAUSE_AT.
const pauseMarker = "test pause: kill me now"

// pauseHook returns the engine's hook for IVR_TEST_PAUSE_AT; nil without
// it.
func (c *pagerConfig) pauseHook(log *zap.Logger) func(context.Context, pager.Phase, int64, int64) {
	if c.pauseAt == "" {
		return nil
	}
	log.Warn("IVR_TEST_PAUSE_AT is set: the pager stops for good at that phase; for tests only", zap.String(keyPhase, c.pauseAt))
	var once sync.Once
	return func(ctx context.Context, phase pager.Phase, pageID, attemptID int64) {
		if string(phase) != c.pauseAt {
			return
		}
		paused := false
		once.Do(func() { paused = true })
		if !paused {
			return
		}
		log.Warn(pauseMarker, zap.String(keyPhase, string(phase)), zap.Int64(keyPageID, pageID), zap.Int64(keyAttemptID, attemptID))
		<-ctx.Done()
	}
}
