package webhooks_test

import (
	"context"
	"testing"

	"github.com/supportdesk/ivr/webhooks"
)

// An engineer is busy from their 1 until their call with the caller ends,
// as the calls' stored states tell any instance sharing the store; others
// are not.
func TestOtherCallsSeesTheEngineerTalking(t *testing.T) {
	e := newEnv(t)
	busy := webhooks.OtherCalls(e.states)
	ctx := context.Background()
	call, clara := acceptWithoutBridge(t, e) // Clara (21) pressed 1
	for id, want := range map[int64]bool{21: true, 22: false, 11: false} {
		if got, err := busy.Busy(ctx, id); err != nil || got != want {
			t.Errorf("engineer %d busy = %v, %v; want %v", id, got, err, want)
		}
	}
	clara.Hangup()
	dmitri := e.tw.Phone(phoneOf(22)).ExpectCall()
	if got, err := busy.Busy(ctx, 21); err != nil || got {
		t.Errorf("after hanging up, engineer 21 busy = %v, %v; want false", got, err)
	}
	call.Hangup()
	waitClosed(t, dmitri.Canceled(), "cancelling the ringing leg")
	e.closeTwilio()
}

// The next caller's ring plan passes over the engineer talking to the
// first: Dmitri is rung first, not Clara.
func TestEngineerOnACallIsNotRungForTheNext(t *testing.T) {
	e := newEnv(t)
	first, clara := acceptWithoutBridge(t, e)
	second, _ := e.toTicket(critical)
	dmitri := e.tw.Phone(phoneOf(22)).ExpectCall()
	if st := flowState(t, e.states, second.SID()); st.Leg.EngineerID != 22 || len(st.Tried) != 1 {
		t.Fatalf("second call rings engineer %d (tried %v); want Dmitri (22) alone, Clara being busy", st.Leg.EngineerID, st.Tried)
	}
	second.Hangup()
	waitClosed(t, dmitri.Canceled(), "cancelling the ringing leg")
	first.Hangup()
	clara.Hangup()
	e.closeTwilio()
}
