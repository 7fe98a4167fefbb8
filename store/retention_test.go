package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// TestRunRetention: the store's retention loop deletes voicemails and call
// states older than the retention as soon as it starts and again at every
// period, and keeps the younger ones: a caller's voicemail is gone after
// the retention the operator set, not before.
func TestRunRetention(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		const keep = 30 * 24 * time.Hour
		var now atomic.Pointer[time.Time]
		set := func(at time.Time) { now.Store(&at) }
		db.Now = func() time.Time { return *now.Load() }

		save := func(id string) {
			t.Helper()
			if err := db.SaveRecording(ctx, calls.Recording{ID: "RE" + id, CallID: "CA" + id, ContentType: "audio/wav", Data: []byte{1}}); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateCallState(ctx, "CA"+id, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
		// kept reports whether call id's voicemail and state are there.
		kept := func(id string) (recording, state bool) {
			t.Helper()
			_, err := db.Recording(ctx, "RE"+id)
			if err != nil && !errs.Is(err, errs.NotFound) {
				t.Fatal(err)
			}
			_, _, serr := db.CallState(ctx, "CA"+id)
			if serr != nil && !errs.Is(serr, errs.NotFound) {
				t.Fatal(serr)
			}
			return err == nil, serr == nil
		}
		want := func(when, id string, wantKept bool) {
			t.Helper()
			if rec, st := kept(id); rec != wantKept || st != wantKept {
				t.Errorf("%s: call %s's voicemail kept %v, state kept %v; want both %v", when, id, rec, st, wantKept)
			}
		}

		set(t0)
		save("old")
		set(t0.Add(keep / 2))
		save("young")
		set(t0.Add(keep + time.Hour))

		tick := make(chan time.Time) // unbuffered: a send returns once the loop waits for it
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); db.RunRetention(runCtx, store.Retention{Keep: keep, Tick: tick}) }()
		t.Cleanup(func() { stop(); <-done })
		send := func() {
			t.Helper()
			select {
			case tick <- time.Time{}:
			case <-time.After(10 * time.Second):
				t.Fatal("the retention loop does not wait for its next period")
			}
		}

		send() // the pass at start is over
		want("at start", "old", false)
		want("at start", "young", true)

		set(t0.Add(keep/2 + keep + time.Hour))
		send() // the loop deletes again
		send() // and is done with it
		want("a period later", "young", false)

		stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("RunRetention did not return once its context was done")
		}
	})
}
