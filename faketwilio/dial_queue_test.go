package faketwilio_test

import (
	"testing"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/faketwilio"
)

// queueRig has a caller's queue q-wait made and left empty (the caller
// hung up), and an engineer's call answered into agentDoc.
func queueRig(t *testing.T, agentDoc string) (*app, *faketwilio.Server, *faketwilio.CallHandle) {
	t.Helper()
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Enqueue action="/left" waitUrl="/wait">q-wait</Enqueue></Response>`)
	a.twiml("/wait", `<Response><Say>Please hold</Say></Response>`)
	a.twiml("/left", `<Response/>`)
	a.twiml("/agent", agentDoc)
	a.twiml("/connect", `<Response><Say>Connecting you</Say></Response>`)
	a.twiml("/dialed", `<Response><Say>Nobody is waiting</Say></Response>`)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	first := s.Phone("+12025550198").Dial("")
	first.Answer()
	a.expectHit(t, "/voice", nil)
	a.expectHit(t, "/wait", nil)
	first.Hangup()
	a.expectHit(t, "/left", map[string]string{"QueueResult": "hangup"})

	createCall(t, faketwilio.RESTClient(s), (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/agent"))
	agent := s.Phone(engineer).ExpectCall()
	agent.Answer()
	a.expectHit(t, "/agent", nil)
	return a, s, agent
}

const agentDial = `<Response><Dial action="/dialed" timeout="20"><Queue url="/connect">q-wait</Queue></Dial></Response>`

// Twilio: "If the queue is empty, Dial will wait until the next person
// joins the queue or until the <Dial> timeout duration is reached."
func TestDialQueueWaitsForAMemberUntilItsTimeout(t *testing.T) {
	a, _, agent := queueRig(t, agentDial)
	a.expectNoHit(t) // no <Dial> action: the engineer waits
	if waiting, timeout := agent.DialingQueue(); !waiting || timeout != 20 {
		t.Fatalf("DialingQueue() = %v, %d; want the engineer waiting, with the <Dial>'s 20 s timeout", waiting, timeout)
	}
	doc := agent.DialTimesOut()
	a.expectHit(t, "/dialed", map[string]string{"DialCallStatus": "no-answer", "CallSid": agent.SID()})
	if got := doc.Says(); len(got) != 1 || got[0] != "Nobody is waiting" {
		t.Errorf("after the timeout the engineer hears %q, want the <Dial> action's answer", got)
	}
	if waiting, _ := agent.DialingQueue(); waiting {
		t.Error("still waiting in the <Dial><Queue> after its timeout")
	}
	agent.Hangup()
}

// A caller entering the queue a waiting <Dial><Queue> dials is bridged at
// once: it hears the <Queue url>, no wait TwiML.
func TestDialQueueTakesTheNextCallerToEnter(t *testing.T) {
	a, s, agent := queueRig(t, agentDial)
	caller := s.Phone(customerPhone).Dial("")
	caller.Answer()
	a.expectHit(t, "/voice", nil)
	a.expectHit(t, "/connect", map[string]string{"CallSid": caller.SID(), "DequeingCallSid": agent.SID()})
	a.expectNoHit(t) // neither wait TwiML nor the <Dial> action
	if !caller.ConnectedTo(agent) || caller.Queued() {
		t.Fatal("the caller entering the queue is not bridged with the waiting engineer")
	}
	if waiting, _ := agent.DialingQueue(); waiting {
		t.Error("the engineer still waits for a member once bridged")
	}
	agent.Hangup()
	a.expectHit(t, "/left", map[string]string{"QueueResult": "bridged", "CallSid": caller.SID()})
	caller.Hangup()
}

// "If the queue does not exist, Dial will post an error status to its
// action URL."
func TestDialQueueThatDoesNotExistFails(t *testing.T) {
	a, _, agent := queueRig(t, `<Response><Dial action="/dialed"><Queue>q-none</Queue></Dial></Response>`)
	a.expectHit(t, "/dialed", map[string]string{"DialCallStatus": "failed"})
	agent.Hangup()
}

// The caller hangs up while bridged: the engineer's <Dial> ends, and a
// document with nothing after it (or a <Hangup/>) ends the engineer's
// call, completed, with its status callback, as Twilio ends a call whose
// document is over.
func TestDialQueueDiallerEndsWhenTheCallerHangsUp(t *testing.T) {
	a, s, agent := queueRig(t, `<Response><Dial timeout="20"><Queue url="/connect">q-wait</Queue></Dial><Hangup/></Response>`)
	caller := s.Phone(customerPhone).Dial("")
	caller.Answer()
	a.expectHit(t, "/voice", nil)
	a.expectHit(t, "/connect", nil)
	if !caller.ConnectedTo(agent) {
		t.Fatal("not bridged")
	}
	caller.Hangup()
	if st := agent.Status(); st != "completed" {
		t.Fatalf("the engineer's call is %s after the caller hung up; want completed", st)
	}
}
