package faketwilio_test

import (
	"testing"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/faketwilio"
)

// A caller the service redirects through the REST API while it waits in a
// queue leaves the queue as Twilio documents: the <Enqueue> action gets
// QueueResult redirected (its answer is not executed), then the new Url is
// fetched.
func TestRedirectOutOfQueuePostsRedirected(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Enqueue action="/left" waitUrl="/wait">q-redirect</Enqueue></Response>`)
	a.twiml("/wait", `<Response><Say>Please hold</Say></Response>`)
	a.twiml("/left", `<Response><Say>Not to be played</Say></Response>`)
	a.twiml("/voicemail", `<Response><Record action="/recorded"/></Response>`)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	rc := faketwilio.RESTClient(s).Api
	in := s.Phone(customerPhone).Dial("")
	in.Answer()
	a.expectHit(t, "/voice", nil)
	wait := a.expectHit(t, "/wait", nil)

	if _, err := rc.UpdateCall(in.SID(), (&api.UpdateCallParams{}).SetUrl(a.URL+"/voicemail")); err != nil {
		t.Fatalf("UpdateCall: %v", err)
	}
	left := a.await(t)
	if left.Path != "/left" || left.Form.Get("QueueResult") != "redirected" || left.Form.Get("QueueSid") != wait.Form.Get("QueueSid") {
		t.Fatalf("first request after the redirect: %s %v, want /left with QueueResult redirected and the queue's QueueSid", left.Path, left.Form)
	}
	if h := a.await(t); h.Path != "/voicemail" {
		t.Fatalf("after the <Enqueue> action: %s, want the new Url /voicemail", h.Path)
	}
	if doc := in.WaitRedirect(); !doc.Has("Record") {
		t.Fatalf("redirected call executes %s, want the voicemail's <Record>", doc)
	}
	if in.Queued() {
		t.Fatal("the redirected call is still in the queue")
	}
	in.Hangup()
}
