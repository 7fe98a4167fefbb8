package faketwilio_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

const customerPhone = "+12025550199"

// callBackDoc is what an engineer's call answers with to call a customer
// back from our line: the customer sees ourLine; the leg reports answered
// and completed.
const callBackDoc = `<Response><Dial callerId="` + ourLine + `" action="/dialed" timeout="30">` +
	`<Number statusCallback="/leg" statusCallbackEvent="answered completed">` + customerPhone + `</Number></Dial></Response>`

// dialClient has the engineer's call, placed through the API, dial the
// customer; it returns the engineer's call and the customer's ringing leg.
func dialClient(t *testing.T, a *app, s *faketwilio.Server) (eng, leg *faketwilio.CallHandle) {
	t.Helper()
	a.twiml("/eng", callBackDoc)
	createCall(t, faketwilio.RESTClient(s), (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/eng"))
	eng = s.Phone(engineer).ExpectCall()
	if doc := eng.Answer(); doc.First("Dial") == nil {
		t.Fatalf("engineer's TwiML %s", doc)
	}
	a.expectHit(t, "/eng", nil)
	leg = s.Phone(customerPhone).ExpectCall()
	if leg.From() != ourLine || leg.To() != customerPhone {
		t.Fatalf("leg from %s to %s, want from our line %s to %s", leg.From(), leg.To(), ourLine, customerPhone)
	}
	if leg.ConnectedTo(eng) {
		t.Fatal("connected before the customer picked up")
	}
	return eng, leg
}

// A <Number> without url: the customer picks up and is bridged at once;
// when they hang up the leg reports completed and the <Dial> action gets
// DialCallStatus completed.
func TestDialNumberBridges(t *testing.T) {
	a := startApp(t, testToken)
	clk := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	s := start(t, a, faketwilio.Options{Now: clk.Now})
	eng, leg := dialClient(t, a, s)

	if doc := leg.Answer(); doc != nil {
		t.Errorf("a leg without url fetched TwiML: %s", doc)
	}
	a.expectHit(t, "/leg", map[string]string{"CallStatus": "in-progress", "CallSid": leg.SID(), "ParentCallSid": eng.SID(),
		"Direction": "outbound-dial", "From": ourLine, "To": customerPhone})
	if !leg.ConnectedTo(eng) || !eng.ConnectedTo(leg) {
		t.Fatal("the customer and the engineer are not talking")
	}
	a.twiml("/dialed", `<Response><Say>The call has ended</Say><Hangup/></Response>`)
	clk.Add(95 * time.Second)
	leg.Hangup()
	a.expectHit(t, "/leg", map[string]string{"CallStatus": "completed", "CallDuration": "95"})
	a.expectHit(t, "/dialed", map[string]string{"CallSid": eng.SID(), "DialCallStatus": "completed", "DialCallSid": leg.SID(),
		"DialCallDuration": "95"})
	if leg.ConnectedTo(eng) || !eng.TwiML().HangsUp() {
		t.Fatalf("after the customer hung up: connected %v, engineer's TwiML %s", leg.ConnectedTo(eng), eng.TwiML())
	}
	eng.Hangup()
	a.expectNoHit(t)
}

// The engineer hangs up while talking: the customer's leg ends with them and
// reports completed; the <Dial> action is not requested for a call that
// is over.
func TestDialNumberCallerHangsUpFirst(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{})
	eng, leg := dialClient(t, a, s)
	leg.Answer()
	a.expectHit(t, "/leg", map[string]string{"CallStatus": "in-progress"})
	eng.Hangup()
	a.expectHit(t, "/leg", map[string]string{"CallStatus": "completed", "CallSid": leg.SID()})
	a.expectNoHit(t)
	if st := leg.Status(); st != "completed" {
		t.Errorf("customer's leg is %s, want completed", st)
	}
}

// The engineer hangs up while the customer's phone still rings: the leg is
// canceled.
func TestDialNumberCanceledWhileRinging(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{})
	eng, leg := dialClient(t, a, s)
	leg.Ring()
	eng.Hangup()
	a.expectHit(t, "/leg", map[string]string{"CallStatus": "canceled", "CallSid": leg.SID()})
	if st := leg.Status(); st != "canceled" {
		t.Errorf("customer's leg is %s, want canceled", st)
	}
}

// A <Number url> plays its TwiML to the one who picks up first: they are
// bridged only once it has played out.
func TestDialNumberWhisperThenBridge(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Dial action="/dialed"><Number url="/whisper">`+engineer+`</Number></Dial></Response>`)
	a.twiml("/whisper", `<Response><Gather numDigits="1" action="/screen"><Say>Press 1</Say></Gather></Response>`)
	a.twiml("/screen", `<Response><Say>Connecting</Say></Response>`)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	in := s.Phone(customerPhone).Dial("")
	in.Answer()
	a.expectHit(t, "/voice", nil)
	leg := s.Phone(engineer).ExpectCall()
	leg.Answer()
	a.expectHit(t, "/whisper", nil)
	if leg.ConnectedTo(in) {
		t.Fatal("bridged while the whisper still waits for a key")
	}
	leg.Press("1")
	a.expectHit(t, "/screen", nil)
	if !leg.ConnectedTo(in) || !in.ConnectedTo(leg) {
		t.Fatal("not bridged after the whisper played out")
	}
	if leg.ConnectedTo(nil) {
		t.Error("connected to nothing")
	}
	in.Hangup()
	a.expectNoHit(t) // the leg subscribed to nothing; the <Dial> of a call that is over has no action
	if st := leg.Status(); st != "completed" {
		t.Errorf("engineer's leg is %s after the caller hung up, want completed", st)
	}
}
