package webhooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/webhooks"
)

// sweepTimer is a wake-up the driver asked its AfterFunc for.
type sweepTimer struct {
	after time.Duration
	fire  func()
}

// TestRunSweepFinishesCallsOnItsOwn: the driver's own loop, not its caller,
// sweeps every SweepEvery. A caller hangs up while an engineer's phone
// rings and the status callback is lost; once the loop's period passes it
// asks Twilio, cancels the ringing leg and logs and pages the call, with
// nobody calling Sweep. It stops with its context.
func TestRunSweepFinishesCallsOnItsOwn(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	call.HangupUnreported()
	e.clock.Add(webhooks.SweepIdle + time.Second)

	// A second instance over the same store, whose timers the test fires.
	timers := make(chan sweepTimer, 16)
	flow, err := ivr.New(ivr.DefaultConfig(), ivr.Deps{Tickets: e.deps, Roster: e.deps, Pages: e.deps,
		Preferences: e.deps, Calls: e.deps})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := webhooks.NewREST(webhooks.Settings{APIURL: e.tw.URL(), AccountSID: e.tw.AccountSID(), AuthToken: e.tw.AuthToken()})
	if err != nil {
		t.Fatal(err)
	}
	sweeper, err := webhooks.New(webhooks.Config{
		PublicURL: e.srv.URL, AuthToken: e.tw.AuthToken(), AccountSID: e.tw.AccountSID(),
		Flow: flow, States: e.states, Recordings: e.deps, Pages: e.deps, REST: rest,
		Log: logger(t), Now: e.clock.Now,
		AfterFunc: func(d time.Duration, f func()) func() bool {
			timers <- sweepTimer{after: d, fire: f}
			return func() bool { return true }
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sweeper.Close) // also on failure; closing twice is harmless
	sweeper.Register(mux.NewRouter())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sweeper.RunSweep(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	next := func() sweepTimer {
		t.Helper()
		for {
			select {
			case tm := <-timers:
				if tm.after == webhooks.SweepEvery {
					return tm
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the sweep loop scheduled no next sweep")
			}
		}
	}

	first := next()
	if got := sweeper.Stats().SweptCalls; got != 0 {
		t.Fatalf("SweptCalls = %d before the first period passed; want 0", got)
	}
	first.fire()
	next() // the sweep is over once the next one is scheduled
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg of a call that ended")
	if got := sweeper.Stats().SweptCalls; got != 1 {
		t.Errorf("SweptCalls = %d, want 1 (the call whose end was never reported)", got)
	}

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunSweep did not return once its context was done")
	}
	sweeper.Close() // its changes at Twilio are made
	e.closeTwilio()
	if pages, calls := e.deps.snapshot(); len(calls) != 1 || calls[0].Outcome != ivr.OutcomeAbandoned || len(pages) != 1 {
		t.Errorf("calls %+v pages %+v, want one abandoned call and a page", calls, pages)
	}
}
