package store_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/web"
)

// A session signed in on one instance is found by any (the store holds
// it), is gone after sign-out, and expired ones are swept when a new one
// starts.
func TestWebSessions(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		old := web.Session{Hash: "h-old", TokenHash: "tok", CSRF: "c1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := db.CreateSession(ctx, old); err != nil {
			t.Fatal(err)
		}
		got, err := db.Session(ctx, "h-old")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Session", got, old)

		later := t0.Add(2 * time.Hour)
		fresh := web.Session{Hash: "h-new", TokenHash: "tok", CSRF: "c2", CreatedAt: later, ExpiresAt: later.Add(time.Hour)}
		if err := db.CreateSession(ctx, fresh); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Session(ctx, "h-old"); !errs.Is(err, errs.NotFound) {
			t.Errorf("expired session after a new sign-in: err %v, want NotFound (swept)", err)
		}
		if err := db.DeleteSession(ctx, "h-new"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Session(ctx, "h-new"); !errs.Is(err, errs.NotFound) {
			t.Errorf("session after sign-out: err %v, want NotFound", err)
		}
		if err := db.DeleteSession(ctx, "h-new"); err != nil {
			t.Errorf("signing out twice: %v", err)
		}
	})
}
