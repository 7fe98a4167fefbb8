package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// Migrations are numbered SQL files, one directory per back end, applied in
// order, each in its own transaction. A file once released is never edited;
// a change to the schema is a new file in both directories.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

type migration struct {
	version int64
	name    string // file name, e.g. 0001_init.sql
	sql     string
}

// migrations returns backend's migrations, oldest first.
func migrations(backend string) ([]migration, error) {
	dir := path.Join("migrations", backend)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s/%s: name it NNNN_what.sql", dir, e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have one version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	applied_at BIGINT NOT NULL
)`

// Migrate applies the embedded migrations the database lacks, each in one
// transaction that also records it in schema_migrations. It is safe to run
// again, and (with PostgreSQL) from several instances at once: they take
// turns on an advisory lock and each migration is applied once.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrations(db.backend)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := db.migrate(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

func (db *DB) migrate(ctx context.Context, m migration) error {
	return db.update(ctx, func(t *tx) error {
		if t.d.lockMigrations != "" {
			if _, err := t.exec(ctx, t.d.lockMigrations); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := t.exec(ctx, createSchemaMigrations); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var one int
		err := t.queryRow(ctx, "SELECT 1 FROM schema_migrations WHERE version = ?", m.version).Scan(&one)
		if err == nil {
			return nil // applied already
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := t.r.ExecContext(ctx, m.sql); err != nil { // as written: no placeholders
			return err
		}
		if _, err := t.exec(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
			m.version, micros(t.now)); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		db.log.Info("applied migration", zap.String(logMigration, m.name))
		return nil
	})
}

// Ready reports whether the store can serve: the database answers and every
// embedded migration has been applied. The error for a missing migration is
// Unavailable and names it.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("%s store unreachable: %w", db.backend, err)
	}
	if db.reader != db.writer {
		if err := db.reader.PingContext(ctx); err != nil {
			return fmt.Errorf("%s store unreachable: %w", db.backend, err)
		}
	}
	ms, err := migrations(db.backend)
	if err != nil {
		return err
	}
	r := db.reads()
	var one int
	switch err := r.queryRow(ctx, db.dialect.tableExists, "schema_migrations").Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return missingMigration(ms[0])
	case err != nil:
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := make(map[int64]bool)
	rows, err := r.query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for _, m := range ms {
		if !applied[m.version] {
			return missingMigration(m)
		}
	}
	return nil
}

func missingMigration(m migration) error {
	return errs.E(errs.Unavailable, "", "the database lacks migration %d (%s); run `ivr migrate`", m.version, m.name)
}
