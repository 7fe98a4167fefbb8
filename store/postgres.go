package store

import (
	"context"
	"database/sql"
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

// writeUnsynced runs one write statement in a transaction of its own whose
// commit does not wait for the WAL to reach the disk (SET LOCAL
// synchronous_commit = off): for call state only (writeCallState), never
// for pages, page attempts, call records or voicemails, which keep the
// server's synchronous commit. A crash of the server can undo such a
// commit of the last few hundred ms (at most three times wal_writer_delay),
// never a synchronous one made before or after it, and never leaves the
// database inconsistent. Four round trips (BEGIN, SET LOCAL, the statement,
// COMMIT) instead of one, some 0.1 ms on loopback, where a synchronous
// commit waits for an fsync (2.5 ms on these machines).
func (db *DB) writeUnsynced(ctx context.Context, q string, args ...any) (sql.Result, error) {
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	if _, err := sqlTx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		_ = sqlTx.Rollback()
		return nil, fmt.Errorf("relax the commit: %w", err)
	}
	res, err := sqlTx.ExecContext(ctx, db.dialect.rebind(q), args...)
	if err != nil {
		_ = sqlTx.Rollback()
		return nil, err
	}
	if err := sqlTx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}
