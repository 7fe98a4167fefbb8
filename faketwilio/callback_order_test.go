package faketwilio_test

import (
	"slices"
	"testing"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/faketwilio"
)

// Callbacks are separate requests and can arrive out of order: a test can
// deliver completed before the events that preceded it, each keeping the
// SequenceNumber it was sent with.
func TestCallbacksDeliveredOutOfOrder(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/page", `<Response><Say>Hello</Say></Response>`)
	s := start(t, a, faketwilio.Options{})
	sid := createCall(t, faketwilio.RESTClient(s), pageCall(a).SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"}))
	call := s.Phone(engineer).ExpectCall()
	call.HoldCallbacks()
	call.Answer()
	a.expectHit(t, "/page", nil) // the TwiML is fetched; no status callback yet
	call.Hangup()
	a.expectNoHit(t)
	if got, want := call.HeldCallbacks(), []string{"initiated", "ringing", "answered", "completed"}; !slices.Equal(got, want) {
		t.Fatalf("HeldCallbacks() = %q, want %q", got, want)
	}
	call.ReleaseCallbacks("completed")
	for _, want := range []struct{ status, seq string }{{"completed", "3"}, {"initiated", "0"}, {"ringing", "1"}, {"in-progress", "2"}} {
		a.expectHit(t, "/status", map[string]string{"CallSid": sid, "CallStatus": want.status, "SequenceNumber": want.seq})
	}
	a.expectNoHit(t)
}

// A leg's completed status can arrive before its AMD verdict.
func TestStatusBeforeAMDCallback(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/screen", screening)
	s := start(t, a, faketwilio.Options{})
	sid := createCall(t, faketwilio.RESTClient(s), (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).
		SetUrl(a.URL+"/screen").SetStatusCallback(a.URL+"/status").
		SetMachineDetection("Enable").SetAsyncAmd("true").SetAsyncAmdStatusCallback(a.URL+"/amd"))
	call := s.Phone(engineer).ExpectCall()
	call.HoldCallbacks()
	call.AnswerByMachine()
	a.expectHit(t, "/screen", nil)
	call.Hangup()
	a.expectNoHit(t)
	call.ReleaseCallbacks("completed", "amd")
	a.expectHit(t, "/status", map[string]string{"CallSid": sid, "CallStatus": "completed"})
	a.expectHit(t, "/amd", map[string]string{"CallSid": sid, "AnsweredBy": "machine_start"})
	a.expectNoHit(t)
}
