// Package store owns the service's persistence: engineers, rotations,
// overrides, escalation policies, API tokens and the audit log; the
// built-in tickets, the call log, requested pages, callers' languages, the
// state of calls in progress and voicemail recordings; pages and the
// outbox of their attempts (leased to claimers by the database's clock),
// and the numbers opted out of texts; kept in SQLite (one instance, the default) or PostgreSQL (several
// instances), with the embedded schema migrations of both. It implements
// oncall.Store, access.Store, audit.Log, tickets.Store, ivr.CallLog,
// ivr.Pages, ivr.Preferences, pager.Store and pager.OptOuts; domain
// packages never import it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/oncall"
)

var (
	_ oncall.Store = (*DB)(nil)
	_ access.Store = (*DB)(nil)
	_ audit.Log    = (*DB)(nil)
)

// Log keys used by the store.
const (
	logBackend   = "backend"
	logPath      = "path"
	logHost      = "host"
	logDatabase  = "database"
	logMigration = "migration"
)

// Back ends, as Backend reports them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is the store over one database. Its methods are safe for concurrent
// use.
type DB struct {
	// Now is the clock, read once per write transaction for created_at,
	// updated_at and the audit entry's time. Set it before first use.
	Now func() time.Time

	backend string
	dialect *dialect
	writer  *sql.DB // the pool writes go through (one connection with SQLite)
	reader  *sql.DB // the pool reads go through (the writer's with PostgreSQL)
	lock    *sqliteLock
	log     *zap.Logger
	stmts   stmtCache
	// pgConfig is the PostgreSQL connection's configuration, for the
	// pager's dedicated LISTEN connection; nil with SQLite.
	pgConfig *pgx.ConnConfig
	// stateCache: SQLite's write-through cache of call states; nil with
	// PostgreSQL.
	stateCache *callStateCache
}

// Open connects to the database dsn names: a postgres:// or postgresql://
// URL for PostgreSQL, anything else the path of an SQLite file, created if
// absent. Open does not migrate; call Migrate (serve and `ivr migrate` do).
//
// Only one process may use an SQLite file: Open fails, with an error
// matching ErrLocked, while another holds it.
func Open(ctx context.Context, dsn string, log *zap.Logger) (*DB, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn, log)
	}
	return openSQLite(ctx, dsn, log)
}

// IsPostgres reports whether dsn names a PostgreSQL database rather than an
// SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Backend returns "sqlite" or "postgres".
func (db *DB) Backend() string { return db.backend }

// Close closes the pools and, with SQLite, releases the file to other
// processes.
func (db *DB) Close() error {
	errs := []error{db.stmts.close()}
	if db.reader != db.writer {
		errs = append(errs, db.reader.Close())
	}
	errs = append(errs, db.writer.Close())
	if db.lock != nil {
		errs = append(errs, db.lock.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close %s store: %w", db.backend, err)
	}
	return nil
}

func newDB(backend string, d *dialect, writer, reader *sql.DB, log *zap.Logger) *DB {
	return &DB{
		Now:     time.Now,
		backend: backend,
		dialect: d,
		writer:  writer,
		reader:  reader,
		log:     log,
	}
}

// More log keys.
const (
	logPause = "pause"
)
