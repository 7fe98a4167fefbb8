package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

const engineerColumns = "id, name, level, languages, time_zone, contacts, created_at"

func scanEngineer(s scanner) (oncall.Engineer, error) {
	var (
		e               oncall.Engineer
		langs, contacts string
		createdAt       int64
	)
	if err := s.Scan(&e.ID, &e.Name, &e.Level, &langs, &e.TimeZone, &contacts, &createdAt); err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(langs), &e.Languages); err != nil {
		return e, fmt.Errorf("engineer %d: languages: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(contacts), &e.Contacts); err != nil {
		return e, fmt.Errorf("engineer %d: contacts: %w", e.ID, err)
	}
	e.CreatedAt = fromMicros(createdAt)
	return e, nil
}

// engineerJSON returns the JSON columns of e.
func engineerJSON(e oncall.Engineer) (langs, contacts string, err error) {
	l, err := json.Marshal(e.Languages)
	if err != nil {
		return "", "", fmt.Errorf("languages: %w", err)
	}
	c, err := json.Marshal(e.Contacts)
	if err != nil {
		return "", "", fmt.Errorf("contacts: %w", err)
	}
	return string(l), string(c), nil
}

// Engineers lists the engineers not deleted, by id.
func (db *DB) Engineers(ctx context.Context) ([]oncall.Engineer, error) {
	out, err := queryAll(ctx, db.reads(), scanEngineer, "SELECT "+engineerColumns+" FROM engineers WHERE deleted_at IS NULL ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list engineers: %w", err)
	}
	return out, nil
}

// Engineer returns engineer id, deleted or not; NotFound if the id was never
// used.
func (db *DB) Engineer(ctx context.Context, id int64) (oncall.Engineer, error) {
	e, err := scanEngineer(db.reads().queryRow(ctx, "SELECT "+engineerColumns+" FROM engineers WHERE id = ?", id))
	if err != nil {
		return oncall.Engineer{}, fmt.Errorf("get engineer: %w", notFound(err, audit.Engineer, id))
	}
	return e, nil
}

