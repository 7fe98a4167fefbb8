//go:build !unix

package store

import (
	"fmt"
	"os"
)

// sqliteLock does nothing where flock does not exist: nothing stops a
// second process from opening the same SQLite file there.
type sqliteLock struct{}

// lockSQLite creates the database file (mode 0600 where modes exist) if it
// does not exist, before SQLite opens it; the descriptor is closed at once,
// before SQLite has any lock to lose.
func lockSQLite(path string) (*sqliteLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return nil, nil
}

// Close does nothing.
func (l *sqliteLock) Close() error { return nil }
