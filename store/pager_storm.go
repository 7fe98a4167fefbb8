package store

import (
	"context"
	"fmt"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/pager"
)

// Storms: many pages for one engineer at once become one page call.

// FoldVoice ends, as Folded, every other Intended page call to the number
// of attempt leader (held by owner) whose page is open and not critical,
// and returns them as they were: the leader's call announces them all,
// and its 1 acknowledges them all. A critical page's call is never taken
// into another's; a critical leader takes none. Invalid (owner) if owner
// is empty; NotFound if leader does not exist; Conflict if owner does not
// hold leader.
func (db *DB) FoldVoice(ctx context.Context, leaderID int64, owner string, lease time.Duration) ([]pager.Attempt, error) {
	if owner == "" {
		return nil, errs.InvalidField("owner", "is required")
	}
	var out []pager.Attempt
	err := db.update(ctx, func(t *tx) error {
		var to, priority, claimedBy string
		err := t.queryRow(ctx, `SELECT a.to_number, p.priority, a.claimed_by FROM page_attempts a JOIN pages p ON p.id = a.page_id
			WHERE a.id = ?`, leaderID).Scan(&to, &priority, &claimedBy)
		switch {
		case isNoRows(err):
			return errs.E(errs.NotFound, "", "attempt %d does not exist", leaderID)
		case err != nil:
			return err
		case claimedBy != owner:
			return errs.E(errs.Conflict, "", "attempt %d is held by %q, not by %q", leaderID, claimedBy, owner)
		case priority == "critical":
			return nil
		}
		out, err = queryAll(ctx, t.runner, scanAttempt, `SELECT `+attemptColumns+` FROM page_attempts
			WHERE status = 'intended' AND kind = 'voice' AND purpose = 'page' AND to_number = ? AND id <> ?
				AND page_id IN (SELECT id FROM pages WHERE status = 'open' AND priority <> 'critical')
			ORDER BY id LIMIT 1000`+t.d.skipLocked, to, leaderID)
		if err != nil {
			return err
		}
		for _, a := range out {
			if _, err := t.exec(ctx, `UPDATE page_attempts SET status = 'done', outcome = ?, detail = ?, lease_until = NULL,
					updated_at = ? WHERE id = ?`,
				string(pager.Folded), fmt.Sprintf("announced by the page call of attempt %d", leaderID), micros(t.now), a.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fold page calls into attempt %d: %w", leaderID, err)
	}
	return byID(out), nil
}

// LastPageCall returns when the latest page call to number to that rang
// (it ended for any reason but being canceled or folded before it was
// made) last changed: the end of the engineer's last page call. False if
// there was none.
func (db *DB) LastPageCall(ctx context.Context, to string) (time.Time, bool, error) {
	var at nullTime
	err := db.reads().queryRow(ctx, `SELECT MAX(updated_at) FROM page_attempts
		WHERE kind = 'voice' AND page_id IS NOT NULL AND to_number = ? AND status = 'done' AND outcome NOT IN ('canceled', 'folded')`, to).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last page call to %s: %w", to, err)
	}
	if t := at.time(); t != nil {
		return *t, true, nil
	}
	return time.Time{}, false, nil
}

// VoiceLines returns, for every number with page calls in flight or
// waiting, whether one is in flight and how many wait: what a page that
// finds the line busy needs to know. Calls that are in flight or waiting
// are few (at most one in flight per number), so this reads two small
// partial indexes.
func (db *DB) VoiceLines(ctx context.Context) (map[string]pager.VoiceLine, error) {
	rows, err := db.reads().query(ctx, `SELECT to_number, status FROM page_attempts
		WHERE kind = 'voice' AND status IN ('intended', 'sending', 'sent', 'in-doubt')`)
	if err != nil {
		return nil, fmt.Errorf("voice lines: %w", err)
	}
	defer rows.Close()
	out := map[string]pager.VoiceLine{}
	for rows.Next() {
		var to, status string
		if err := rows.Scan(&to, &status); err != nil {
			return nil, fmt.Errorf("voice lines: %w", err)
		}
		l := out[to]
		if status == string(pager.Intended) {
			l.Waiting++
		} else {
			l.InFlight = true
		}
		out[to] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("voice lines: %w", err)
	}
	return out, nil
}
