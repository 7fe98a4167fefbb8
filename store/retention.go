package store

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// RetentionPeriod is how often RunRetention deletes what is past the
// retention.
const RetentionPeriod = time.Hour

// logCount is the log key of how many rows a deletion removed.
const logCount = "count"

// Retention says what RunRetention keeps.
type Retention struct {
	// Keep is how long voicemails and call states are kept: a call's state
	// stays inspectable as long as its voicemail.
	Keep time.Duration
	// Tick, when set, says when to delete again instead of a ticker every
	// RetentionPeriod (tests send on it).
	Tick <-chan time.Time
}

// RunRetention deletes, at once and then every RetentionPeriod until ctx
// is done, the voicemails, call states and ended engineer legs older than
// r.Keep by the store's clock (Now). A failed deletion is logged and tried again at the next
// period.
func (db *DB) RunRetention(ctx context.Context, r Retention) {
	tick := r.Tick
	if tick == nil {
		t := time.NewTicker(RetentionPeriod)
		defer t.Stop()
		tick = t.C
	}
	for {
		db.deleteExpired(ctx, r.Keep)
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// deleteExpired deletes once what RunRetention deletes.
func (db *DB) deleteExpired(ctx context.Context, keep time.Duration) {
	before := db.Now().Add(-keep)
	if n, err := db.DeleteRecordingsBefore(ctx, before); err != nil && ctx.Err() == nil {
		db.log.Error("delete old voicemails", zap.Error(err))
	} else if n > 0 {
		db.log.Info("old voicemails deleted", zap.Int(logCount, n))
	}
	if n, err := db.DeleteCallStatesBefore(ctx, before); err != nil && ctx.Err() == nil {
		db.log.Error("delete old call states", zap.Error(err))
	} else if n > 0 {
		db.log.Info("old call states deleted", zap.Int(logCount, n))
	}
	if n, err := db.DeleteLegsBefore(ctx, before); err != nil && ctx.Err() == nil {
		db.log.Error("delete old engineer legs", zap.Error(err))
	} else if n > 0 {
		db.log.Info("old engineer legs deleted from the outbox", zap.Int(logCount, n))
	}
}
