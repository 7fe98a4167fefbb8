package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/supportdesk/ivr/errs"
	"go.uber.org/zap"
)

// tx is a write transaction: its queries, its clock reading and the audit
// entries it writes.
type tx struct {
	runner
	now time.Time // DB.Now, read once, at microsecond precision
}

// update runs fn in a write transaction and commits it if fn returns nil.
// Whatever fn returns, a constraint violation is turned into the caller's
// error here, in one place.
//
// Its commit is durable: with SQLite the transaction runs on the writer
// connection switched to synchronous=FULL for its span (the connection's
// default is NORMAL, for call-state writes; see writeVolatile), so the
// commit is synced to disk, and with it every commit before it, before
// update returns. Pages, call records and everything audited go through
// here.
func (db *DB) update(ctx context.Context, fn func(t *tx) error) (err error) {
	if db.backend != SQLite {
		return db.inTx(ctx, db.writer, fn)
	}
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("writer connection: %w", err)
	}
	defer func() { _ = conn.Close() }() // hands the connection back to the pool; its only error is ErrConnDone
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		return fmt.Errorf("sync commits: %w", err)
	}
	defer func() {
		// Left at FULL if this fails: slower call-state writes, never an
		// unsynced durable one.
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = NORMAL"); rerr != nil {
			db.log.Warn("could not relax synchronous on the SQLite writer; call-state writes stay synced", zap.Error(rerr))
		}
	}()
	return db.inTx(ctx, conn, fn)
}

// writeVolatile runs one write statement, in its own implicit transaction,
// for runtime state that the next event rewrites anyway (a call's flow
// state). With SQLite its commit is not synced to disk (the writer's
// synchronous=NORMAL): a crash of the process loses nothing, and a power
// cut may undo the last few such commits, never corrupting the file, while
// each commit costs tens of microseconds instead of an fsync (about 1.3 ms
// on these machines); the next update syncs them too. The statement is
// prepared once per pool and kept.
func (db *DB) writeVolatile(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := db.stmts.prepare(ctx, db.writer, db.dialect.rebind(q))
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// readHot runs one frequent read query, prepared once per pool and kept.
func (db *DB) readHot(ctx context.Context, q string, args ...any) (*sql.Row, error) {
	st, err := db.stmts.prepare(ctx, db.reader, db.dialect.rebind(q))
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

// stmtCache keeps the prepared statements of the hot paths (a handful of
// fixed queries), by pool and query text.
type stmtCache struct {
	mu sync.Mutex
	m  map[stmtKey]*sql.Stmt
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

func (c *stmtCache) prepare(ctx context.Context, pool *sql.DB, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := stmtKey{pool, q}
	if st := c.m[k]; st != nil {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if c.m == nil {
		c.m = map[stmtKey]*sql.Stmt{}
	}
	c.m[k] = st
	return st, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for k, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, k)
	}
	return errors.Join(errs...)
}

// beginner is a pool or a connection that starts transactions.
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

func (db *DB) inTx(ctx context.Context, b beginner, fn func(t *tx) error) error {
	sqlTx, err := b.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &tx{runner: runner{sqlTx, db.dialect}, now: roundTime(db.Now())}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return db.dialect.userError(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return db.dialect.userError(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// reads returns a runner on the read pool.
func (db *DB) reads() runner { return runner{db.reader, db.dialect} }

// snapshot runs fn's queries in one read-only transaction on the read pool,
// so that they see the database at one moment: with PostgreSQL a
// REPEATABLE READ snapshot; with SQLite a deferred read transaction of
// WAL's (read-only, so the driver does not BEGIN IMMEDIATE), which never
// waits for the writer.
func (db *DB) snapshot(ctx context.Context, fn func(r runner) error) error {
	sqlTx, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }() // after Commit, a no-op
	if err := fn(runner{sqlTx, db.dialect}); err != nil {
		return err
	}
	return sqlTx.Commit()
}

// audit records a change made by actor. before and after are the domain
// values (nil for none) and are stored as JSON.
func (t *tx) audit(ctx context.Context, actor, action, entity, entityID string, before, after any) error {
	b, err := jsonOrNull(before)
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", entity, entityID, err)
	}
	a, err := jsonOrNull(after)
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", entity, entityID, err)
	}
	_, err = t.exec(ctx, `INSERT INTO audit (at, actor, action, entity, entity_id, before_json, after_json)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, micros(t.now), actor, action, entity, entityID, b, a)
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", entity, entityID, err)
	}
	return nil
}

func jsonOrNull(v any) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// checkEngineers makes sure every id in ids is an existing engineer that was
// not deleted, and (with PostgreSQL) keeps those rows from being deleted
// until the transaction ends. The error is Invalid, naming field(i) for the
// first bad ids[i].
func (t *tx) checkEngineers(ctx context.Context, ids []int64, field func(i int) string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := t.query(ctx, `SELECT id, deleted_at IS NOT NULL FROM engineers
		WHERE id IN (`+placeholders(len(ids))+`) ORDER BY id`+t.d.forShare, args...)
	if err != nil {
		return fmt.Errorf("check engineers: %w", err)
	}
	defer rows.Close()
	deleted := make(map[int64]bool, len(ids))
	for rows.Next() {
		var id int64
		var del bool
		if err := rows.Scan(&id, &del); err != nil {
			return fmt.Errorf("check engineers: %w", err)
		}
		deleted[id] = del
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check engineers: %w", err)
	}
	for i, id := range ids {
		del, ok := deleted[id]
		switch {
		case !ok:
			return errs.InvalidField(field(i), "there is no engineer %d", id)
		case del:
			return errs.InvalidField(field(i), "engineer %d was deleted", id)
		}
	}
	return nil
}

// Times are stored as unix microseconds, UTC.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// roundTime returns t as it will read back: UTC, microsecond precision.
func roundTime(t time.Time) time.Time { return fromMicros(micros(t)) }

// nullTime scans a nullable microseconds column.
type nullTime struct{ sql.NullInt64 }

func (n nullTime) time() *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }
