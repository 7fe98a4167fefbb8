package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/pager"
)

// Engineer legs of live calls in the pages' outbox (pager.LegStore): rows
// of page_attempts with call_id set and no page.

// AddLeg stores leg a as Intended; a leg the call has already (call_id,
// key) is returned as it is, added false.
func (db *DB) AddLeg(ctx context.Context, a pager.Attempt) (pager.Attempt, bool, error) {
	switch {
	case a.CallID == "":
		return pager.Attempt{}, false, errs.InvalidField("call_id", "is required")
	case a.Key == "":
		return pager.Attempt{}, false, errs.InvalidField("key", "is required")
	case a.Purpose != pager.PurposeLeg || a.Kind != pager.KindVoice:
		return pager.Attempt{}, false, errs.InvalidField("purpose", "a leg is a voice attempt with purpose %q", pager.PurposeLeg)
	}
	var (
		out   pager.Attempt
		added bool
	)
	err := db.update(ctx, func(t *tx) error {
		created := t.now
		if !a.CreatedAt.IsZero() {
			created = roundTime(a.CreatedAt)
		}
		_, err := t.insert(ctx, `INSERT INTO page_attempts (call_id, key, kind, purpose, rung, engineer_id, to_number,
				from_number, ring_ms, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id, key) DO NOTHING`,
			a.CallID, a.Key, string(a.Kind), string(a.Purpose), a.Rung, a.EngineerID, a.To,
			a.From, a.RingFor.Milliseconds(), string(pager.Intended), micros(created), micros(t.now))
		switch {
		case isNoRows(err):
		case err != nil:
			return err
		default:
			added = true
		}
		out, err = scanAttempt(t.queryRow(ctx, "SELECT "+attemptColumns+" FROM page_attempts WHERE call_id = ? AND key = ?", a.CallID, a.Key))
		if err != nil {
			return err
		}
		if added && t.d.notifyPager != "" {
			if _, err := t.exec(ctx, t.d.notifyPager); err != nil {
				return fmt.Errorf("notify other instances: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return pager.Attempt{}, false, fmt.Errorf("add leg %s: %w", a.Key, err)
	}
	return out, added, nil
}

// Leg returns the leg legID of call callID.
func (db *DB) Leg(ctx context.Context, callID, legID string) (pager.Attempt, error) {
	a, err := scanAttempt(db.reads().queryRow(ctx, "SELECT "+attemptColumns+" FROM page_attempts WHERE call_id = ? AND key = ?", callID, legID))
	if isNoRows(err) {
		return pager.Attempt{}, errs.E(errs.NotFound, "", "call %s has no leg %s", callID, legID)
	}
	if err != nil {
		return pager.Attempt{}, fmt.Errorf("get leg %s: %w", legID, err)
	}
	return a, nil
}

// EndAttempt makes attempt id Done with o and detail if its status is one
// of from.
func (db *DB) EndAttempt(ctx context.Context, id int64, o pager.Outcome, detail string, from ...pager.AttemptStatus) (bool, error) {
	if len(from) == 0 {
		return false, errs.InvalidField("from", "name at least one status")
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(from)), ", ")
	args := []any{string(o), detail, 0, id}
	for _, st := range from {
		args = append(args, string(st))
	}
	ended := false
	err := db.update(ctx, func(t *tx) error {
		args[2] = micros(t.now)
		res, err := t.exec(ctx, `UPDATE page_attempts SET status = 'done', outcome = ?, detail = ?, lease_until = NULL, updated_at = ?
			WHERE id = ? AND status IN (`+marks+`)`, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ended = n == 1
		if err == nil && ended && t.d.notifyPager != "" {
			_, err = t.exec(ctx, t.d.notifyPager) // a page call may be waiting for the line
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("end attempt %d: %w", id, err)
	}
	return ended, nil
}

// WaitingLegs returns legs Intended since before createdBefore, oldest
// first.
func (db *DB) WaitingLegs(ctx context.Context, createdBefore time.Time, limit int) ([]pager.Attempt, error) {
	out, err := queryAll(ctx, db.reads(), scanAttempt, "SELECT "+attemptColumns+" FROM page_attempts"+db.indexedBy("page_attempts_legs_waiting")+`
		WHERE status = 'intended' AND call_id IS NOT NULL AND created_at < ? ORDER BY created_at, id LIMIT `+fmt.Sprint(listLimit(limit)),
		micros(createdBefore))
	if err != nil {
		return nil, fmt.Errorf("list legs waiting: %w", err)
	}
	return orEmpty(out), nil
}

// OnVoiceCall reports whether a voice attempt to engineer engineerID is in
// flight. The attempts in flight are few (one per number at most), and the
// condition is that of the partial index page_attempts_voice_in_flight.
func (db *DB) OnVoiceCall(ctx context.Context, engineerID int64) (bool, error) {
	var n int
	err := db.reads().queryRow(ctx, `SELECT COUNT(*) FROM page_attempts
		WHERE kind = 'voice' AND status IN ('sending', 'sent', 'in-doubt') AND engineer_id = ?`, engineerID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("voice calls in flight to engineer %d: %w", engineerID, err)
	}
	return n > 0, nil
}

// DeleteLegsBefore deletes the engineer legs that ended before before
// (their call's state goes with the same retention); a page's attempts
// stay with their page. It returns how many it deleted.
func (db *DB) DeleteLegsBefore(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(t *tx) error {
		res, err := t.exec(ctx, "DELETE FROM page_attempts WHERE call_id IS NOT NULL AND status = 'done' AND updated_at < ?", micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete legs ended before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(n), nil
}
