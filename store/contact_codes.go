package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/verify"
)

// The codes that confirm engineers' numbers (verify.Store): contact_codes
// keeps each code's hash, never the code; its message is a row of
// page_attempts owned by the code (code_id), sealed.

var _ verify.Store = (*DB)(nil)

const contactCodeColumns = "id, engineer_id, phone, hash, kind, tries, sent_at, expires_at, closed_at, outcome"

func scanContactCode(s scanner) (verify.Code, error) {
	var (
		c                 verify.Code
		kind, outcome     string
		sentAt, expiresAt int64
		closedAt          nullTime
	)
	if err := s.Scan(&c.ID, &c.EngineerID, &c.Phone, &c.Hash, &kind, &c.Tries, &sentAt, &expiresAt, &closedAt, &outcome); err != nil {
		return c, err
	}
	c.Kind, c.Outcome = pager.Kind(kind), verify.Outcome(outcome)
	c.SentAt, c.ExpiresAt, c.ClosedAt = fromMicros(sentAt), fromMicros(expiresAt), closedAt.time()
	return c, nil
}

// SendCode stores code c and its attempt a, after check has seen the codes
// sent since since to c.Phone or for its engineer; see verify.Store.
func (db *DB) SendCode(ctx context.Context, c verify.Code, a pager.Attempt, since time.Time, check func(recent []verify.Code) error) (verify.Code, error) {
	if a.Purpose != pager.PurposeCode || a.Key == "" {
		return verify.Code{}, errs.InvalidField("purpose", "a code's attempt has purpose %q and a key", pager.PurposeCode)
	}
	err := db.update(ctx, func(t *tx) error {
		// The engineer's row is held first, so that two requests for one
		// engineer's number see each other's codes.
		if _, err := t.lockEngineer(ctx, c.EngineerID); err != nil {
			return err
		}
		recent, err := queryAll(ctx, t.runner, scanContactCode, "SELECT "+contactCodeColumns+` FROM contact_codes
			WHERE (phone = ? OR engineer_id = ?) AND sent_at > ? ORDER BY sent_at DESC, id DESC`, c.Phone, c.EngineerID, micros(since))
		if err != nil {
			return fmt.Errorf("codes sent to the number or for the engineer: %w", err)
		}
		if err := check(recent); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE contact_codes SET closed_at = ?, outcome = ?
			WHERE engineer_id = ? AND phone = ? AND closed_at IS NULL`, micros(c.SentAt), string(verify.Replaced), c.EngineerID, c.Phone); err != nil {
			return err
		}
		c.SentAt, c.ExpiresAt, c.ClosedAt, c.Outcome, c.Tries = roundTime(c.SentAt), roundTime(c.ExpiresAt), nil, "", 0
		c.ID, err = t.insert(ctx, `INSERT INTO contact_codes (engineer_id, phone, hash, kind, sent_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, c.EngineerID, c.Phone, c.Hash, string(c.Kind), micros(c.SentAt), micros(c.ExpiresAt))
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO page_attempts (code_id, key, kind, purpose, rung, engineer_id, to_number,
				language, body, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, a.Key, string(a.Kind), string(a.Purpose), a.Rung, a.EngineerID, a.To,
			string(a.Language), a.Body, string(pager.Intended), micros(t.now), micros(t.now)); err != nil {
			return fmt.Errorf("add the code's attempt: %w", err)
		}
		if t.d.notifyPager != "" {
			if _, err := t.exec(ctx, t.d.notifyPager); err != nil {
				return fmt.Errorf("notify other instances: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return verify.Code{}, fmt.Errorf("send code to %s: %w", c.Phone, err)
	}
	return c, nil
}

// OpenCode returns the newest open code of the engineer's number;
// NotFound if none.
func (db *DB) OpenCode(ctx context.Context, engineerID int64, phone string) (verify.Code, error) {
	c, err := scanContactCode(db.reads().queryRow(ctx, "SELECT "+contactCodeColumns+` FROM contact_codes
		WHERE engineer_id = ? AND phone = ? AND closed_at IS NULL ORDER BY id DESC LIMIT 1`, engineerID, phone))
	if isNoRows(err) {
		return verify.Code{}, errs.E(errs.NotFound, "code", "no code is open for %s", phone)
	}
	if err != nil {
		return verify.Code{}, fmt.Errorf("open code of %s: %w", phone, err)
	}
	return c, nil
}

// MissCode counts a wrong code against open code id, voiding it at max
// tries; Conflict if it was closed.
func (db *DB) MissCode(ctx context.Context, id int64, max int, at time.Time) (verify.Code, error) {
	var c verify.Code
	err := db.update(ctx, func(t *tx) error {
		// One statement, so that concurrent wrong codes each count.
		res, err := t.exec(ctx, `UPDATE contact_codes SET tries = tries + 1,
				closed_at = CASE WHEN tries + 1 >= ? THEN ? ELSE closed_at END,
				outcome = CASE WHEN tries + 1 >= ? THEN ? ELSE outcome END
			WHERE id = ? AND closed_at IS NULL`, max, micros(at), max, string(verify.Voided), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errs.E(errs.Conflict, "code", "code %d is closed", id)
		}
		c, err = scanContactCode(t.queryRow(ctx, "SELECT "+contactCodeColumns+" FROM contact_codes WHERE id = ?", id))
		return err
	})
	if err != nil {
		return verify.Code{}, fmt.Errorf("count a wrong code: %w", err)
	}
	return c, nil
}

// UseCode closes open code id as confirmed and marks its number verified
// on its engineer, audited for actor.
func (db *DB) UseCode(ctx context.Context, actor string, id int64, at time.Time) (oncall.Engineer, error) {
	var after oncall.Engineer
	err := db.update(ctx, func(t *tx) error {
		c, err := scanContactCode(t.queryRow(ctx, "SELECT "+contactCodeColumns+" FROM contact_codes WHERE id = ?", id))
		if isNoRows(err) {
			return errs.E(errs.NotFound, "code", "no code %d", id)
		}
		if err != nil {
			return err
		}
		before, err := t.lockEngineer(ctx, c.EngineerID)
		if err != nil {
			return err
		}
		res, err := t.exec(ctx, `UPDATE contact_codes SET closed_at = ?, outcome = ? WHERE id = ? AND closed_at IS NULL`,
			micros(at), string(verify.Confirmed), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errs.E(errs.Conflict, "code", "code %d is closed", id)
		}
		after = before
		after.Contacts = append([]oncall.ContactMethod(nil), before.Contacts...)
		found := false
		for i := range after.Contacts {
			if after.Contacts[i].Phone == c.Phone {
				after.Contacts[i].Unverified = false
				found = true
			}
		}
		if !found {
			return errs.E(errs.NotFound, "phone", "engineer %d no longer has the number %s", c.EngineerID, c.Phone)
		}
		_, contacts, err := engineerJSON(after)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, "UPDATE engineers SET contacts = ? WHERE id = ?", contacts, after.ID); err != nil {
			return err
		}
		return t.audit(ctx, actor, audit.Update, audit.Engineer, strconv.FormatInt(after.ID, 10), before, after)
	})
	if err != nil {
		return oncall.Engineer{}, fmt.Errorf("confirm code %d: %w", id, err)
	}
	return after, nil
}
