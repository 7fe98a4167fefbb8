// Package storetest opens migrated stores for tests, on SQLite and on a
// throw-away PostgreSQL, runs a test against both back ends, and opens
// one seeded with the demo team and tickets; the store's contract suite,
// the admin API's and the drivers' tests use it. Tests only.
package storetest

import (
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
)

// Backends runs fn as the subtests "sqlite" and "postgres", each with a new,
// migrated, empty store closed when the subtest ends. The postgres subtest
// is skipped where PostgreSQL is not installed (see pgtest.URL); a test
// binary using it must call pgtest.Main from TestMain.
func Backends(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run(store.SQLite, func(t *testing.T) { fn(t, OpenSQLite(t)) })
	t.Run(store.Postgres, func(t *testing.T) { fn(t, OpenPostgres(t)) })
}

// OpenSQLite returns a migrated store on a new SQLite file in tb.TempDir().
func OpenSQLite(tb testing.TB) *store.DB {
	tb.Helper()
	return open(tb, filepath.Join(tb.TempDir(), "ivr.db"))
}

// OpenDemo returns a store on a new SQLite file seeded as `serve --demo`
// seeds it (demo.SeedAll: the team, its rotations and the tickets) and the
// on-call service over it, loaded; log is the service's and the seed's.
func OpenDemo(tb testing.TB, log *zap.Logger) (*store.DB, *oncall.Service) {
	tb.Helper()
	db := OpenSQLite(tb)
	svc := oncall.NewService(db, log.Named("oncall"), oncall.ServiceOptions{})
	if err := demo.SeedAll(tb.Context(), svc, db, log); err != nil {
		tb.Fatal(err)
	}
	if err := svc.Refresh(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return db, svc
}

// OpenPostgres returns a migrated store on a new PostgreSQL database.
func OpenPostgres(tb testing.TB) *store.DB {
	tb.Helper()
	return open(tb, pgtest.URL(tb))
}

func open(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	db, err := store.Open(tb.Context(), dsn, zaptest.NewLogger(tb))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	if err := db.Migrate(tb.Context()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}
