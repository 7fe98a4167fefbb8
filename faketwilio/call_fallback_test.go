package faketwilio_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/faketwilio"
)

// fallbackCall places an outbound call to url with FallbackUrl /fb and
// answers it.
func fallbackCall(t *testing.T, a *app, s *faketwilio.Server, target string) *faketwilio.CallHandle {
	t.Helper()
	createCall(t, faketwilio.RESTClient(s), (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).
		SetUrl(target).SetFallbackUrl(a.URL+"/fb"))
	call := s.Phone(engineer).ExpectCall()
	call.Answer()
	return call
}

// takeOne checks that exactly one failure was recorded, naming code.
func takeOne(t *testing.T, s *faketwilio.Server, code string) {
	t.Helper()
	u := s.TakeUnexpected()
	if len(u) != 1 || !strings.Contains(u[0], "("+code+")") {
		t.Errorf("recorded failures %q, want one with code %s", u, code)
	}
}

const fallbackDoc = `<Response><Say>Technical difficulties</Say><Hangup/></Response>`

// A 5xx from the call's Url: Twilio requests the FallbackUrl of
// Calls.create with ErrorCode 11200 and ErrorUrl, and runs its TwiML.
func TestFallbackAfterServerError(t *testing.T) {
	a := startApp(t, testToken)
	a.route("/fb", func(url.Values) string { return fallbackDoc })
	s := start(t, a, faketwilio.Options{})
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "store down", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	call := fallbackCall(t, a, s, broken.URL+"/voice")
	a.expectHit(t, "/fb", map[string]string{"ErrorCode": "11200", "ErrorUrl": broken.URL + "/voice", "CallSid": call.SID()})
	if doc := call.TwiML(); !doc.HangsUp() || doc.Says()[0] != "Technical difficulties" {
		t.Fatalf("the call executes %s, want the Fallback URL's TwiML", doc)
	}
	takeOne(t, s, "11200")
	call.Hangup()
}

// An answer that is no TwiML, here to a <Gather> action: 12100, with the
// action's parameters.
func TestFallbackAfterInvalidTwiML(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Gather numDigits="1" action="/g"/></Response>`)
	a.twiml("/g", `<Response><Say>unclosed`)
	a.twiml("/fb", fallbackDoc)
	s := start(t, a, faketwilio.Options{})
	call := fallbackCall(t, a, s, a.URL+"/voice")
	a.expectHit(t, "/voice", nil)
	call.Press("1")
	a.expectHit(t, "/g", nil)
	a.expectHit(t, "/fb", map[string]string{"ErrorCode": "12100", "ErrorUrl": a.URL + "/g", "Digits": "1"})
	takeOne(t, s, "12100")
	call.Hangup()
}

// No connection (nothing listens) and no answer within the webhook
// timeout (15 s at Twilio, shortened here) are both 11205.
func TestFallbackAfterConnectionFailureAndTimeout(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/fb", fallbackDoc)
	s := start(t, a, faketwilio.Options{WebhookTimeout: 300 * time.Millisecond})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/voice"
	l.Close()
	call := fallbackCall(t, a, s, closed)
	a.expectHit(t, "/fb", map[string]string{"ErrorCode": "11205", "ErrorUrl": closed})
	takeOne(t, s, "11205")
	call.Hangup()

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // answers only once the fake gave up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	call = fallbackCall(t, a, s, slow.URL+"/voice")
	a.expectHit(t, "/fb", map[string]string{"ErrorCode": "11205", "ErrorUrl": slow.URL + "/voice"})
	takeOne(t, s, "11205")
	call.Hangup()
}

// Inbound calls use the number's VoiceFallbackUrl, which the number's
// resource shows.
func TestInboundFallbackIsTheNumbersVoiceFallbackURL(t *testing.T) {
	a := startApp(t, testToken)
	a.route("/voice", func(url.Values) string { return "not TwiML" })
	a.twiml("/fb", fallbackDoc)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine, VoiceFallbackURL: a.URL + "/fb"})
	nums, err := faketwilio.RESTClient(s).Api.ListIncomingPhoneNumber(&api.ListIncomingPhoneNumberParams{})
	if err != nil || len(nums) == 0 || nums[0].VoiceFallbackUrl == nil || *nums[0].VoiceFallbackUrl != a.URL+"/fb" {
		t.Fatalf("IncomingPhoneNumbers: %v %+v, want voice_fallback_url %s", err, nums, a.URL+"/fb")
	}
	in := s.Phone(customerPhone).Dial("")
	in.Answer()
	a.expectHit(t, "/voice", nil)
	a.expectHit(t, "/fb", map[string]string{"ErrorCode": "12100", "ErrorUrl": a.URL + "/voice", "Direction": "inbound"})
	if !in.TwiML().HangsUp() {
		t.Fatalf("the caller hears %s, want the fallback's TwiML", in.TwiML())
	}
	takeOne(t, s, "12100")
	in.Hangup()
}
