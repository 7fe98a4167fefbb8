package webhooks_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/webhooks"
)

const otherAccount = "AC99999999999999999999999999999999"

// A request signed with our auth token but naming another account is
// refused: the service answers only its own account's calls.
func TestWebhookFromAnotherAccountRefused(t *testing.T) {
	e := newEnv(t)
	const sid = "CA00000000000000000000000000000013"
	code, body := e.post("/webhooks/twilio/voice", map[string]string{"CallSid": sid, "From": client, "To": washington,
		"AccountSid": otherAccount, "CallStatus": "ringing", "Direction": "inbound"}, e.signer())
	if code != http.StatusForbidden || !strings.Contains(body, "AccountSid") || !strings.Contains(body, otherAccount) {
		t.Fatalf("another account's call: %d %q, want 403 naming its AccountSid", code, body)
	}
	if _, _, err := e.states.CallState(t.Context(), sid); err == nil {
		t.Fatal("another account's call got a state")
	}
	// Our own account's calls, and requests without the field, still pass.
	e.startCall(sid)
}

func TestPagerWebhookFromAnotherAccountRefused(t *testing.T) {
	r := mux.NewRouter()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	pg, err := webhooks.NewPager(webhooks.PagerConfig{PublicURL: srv.URL, AuthToken: menuToken,
		AccountSID: faketwilio.DefaultAccountSID, REST: webhooks.Unconfigured(), SMSFrom: "+74996383867"})
	if err != nil {
		t.Fatal(err)
	}
	pg.Register(r)
	full := srv.URL + "/webhooks/twilio/sms"
	vals := map[string][]string{"MessageSid": {"SM1"}, "From": {"+15550000007"}, "To": {"+74996383867"},
		"Body": {"STOP"}, "AccountSid": {otherAccount}}
	req, _ := http.NewRequest(http.MethodPost, full, strings.NewReader(encode(vals)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Signature(menuToken, full, vals))
	if code, body := do(t, req); code != http.StatusForbidden || !strings.Contains(body, "AccountSid") {
		t.Fatalf("another account's text: %d %q, want 403 naming AccountSid", code, body)
	}
}

// The service's own REST redirect of a queued caller makes Twilio post the
// <Enqueue> action with QueueResult=redirected: no replay, and the
// replays counter (which the README says to alert on) stays put.
func TestQueueRedirectIsNoReplay(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	before := e.driver.Stats().Replays
	code, body := e.post("/webhooks/twilio/voice/dequeued", map[string]string{"CallSid": call.SID(),
		"AccountSid": e.tw.AccountSID(), "QueueResult": "redirected", "QueueSid": "QU00000000000000000000000000000001"}, e.signer())
	if code != http.StatusOK || !strings.Contains(body, "<Enqueue") {
		t.Fatalf("redirected queue exit answered %d %s; want the caller's current document", code, body)
	}
	if got := e.driver.Stats().Replays; got != before {
		t.Fatalf("Stats().Replays = %d after a redirected queue exit, want %d", got, before)
	}
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	call.Hangup()
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
}

// Twilio answers 404 for a call it does not know (any more): the sweep
// finishes it as it does a call Twilio reports completed (the ringing
// engineer is released, the call logged abandoned and paged), instead of
// warning about it and ringing engineers for a caller who is gone.
func TestSweepFinishesCallTwilioDoesNotKnow(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	call.HangupUnreported()
	e.tw.Inject(faketwilio.Fault{Endpoint: "Calls.fetch", Status: http.StatusNotFound, Code: 20404,
		Message: "The requested resource /2010-04-01/Accounts/" + e.tw.AccountSID() + "/Calls/" + call.SID() + ".json was not found",
		Times:   3})
	e.clock.Add(webhooks.SweepIdle + time.Second)
	if n, err := e.driver.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: looked at %d, %v; want the one call", n, err)
	}
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
	if st := flowState(t, e.states, call.SID()); st.Phase != ivr.PhaseDone {
		t.Fatalf("after the sweep: phase %s, want done", st.Phase)
	}
	if got := e.driver.Stats().SweptCalls; got != 1 {
		t.Errorf("Stats().SweptCalls = %d, want 1", got)
	}
	e.closeTwilio()
	pages, calls := e.deps.snapshot()
	if len(calls) != 1 || calls[0].Outcome != ivr.OutcomeAbandoned || len(pages) != 1 {
		t.Fatalf("calls %+v pages %+v, want one abandoned call and a page", calls, pages)
	}
}

