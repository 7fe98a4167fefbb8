package store

import (
	"context"
	"fmt"
	"time"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
)

// SaveRecording stores voicemail audio r, CreatedAt set to the store's
// clock if zero. A recording is saved once: saving an id again keeps the
// first and returns nil, so that a driver may retry after a provider's
// repeated callback. Invalid naming the field if r does not validate
// (calls.Recording.Validate). No audit entry.
func (db *DB) SaveRecording(ctx context.Context, r calls.Recording) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("save recording: %w", err)
	}
	err := db.update(ctx, func(tx *tx) error {
		created := roundTime(r.CreatedAt)
		if r.CreatedAt.IsZero() {
			created = tx.now
		}
		_, err := tx.exec(ctx, `INSERT INTO recordings (id, call_id, content_type, data, seconds, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			r.ID, r.CallID, r.ContentType, r.Data, r.Seconds, micros(created))
		return err
	})
	if err != nil {
		return fmt.Errorf("save recording %s: %w", r.ID, err)
	}
	return nil
}

// Recording returns recording id with its audio; NotFound if there is none
// (never saved, or deleted after the retention).
func (db *DB) Recording(ctx context.Context, id string) (calls.Recording, error) {
	r := calls.Recording{ID: id}
	var created int64
	err := db.reads().queryRow(ctx, "SELECT call_id, content_type, data, seconds, created_at FROM recordings WHERE id = ?", id).
		Scan(&r.CallID, &r.ContentType, &r.Data, &r.Seconds, &created)
	if isNoRows(err) {
		return calls.Recording{}, errs.E(errs.NotFound, "", "recording %q does not exist", id)
	}
	if err != nil {
		return calls.Recording{}, fmt.Errorf("get recording %s: %w", id, err)
	}
	r.CreatedAt = fromMicros(created)
	return r, nil
}

// DeleteRecordingsBefore deletes the recordings created before t (those
// past the retention) and returns how many it deleted.
func (db *DB) DeleteRecordingsBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *tx) error {
		res, err := tx.exec(ctx, "DELETE FROM recordings WHERE created_at < ?", micros(t))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete recordings: %w", err)
	}
	return int(n), nil
}
