package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	"go.uber.org/zap"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrLocked is matched (errors.Is) by the error Open returns when another
// process is using the SQLite file.
var ErrLocked = errors.New("the SQLite database is in use by another process")

// lockedError says which lock another store holds: the lock file named
// after path (lock), or the database file itself, which another process
// or, as same, this one has open under another name.
type lockedError struct {
	path, lock  string
	same        string // the name this process's store opened the file by
	thisProcess bool
}

func (e *lockedError) Error() string {
	const several = "SQLite serves one instance; use PostgreSQL (IVR_DB=postgres://…) to run several"
	switch {
	case e.lock != "":
		return fmt.Sprintf("another ivr process is using %s (lock file %s): %s", e.path, e.lock, several)
	case e.thisProcess:
		return fmt.Sprintf("%s is open in this process already as %s: the same file under another name (a hard or symbolic link); %s",
			e.path, e.same, several)
	}
	return fmt.Sprintf("another ivr process is using %s, perhaps under another name (a hard or symbolic link to the same file): %s",
		e.path, several)
}

func (e *lockedError) Is(target error) bool { return target == ErrLocked }

// sqliteParams are set on every connection: write-ahead logging so readers
// never wait for the writer, a busy timeout instead of immediate SQLITE_BUSY,
// enforced foreign keys, and write transactions that take the write lock at
// BEGIN, so that a check made inside one still holds at its commit.
// Commits are not synced by default (synchronous=NORMAL: safe against a
// crash of the process, never corrupting the file); DB.update switches the
// writer to FULL around every durable transaction, so a page or an edit
// that was acknowledged survives a power cut, and only call-state writes
// (writeVolatile) skip the sync.
var sqliteParams = url.Values{
	"_journal_mode": {"WAL"},
	"_busy_timeout": {"5000"},
	"_foreign_keys": {"1"},
	"_synchronous":  {"NORMAL"},
	"_txlock":       {"immediate"},
}

var sqliteDialect = &dialect{
	rebind:      rebindQuestion,
	tableExists: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
	constraint:  sqliteConstraint,
}

// sqliteUniqueNames names SQLite's UNIQUE and PRIMARY KEY violations, which
// it reports by their columns.
var sqliteUniqueNames = map[string]string{ //nolint:gosec // G101: "tokens.hash" names a column and its constraint, no secret
	"tokens.hash": "tokens_hash_key",
	"rotation_versions.rotation_id, rotation_versions.version": "rotation_versions_pkey",
	"call_states.call_id":       "call_states_pkey",
	"page_attempts.provider_id": "page_attempts_provider_id",
	"page_attempts.to_number":   "page_attempts_voice_in_flight",
}

// sqliteConstraint finds the constraint name in an SQLite error: the
// trigger's RAISE message, a named CHECK's name, or a unique index's
// columns. SQLite does not name the foreign key a row violates; those stay
// internal errors (the store checks references before writing).
func sqliteConstraint(err error) string {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return ""
	}
	msg := se.Error()
	after := func(prefix string) string {
		i := strings.Index(msg, prefix)
		if i < 0 {
			return ""
		}
		s := msg[i+len(prefix):]
		if j := strings.LastIndex(s, " ("); j >= 0 { // the driver appends " (code)"
			s = s[:j]
		}
		return s
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqliteUniqueNames[after("UNIQUE constraint failed: ")]
	case sqlite3.SQLITE_CONSTRAINT_CHECK:
		return after("CHECK constraint failed: ")
	case sqlite3.SQLITE_CONSTRAINT_TRIGGER:
		return after(": ")
	}
	return ""
}

// sqliteReaders is the size of the read pool.
func sqliteReaders() int { return max(4, runtime.GOMAXPROCS(0)) }

func openSQLite(ctx context.Context, path string, log *zap.Logger) (*DB, error) {
	switch {
	case path == "":
		return nil, errors.New("open sqlite: no database path given")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return nil, fmt.Errorf("open sqlite: %q: give the path of a database file", path)
	case strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("open sqlite: %q: the path may not contain ? or #", path)
	}
	lock, err := lockSQLite(path) // creates the file, 0600, before SQLite does
	if err != nil {
		return nil, err
	}
	writer, reader, err := openSQLitePools(ctx, path)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	db := newDB(SQLite, sqliteDialect, writer, reader,
		log.With(zap.String(logBackend, SQLite), zap.String(logPath, path)))
	db.lock = lock
	db.stateCache = newCallStateCache(callStateCacheBytes)
	return db, nil
}

func openSQLitePools(ctx context.Context, path string) (writer, reader *sql.DB, err error) {
	// The writer is opened and pinged first: it creates the file and turns
	// on WAL, which the file keeps, before any reader connects.
	writer, err = sql.Open("sqlite", path+"?"+sqliteParams.Encode())
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := checkWAL(ctx, writer); err != nil {
		_ = writer.Close()
		return nil, nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	params := url.Values{"_query_only": {"1"}}
	for k, v := range sqliteParams {
		params[k] = v
	}
	reader, err = sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		_ = writer.Close()
		return nil, nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := sqliteReaders()
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	reader.SetConnMaxLifetime(0)
	if err := reader.PingContext(ctx); err != nil {
		_ = reader.Close()
		_ = writer.Close()
		return nil, nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return writer, reader, nil
}

// checkWAL connects and makes sure the file is in WAL mode, which some file
// systems (network ones) cannot provide.
func checkWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not WAL: is the file on a local file system?", mode)
	}
	return nil
}
