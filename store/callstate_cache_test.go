package store

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/webhooks"
	"github.com/supportdesk/ivr/webhooks/callstatetest"
)

func wantCached(t *testing.T, c *callStateCache, callID, data string, version int64) {
	t.Helper()
	got, v, ok := c.get(callID)
	if !ok || string(got) != data || v != version {
		t.Fatalf("get(%s) = %q v%d (%v), want %q v%d", callID, got, v, ok, data, version)
	}
}

func wantNotCached(t *testing.T, c *callStateCache, callID string) {
	t.Helper()
	if got, v, ok := c.get(callID); ok {
		t.Fatalf("get(%s) = %q v%d, want nothing cached", callID, got, v)
	}
}

// openMigratedSQLite is a fresh, migrated SQLite store, closed at the end
// of the test.
func openMigratedSQLite(t testing.TB) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "ivr.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestCallStateCacheOrder: a slow writer's older state never replaces a
// newer one, and a write that began before an invalidation leaves nothing
// cached (the next read goes to the database).
func TestCallStateCacheOrder(t *testing.T) {
	c := newCallStateCache(1 << 20)
	g := c.generation()
	c.put(g, "CA1", []byte("v2"), 2)
	c.put(g, "CA1", []byte("v1"), 1) // late
	wantCached(t, c, "CA1", "v2", 2)

	c.put(g, "CA2", []byte("v1"), 1)
	before := c.generation()
	c.forget("CA9") // any invalidation
	c.put(before, "CA2", []byte("v2"), 2)
	wantNotCached(t, c, "CA2")
	wantCached(t, c, "CA1", "v2", 2) // untouched

	c.clear()
	wantNotCached(t, c, "CA1")
}

// TestCallStateCacheCopies: what get returns and what put was given are the
// caller's to change.
func TestCallStateCacheCopies(t *testing.T) {
	c := newCallStateCache(1 << 20)
	data := []byte("abc")
	c.put(c.generation(), "CA1", data, 1)
	data[0] = 'X'
	got, _, _ := c.get("CA1")
	got[1] = 'Y'
	wantCached(t, c, "CA1", "abc", 1)
}

// TestCallStateCacheBound: the least recently used calls go first once the
// cache holds more bytes than its bound.
func TestCallStateCacheBound(t *testing.T) {
	c := newCallStateCache(10)
	g := c.generation()
	c.put(g, "CA1", []byte("1111"), 1)
	c.put(g, "CA2", []byte("2222"), 1)
	wantCached(t, c, "CA1", "1111", 1) // CA1 now the most recent
	c.put(g, "CA3", []byte("3333"), 1)
	wantNotCached(t, c, "CA2")
	wantCached(t, c, "CA1", "1111", 1)
	wantCached(t, c, "CA3", "3333", 1)
	c.put(g, "CA4", []byte("a state over the bound"), 1)
	for _, id := range []string{"CA1", "CA3", "CA4"} {
		wantNotCached(t, c, id)
	}
	if c.bytes != 0 || c.lru.Len() != 0 {
		t.Fatalf("after evicting everything: %d bytes in %d entries", c.bytes, c.lru.Len())
	}
}

// TestSQLiteCallStateCacheFollowsWrites: on SQLite, reads after each kind
// of write see what the database holds.
func TestSQLiteCallStateCacheFollowsWrites(t *testing.T) {
	ctx := t.Context()
	db := openMigratedSQLite(t)
	if db.stateCache == nil {
		t.Fatal("SQLite store has no call-state cache")
	}
	check := func(callID, data string, version int64) {
		t.Helper()
		got, v, err := db.CallState(ctx, callID)
		if err != nil || string(got) != data || v != version {
			t.Fatalf("CallState(%s) = %q v%d, %v; want %q v%d", callID, got, v, err, data, version)
		}
		stored, sv, err := db.storedCallState(ctx, callID)
		if err != nil || string(stored) != data || sv != version {
			t.Fatalf("database holds %q v%d, %v; the cache said %q v%d", stored, sv, err, data, version)
		}
	}
	if err := db.CreateCallState(ctx, "CA1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	check("CA1", "one", 1)
	if _, err := db.UpdateCallState(ctx, "CA1", 1, []byte("two")); err != nil {
		t.Fatal(err)
	}
	check("CA1", "two", 2)
	if _, err := db.UpdateCallState(ctx, "CA1", 1, []byte("stale")); err == nil {
		t.Fatal("update over an old version succeeded")
	}
	check("CA1", "two", 2)
	if err := db.DeleteCallState(ctx, "CA1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CallState(ctx, "CA1"); err == nil {
		t.Fatal("a deleted state is still served")
	}
	if err := db.CreateCallState(ctx, "CA2", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteCallStatesBefore(ctx, db.Now().Add(1e9)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CallState(ctx, "CA2"); err == nil {
		t.Fatal("a state deleted by age is still served")
	}
}

// TestSQLiteCallStateCacheConcurrent: writers racing on one call (as two
// webhooks of one call may) leave the cache agreeing with the database.
func TestSQLiteCallStateCacheConcurrent(t *testing.T) {
	ctx := t.Context()
	db := openMigratedSQLite(t)
	if err := db.CreateCallState(ctx, "CA1", []byte("0")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var won atomic.Int64
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				_, v, err := db.CallState(ctx, "CA1")
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := db.UpdateCallState(ctx, "CA1", v, []byte(fmt.Sprint(w, "/", i))); err == nil {
					won.Add(1)
				} else if !errs.Is(err, errs.Conflict) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	cached, cv, err := db.CallState(ctx, "CA1")
	if err != nil {
		t.Fatal(err)
	}
	stored, sv, err := db.storedCallState(ctx, "CA1")
	if err != nil {
		t.Fatal(err)
	}
	if string(cached) != string(stored) || cv != sv || sv != 1+won.Load() {
		t.Fatalf("cache %q v%d, database %q v%d, %d updates won", cached, cv, stored, sv, won.Load())
	}
}

// TestSQLiteCallStatesContractUncached runs webhooks.CallStates' contract
// against SQLite with its cache off: the database alone keeps it, so the
// cache (which TestCallStatesContract runs with) only saves reads.
func TestSQLiteCallStatesContractUncached(t *testing.T) {
	callstatetest.Run(t, func(t *testing.T) (webhooks.CallStates, func(time.Time)) {
		db := openMigratedSQLite(t)
		db.stateCache = nil
		return db, func(now time.Time) { db.Now = func() time.Time { return now } }
	})
}
