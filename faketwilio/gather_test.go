package faketwilio_test

import (
	"testing"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/faketwilio"
)

// gatherCall answers a call whose TwiML at /voice is doc; /g answers with
// one <Say>.
func gatherCall(t *testing.T, doc string) (*app, *faketwilio.CallHandle) {
	t.Helper()
	a := startApp(t, testToken)
	a.twiml("/voice", doc)
	a.twiml("/g", `<Response><Say>Got it</Say></Response>`)
	s := start(t, a, faketwilio.Options{})
	createCall(t, faketwilio.RESTClient(s), (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/voice"))
	call := s.Phone(engineer).ExpectCall()
	call.Answer()
	a.expectHit(t, "/voice", nil)
	t.Cleanup(call.Hangup)
	return a, call
}

const fourDigits = `<Response><Gather numDigits="4" timeout="3" action="/g"><Say>Ticket?</Say></Gather><Say>Nothing heard</Say></Response>`

// numDigits: Twilio submits as soon as that many keys are in; keys after
// are no part of the <Gather>.
func TestGatherStopsAtNumDigits(t *testing.T) {
	a, call := gatherCall(t, fourDigits)
	if doc := call.Press("123456#"); len(doc.Says()) != 1 || doc.Says()[0] != "Got it" {
		t.Fatalf("after Press: %s", doc)
	}
	a.expectHit(t, "/g", map[string]string{"Digits": "1234", "FinishedOnKey": ""})
	a.expectNoHit(t)
}

// Keys typed without the caller falling silent wait in the <Gather> until
// it completes: numDigits reached or finishOnKey.
func TestGatherCollectsTypedKeysUntilComplete(t *testing.T) {
	a, call := gatherCall(t, fourDigits)
	if doc := call.Type("12"); doc != nil {
		t.Fatalf("two keys of four submitted the <Gather>: %s", doc)
	}
	a.expectNoHit(t)
	call.Type("3")
	a.expectNoHit(t)
	if doc := call.Type("45"); doc == nil {
		t.Fatal("the fourth key did not submit the <Gather>")
	}
	a.expectHit(t, "/g", map[string]string{"Digits": "1234"})

	a, call = gatherCall(t, fourDigits)
	call.Type("9")
	call.Type("9#")
	a.expectHit(t, "/g", map[string]string{"Digits": "99", "FinishedOnKey": "#"})
}

// After timeout seconds of silence Twilio submits the digits entered so far.
func TestGatherTimeoutSubmitsPartialInput(t *testing.T) {
	a, call := gatherCall(t, fourDigits)
	call.Type("12")
	if doc := call.Silence(); len(doc.Says()) != 1 || doc.Says()[0] != "Got it" {
		t.Fatalf("after the timeout: %s, want the action's answer", doc)
	}
	a.expectHit(t, "/g", map[string]string{"Digits": "12", "FinishedOnKey": ""})

	// Press is keys then silence: partial input is submitted the same way.
	a, call = gatherCall(t, fourDigits)
	call.Press("7")
	a.expectHit(t, "/g", map[string]string{"Digits": "7"})
}

// With nothing entered and no actionOnEmptyResult, the timeout goes on
// with the verbs after the <Gather>.
func TestGatherTimeoutWithNothingFallsThrough(t *testing.T) {
	a, call := gatherCall(t, fourDigits)
	if doc := call.Silence(); len(doc.Says()) != 1 || doc.Says()[0] != "Nothing heard" || doc.Gather() != nil {
		t.Fatalf("after the timeout: %s", doc)
	}
	a.expectNoHit(t)
}
