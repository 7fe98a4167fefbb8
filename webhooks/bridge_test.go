package webhooks_test

import (
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr"
)

// acceptWithoutBridge answers the L2 engineer's call, screens it and posts
// the engineer's 1 the way Twilio does, without letting the fake carry out
// the <Dial><Queue> that answers it: the moment between the engineer's
// acceptance and the bridge.
func acceptWithoutBridge(t *testing.T, e *env) (call, clara *faketwilio.CallHandle) {
	t.Helper()
	call, _ = e.toTicket(critical)
	clara = e.tw.Phone(phoneOf(21)).ExpectCall()
	screen := clara.Answer()
	action := strings.TrimPrefix(screen.Gather().Attr("action"), e.srv.URL)
	code, body := e.post(action, map[string]string{"CallSid": clara.SID(), "Digits": "1"}, e.signer())
	if code != 200 || !strings.Contains(body, "<Queue") {
		t.Fatalf("engineer's 1 answered %d %s; want the dial into the caller's queue", code, body)
	}
	if st := flowState(t, e.states, call.SID()); st.Phase != ivr.PhaseConnected || !st.Leg.BridgedAt.IsZero() {
		t.Fatalf("after the 1: phase %s, bridged at %v", st.Phase, st.Leg.BridgedAt)
	}
	return call, clara
}

// The engineer's phone drops between pressing 1 and the bridge: the caller,
// still in the queue, is not told goodbye; the next engineer is rung.
func TestLegLostBeforeBridgeRingsNext(t *testing.T) {
	e := newEnv(t)
	call, clara := acceptWithoutBridge(t, e)
	sid := call.SID()
	clara.Hangup()
	dmitri := e.tw.Phone(phoneOf(22)).ExpectCall()
	st := flowState(t, e.states, sid)
	if st.Phase != ivr.PhaseRouting || st.Leg.ID != sid+"-leg2" {
		t.Fatalf("after the lost leg: phase %s, leg %q; want routing to the second engineer", st.Phase, st.Leg.ID)
	}
	if !call.Queued() || !hasPlay(call.NextWait(), "hold_progress") {
		t.Fatalf("the caller is not kept waiting with a progress message")
	}
	call.Hangup()
	waitClosed(t, dmitri.Canceled(), "cancelling the ringing leg")
	e.closeTwilio()
	if _, calls := e.deps.snapshot(); len(calls) != 1 || calls[0].Outcome != ivr.OutcomeAbandoned {
		t.Fatalf("calls %+v, want one abandoned call", calls)
	}
}

// The caller hangs up between the engineer's 1 and the bridge: the
// engineer hears that the caller has gone, and the call, never connected,
// is logged as abandoned and paged.
func TestCallerGoneBeforeBridge(t *testing.T) {
	e := newEnv(t)
	call, clara := acceptWithoutBridge(t, e)
	call.Hangup()
	if doc := clara.WaitRedirect(); !doc.HangsUp() || !hasPlay(doc, "screen_caller_gone") {
		t.Fatalf("engineer not told the caller has gone: %s", doc)
	}
	e.closeTwilio()
	pages, calls := e.deps.snapshot()
	if len(calls) != 1 || calls[0].Outcome != ivr.OutcomeAbandoned || calls[0].EngineerID != 21 || len(pages) != 1 {
		t.Fatalf("calls %+v pages %+v, want one abandoned call naming engineer 21, and a page", calls, pages)
	}
}

// A detection result saying "machine" after the engineer pressed 1 is
// wrong: a person accepted. The call stays with the engineer.
func TestLateMachineVerdictIgnoredAfterAccept(t *testing.T) {
	e := newEnv(t)
	call, clara := acceptWithoutBridge(t, e)
	code, _ := e.post("/webhooks/twilio/legs/"+call.SID()+"-leg1/amd",
		map[string]string{"CallSid": clara.SID(), "AnsweredBy": "machine_start"}, e.signer())
	if st := flowState(t, e.states, call.SID()); code >= 300 || st.Phase != ivr.PhaseConnected || st.Leg.ID != call.SID()+"-leg1" {
		t.Fatalf("after a late machine verdict: %d, phase %s, leg %q; want the accepted engineer kept", code, st.Phase, st.Leg.ID)
	}
	call.Hangup()
	e.closeTwilio()
}
