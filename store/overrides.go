package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

const overrideColumns = "id, level, layer, engineer_id, start_at, end_at, reason, created_at"

func scanOverride(s scanner) (oncall.Override, error) {
	var (
		o                     oncall.Override
		start, end, createdAt int64
	)
	if err := s.Scan(&o.ID, &o.Level, &o.Layer, &o.EngineerID, &start, &end, &o.Reason, &createdAt); err != nil {
		return o, err
	}
	o.Start, o.End, o.CreatedAt = fromMicros(start), fromMicros(end), fromMicros(createdAt)
	return o, nil
}

// Overrides returns the overrides that end after from and start before to,
// by start.
func (db *DB) Overrides(ctx context.Context, from, to time.Time) ([]oncall.Override, error) {
	out, err := queryAll(ctx, db.reads(), scanOverride, "SELECT "+overrideColumns+` FROM overrides
		WHERE end_at > ? AND start_at < ? ORDER BY start_at, id`, micros(from), micros(to))
	if err != nil {
		return nil, fmt.Errorf("list overrides: %w", err)
	}
	return out, nil
}

// Override returns override id; NotFound if absent.
func (db *DB) Override(ctx context.Context, id int64) (oncall.Override, error) {
	o, err := scanOverride(db.reads().queryRow(ctx, "SELECT "+overrideColumns+" FROM overrides WHERE id = ?", id))
	if err != nil {
		return oncall.Override{}, fmt.Errorf("get override: %w", notFound(err, audit.Override, id))
	}
	return o, nil
}

// CreateOverride stores o (normalised by the caller) and returns it with ID
// and CreatedAt set. Invalid (engineer_id) if the engineer does not exist or
// was deleted; Conflict if o overlaps an override of the same level and
// layer.
func (db *DB) CreateOverride(ctx context.Context, actor string, o oncall.Override) (oncall.Override, error) {
	err := db.update(ctx, func(t *tx) error {
		var err error
		o, err = t.createOverride(ctx, actor, o)
		return err
	})
	if err != nil {
		return oncall.Override{}, fmt.Errorf("create override: %w", err)
	}
	return o, nil
}

// CreateOverrides stores every override of os in one transaction, each
// with its audit entry, or none of them: CreateOverride's errors, the
// field prefixed with the override's index (overrides[1].engineer_id).
// Two of os that overlap each other are refused like an overlap with a
// stored one.
func (db *DB) CreateOverrides(ctx context.Context, actor string, os []oncall.Override) ([]oncall.Override, error) {
	out := make([]oncall.Override, len(os))
	err := db.update(ctx, func(t *tx) error {
		for i, o := range os {
			var err error
			if out[i], err = t.createOverride(ctx, actor, o); err != nil {
				return errs.Prefix(fmt.Sprintf("overrides[%d]", i), err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create overrides: %w", err)
	}
	return out, nil
}

// createOverride is CreateOverride within t.
func (t *tx) createOverride(ctx context.Context, actor string, o oncall.Override) (oncall.Override, error) {
	if err := t.checkEngineers(ctx, []int64{o.EngineerID}, func(int) string { return "engineer_id" }); err != nil {
		return o, err
	}
	o.Start, o.End, o.CreatedAt = roundTime(o.Start), roundTime(o.End), t.now
	// With SQLite this check is the rule (the write lock is held since
	// BEGIN); with PostgreSQL an override committed after it is caught
	// by the overrides_no_overlap constraint.
	other, err := scanOverride(t.queryRow(ctx, "SELECT "+overrideColumns+` FROM overrides
		WHERE level = ? AND layer = ? AND start_at < ? AND end_at > ? ORDER BY start_at LIMIT 1`,
		int(o.Level), int(o.Layer), micros(o.End), micros(o.Start)))
	switch {
	case err == nil:
		return o, errs.E(errs.Conflict, "", "overlaps override %d of %s %s from %s to %s", other.ID, other.Level, other.Layer,
			other.Start.Format(time.RFC3339), other.End.Format(time.RFC3339))
	case !isNoRows(err):
		return o, fmt.Errorf("find overlaps: %w", err)
	}
	o.ID, err = t.insert(ctx, `INSERT INTO overrides (level, layer, engineer_id, start_at, end_at, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, int(o.Level), int(o.Layer), o.EngineerID, micros(o.Start), micros(o.End), o.Reason, micros(o.CreatedAt))
	if err != nil {
		return o, err
	}
	return o, t.audit(ctx, actor, audit.Create, audit.Override, strconv.FormatInt(o.ID, 10), nil, o)
}

// DeleteOverride removes override id; NotFound if absent.
func (db *DB) DeleteOverride(ctx context.Context, actor string, id int64) error {
	err := db.update(ctx, func(t *tx) error {
		before, err := scanOverride(t.queryRow(ctx, "SELECT "+overrideColumns+" FROM overrides WHERE id = ?"+t.d.forUpdate, id))
		if err != nil {
			return notFound(err, audit.Override, id)
		}
		if _, err := t.exec(ctx, "DELETE FROM overrides WHERE id = ?", id); err != nil {
			return err
		}
		return t.audit(ctx, actor, audit.Delete, audit.Override, strconv.FormatInt(id, 10), before, nil)
	})
	if err != nil {
		return fmt.Errorf("delete override %d: %w", id, err)
	}
	return nil
}
