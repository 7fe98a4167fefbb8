package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/supportdesk/ivr/errs"
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
func (db *DB) update(ctx context.Context, fn func(t *tx) error) error {
	return db.inTx(ctx, db.writer, fn)
}

// updateVolatile is update for runtime state that the next event rewrites
// anyway (a call's flow state). With SQLite its commit is not synced to
// disk (synchronous=NORMAL for that one transaction, on the one writer
// connection): a crash of the process loses nothing and a power cut may
// undo the last few such commits, never corrupting the file, while each
// commit costs microseconds instead of an fsync (about 1.3 ms on these
// machines). Pages, call records and everything audited go through update,
// which syncs; their next commit syncs these too. PostgreSQL: update.
func (db *DB) updateVolatile(ctx context.Context, fn func(t *tx) error) (err error) {
	if db.backend != SQLite {
		return db.update(ctx, fn)
	}
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("writer connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return fmt.Errorf("relax synchronous: %w", err)
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); rerr != nil {
			// Never hand back a connection that no longer syncs.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			if err == nil {
				err = fmt.Errorf("restore synchronous: %w", rerr)
			}
		}
	}()
	return db.inTx(ctx, conn, fn)
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

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(*t), Valid: true}
}

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
