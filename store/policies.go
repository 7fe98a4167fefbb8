package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/oncall"
)

func scanPolicy(s scanner) (oncall.Policy, error) {
	var (
		p         oncall.Policy
		steps     string
		updatedAt int64
	)
	if err := s.Scan(&p.Priority, &steps, &updatedAt); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(steps), &p.Steps); err != nil {
		return p, fmt.Errorf("policy %s: steps: %w", p.Priority, err)
	}
	p.Deadline = oncall.Duration(p.Priority.ResponseTime())
	p.UpdatedAt = fromMicros(updatedAt)
	return p, nil
}

// Policies returns the escalation policies that were edited, most pressing
// priority first; a priority never edited is absent (its default applies).
func (db *DB) Policies(ctx context.Context) ([]oncall.Policy, error) {
	out, err := queryAll(ctx, db.reads(), scanPolicy, "SELECT priority, steps, updated_at FROM policies")
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	slices.SortFunc(out, func(a, b oncall.Policy) int { return priorityRank(a.Priority) - priorityRank(b.Priority) })
	return out, nil
}

// priorityRank orders priorities as oncall.Priorities does; unknown ones
// last.
func priorityRank(p oncall.Priority) int {
	if i := slices.Index(oncall.Priorities[:], p); i >= 0 {
		return i
	}
	return len(oncall.Priorities)
}

// PutPolicy stores p (normalised by the caller) for p.Priority, replacing
// any earlier one, and returns it with UpdatedAt set.
func (db *DB) PutPolicy(ctx context.Context, actor string, p oncall.Policy) (oncall.Policy, error) {
	err := db.update(ctx, func(t *tx) error {
		var before any
		old, err := scanPolicy(t.queryRow(ctx, "SELECT priority, steps, updated_at FROM policies WHERE priority = ?"+t.d.forUpdate, string(p.Priority)))
		switch {
		case err == nil:
			before = old
		case !isNoRows(err):
			return fmt.Errorf("read policy: %w", err)
		}
		steps, err := json.Marshal(p.Steps)
		if err != nil {
			return fmt.Errorf("steps: %w", err)
		}
		p.Deadline = oncall.Duration(p.Priority.ResponseTime())
		p.UpdatedAt = t.now
		if _, err := t.exec(ctx, `INSERT INTO policies (priority, steps, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (priority) DO UPDATE SET steps = excluded.steps, updated_at = excluded.updated_at`,
			string(p.Priority), string(steps), micros(p.UpdatedAt)); err != nil {
			return err
		}
		action := audit.Update
		if before == nil {
			action = audit.Create
		}
		return t.audit(ctx, actor, action, audit.Policy, string(p.Priority), before, p)
	})
	if err != nil {
		return oncall.Policy{}, fmt.Errorf("put policy %s: %w", p.Priority, err)
	}
	return p, nil
}
