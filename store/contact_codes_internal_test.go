package store

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/internal/pgtest"
)

// TestMigrationVerifiesStoredNumbers: every number stored before
// migration 11 was trusted, and stays so: it is verified afterwards, on
// both back ends, in its order, and an engineer with no number keeps none.
// The outbox it rebuilds (SQLite) never hands out an id used before.
func TestMigrationVerifiesStoredNumbers(t *testing.T) {
	for backend, dsn := range map[string]func(t *testing.T) string{
		SQLite:   func(t *testing.T) string { return filepath.Join(t.TempDir(), "ivr.db") },
		Postgres: func(t *testing.T) string { return pgtest.URL(t) },
	} {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			db, err := Open(ctx, dsn(t), zaptest.NewLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			ms, err := migrations(db.backend)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.version >= 11 {
					break
				}
				if err := db.migrate(ctx, m); err != nil {
					t.Fatalf("migration %s: %v", m.name, err)
				}
			}
			var ids []int64
			for _, contacts := range []string{
				`[{"phone":"+12025550142","sms":true},{"phone":"+79161234567","sms":false}]`,
				`[]`,
			} {
				var id int64
				if err := db.writer.QueryRowContext(ctx, db.dialect.rebind(`INSERT INTO engineers (name, level, languages, time_zone, contacts, created_at)
					VALUES ('Old', 1, '["ru"]', 'Europe/Moscow', ?, 0) RETURNING id`), contacts).Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			// An attempt whose id was the last one used, then deleted.
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.writer.ExecContext(ctx, db.dialect.rebind(q), args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec(`INSERT INTO pages (key, status, priority, created_at, updated_at, state) VALUES ('p', 'open', 'low', 0, 0, '{}')`)
			var page, last int64
			if err := db.writer.QueryRowContext(ctx, "SELECT id FROM pages WHERE key = 'p'").Scan(&page); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"a", "b"} {
				exec(`INSERT INTO page_attempts (page_id, key, kind, purpose, rung, to_number, status, created_at, updated_at)
					VALUES (?, ?, 'sms', 'page', 0, '+12025550142', 'done', 0, 0)`, page, key)
			}
			if err := db.writer.QueryRowContext(ctx, "SELECT MAX(id) FROM page_attempts").Scan(&last); err != nil {
				t.Fatal(err)
			}
			exec("DELETE FROM page_attempts WHERE id = ?", last)

			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}

			var next int64
			if err := db.writer.QueryRowContext(ctx, db.dialect.rebind(`INSERT INTO page_attempts (page_id, key, kind, purpose, rung, to_number, status, created_at, updated_at)
				VALUES (?, 'c', 'sms', 'page', 0, '+12025550142', 'done', 0, 0) RETURNING id`), page).Scan(&next); err != nil {
				t.Fatal(err)
			}
			if next <= last {
				t.Errorf("an attempt after the migration got id %d; %d was used (and deleted) before it", next, last)
			}
			raw := func(id int64) []map[string]any {
				var text string
				if err := db.reader.QueryRowContext(ctx, db.dialect.rebind("SELECT contacts FROM engineers WHERE id = ?"), id).Scan(&text); err != nil {
					t.Fatal(err)
				}
				var out []map[string]any
				if err := json.Unmarshal([]byte(text), &out); err != nil {
					t.Fatalf("contacts %q: %v", text, err)
				}
				return out
			}
			got := raw(ids[0])
			if len(got) != 2 || got[0]["phone"] != "+12025550142" || got[0]["sms"] != true || got[0]["verified"] != true ||
				got[1]["phone"] != "+79161234567" || got[1]["sms"] != false || got[1]["verified"] != true {
				t.Fatalf("numbers after the migration: %v; want both, in order, verified", got)
			}
			if got := raw(ids[1]); len(got) != 0 {
				t.Fatalf("no numbers became %v", got)
			}
			e, err := db.Engineer(ctx, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Reachable()) != 2 {
				t.Fatalf("engineer after the migration: %+v; want both numbers reachable", e)
			}
		})
	}
}
