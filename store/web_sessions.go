package store

import (
	"context"
	"fmt"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/web"
)

var _ web.SessionStore = (*DB)(nil)

// CreateSession stores s and deletes the sessions that expired before it
// began.
func (db *DB) CreateSession(ctx context.Context, s web.Session) error {
	err := db.update(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, "DELETE FROM web_sessions WHERE expires_at <= ?", micros(s.CreatedAt)); err != nil {
			return err
		}
		_, err := t.exec(ctx, "INSERT INTO web_sessions (hash, token_hash, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			s.Hash, s.TokenHash, s.CSRF, micros(s.CreatedAt), micros(s.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	return nil
}

// Session returns the session with this hash; NotFound if none.
func (db *DB) Session(ctx context.Context, hash string) (web.Session, error) {
	var (
		s                    web.Session
		createdAt, expiresAt int64
	)
	err := db.reads().queryRow(ctx, "SELECT hash, token_hash, csrf, created_at, expires_at FROM web_sessions WHERE hash = ?", hash).
		Scan(&s.Hash, &s.TokenHash, &s.CSRF, &createdAt, &expiresAt)
	if isNoRows(err) {
		return web.Session{}, errs.E(errs.NotFound, "", "no such session")
	}
	if err != nil {
		return web.Session{}, fmt.Errorf("get web session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(createdAt), fromMicros(expiresAt)
	return s, nil
}

// DeleteSession removes a session; no error if it is gone already.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	err := db.update(ctx, func(t *tx) error {
		_, err := t.exec(ctx, "DELETE FROM web_sessions WHERE hash = ?", hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}
