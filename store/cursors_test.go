package store_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// TestWatchCursor: a watcher's cursor is absent until saved, then read
// back, moves forward and never back.
func TestWatchCursor(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		if _, ok, err := db.WatchCursor(ctx, "rt"); ok || err != nil {
			t.Fatalf("WatchCursor before any save: ok %v, %v; want absent", ok, err)
		}
		t1 := time.Date(2026, 12, 1, 3, 4, 5, 0, time.UTC)
		for _, at := range []time.Time{t1, t1.Add(-time.Hour), t1.Add(time.Second)} {
			if err := db.SetWatchCursor(ctx, "rt", at); err != nil {
				t.Fatal(err)
			}
		}
		got, ok, err := db.WatchCursor(ctx, "rt")
		if !ok || err != nil || !got.Equal(t1.Add(time.Second)) {
			t.Errorf("WatchCursor = %v, %v, %v; want %v (the newest saved, not the older one saved after it)", got, ok, err, t1.Add(time.Second))
		}
		if _, ok, _ := db.WatchCursor(ctx, "other"); ok {
			t.Error("another watcher's cursor is set")
		}
	})
}