// CreateEngineer stores e (normalised by the caller) and returns it with ID
// and CreatedAt set.
func (db *DB) CreateEngineer(ctx context.Context, actor string, e oncall.Engineer) (oncall.Engineer, error) {
	err := db.update(ctx, func(t *tx) error {
		langs, contacts, err := engineerJSON(e)
		if err != nil {
			return err
		}
		e.CreatedAt = t.now
		e.ID, err = t.insert(ctx, `INSERT INTO engineers (name, level, languages, time_zone, contacts, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, e.Name, int(e.Level), langs, e.TimeZone, contacts, micros(e.CreatedAt))
		if err != nil {
			return err
		}
		return t.audit(ctx, actor, audit.Create, audit.Engineer, strconv.FormatInt(e.ID, 10), nil, e)
	})
	if err != nil {
		return oncall.Engineer{}, fmt.Errorf("create engineer: %w", err)
	}
	return e, nil
}

// lockEngineer reads engineer id, not deleted, for a change (with
// PostgreSQL, holding its row until the transaction ends); NotFound if
// absent or deleted.
func (t *tx) lockEngineer(ctx context.Context, id int64) (oncall.Engineer, error) {
	e, err := scanEngineer(t.queryRow(ctx, "SELECT "+engineerColumns+" FROM engineers WHERE id = ? AND deleted_at IS NULL"+t.d.forUpdate, id))
	return e, notFound(err, audit.Engineer, id)
}

// UpdateEngineer replaces engineer e.ID (keeping its CreatedAt); NotFound if
// absent or deleted.
func (db *DB) UpdateEngineer(ctx context.Context, actor string, e oncall.Engineer) (oncall.Engineer, error) {
	err := db.update(ctx, func(t *tx) error {
		before, err := t.lockEngineer(ctx, e.ID)
		if err != nil {
			return err
		}
		langs, contacts, err := engineerJSON(e)
		if err != nil {
			return err
		}
		e.CreatedAt = before.CreatedAt
		if _, err := t.exec(ctx, `UPDATE engineers SET name = ?, level = ?, languages = ?, time_zone = ?, contacts = ?
			WHERE id = ?`, e.Name, int(e.Level), langs, e.TimeZone, contacts, e.ID); err != nil {
			return err
		}
		return t.audit(ctx, actor, audit.Update, audit.Engineer, strconv.FormatInt(e.ID, 10), before, e)
	})
	if err != nil {
		return oncall.Engineer{}, fmt.Errorf("update engineer %d: %w", e.ID, err)
	}
	return e, nil
}

// DeleteEngineer hides engineer id from lists; NotFound if absent or already
// deleted. Conflict if the engineer takes part in a rotation version in
// force at or after at, or has an override ending after at.
func (db *DB) DeleteEngineer(ctx context.Context, actor string, id int64, at time.Time) error {
	err := db.update(ctx, func(t *tx) error {
		// The row lock comes first: a concurrent CreateOverride or
		// CreateRotation naming this engineer either committed before it
		// (and is seen below) or waits for it (and finds the engineer
		// deleted).
		before, err := t.lockEngineer(ctx, id)
		if err != nil {
			return err
		}
		if err := t.engineerInUse(ctx, id, at); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "UPDATE engineers SET deleted_at = ? WHERE id = ?", micros(t.now), id); err != nil {
			return err
		}
		if err := t.audit(ctx, actor, audit.Delete, audit.Engineer, strconv.FormatInt(id, 10), before, nil); err != nil {
			return err
		}
		return t.revokeEngineerTokens(ctx, actor, id)
	})
	if err != nil {
		return fmt.Errorf("delete engineer %d: %w", id, err)
	}
	return nil
}

// engineerInUse returns Conflict if engineer id has an override ending after
// at or takes part in a rotation version in force at or after at.
func (t *tx) engineerInUse(ctx context.Context, id int64, at time.Time) error {
	o, err := scanOverride(t.queryRow(ctx, "SELECT "+overrideColumns+` FROM overrides
		WHERE engineer_id = ? AND end_at > ? ORDER BY start_at LIMIT 1`, id, micros(at)))
	switch {
	case err == nil:
		return errs.E(errs.Conflict, "", "engineer %d covers override %d until %s; delete the override first",
			id, o.ID, o.End.Format(time.RFC3339))
	case !isNoRows(err):
		return fmt.Errorf("find overrides: %w", err)
	}
	versions, err := loadRotations(ctx, t.runner, "")
	if err != nil {
		return err
	}
	for _, r := range versions {
		if r.EffectiveTo != nil && !r.EffectiveTo.After(at) {
			continue // over by at
		}
		for _, p := range r.Participants {
			if p == id {
				return errs.E(errs.Conflict, "", "engineer %d takes part in rotation %d (%s, version %d); take them out of it first",
					id, r.ID, r.Name, r.Version)
			}
		}
	}
	return nil
}

// revokeEngineerTokens revokes the tokens of a deleted engineer: a person
// who left keeps no way in.
func (t *tx) revokeEngineerTokens(ctx context.Context, actor string, engineerID int64) error {
	live, err := queryAll(ctx, t.runner, scanToken, "SELECT "+tokenColumns+" FROM tokens WHERE engineer_id = ? AND revoked_at IS NULL", engineerID)
	if err != nil {
		return fmt.Errorf("find tokens of engineer %d: %w", engineerID, err)
	}
	for _, before := range live {
		if _, err := t.exec(ctx, "UPDATE tokens SET revoked_at = ? WHERE id = ?", micros(t.now), before.ID); err != nil {
			return err
		}
		after := before
		now := t.now
		after.RevokedAt = &now
		if err := t.audit(ctx, actor, audit.Delete, audit.Token, strconv.FormatInt(before.ID, 10), before, after); err != nil {
			return err
		}
	}
	return nil
}
