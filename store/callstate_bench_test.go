package store

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/supportdesk/ivr/internal/pgtest"
)

// BenchmarkCallState measures the call-state work of webhooks on each back
// end, with a state of the size a call in progress has (about 1.5 kB):
//
//   - create: one op is one CreateCallState of a new call id (an INSERT
//     committed on its own);
//   - update: one op is one UpdateCallState of the same call
//     (compare-and-swap, each step of a call);
//   - read: one op is one CallState of that call (from the write-through
//     cache with SQLite; PostgreSQL has none and reads the database);
//   - read-database: one op is one read of it from the database itself.
//
// Every count gets ids no earlier count used, so that -count n works.
//
//	go test -run '^$' -bench CallState -benchtime 2000x -count 3 ./store/
//
// PostgreSQL is internal/pgtest's throw-away server, which runs with
// fsync=off and synchronous_commit=off, so that no commit is synced there;
// to measure commits as a production server makes them, point
// IVR_BENCH_POSTGRES at a server run with its default durability settings
// (postgres://user@127.0.0.1:port/postgres?sslmode=disable, a user that
// may create databases): each run creates a database of its own there and
// drops it afterwards.
func BenchmarkCallState(b *testing.B) {
	for _, backend := range []string{SQLite, Postgres} {
		b.Run(backend, func(b *testing.B) {
			db := openBenchStore(b, backend)
			benchCallState(b, db)
		})
	}
}

func benchCallState(b *testing.B, db *DB) {
	ctx := b.Context()
	data := []byte(`{"flow":{"phase":"routing","steps":"` + strings.Repeat("x", 1500) + `"}}`)
	// created counts across every run of the create case: -count n runs it
	// n times on this same store.
	created := 0
	b.Run("create", func(b *testing.B) {
		for b.Loop() {
			created++
			if err := db.CreateCallState(ctx, fmt.Sprintf("CAcreate%d", created), data); err != nil {
				b.Fatal(err)
			}
		}
	})
	if err := db.CreateCallState(ctx, "CA1", data); err != nil {
		b.Fatal(err)
	}
	b.Run("update", func(b *testing.B) {
		_, v, err := db.CallState(ctx, "CA1")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if v, err = db.UpdateCallState(ctx, "CA1", v, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := db.CallState(ctx, "CA1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-database", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := db.storedCallState(ctx, "CA1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// openBenchStore is a fresh, migrated store of backend for a benchmark:
// a SQLite file in a temporary directory, or a fresh PostgreSQL database
// (benchPostgresURL). It closes when tb ends.
func openBenchStore(tb testing.TB, backend string) *DB {
	tb.Helper()
	dsn := filepath.Join(tb.TempDir(), "ivr.db")
	if backend == Postgres {
		dsn = benchPostgresURL(tb)
	}
	db, err := Open(tb.Context(), dsn, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// benchDBSeq numbers the databases benchPostgresURL creates.
var benchDBSeq atomic.Int64

// benchPostgresURL is the URL of a fresh PostgreSQL database for tb: on the
// server IVR_BENCH_POSTGRES names if set (created there, dropped when tb
// ends), else internal/pgtest's.
func benchPostgresURL(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("IVR_BENCH_POSTGRES")
	if admin == "" {
		return pgtest.URL(tb)
	}
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("IVR_BENCH_POSTGRES: %v", err)
	}
	pool, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatalf("IVR_BENCH_POSTGRES: %v", err)
	}
	tb.Cleanup(func() { _ = pool.Close() })
	name := fmt.Sprintf("ivr_bench_%d_%d", os.Getpid(), benchDBSeq.Add(1))
	if _, err := pool.ExecContext(tb.Context(), "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("IVR_BENCH_POSTGRES: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		// Registered after the store's Close, so run before it: FORCE
		// ends the store's connections.
		if _, err := pool.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("IVR_BENCH_POSTGRES: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
