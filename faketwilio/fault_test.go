package faketwilio_test

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

func newCall() *api.CreateCallParams {
	return (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetTwiml("<Response><Say>Page</Say></Response>")
}

func TestInjectedStatuses(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	for _, status := range []int{500, 503, 429} {
		s.Inject(faketwilio.Fault{Endpoint: "Calls.create", Status: status, Times: 2})
		for range 2 {
			_, err := rc.Api.CreateCall(newCall())
			var te *client.TwilioRestError
			if !errors.As(err, &te) || te.Status != status || te.Code != 20000+status {
				t.Fatalf("with fault %d: %v", status, err)
			}
		}
		if _, err := rc.Api.CreateCall(newCall()); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
		s.Phone(engineer).ExpectCall()
	}
	// Faults on other endpoints leave calls alone.
	s.Inject(faketwilio.Fault{Endpoint: "Messages.create", Status: 500})
	if _, err := rc.Api.CreateCall(newCall()); err != nil {
		t.Fatal(err)
	}
	s.Phone(engineer).ExpectCall()
	_, err := rc.Api.CreateMessage((&api.CreateMessageParams{}).SetTo(engineer).SetFrom(ourLine).SetBody("x"))
	if err == nil {
		t.Fatal("Messages.create fault not applied")
	}
}

func TestTooManyRequestsHasRetryAfter(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	s.Inject(faketwilio.Fault{Endpoint: "CreateCall", Status: 429, RetryAfter: 3 * time.Second})
	status, h, body := rawRequest(t, s, "POST", callsPath(s), url.Values{"To": {engineer}, "From": {ourLine}, "Twiml": {"<Response/>"}}, s.AccountSID(), s.AuthToken())
	if status != 429 || h.Get("Retry-After") != "3" || body["code"] != float64(20429) {
		t.Fatalf("got %d Retry-After=%q %v", status, h.Get("Retry-After"), body)
	}
}

func TestDelayRespectsClientTimeout(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	rc, _ := faketwilio.RESTClientWith(s, 200*time.Millisecond)
	s.Inject(faketwilio.Fault{Endpoint: "Calls.create", Delay: time.Minute})
	t0 := time.Now()
	_, err := rc.Api.CreateCall(newCall())
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("delayed CreateCall: %v, want a timeout", err)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("timed out after %v", d)
	}
	// The fake gave up with the client: no call was created.
	if calls, err := faketwilio.RESTClient(s).Api.ListCall(&api.ListCallParams{To: ptr(engineer)}); err != nil || len(calls) != 0 {
		t.Fatalf("ListCall: %v, %d calls", err, len(calls))
	}
}

func TestShortDelayAnswers(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	s.Inject(faketwilio.Fault{Endpoint: "*", Delay: 50 * time.Millisecond})
	t0 := time.Now()
	if _, err := faketwilio.RESTClient(s).Api.CreateCall(newCall()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 50*time.Millisecond {
		t.Fatalf("answered after %v, before the delay", d)
	}
	s.Phone(engineer).ExpectCall()
}

// An attempt in doubt: the call was placed but the client never learned its
// SID. The pager must find it by listing before it calls again.
func TestCommittedFaultLeavesAttemptInDoubt(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	rc, _ := faketwilio.RESTClientWith(s, 200*time.Millisecond)
	s.Inject(faketwilio.Fault{Endpoint: "Calls.create", Delay: time.Minute, Committed: true})
	if _, err := rc.Api.CreateCall(newCall()); err == nil {
		t.Fatal("CreateCall succeeded despite the fault")
	}
	s.Inject(faketwilio.Fault{Endpoint: "Messages.create", Status: 503, Committed: true})
	if _, err := rc.Api.CreateMessage((&api.CreateMessageParams{}).SetTo(engineer).SetFrom(ourLine).SetBody("page")); err == nil {
		t.Fatal("CreateMessage succeeded despite the fault")
	}
	calls, err := faketwilio.RESTClient(s).Api.ListCall(&api.ListCallParams{To: ptr(engineer), From: ptr(ourLine)})
	if err != nil || len(calls) != 1 || calls[0].DateCreated == nil || *calls[0].Status != "queued" {
		t.Fatalf("ListCall: %v, %d calls", err, len(calls))
	}
	if call := s.Phone(engineer).ExpectCall(); call.SID() != *calls[0].Sid {
		t.Fatalf("listed %s, rang %s", *calls[0].Sid, call.SID())
	}
	s.Phone(engineer).ExpectSMS("page")
}

func TestInvalidFaultFailsTest(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	tb := &fakeTB{}
	s := faketwilio.Start(tb, faketwilio.Options{})
	defer tb.cleanup()
	func() {
		defer func() { _ = recover() }()
		s.Inject(faketwilio.Fault{Endpoint: "Calls.create", Status: 200})
	}()
	if len(tb.errors) != 1 {
		t.Fatalf("errors %q", tb.errors)
	}
}

func TestTransportRefusesOtherHosts(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	c := &http.Client{Transport: s.Transport()}
	if _, err := c.Get("http://example.com/"); err == nil {
		t.Fatal("request to example.com went through")
	}
}
