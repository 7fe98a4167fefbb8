package store_test

import (
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
)

// TestPostgresCommitDurability: on PostgreSQL the writes of call state
// (create, update, finish) commit with synchronous_commit off, as SQLite
// commits them unsynced, and everything acknowledged durably (a page, a
// page request, a call record, a caller's language, a deleted state)
// commits with the server's synchronous commit. A trigger records the
// setting in force as each row is written.
func TestPostgresCommitDurability(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.URL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// pgtest's server runs at synchronous_commit=off; this database gets
	// production's default back, for the sessions the store opens next.
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+strings.TrimPrefix(u.Path, "/")+" SET synchronous_commit = on"); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	setClock(db, t0)
	for _, q := range []string{
		"CREATE TABLE commit_settings (seq serial, what text, setting text)",
		`CREATE FUNCTION record_commit_setting() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO commit_settings (what, setting) VALUES (TG_TABLE_NAME || ' ' || TG_OP, current_setting('synchronous_commit'));
			RETURN NULL;
		END $$`,
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range []string{"call_states", "calls", "page_requests", "caller_languages", "pages"} {
		if _, err := admin.ExecContext(ctx, "CREATE TRIGGER record_commit_setting AFTER INSERT OR UPDATE OR DELETE ON "+table+ //nolint:gosec // G202: table names from the fixed list above
			" FOR EACH ROW EXECUTE FUNCTION record_commit_setting()"); err != nil {
			t.Fatal(err)
		}
	}
	// setting returns the settings the rows written since the last call
	// were written under, by table and operation.
	seen := 0
	settings := func() map[string]string {
		t.Helper()
		rows, err := admin.QueryContext(ctx, "SELECT seq, what, setting FROM commit_settings WHERE seq > $1 ORDER BY seq", seen)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var what, setting string
			if err := rows.Scan(&seen, &what, &setting); err != nil {
				t.Fatal(err)
			}
			if prev, ok := out[what]; ok && prev != setting {
				setting = prev + "," + setting
			}
			out[what] = setting
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := func(step string, want map[string]string) {
		t.Helper()
		got := settings()
		for what, w := range want {
			if got[what] != w {
				t.Errorf("%s: %s written at synchronous_commit = %q, want %q", step, what, got[what], w)
			}
		}
	}

	if err := db.CreateCallState(ctx, "CA01", []byte(`{"phase":"language"}`)); err != nil {
		t.Fatal(err)
	}
	want("CreateCallState", map[string]string{"call_states INSERT": "off"})
	if _, err := db.UpdateCallState(ctx, "CA01", 1, []byte(`{"phase":"ticket"}`)); err != nil {
		t.Fatal(err)
	}
	want("UpdateCallState", map[string]string{"call_states UPDATE": "off"})
	if err := db.FinishCallState(ctx, "CA01"); err != nil {
		t.Fatal(err)
	}
	want("FinishCallState", map[string]string{"call_states UPDATE": "off"})

	// Durable, before and after the relaxed writes alike.
	if err := db.SetLanguage(ctx, "+12025550150", oncall.Russian); err != nil {
		t.Fatal(err)
	}
	want("SetLanguage", map[string]string{"caller_languages INSERT": "on"})
	if err := db.SaveCall(ctx, callRecord("CA01", "1001", t0)); err != nil {
		t.Fatal(err)
	}
	want("SaveCall", map[string]string{"calls INSERT": "on"})
	if err := db.RequestPage(ctx, ivr.PageRequest{CallID: "CA01", TicketID: "1001", Priority: oncall.Critical, Level: oncall.L1,
		Line: "+12025952118", Caller: "+12025550150", RequestedAt: t0}); err != nil {
		t.Fatal(err)
	}
	want("RequestPage", map[string]string{"page_requests INSERT": "on"})
	p := pager.Page{Key: "test:1", Source: pager.FromAPI, Priority: oncall.Critical, Level: oncall.L1,
		Summary: "durability", RaisedAt: t0, Deadline: t0.Add(time.Hour), Status: pager.Open}
	if _, _, err := db.CreatePage(ctx, p, func(*pager.Page) pager.Changes { return pager.Changes{} }); err != nil {
		t.Fatal(err)
	}
	want("CreatePage", map[string]string{"pages INSERT": "on"})
	if err := db.DeleteCallState(ctx, "CA01"); err != nil {
		t.Fatal(err)
	}
	want("DeleteCallState", map[string]string{"call_states DELETE": "on"})
}
