package webhooks_test

import (
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr"
)

// A person who answers with a long greeting ("Hi, this is Anna Smirnova,
// support…") is often judged a machine by Twilio's detection. The verdict
// alone no longer hangs up: the engineer hears the screening, presses 1
// and gets the caller.
func TestMachineVerdictOnAPersonLetsThemAccept(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	if doc := clara.AnswerAs(faketwilio.AnsweredByMachineStart); doc.Gather() == nil {
		t.Fatalf("the pick-up did not get the screening: %s", doc)
	}
	if st := clara.Status(); st != "in-progress" {
		t.Fatalf("after a machine verdict on a person the engineer's call is %s, want in-progress", st)
	}
	doc := clara.Press("1")
	if doc == nil || doc.First("Dial") == nil {
		t.Fatalf("the engineer's 1 after a machine verdict: %v, want the dial into the caller's queue", doc)
	}
	if st := flowState(t, e.states, call.SID()); st.Phase != ivr.PhaseConnected || st.Leg.EngineerID != 21 {
		t.Fatalf("phase %s, engineer %d; want connected to engineer 21", st.Phase, st.Leg.EngineerID)
	}
	call.Hangup()
	e.closeTwilio()
}

// A machine verdict that arrives once a whole screening went unanswered
// ends the leg at once: the next engineer is rung without the remaining
// screenings.
func TestMachineVerdictAfterAnUnansweredScreeningRingsNext(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	clara.AnswerUndetected()
	if doc := clara.Silence(); doc.Gather() == nil {
		t.Fatalf("no second screening after silence: %s", doc)
	}
	code, _ := e.post("/webhooks/twilio/legs/"+call.SID()+"-leg1/amd",
		map[string]string{"CallSid": clara.SID(), "AnsweredBy": faketwilio.AnsweredByMachineStart}, e.signer())
	if code >= 300 {
		t.Fatalf("late machine verdict answered %d", code)
	}
	dmitri := e.tw.Phone(phoneOf(22)).ExpectCall()
	e.driver.Flush(t.Context()) // the hang-up is made off the webhook path
	if st := clara.Status(); st != "completed" {
		t.Fatalf("the voicemail box's call is %s, want completed (hung up)", st)
	}
	call.Hangup()
	waitClosed(t, dmitri.Canceled(), "cancelling the ringing leg")
	e.closeTwilio()
}

// An engineer leg has a Fallback URL: when its TwiML fails at Twilio, the
// engineer hears that a technical problem interrupted the call (not
// Twilio's application-error message), and the flow, told the leg failed,
// rings the next engineer.
func TestLegFallbackTellsTheEngineerAndRingsNext(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	clara.Answer()
	fallback := clara.FallbackURL()
	want := e.srv.URL + "/webhooks/twilio/legs/" + call.SID() + "-leg1/fallback"
	if fallback != want {
		t.Fatalf("the engineer leg's FallbackUrl is %q, want %q", fallback, want)
	}
	code, body := e.post(strings.TrimPrefix(fallback, e.srv.URL), map[string]string{
		"CallSid": clara.SID(), "AccountSid": e.tw.AccountSID(), "ErrorCode": "11200",
		"ErrorUrl": e.srv.URL + "/webhooks/twilio/legs/" + call.SID() + "-leg1/screen?seq=2"}, e.signer())
	if code != 200 || !strings.Contains(body, "/screen_technical_problem.wav") || !strings.Contains(body, "<Hangup") {
		t.Fatalf("leg fallback answered %d %s; want the technical-problem prompt and a hang-up", code, body)
	}
	clara.Hangup() // as Twilio does at <Hangup/>
	dmitri := e.tw.Phone(phoneOf(22)).ExpectCall()
	if st := flowState(t, e.states, call.SID()); st.Leg.ID != call.SID()+"-leg2" {
		t.Fatalf("after the leg's fallback: leg %q, want the second leg ringing", st.Leg.ID)
	}
	call.Hangup()
	waitClosed(t, dmitri.Canceled(), "cancelling the ringing leg")
	e.closeTwilio()
}
