package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/oncall"
)

func TestRebindDollar(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{"x = '?' AND y = ?", "x = '?' AND y = $1"},
		{`"a?b" = ? AND c = 'it''s ?' AND d = ?`, `"a?b" = $1 AND c = 'it''s ?' AND d = $2`},
	} {
		if got := rebindDollar(tc.in); got != tc.want {
			t.Errorf("rebindDollar(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Both back ends have the same migrations, so that a database can move
// from one to the other at any version.
func TestMigrationsMatch(t *testing.T) {
	names := func(backend string) []string {
		ms, err := migrations(backend)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.name)
		}
		return out
	}
	lite, pg := names(SQLite), names(Postgres)
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Fatalf("sqlite migrations %v, postgres %v", lite, pg)
	}
}

// A field added to oncall.Rotation must be added to rotationSpec too, or
// it would be silently dropped on the way to the database.
func TestRotationSpecCoversRotation(t *testing.T) {
	columns := map[string]bool{"ID": true, "Version": true, "EffectiveFrom": true, "EffectiveTo": true}
	var want []string
	for f := range reflect.TypeFor[oncall.Rotation]().Fields() {
		if !columns[f.Name] {
			want = append(want, f.Name)
		}
	}
	var got []string
	for f := range reflect.TypeFor[rotationSpec]().Fields() {
		got = append(got, f.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rotationSpec fields %v, want oncall.Rotation's %v", got, want)
	}
}

// TestConstraintErrors breaks each schema constraint behind the store's own
// checks and expects the mapped error: the guarantee when writers race.
func TestConstraintErrors(t *testing.T) {
	const seed = `INSERT INTO engineers (name, level, languages, time_zone, contacts, created_at) VALUES ('a', 1, '[]', 'UTC', '[]', 0);
INSERT INTO overrides (level, layer, engineer_id, start_at, end_at, created_at) VALUES (1, 1, 1, 100, 200, 0);
INSERT INTO tokens (name, role, hash, created_at) VALUES ('t', 'admin', 'h', 0);
INSERT INTO rotations (created_at) VALUES (0);
INSERT INTO rotation_versions (rotation_id, version, effective_from, spec) VALUES (1, 1, 0, '{}');
INSERT INTO pages (key, status, priority, created_at, updated_at, state) VALUES ('k', 'open', 'urgent', 0, 0, '{}');
INSERT INTO page_attempts (page_id, key, kind, purpose, rung, to_number, status, provider_id, created_at, updated_at)
	VALUES (1, 'a', 'sms', 'page', 0, '+1', 'sent', 'SM1', 0, 0)`
	cases := []struct {
		name, stmt string
		code       errs.Code
		field      string
	}{
		{"Overlap", "INSERT INTO overrides (level, layer, engineer_id, start_at, end_at, created_at) VALUES (1, 1, 1, 150, 250, 0)", errs.Conflict, ""},
		{"EndBeforeStart", "INSERT INTO overrides (level, layer, engineer_id, start_at, end_at, created_at) VALUES (2, 1, 1, 300, 300, 0)", errs.Invalid, "end"},
		{"TokenHash", "INSERT INTO tokens (name, role, hash, created_at) VALUES ('u', 'admin', 'h', 0)", errs.Conflict, ""},
		{"RotationVersion", "INSERT INTO rotation_versions (rotation_id, version, effective_from, spec) VALUES (1, 1, 5, '{}')", errs.Conflict, ""},
		// SQLite does not name the foreign key violated: internal there.
		{"OverrideEngineer", "INSERT INTO overrides (level, layer, engineer_id, start_at, end_at, created_at) VALUES (3, 1, 9, 0, 1, 0)", errs.Invalid, "engineer_id"},
		{"TokenEngineer", "INSERT INTO tokens (name, role, engineer_id, hash, created_at) VALUES ('u', 'engineer', 9, 'i', 0)", errs.Invalid, "engineer_id"},
		{"CallStateExists", "INSERT INTO call_states (call_id, version, data, created_at, updated_at) SELECT call_id, 1, data, 0, 0 FROM call_states", errs.Conflict, ""},
		{"AttemptProviderID", `INSERT INTO page_attempts (page_id, key, kind, purpose, rung, to_number, status, provider_id, created_at, updated_at)
			VALUES (1, 'b', 'sms', 'page', 0, '+2', 'sent', 'SM1', 0, 0)`, errs.Conflict, ""},
		{"NoteTicket", "INSERT INTO ticket_notes (ticket_id, at, author, text) VALUES (9, 0, 'a', 'b')", errs.NotFound, ""},
	}
	for _, backend := range []string{SQLite, Postgres} {
		t.Run(backend, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "ivr.db")
			if backend == Postgres {
				dsn = pgtest.URL(t)
			}
			db, err := Open(t.Context(), dsn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := db.writer.ExecContext(t.Context(), seed); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateCallState(t.Context(), "CA01", []byte("{}")); err != nil {
				t.Fatal(err)
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					err := db.update(context.Background(), func(tx *tx) error {
						_, err := tx.exec(context.Background(), tc.stmt)
						return err
					})
					code, field := tc.code, tc.field
					if backend == SQLite && (tc.name == "OverrideEngineer" || tc.name == "TokenEngineer" || tc.name == "NoteTicket") {
						code, field = errs.Internal, ""
					}
					var e *errs.Error
					switch {
					case errs.CodeOf(err) != code:
						t.Fatalf("error %v: code %s, want %s", err, errs.CodeOf(err), code)
					case code != errs.Internal && (!errors.As(err, &e) || e.Field != field):
						t.Fatalf("error %v: want field %q", err, field)
					}
				})
			}
		})
	}
}

// TestDurableWritesSync: every durable transaction (pages, call records,
// audited edits) commits with synchronous=FULL, before and after call-state
// writes, which alone run at the writer's NORMAL.
func TestDurableWritesSync(t *testing.T) {
	db := openMigratedSQLite(t)
	durableMode := func() int {
		t.Helper()
		var mode int
		if err := db.update(t.Context(), func(tx *tx) error {
			return tx.queryRow(t.Context(), "PRAGMA synchronous").Scan(&mode)
		}); err != nil {
			t.Fatal(err)
		}
		return mode
	}
	writerMode := func() int {
		t.Helper()
		var mode int
		if err := db.writer.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		return mode
	}
	if m := durableMode(); m != 2 {
		t.Errorf("durable transaction runs at synchronous = %d, want 2 (FULL)", m)
	}
	if err := db.CreateCallState(t.Context(), "CA1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateCallState(t.Context(), "CA1", 1, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if m := writerMode(); m != 1 {
		t.Errorf("writer between durable transactions at synchronous = %d, want 1 (NORMAL)", m)
	}
	if m := durableMode(); m != 2 {
		t.Errorf("durable transaction after call-state writes runs at synchronous = %d, want 2 (FULL)", m)
	}
}
