package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// The outbox of the pages' attempts. An attempt is claimed under a lease
// that a short transaction commits (claimed_by, lease_until by the
// database's clock, dialect.now); no row lock is held while its claimer
// makes the request. Claimers with PostgreSQL lock their candidates FOR
// UPDATE SKIP LOCKED and so never wait on each other nor claim one attempt
// twice; with SQLite the one writer claims alone.

const attemptColumns = `id, page_id, key, kind, purpose, rung, engineer_id, to_number, language, body, status,
	provider_id, outcome, detail, tries, not_before, claimed_at, created_at, updated_at, call_id, from_number, ring_ms`

// voiceInFlight is the unique index that keeps one page call in flight per
// number.
const voiceInFlight = "page_attempts_voice_in_flight"

// claimTries is how many times a claim is made again after it lost a race
// for a number on voiceInFlight, each time on a fresh snapshot that sees
// the winner, before voice attempts are left for the next claim.
const claimTries = 3

// ClaimAttempts leases to owner at most limit Intended attempts whose
// NotBefore is at or before now (the engine's clock, which set it: retry
// pauses are the engine's own timing; zero now: the database's clock),
// oldest first, and at most
// one voice attempt per number, and none to a number with a page call in
// flight. A claim that races another for a number is made again; it never
// fails for it. Invalid (owner) if owner is empty.
func (db *DB) ClaimAttempts(ctx context.Context, owner string, lease time.Duration, limit int, now time.Time) ([]pager.Attempt, error) {
	due := now
	if owner == "" {
		return nil, errs.InvalidField("owner", "is required")
	}
	var out []pager.Attempt
	err := db.update(ctx, func(t *tx) error {
		now, err := t.d.now(ctx, t.runner)
		if err != nil {
			return err
		}
		if due.IsZero() {
			due = now
		}
		for try := 0; ; try++ {
			voice := try < claimTries
			// A savepoint, because a failed statement aborts a
			// PostgreSQL transaction: rolled back to, the claim can be
			// made again in the same transaction.
			if _, err := t.exec(ctx, "SAVEPOINT claim"); err != nil {
				return err
			}
			out, err = queryAll(ctx, t.runner, scanAttempt, claimQuery(t.d, voice),
				micros(due), listLimit(limit), owner, micros(now), micros(now.Add(lease)), micros(t.now))
			if err == nil {
				_, err = t.exec(ctx, "RELEASE SAVEPOINT claim")
				return err
			}
			if !voice || t.d.constraint(err) != voiceInFlight {
				return err
			}
			if _, err := t.exec(ctx, "ROLLBACK TO SAVEPOINT claim"); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("claim attempts for %s: %w", owner, err)
	}
	return byID(out), nil
}

// claimQuery is ClaimAttempts' one statement: lock the candidates, keep the
// first voice attempt of each number, lease them. Without voice it claims
// no voice attempt at all. Its parameters: the database's time, the limit,
// the owner, claimed_at, lease_until, updated_at.
func claimQuery(d *dialect, voice bool) string {
	cond := "a.kind <> 'voice'"
	if voice {
		cond = `(a.kind <> 'voice' OR (NOT EXISTS (SELECT 1 FROM page_attempts f
			WHERE f.kind = 'voice' AND f.to_number = a.to_number AND f.status IN ('sending', 'sent', 'in-doubt'))` +
			d.lockVoiceNumber + `))`
	}
	// Two voice attempts to one number in one batch would break
	// voiceInFlight: the window keeps the oldest. Locking (FOR UPDATE)
	// and window functions may not share a SELECT, hence two steps.
	return `WITH candidates AS (
			SELECT a.id, a.kind, a.to_number FROM page_attempts a
			WHERE a.status = 'intended' AND a.not_before <= ? AND ` + cond + `
			ORDER BY a.id LIMIT ?` + d.skipLocked + `
		), picked AS (
			SELECT id FROM (
				SELECT id, kind, row_number() OVER (PARTITION BY kind, to_number ORDER BY id) AS nth FROM candidates
			) c WHERE kind <> 'voice' OR nth = 1
		)
		UPDATE page_attempts SET status = 'sending', claimed_by = ?, claimed_at = ?, lease_until = ?, tries = tries + 1,
			updated_at = ?
		WHERE id IN (SELECT id FROM picked)
		RETURNING ` + attemptColumns
}

// ClaimInDoubt leases to owner at most limit attempts, oldest first, whose
// lease ran out by the database's clock while Sending or InDoubt, as
// InDoubt; ClaimedAt and Tries stay as they were (looking for a request at
// the provider is no new try). Invalid (owner) if owner is empty.
func (db *DB) ClaimInDoubt(ctx context.Context, owner string, lease time.Duration, limit int) ([]pager.Attempt, error) {
	if owner == "" {
		return nil, errs.InvalidField("owner", "is required")
	}
	var out []pager.Attempt
	err := db.update(ctx, func(t *tx) error {
		now, err := t.d.now(ctx, t.runner)
		if err != nil {
			return err
		}
		out, err = queryAll(ctx, t.runner, scanAttempt, `UPDATE page_attempts
			SET status = 'in-doubt', claimed_by = ?, lease_until = ?, updated_at = ?
			WHERE id IN (SELECT id FROM page_attempts`+db.indexedBy("page_attempts_leased")+` WHERE status IN ('sending', 'in-doubt') AND lease_until < ?
				ORDER BY id LIMIT ?`+t.d.skipLocked+`)
			RETURNING `+attemptColumns,
			owner, micros(now.Add(lease)), micros(t.now), micros(now), listLimit(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim attempts in doubt for %s: %w", owner, err)
	}
	return byID(out), nil
}

// AttemptSent makes attempt id Sent with providerID if owner holds it
// (Sending or InDoubt, claimed by owner, whether or not the lease has run
// out since: nobody else took it). An attempt that has providerID already
// (Sent, or Done since) is no error. NotFound if there is no attempt id;
// Conflict if another holds it, it is not out for sending, or another
// attempt has providerID; Invalid (provider_id) if providerID is empty.
func (db *DB) AttemptSent(ctx context.Context, id int64, owner, providerID string) error {
	if providerID == "" {
		return errs.InvalidField("provider_id", "is required")
	}
	err := db.update(ctx, func(t *tx) error {
		res, err := t.exec(ctx, `UPDATE page_attempts SET status = 'sent', provider_id = ?, lease_until = NULL, updated_at = ?
			WHERE id = ? AND claimed_by = ? AND status IN ('sending', 'in-doubt')`, providerID, micros(t.now), id, owner)
		if err != nil {
			return err
		}
		return t.checkHeld(ctx, res, id, owner, providerID)
	})
	if err != nil {
		return fmt.Errorf("attempt %d sent: %w", id, err)
	}
	return nil
}

// ConfirmAttempt records providerID for attempt id whoever holds it, from
// the provider's own word (a call's initiated callback names the attempt
// in its URL): an attempt out for sending becomes Sent, so that no
// in-doubt look-up or resend follows a claimer that died before storing
// the id; one that has ended keeps its outcome and gains the id. An
// attempt with a provider id already is left as it is. NotFound if there
// is no attempt id.
func (db *DB) ConfirmAttempt(ctx context.Context, id int64, providerID string) error {
	if providerID == "" {
		return errs.InvalidField("provider_id", "is required")
	}
	err := db.update(ctx, func(t *tx) error {
		res, err := t.exec(ctx, `UPDATE page_attempts SET provider_id = ?, updated_at = ?,
				status = CASE WHEN status IN ('sending', 'in-doubt') THEN 'sent' ELSE status END,
				lease_until = CASE WHEN status IN ('sending', 'in-doubt') THEN NULL ELSE lease_until END
			WHERE id = ? AND provider_id IS NULL AND status <> 'intended'`, providerID, micros(t.now), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var one int
		if err := t.queryRow(ctx, "SELECT 1 FROM page_attempts WHERE id = ?", id).Scan(&one); isNoRows(err) {
			return errs.E(errs.NotFound, "", "attempt %d does not exist", id)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("confirm attempt %d: %w", id, err)
	}
	return nil
}

// RetryAttempt puts attempt id back to Intended, not to be claimed before
// notBefore by the database's clock, if owner holds it (as AttemptSent).
// NotFound if there is no attempt id; Conflict if owner does not hold it.
func (db *DB) RetryAttempt(ctx context.Context, id int64, owner string, notBefore time.Time, detail string) error {
	err := db.update(ctx, func(t *tx) error {
		res, err := t.exec(ctx, `UPDATE page_attempts SET status = 'intended', not_before = ?, detail = ?, lease_until = NULL,
				updated_at = ?
			WHERE id = ? AND claimed_by = ? AND status IN ('sending', 'in-doubt')`,
			zeroMicros(notBefore), detail, micros(t.now), id, owner)
		if err != nil {
			return err
		}
		return t.checkHeld(ctx, res, id, owner, "")
	})
	if err != nil {
		return fmt.Errorf("retry attempt %d: %w", id, err)
	}
	return nil
}

// checkHeld turns an update of attempt id by its holder owner that changed
// nothing into the reason: NotFound, or Conflict; nil if the attempt has
// providerID already (not "").
func (t *tx) checkHeld(ctx context.Context, res sql.Result, id int64, owner, providerID string) error {
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var (
		status, claimedBy string
		stored            sql.NullString
	)
	err := t.queryRow(ctx, "SELECT status, claimed_by, provider_id FROM page_attempts WHERE id = ?", id).
		Scan(&status, &claimedBy, &stored)
	switch {
	case isNoRows(err):
		return errs.E(errs.NotFound, "", "attempt %d does not exist", id)
	case err != nil:
		return err
	case providerID != "" && stored.String == providerID:
		return nil
	case status != string(pager.Sending) && status != string(pager.InDoubt):
		return errs.E(errs.Conflict, "", "attempt %d is %s, not out for sending", id, status)
	}
	return errs.E(errs.Conflict, "", "attempt %d is held by %q, not by %q", id, claimedBy, owner)
}

// Attempt returns attempt id.
func (db *DB) Attempt(ctx context.Context, id int64) (pager.Attempt, error) {
	a, err := scanAttempt(db.reads().queryRow(ctx, "SELECT "+attemptColumns+" FROM page_attempts WHERE id = ?", id))
	if isNoRows(err) {
		return pager.Attempt{}, errs.E(errs.NotFound, "", "attempt %d does not exist", id)
	}
	if err != nil {
		return pager.Attempt{}, fmt.Errorf("get attempt %d: %w", id, err)
	}
	return a, nil
}

// AttemptByProviderID returns the attempt the provider knows as
// providerID.
func (db *DB) AttemptByProviderID(ctx context.Context, providerID string) (pager.Attempt, error) {
	a, err := scanAttempt(db.reads().queryRow(ctx, "SELECT "+attemptColumns+" FROM page_attempts WHERE provider_id = ?", providerID))
	if isNoRows(err) {
		return pager.Attempt{}, errs.E(errs.NotFound, "", "no attempt has provider id %q", providerID)
	}
	if err != nil {
		return pager.Attempt{}, fmt.Errorf("get attempt %s: %w", providerID, err)
	}
	return a, nil
}

// StaleAttempts returns Sent attempts last updated before updatedBefore,
// longest waiting first.
func (db *DB) StaleAttempts(ctx context.Context, updatedBefore time.Time, limit int) ([]pager.Attempt, error) {
	out, err := queryAll(ctx, db.reads(), scanAttempt, "SELECT "+attemptColumns+` FROM page_attempts
		WHERE status = 'sent' AND updated_at < ? ORDER BY updated_at, id LIMIT `+fmt.Sprint(listLimit(limit)), micros(updatedBefore))
	if err != nil {
		return nil, fmt.Errorf("list stale attempts: %w", err)
	}
	return orEmpty(out), nil
}

// attemptsOf returns the attempts of page pageID, oldest first.
func attemptsOf(ctx context.Context, r runner, pageID int64) ([]pager.Attempt, error) {
	out, err := queryAll(ctx, r, scanAttempt, "SELECT "+attemptColumns+" FROM page_attempts WHERE page_id = ? ORDER BY id", pageID)
	if err != nil {
		return nil, fmt.Errorf("attempts of page %d: %w", pageID, err)
	}
	return orEmpty(out), nil
}

// scanAttempt reads one page_attempts row (attemptColumns).
func scanAttempt(s scanner) (pager.Attempt, error) {
	var (
		a                                pager.Attempt
		kind, purpose, lang, status, out string
		providerID, callID               sql.NullString
		pageID                           sql.NullInt64
		notBefore, createdAt, updatedAt  int64
		ringMs                           int64
		claimedAt                        nullTime
	)
	err := s.Scan(&a.ID, &pageID, &a.Key, &kind, &purpose, &a.Rung, &a.EngineerID, &a.To, &lang, &a.Body, &status,
		&providerID, &out, &a.Detail, &a.Tries, &notBefore, &claimedAt, &createdAt, &updatedAt, &callID, &a.From, &ringMs)
	if err != nil {
		return pager.Attempt{}, err
	}
	a.Kind, a.Purpose, a.Status, a.Outcome = pager.Kind(kind), pager.Purpose(purpose), pager.AttemptStatus(status), pager.Outcome(out)
	a.Language = oncall.Language(lang)
	a.ProviderID, a.PageID, a.CallID = providerID.String, pageID.Int64, callID.String
	a.RingFor = time.Duration(ringMs) * time.Millisecond
	a.NotBefore = fromZeroMicros(notBefore)
	if t := claimedAt.time(); t != nil {
		a.ClaimedAt = *t
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return a, nil
}

// byID sorts attempts oldest first: RETURNING keeps no order.
func byID(atts []pager.Attempt) []pager.Attempt {
	slices.SortFunc(atts, func(a, b pager.Attempt) int { return cmp.Compare(a.ID, b.ID) })
	return orEmpty(atts)
}
