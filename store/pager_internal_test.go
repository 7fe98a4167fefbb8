package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// openBoth runs fn on a fresh, migrated store of each back end.
func openBoth(t *testing.T, fn func(t *testing.T, db *DB)) {
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
			t.Cleanup(func() { _ = db.Close() })
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			fn(t, db)
		})
	}
}

func mustCreatePage(t *testing.T, db *DB, key string, add ...pager.Attempt) []pager.Attempt {
	t.Helper()
	p, _, err := db.CreatePage(t.Context(), pager.Page{Key: key, Priority: oncall.Urgent, Level: oncall.L1}, func(p *pager.Page) pager.Changes {
		p.Status = pager.Open
		return pager.Changes{Add: add}
	})
	if err != nil {
		t.Fatal(err)
	}
	_, atts, err := db.Page(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return atts
}

// ClaimAttempts tells a violation of the one-call-per-number index from
// other errors by its name, on both back ends.
func TestVoiceInFlightNamed(t *testing.T) {
	openBoth(t, func(t *testing.T, db *DB) {
		mustCreatePage(t, db, "p1",
			pager.Attempt{Key: "a", Kind: pager.KindVoice, To: "+1"}, pager.Attempt{Key: "b", Kind: pager.KindVoice, To: "+1"})
		err := db.update(t.Context(), func(t *tx) error {
			_, err := t.exec(context.Background(), "UPDATE page_attempts SET status = 'sending'")
			return err
		})
		if got := db.dialect.constraint(err); got != voiceInFlight {
			t.Fatalf("two calls in flight to one number: error %v names %q, want %q", err, got, voiceInFlight)
		}
	})
}

// A claimer that loses the race for a number to another instance's claim
// (committed after the loser's snapshot was taken) skips the number and
// claims the rest, without an error: the unique index is the guarantee,
// and its violation means "not this time". The other instance is played
// by a transaction that puts a call to the number in flight without the
// claimers' lock on the number, so that the claim does not skip the number
// but waits on the index, and that commits once the claim is waiting.
func TestClaimLosesRaceForNumber(t *testing.T) {
	db, err := Open(t.Context(), pgtest.URL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := mustCreatePage(t, db, "p1", pager.Attempt{Key: "v", Kind: pager.KindVoice, To: "+1"})
	second := mustCreatePage(t, db, "p2", pager.Attempt{Key: "v", Kind: pager.KindVoice, To: "+1"}, pager.Attempt{Key: "s", Kind: pager.KindSMS, To: "+1"})

	other, err := db.writer.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback() }() // the test's rival transaction: only its lock matters
	if _, err := other.ExecContext(t.Context(), "UPDATE page_attempts SET status = 'sending', claimed_by = 'other' WHERE id = $1", first[0].ID); err != nil {
		t.Fatal(err)
	}

	type result struct {
		atts []pager.Attempt
		err  error
	}
	done := make(chan result, 1)
	go func() {
		atts, err := db.ClaimAttempts(context.Background(), "engine", time.Hour, 10, time.Time{})
		done <- result{atts, err}
	}()
	// Wait until the claim waits on the other transaction (the unique
	// index's check of the call in flight), then let that commit.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := db.reader.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the claim never waited on the call in flight")
		}
	}
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("ClaimAttempts after losing the race: %v", r.err)
	}
	if len(r.atts) != 1 || r.atts[0].ID != second[1].ID {
		t.Fatalf("claimed %+v, want only the text %d", r.atts, second[1].ID)
	}
	a, err := db.Attempt(t.Context(), second[0].ID)
	if err != nil || a.Status != pager.Intended {
		t.Fatalf("the second call to the number: %+v, %v; want it left Intended", a, err)
	}
}
