package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dialect is what differs between the back ends once the schema exists.
// Queries are written once, with ? placeholders, and INSERT … RETURNING id
// (SQLite has it since 3.35), so that every method below is shared.
type dialect struct {
	// rebind turns ? placeholders into the back end's own.
	rebind func(query string) string
	// forUpdate and forShare end a SELECT that locks the rows it reads
	// until the transaction ends. SQLite needs none: its write
	// transactions take the database's one write lock at BEGIN.
	forUpdate, forShare string
	// skipLocked ends a SELECT that locks the rows it reads, skipping
	// those another transaction holds, so that claimers never wait on
	// each other. SQLite needs none (its one writer claims alone).
	skipLocked string
	// lockVoiceNumber, if set, is ANDed to the claim of a voice attempt
	// to the number a.to_number: it takes a transaction-scoped lock on the
	// number without waiting, so that two claimers racing for one number
	// skip it instead of queueing (and possibly deadlocking) on the
	// unique index page_attempts_voice_in_flight.
	lockVoiceNumber string
	// clock, if set, is a query returning the database's clock in unix
	// microseconds; see dialect.now.
	clock string
	// notifyPager, if set, is run in every transaction that changes a
	// page or adds attempts, so that other instances wake (PostgreSQL's
	// NOTIFY, delivered at commit).
	notifyPager string
	// lockMigrations, if set, is run first in every migration transaction
	// so that instances starting at once apply each migration once.
	lockMigrations string
	// tableExists is a query with one ? (the table name) that returns a
	// row if the table exists.
	tableExists string
	// constraint returns the name of the schema constraint err violates,
	// or "" if err is not a constraint violation the dialect recognises.
	constraint func(err error) string
}

// now reads the database's clock, which leases and retry times are
// compared with, so that instances whose own clocks differ agree on when a
// lease runs out. With SQLite (no clock query) the process is the
// database's only writer and its clock is the database's: time.Now, never
// DB.Now, which tests set to fixed times for the times the store records.
func (d *dialect) now(ctx context.Context, r runner) (time.Time, error) {
	if d.clock == "" {
		return roundTime(time.Now()), nil
	}
	var us int64
	if err := r.queryRow(ctx, d.clock).Scan(&us); err != nil {
		return time.Time{}, fmt.Errorf("read the database's clock: %w", err)
	}
	return fromMicros(us), nil
}

// rebindQuestion leaves ? placeholders as they are (SQLite).
func rebindQuestion(q string) string { return q }

// rebindDollar numbers ? placeholders $1, $2, … (PostgreSQL), leaving any ?
// inside a quoted string or identifier alone.
func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// sqlRunner is what *sql.DB and *sql.Tx have in common.
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// runner runs ?-placeholder queries on a pool or a transaction.
type runner struct {
	r sqlRunner
	d *dialect
}

func (r runner) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.r.ExecContext(ctx, r.d.rebind(q), args...)
}

func (r runner) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.r.QueryContext(ctx, r.d.rebind(q), args...)
}

func (r runner) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return r.r.QueryRowContext(ctx, r.d.rebind(q), args...)
}

// insert runs an INSERT … RETURNING id and returns the id.
func (r runner) insert(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	err := r.queryRow(ctx, q+" RETURNING id", args...).Scan(&id)
	return id, err
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// queryAll runs q and scans every row it returns with scan.
func queryAll[T any](ctx context.Context, r runner, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
