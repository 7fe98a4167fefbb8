package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
)

// pagerChannel is the PostgreSQL notification channel on which every
// change to a page or its outbox is announced to the other instances.
const pagerChannel = "ivr_pager"

// Reconnect pauses of the LISTEN connection.
const (
	listenRetryMin = 500 * time.Millisecond
	listenRetryMax = 30 * time.Second
)

// ListenPager calls wake whenever another instance (or this one) changes a
// page or adds attempts, until ctx is done, so that an engine learns of
// new due times and work at once instead of at its next safety scan. It
// holds one dedicated connection (outside the pool) with LISTEN; while it
// is down, notifications are lost, so wake is also called after every
// (re)connection: the engine then rescans. With SQLite, where one instance
// does all the work, it returns nil at once.
func (db *DB) ListenPager(ctx context.Context, wake func()) error {
	if db.pgConfig == nil {
		return nil
	}
	pause := listenRetryMin
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return nil
		}
		db.log.Warn("pager notifications lost; reconnecting", zap.Duration(logPause, pause), zap.Error(err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, listenRetryMax)
	}
	return nil
}

func (db *DB) listenOnce(ctx context.Context, wake func()) error {
	conn, err := pgx.ConnectConfig(ctx, db.pgConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect for LISTEN: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pagerChannel); err != nil {
		return fmt.Errorf("LISTEN %s: %w", pagerChannel, err)
	}
	wake() // whatever was announced while no connection listened
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		wake()
	}
}
