package store

import (
	"context"
	"crypto/rand"
	"fmt"
)

// Secret returns the secret called name, size random bytes made with
// crypto/rand and stored the first time it is asked for. Every process on
// the store gets the same bytes: the first to insert the row wins (INSERT …
// ON CONFLICT DO NOTHING) and everyone reads back what is stored. An error
// if the stored secret is not size bytes long (it was made for another
// use) or the store fails.
func (db *DB) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if name == "" || size <= 0 {
		return nil, fmt.Errorf("secret %q of %d bytes: a name and a positive size are required", name, size)
	}
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("secret %s: random bytes: %w", name, err)
	}
	var value []byte
	err := db.update(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, fresh, micros(t.now)); err != nil {
			return err
		}
		return t.queryRow(ctx, "SELECT value FROM secrets WHERE name = ?", name).Scan(&value)
	})
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	if len(value) != size {
		return nil, fmt.Errorf("secret %s: the stored one is %d bytes, not %d", name, len(value), size)
	}
	return value, nil
}
