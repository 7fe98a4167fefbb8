package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
)

var _ access.BootstrapStore = (*DB)(nil)

const tokenColumns = "id, name, role, engineer_id, hash, created_at, revoked_at" //nolint:gosec // G101: column names, no secret

func scanToken(s scanner) (access.Token, error) {
	var (
		t          access.Token
		engineerID sql.NullInt64
		createdAt  int64
		revokedAt  nullTime
	)
	if err := s.Scan(&t.ID, &t.Name, &t.Role, &engineerID, &t.Hash, &createdAt, &revokedAt); err != nil {
		return t, err
	}
	t.EngineerID = engineerID.Int64
	t.CreatedAt = fromMicros(createdAt)
	t.RevokedAt = revokedAt.time()
	return t, nil
}

// CreateToken stores tok (Hash set) and returns it with ID and CreatedAt
// set. Invalid (engineer_id) if it names an engineer that does not exist or
// was deleted; Conflict if a token has the same hash.
func (db *DB) CreateToken(ctx context.Context, actor string, tok access.Token) (access.Token, error) {
	var out access.Token
	err := db.update(ctx, func(t *tx) error {
		var err error
		out, err = t.createToken(ctx, actor, tok)
		return err
	})
	if err != nil {
		return access.Token{}, fmt.Errorf("create token: %w", err)
	}
	return out, nil
}

func (t *tx) createToken(ctx context.Context, actor string, tok access.Token) (access.Token, error) {
	engineerID := sql.NullInt64{Int64: tok.EngineerID, Valid: tok.EngineerID != 0}
	if engineerID.Valid {
		if err := t.checkEngineers(ctx, []int64{tok.EngineerID}, func(int) string { return "engineer_id" }); err != nil {
			return access.Token{}, err
		}
	}
	tok.CreatedAt = t.now
	tok.RevokedAt = nil
	var err error
	tok.ID, err = t.insert(ctx, `INSERT INTO tokens (name, role, engineer_id, hash, created_at)
		VALUES (?, ?, ?, ?, ?)`, tok.Name, string(tok.Role), engineerID, tok.Hash, micros(tok.CreatedAt))
	if err != nil {
		return access.Token{}, err
	}
	return tok, t.audit(ctx, actor, audit.Create, audit.Token, strconv.FormatInt(tok.ID, 10), nil, tok)
}

// ReplaceTokens, in one transaction, stores tok (Hash set) unless a token
// has its hash already, and revokes at at every other unrevoked admin token
// whose name starts with prefix, with an audit entry for each change (the
// bootstrap token replacing its predecessors: access.Bootstrap). It returns
// the token with tok's hash, whether it was stored now, and the tokens it
// revoked. With tok.Hash empty it only revokes. Conflict if the token with
// tok's hash was revoked, or another transaction stored the hash first.
func (db *DB) ReplaceTokens(ctx context.Context, actor, prefix string, tok access.Token, at time.Time) (access.Token, bool, []access.Token, error) {
	var (
		kept    access.Token
		created bool
		revoked []access.Token
	)
	err := db.update(ctx, func(t *tx) error {
		kept, created, revoked = access.Token{}, false, nil
		if tok.Hash != "" {
			found, err := scanToken(t.queryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = ?"+t.d.forUpdate, tok.Hash))
			switch {
			case err == nil && found.RevokedAt != nil:
				return errs.E(errs.Conflict, "", "token %d was revoked at %s", found.ID, found.RevokedAt.Format(time.RFC3339))
			case err == nil:
				kept = found
			case isNoRows(err):
				if kept, err = t.createToken(ctx, actor, tok); err != nil {
					return err
				}
				created = true
			default:
				return err
			}
		}
		live, err := queryAll(ctx, t.runner, scanToken, "SELECT "+tokenColumns+" FROM tokens WHERE role = ? AND revoked_at IS NULL ORDER BY id"+t.d.forUpdate, string(access.Admin))
		if err != nil {
			return err
		}
		at = roundTime(at)
		for _, before := range live {
			if before.ID == kept.ID || !strings.HasPrefix(before.Name, prefix) {
				continue
			}
			if _, err := t.exec(ctx, "UPDATE tokens SET revoked_at = ? WHERE id = ?", micros(at), before.ID); err != nil {
				return err
			}
			after := before
			after.RevokedAt = &at
			if err := t.audit(ctx, actor, audit.Delete, audit.Token, strconv.FormatInt(before.ID, 10), before, after); err != nil {
				return err
			}
			revoked = append(revoked, after)
		}
		return nil
	})
	if err != nil {
		return access.Token{}, false, nil, fmt.Errorf("replace tokens named %q…: %w", prefix, err)
	}
	return kept, created, revoked, nil
}

// TokenByHash returns the token with this hash, revoked or not; NotFound if
// none.
func (db *DB) TokenByHash(ctx context.Context, hash string) (access.Token, error) {
	t, err := scanToken(db.reads().queryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = ?", hash))
	if isNoRows(err) {
		return access.Token{}, errs.E(errs.NotFound, "", "no token has this secret")
	}
	if err != nil {
		return access.Token{}, fmt.Errorf("get token: %w", err)
	}
	return t, nil
}

// Tokens lists every token, revoked ones included, by id.
func (db *DB) Tokens(ctx context.Context) ([]access.Token, error) {
	out, err := queryAll(ctx, db.reads(), scanToken, "SELECT "+tokenColumns+" FROM tokens ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks token id revoked at at; NotFound if absent, Conflict if
// revoked already. The audit entry is a delete whose after shows the
// revocation.
func (db *DB) RevokeToken(ctx context.Context, actor string, id int64, at time.Time) error {
	err := db.update(ctx, func(t *tx) error {
		before, err := scanToken(t.queryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = ?"+t.d.forUpdate, id))
		if err != nil {
			return notFound(err, audit.Token, id)
		}
		if before.RevokedAt != nil {
			return errs.E(errs.Conflict, "", "token %d was revoked at %s already", id, before.RevokedAt.Format(time.RFC3339))
		}
		at = roundTime(at)
		if _, err := t.exec(ctx, "UPDATE tokens SET revoked_at = ? WHERE id = ?", micros(at), id); err != nil {
			return err
		}
		after := before
		after.RevokedAt = &at
		return t.audit(ctx, actor, audit.Delete, audit.Token, strconv.FormatInt(id, 10), before, after)
	})
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	return nil
}
