package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"go.uber.org/zap"
)

// Pool limits for PostgreSQL. Each instance holds at most postgresMaxConns
// connections; the server's max_connections must cover every instance.
const (
	postgresMaxConns        = 20
	postgresMaxIdleConns    = 5
	postgresConnMaxIdleTime = 5 * time.Minute
	postgresConnMaxLifetime = time.Hour
)

// migrationLockKey is the pg_advisory_xact_lock key that serialises
// migrations between instances ("ivr_migr" in ASCII).
const migrationLockKey int64 = 0x6976725f6d696772

// voiceNumberLockClass is the first key of the pg_try_advisory_xact_lock
// (class, hashtext(number)) that a claimer takes on the number of a voice
// attempt it claims ("ivrv" in ASCII). The two-key space does not overlap
// the one-key space of migrationLockKey.
const voiceNumberLockClass int32 = 0x69767276

var postgresDialect = &dialect{
	rebind:          rebindDollar,
	forUpdate:       " FOR UPDATE",
	forShare:        " FOR SHARE",
	skipLocked:      " FOR UPDATE SKIP LOCKED",
	lockVoiceNumber: fmt.Sprintf(" AND pg_try_advisory_xact_lock(%d, hashtext(a.to_number))", voiceNumberLockClass),
	// clock_timestamp, not now(): the time of the reading, not of BEGIN.
	clock:          "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
	lockMigrations: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey),
	tableExists:    "SELECT 1 WHERE to_regclass(?) IS NOT NULL",
	constraint:     postgresConstraint,
	notifyPager:    "SELECT pg_notify('" + pagerChannel + "', '')",
}

// postgresConstraint returns the constraint an integrity violation (SQLSTATE
// class 23) names.
func postgresConstraint(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23") {
		return pe.ConstraintName
	}
	return ""
}

func openPostgres(ctx context.Context, dsn string, log *zap.Logger) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err) // pgx redacts the password

	}
	log = log.With(zap.String(logBackend, Postgres), zap.String(logHost, cfg.Host), zap.String(logDatabase, cfg.Database))
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(postgresMaxConns)
	pool.SetMaxIdleConns(postgresMaxIdleConns)
	pool.SetConnMaxIdleTime(postgresConnMaxIdleTime)
	pool.SetConnMaxLifetime(postgresConnMaxLifetime)
	if err := pool.PingContext(ctx); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("open postgres %s/%s: %w", cfg.Host, cfg.Database, err)
	}
	db := newDB(Postgres, postgresDialect, pool, pool, log)
	db.pgConfig = cfg
	return db, nil
}

// unsyncedCommit is a condition that is always true and, evaluated, makes
// the transaction it runs in commit without waiting for the WAL to reach
// the disk (set_config(..., true) is SET LOCAL synchronous_commit = off as
// a function). A call-state write (writeCallState) adds it to its WHERE
// clause, so that every row it writes was written after it took effect,
// and its own implicit transaction, the one statement, commits relaxed:
// one round trip, where a transaction of BEGIN, SET LOCAL, the statement
// and COMMIT takes four (measured with BenchmarkCallState: the four cost
// some 0.1-0.2 ms more per write, as much as this saves on a server that
// syncs nothing anyway; on one that syncs, a write went from 1-6 ms to
// 0.06-0.2 ms either way). Only call state uses it, never pages, page
// attempts, call records or voicemails, which keep the server's
// synchronous commit. A crash of the server can undo such a commit of the
// last few hundred ms (at most three times wal_writer_delay), never a
// synchronous one made before or after it (its flush covers every earlier
// commit), and never leaves the database inconsistent.
const unsyncedCommit = "set_config('synchronous_commit', 'off', true) = 'off'"
