package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// WatchCursor returns how far the watcher called name has read; false when
// it has never saved one.
func (db *DB) WatchCursor(ctx context.Context, name string) (time.Time, bool, error) {
	var at int64
	err := db.reads().queryRow(ctx, "SELECT at FROM watch_cursors WHERE name = ?", name).Scan(&at)
	switch {
	case isNoRows(err):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("watch cursor %s: %w", name, err)
	}
	return fromMicros(at), true, nil
}

// SetWatchCursor records that the watcher called name has read up to at.
// A cursor never moves back: an older at (another instance's slower look)
// leaves the stored one as it is.
func (db *DB) SetWatchCursor(ctx context.Context, name string, at time.Time) error {
	if name == "" {
		return errors.New("watch cursor: a name is required")
	}
	err := db.update(ctx, func(t *tx) error {
		_, err := t.exec(ctx, `INSERT INTO watch_cursors (name, at, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET at = excluded.at, updated_at = excluded.updated_at
			WHERE watch_cursors.at < excluded.at`, name, micros(at), micros(t.now))
		return err
	})
	if err != nil {
		return fmt.Errorf("watch cursor %s: %w", name, err)
	}
	return nil
}