// A CallSid that is not CA and 32 hex digits never reaches a URL: the
// webhooks refuse it naming the field, the REST client refuses it without
// asking Twilio.
func TestMalformedCallSidRefused(t *testing.T) {
	e := newEnv(t)
	for _, sid := range []string{"CA1", "CA../Recordings/RE00000000000000000000000000000001",
		"CA0000000000000000000000000000000g", "RE00000000000000000000000000000001", "CA000000000000000000000000000000011"} {
		code, body := e.post("/webhooks/twilio/voice", map[string]string{"CallSid": sid, "From": client, "To": washington,
			"AccountSid": e.tw.AccountSID(), "CallStatus": "ringing", "Direction": "inbound"}, e.signer())
		if code != http.StatusBadRequest || !strings.Contains(body, "CallSid") {
			t.Errorf("voice webhook with CallSid %q: %d %q, want 400 naming CallSid", sid, code, body)
		}
	}
	rest, err := webhooks.NewREST(webhooks.Settings{APIURL: e.tw.URL(), AccountSID: e.tw.AccountSID(), AuthToken: e.tw.AuthToken()})
	if err != nil {
		t.Fatal(err)
	}
	bad := "CA../Recordings/RE00000000000000000000000000000001"
	if _, err := rest.CallStatus(context.Background(), bad); !errs.Is(err, errs.Invalid) {
		t.Errorf("CallStatus(%q) = %v, want errs.Invalid", bad, err)
	}
	if err := rest.UpdateCall(context.Background(), bad, webhooks.CallUpdate{Status: "completed"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("UpdateCall(%q) = %v, want errs.Invalid", bad, err)
	}
}

// queues lists the fake account's queues by name, with their sizes.
func (e *env) queues() map[string]int {
	e.t.Helper()
	qs, err := faketwilio.RESTClient(e.tw).Api.ListQueue(&api.ListQueueParams{})
	if err != nil {
		e.t.Fatalf("ListQueue: %v", err)
	}
	out := map[string]int{}
	for _, q := range qs {
		out[*q.FriendlyName] = q.CurrentSize
	}
	return out
}

// A call's queue is deleted at Twilio once its caller has left it: after
// the bridge ends, and after a hang-up in the queue.
func TestCallQueueDeletedWhenTheCallerLeaves(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	if qs := e.queues(); qs["q-"+call.SID()] != 1 {
		t.Fatalf("queues while the caller waits: %v, want q-%s with the caller", qs, call.SID())
	}
	leg := e.tw.Phone(phoneOf(21)).ExpectCall()
	leg.Answer()
	leg.Press("1")
	leg.Hangup()
	call.Hangup()
	e.driver.Flush(t.Context()) // the queue is deleted off the webhook path
	if qs := e.queues(); len(qs) != 0 {
		t.Fatalf("queues after a bridged call: %v, want none", qs)
	}

	gone, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	gone.Hangup()
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
	if qs := e.queues(); len(qs) != 0 {
		t.Fatalf("queues after a caller hung up on hold: %v, want none", qs)
	}
}

// A queue whose exit never reached the service (the <Enqueue> action was
// lost) is deleted by the sweep once its call is over; a queue with a
// caller in it is left alone.
func TestSweepDeletesLeftoverQueues(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	call.HangupUnreported()
	e.clock.Add(webhooks.SweepIdle + time.Second)
	if _, err := e.driver.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
	if qs := e.queues(); len(qs) != 0 {
		t.Fatalf("queues after the sweep: %v, want none", qs)
	}

	waiting, _ := e.toTicket(critical)
	clara = e.tw.Phone(phoneOf(21)).ExpectCall()
	if _, err := e.driver.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if qs := e.queues(); qs["q-"+waiting.SID()] != 1 {
		t.Fatalf("queues after a sweep while a caller waits: %v, want its queue kept", qs)
	}
	waiting.Hangup()
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
}

// A live call of another driver (the Asterisk driver's, whose instance is
// restarting) idle past SweepIdle is left to it: Twilio knows nothing of
// it, and finishing it would page about a caller still waiting.
func TestSweepLeavesAnotherDriversCall(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	e.tw.Phone(phoneOf(21)).ExpectCall()
	ctx := context.Background()
	data, v, err := e.states.CallState(ctx, call.SID())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	raw["driver"] = json.RawMessage(`"asterisk"`)
	mine, _ := json.Marshal(raw)
	if _, err := e.states.UpdateCallState(ctx, call.SID(), v, mine); err != nil {
		t.Fatal(err)
	}
	before := flowState(t, e.states, call.SID())
	e.clock.Add(webhooks.SweepIdle + time.Hour) // past every deadline of the flow too
	if _, err := e.driver.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if after := flowState(t, e.states, call.SID()); after.Phase != before.Phase || after.Seq != before.Seq {
		t.Errorf("the sweep changed another driver's call: phase %s seq %d, was %s %d", after.Phase, after.Seq, before.Phase, before.Seq)
	}
	if got := e.driver.Stats().SweptCalls; got != 0 {
		t.Errorf("Stats().SweptCalls = %d, want 0", got)
	}
}
