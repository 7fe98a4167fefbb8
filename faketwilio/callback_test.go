package faketwilio_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

func TestSignatureAcceptedByTwilioGo(t *testing.T) {
	rv := client.NewRequestValidator(testToken)
	post := url.Values{"CallSid": {"CA1"}, "Digits": {"1234"}, "From": {"+12025550101"}, "To": {"+12025550100"}, "Body": {"a b&c=d"}}
	target := "http://127.0.0.1:8080/voice/gather?step=2"
	sig := faketwilio.Signature(testToken, target, post)
	if !rv.ValidateBody(target, []byte(post.Encode()), sig) {
		t.Fatal("twilio-go rejects the POST signature")
	}
	if rv.ValidateBody(target, []byte(post.Encode()), faketwilio.Signature("other", target, post)) {
		t.Fatal("twilio-go accepts a signature made with another token")
	}
	get := target + "&" + post.Encode()
	if !rv.Validate(get, map[string]string{}, faketwilio.Signature(testToken, get, nil)) {
		t.Fatal("twilio-go rejects the GET signature")
	}
	// The test vector of twilio-go's own request_validator_test.go.
	vector := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"}, "Caller": {"+14158675309"},
		"From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"}}
	if got := faketwilio.Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", vector); got != "vOEb5UThFn24KEfnOFLQY2AE5FY=" {
		t.Fatalf("twilio-go's test vector signs as %s", got)
	}
}

func TestStatusCallbackGET(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{})
	p := newCall().SetStatusCallback(a.URL + "/status?page=7").SetStatusCallbackMethod("GET")
	if _, err := faketwilio.RESTClient(s).Api.CreateCall(p); err != nil {
		t.Fatal(err)
	}
	s.Phone(engineer).ExpectCall().Busy()
	h := a.expectHit(t, "/status", map[string]string{"CallStatus": "busy", "page": "7"})
	if h.Method != "GET" {
		t.Fatalf("method %s", h.Method)
	}
}

func TestCallbacksOnlyToLoopback(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	for _, target := range []string{"http://192.0.2.1/voice", "http://example.com/voice", "http://10.0.0.1:8080/voice", "http://[::ffff:192.0.2.1]/voice"} {
		t.Run(target, func(t *testing.T) {
			tb := &fakeTB{}
			s := faketwilio.Start(tb, faketwilio.Options{Numbers: testNumbers})
			defer tb.cleanup()
			_, err := faketwilio.RESTClient(s).Api.CreateCall((&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(target))
			if err != nil {
				t.Fatal(err)
			}
			func() {
				defer func() {
					if r := recover(); r != nil && r != (fatal{}) {
						panic(r)
					}
				}()
				s.Phone(engineer).ExpectCall().Answer()
			}()
			if len(tb.errors) != 1 || !strings.Contains(tb.errors[0], "loopback") {
				t.Fatalf("errors %q", tb.errors)
			}
		})
	}
}

func TestRedirectAwayFromLoopbackRefused(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	for name, client := range map[string]*http.Client{"DefaultClient": nil, "CustomClient": {Timeout: time.Second}} {
		t.Run(name, func(t *testing.T) {
			away := httptest.NewServer(http.RedirectHandler("http://192.0.2.1/voice", http.StatusFound))
			defer away.Close()
			tb := &fakeTB{}
			s := faketwilio.Start(tb, faketwilio.Options{HTTPClient: client, Numbers: testNumbers})
			defer tb.cleanup()
			if _, err := faketwilio.RESTClient(s).Api.CreateCall(newCall().SetTwiml("").SetUrl(away.URL + "/voice")); err != nil {
				t.Fatal(err)
			}
			func() {
				defer func() { _ = recover() }()
				s.Phone(engineer).ExpectCall().Answer()
			}()
			if len(tb.errors) != 1 || !strings.Contains(tb.errors[0], "loopback") {
				t.Fatalf("errors %q", tb.errors)
			}
		})
	}
}

func TestServeLoopbackOnly(t *testing.T) {
	faketwilio.SkipWithoutSpec(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:80"} {
		if err := faketwilio.Serve(ctx, addr, faketwilio.Options{}); err == nil {
			t.Errorf("Serve(%q) succeeded", addr)
		}
	}
	s, err := faketwilio.New(faketwilio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ServeListener(ctx, publicListener{}); err == nil {
		t.Error("ServeListener on a public address succeeded")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/2010-04-01/Accounts/" + s.AccountSID() + "/Calls.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || s.URL() != "http://"+ln.Addr().String() {
		t.Errorf("unauthenticated request: %d; URL %s", resp.StatusCode, s.URL())
	}
	if u := s.TakeUnexpected(); len(u) != 1 {
		t.Errorf("unexpected %q", u)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestUnexpectedFailsAtCleanup(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	tb := &fakeTB{}
	s := faketwilio.Start(tb, faketwilio.Options{Numbers: testNumbers})
	rc := faketwilio.RESTClient(s)
	if _, err := rc.Api.CreateCall(newCall()); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Api.CreateMessage((&api.CreateMessageParams{}).SetTo(engineer).SetFrom(ourLine).SetBody("surprise")); err != nil {
		t.Fatal(err)
	}
	if err := s.ExpectNoMore(); err == nil {
		t.Fatal("ExpectNoMore found nothing")
	}
	tb.cleanup()
	if len(tb.errors) != 1 || !strings.Contains(tb.errors[0], "unexpected call") || !strings.Contains(tb.errors[0], "unexpected SMS") {
		t.Fatalf("cleanup errors %q", tb.errors)
	}
}

func TestExpectCallTimesOut(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	tb := &fakeTB{}
	s := faketwilio.Start(tb, faketwilio.Options{ExpectTimeout: 20 * time.Millisecond})
	defer tb.cleanup()
	func() {
		defer func() { _ = recover() }()
		s.Phone(engineer).ExpectCall()
	}()
	if len(tb.errors) != 1 || !strings.Contains(tb.errors[0], "no call to "+engineer) {
		t.Fatalf("errors %q", tb.errors)
	}
}

// publicListener claims a public address; it is never listened on.
type publicListener struct{}

func (publicListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (publicListener) Close() error              { return nil }
func (publicListener) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 80} }
