package faketwilio_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// TestRequestsRecordsWhatTheServiceAsked: Requests lists the calls and
// texts created through the REST API, in the order they were accepted,
// with what a crash test needs to tell one request from another; what the
// service did not ask for (inbound texts, TwiML replies) and what the fake
// refused are not in it.
func TestRequestsRecordsWhatTheServiceAsked(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/sms", `<Response><Message>got it</Message></Response>`)
	clk := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	s := start(t, a, faketwilio.Options{Now: clk.Now, ServiceNumber: ourLine})
	rc := faketwilio.RESTClient(s)
	const refused = "+12025550199"
	s.Phone(refused).Invalid()

	if got := s.Requests(); len(got) != 0 {
		t.Fatalf("Requests() before anything = %+v, want none", got)
	}
	first := sendSMS(t, s, page(a))
	clk.Add(time.Second)
	call := createCall(t, rc, pageCall(a))
	// Same instant as the call before it: the order of acceptance holds.
	second := createCall(t, rc, pageCall(a).SetStatusCallback(a.URL+"/second"))
	if _, err := rc.Api.CreateMessage((&api.CreateMessageParams{}).SetTo(refused).SetFrom(ourLine).SetBody("x")); err == nil {
		t.Fatal("a text to a number marked invalid was accepted")
	}
	a.await(t) // the first text's "sent"
	s.Phone(engineer).ExpectSMS("ticket 42").ThenReply("ack")
	s.Phone(engineer).ExpectSMS("got it")
	s.Phone(engineer).ExpectCall()
	s.Phone(engineer).ExpectCall()

	got := s.Requests()
	want := []faketwilio.Request{
		{Kind: faketwilio.RequestMessage, SID: *first.Sid, To: engineer, From: ourLine, Body: "Ticket 42: page",
			StatusCallback: a.URL + "/sms-status", Created: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)},
		{Kind: faketwilio.RequestCall, SID: call, To: engineer, From: ourLine, URL: a.URL + "/page",
			StatusCallback: a.URL + "/status", Created: time.Date(2026, 5, 4, 10, 0, 1, 0, time.UTC)},
		{Kind: faketwilio.RequestCall, SID: second, To: engineer, From: ourLine, URL: a.URL + "/page",
			StatusCallback: a.URL + "/second", Created: time.Date(2026, 5, 4, 10, 0, 1, 0, time.UTC)},
	}
	if len(got) != len(want) {
		t.Fatalf("Requests() = %+v, want %d requests", got, len(want))
	}
	for i := range want {
		if !got[i].Created.Equal(want[i].Created) {
			t.Errorf("request %d created %v, want %v", i, got[i].Created, want[i].Created)
		}
		got[i].Created = want[i].Created
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
