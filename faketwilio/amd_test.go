package faketwilio_test

import (
	"strings"
	"testing"
	"time"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/faketwilio"
)

// amdCall places a screening call with asynchronous AMD.
func amdCall(t *testing.T, a *app, s *faketwilio.Server) (string, *faketwilio.CallHandle) {
	t.Helper()
	sid := createCall(t, faketwilio.RESTClient(s), (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).
		SetUrl(a.URL+"/screen").SetMachineDetection("Enable").SetAsyncAmd("true").SetAsyncAmdStatusCallback(a.URL+"/amd"))
	return sid, s.Phone(engineer).ExpectCall()
}

const screening = `<Response><Gather numDigits="1" action="/key"><Say>Press 1 to take the call</Say></Gather></Response>`

// A verdict that comes after the Url was fetched and the screening began:
// the service hears the key first, the verdict later.
func TestAMDVerdictArrivesLate(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/screen", screening)
	a.twiml("/key", `<Response><Say>Connecting</Say></Response>`)
	clk := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	s := start(t, a, faketwilio.Options{Now: clk.Now})
	rc := faketwilio.RESTClient(s)
	sid, call := amdCall(t, a, s)
	if doc := call.AnswerAMDLate(faketwilio.AnsweredByHuman); doc.Gather() == nil {
		t.Fatalf("the screening did not start before the verdict: %s", doc)
	}
	a.expectHit(t, "/screen", map[string]string{"AnsweredBy": ""})
	a.expectNoHit(t) // no verdict yet
	if got, err := rc.Api.FetchCall(sid, nil); err != nil || got.AnsweredBy != nil {
		t.Fatalf("FetchCall before the verdict: %v, answered_by %v; want none", err, got.AnsweredBy)
	}
	clk.Add(4 * time.Second)
	call.Press("1")
	a.expectHit(t, "/key", map[string]string{"Digits": "1"})
	call.SendAMD()
	a.expectHit(t, "/amd", map[string]string{"CallSid": sid, "AnsweredBy": "human", "MachineDetectionDuration": "4000"})
	if got, err := rc.Api.FetchCall(sid, nil); err != nil || got.AnsweredBy == nil || *got.AnsweredBy != "human" {
		t.Fatalf("FetchCall after the verdict: %v %+v", err, got)
	}
	call.Hangup()
}

// Detection giving up (unknown), and a person taken for a machine who
// then presses a key, both delivered late or at once.
func TestAMDUnknownAndFalseMachine(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/screen", screening)
	a.twiml("/key", `<Response><Say>Connecting</Say></Response>`)
	s := start(t, a, faketwilio.Options{})

	sid, call := amdCall(t, a, s)
	call.AnswerPersonAsMachine()
	a.expectHit(t, "/screen", nil)
	a.expectHit(t, "/amd", map[string]string{"CallSid": sid, "AnsweredBy": "machine_start"})
	call.Press("1") // a person after all
	a.expectHit(t, "/key", map[string]string{"Digits": "1"})
	call.Hangup()

	sid, call = amdCall(t, a, s)
	call.AnswerAMDLate(faketwilio.AnsweredByMachineStart)
	a.expectHit(t, "/screen", nil)
	call.Press("1")
	a.expectHit(t, "/key", nil)
	call.SendAMD()
	a.expectHit(t, "/amd", map[string]string{"CallSid": sid, "AnsweredBy": "machine_start"})
	call.Hangup()

	sid, call = amdCall(t, a, s)
	call.AnswerAMDLate(faketwilio.AnsweredByUnknown)
	a.expectHit(t, "/screen", nil)
	call.Silence()
	call.Hangup()
	call.SendAMD() // after the hang-up: callbacks are separate requests
	a.expectHit(t, "/amd", map[string]string{"CallSid": sid, "AnsweredBy": "unknown"})
}

// A late verdict needs AsyncAmd: synchronous detection finishes before the
// Url is fetched.
func TestAMDLateNeedsAsyncAmd(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	a := startApp(t, testToken)
	tb := &fakeTB{}
	s := faketwilio.Start(tb, faketwilio.Options{AuthToken: testToken, Numbers: testNumbers})
	defer tb.cleanup()
	createCall(t, faketwilio.RESTClient(s), (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).
		SetUrl(a.URL+"/screen").SetMachineDetection("Enable"))
	call := s.Phone(engineer).ExpectCall()
	got := fails(tb, func() { call.AnswerAMDLate(faketwilio.AnsweredByHuman) })
	if len(got) != 1 || !strings.Contains(got[0], "AsyncAmd") {
		t.Fatalf("AnswerAMDLate without AsyncAmd: failures %q, want one naming AsyncAmd", got)
	}
	call.Fail()
}
