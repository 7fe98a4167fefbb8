package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store/storetest"
)

// TestListenPager: with PostgreSQL, a page created or changed through one
// instance wakes an engine listening through another at once; with SQLite
// (one instance) there is nothing to listen to.
func TestListenPager(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := storetest.OpenSQLite(t)
		if err := db.ListenPager(t.Context(), func() { t.Error("woken on SQLite") }); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.URL(t)
		writer, listener := open(t, dsn), open(t, dsn)
		if err := writer.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		woken := make(chan struct{}, 100)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- listener.ListenPager(ctx, func() { woken <- struct{}{} }) }()
		wait := func(what string) {
			t.Helper()
			select {
			case <-woken:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no wake-up", what)
			}
		}
		wait("on connecting") // the rescan after (re)connecting
		p, _, err := writer.CreatePage(t.Context(), newPage("listen-1"), opener(nil, t0.Add(time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		wait("page created by the other instance")
		if _, err := writer.UpdatePage(t.Context(), p.ID, func(p *pager.Page, _ []pager.Attempt) (pager.Changes, error) {
			p.DueAt = t0.Add(2 * time.Minute)
			return pager.Changes{}, nil
		}); err != nil {
			t.Fatal(err)
		}
		wait("page changed by the other instance")
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenPager ended with %v", err)
		}
	})
}
