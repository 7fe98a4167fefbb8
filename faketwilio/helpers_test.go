package faketwilio_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/twilio/twilio-go/client"
)

// hit is one webhook request the test app received, signature checked.
type hit struct {
	Method string
	Path   string
	Query  url.Values
	Form   url.Values
}

// app stands in for the service under test: it checks every webhook's
// X-Twilio-Signature with twilio-go's RequestValidator and answers from
// routes (path -> TwiML).
type app struct {
	t      *testing.T
	URL    string
	token  string
	hits   chan hit
	mu     sync.Mutex
	routes map[string]func(url.Values) string
}

func startApp(t *testing.T, token string) *app {
	t.Helper()
	a := &app{t: t, token: token, hits: make(chan hit, 100), routes: map[string]func(url.Values) string{}}
	srv := httptest.NewServer(a) // 127.0.0.1
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

func (a *app) route(path string, f func(url.Values) string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes[path] = f
}

func (a *app) twiml(path, doc string) {
	a.route(path, func(url.Values) string { return doc })
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.t.Errorf("app: %v", err)
	}
	full := "http://" + r.Host + r.URL.RequestURI()
	rv := client.NewRequestValidator(a.token)
	params := map[string]string{}
	if r.Method == http.MethodPost {
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
	}
	if !rv.Validate(full, params, r.Header.Get("X-Twilio-Signature")) {
		a.t.Errorf("app: bad X-Twilio-Signature on %s %s", r.Method, full)
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	form := r.PostForm
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	a.hits <- hit{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Form: form}
	a.mu.Lock()
	f := a.routes[r.URL.Path]
	a.mu.Unlock()
	if f == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(f(form)))
}

// next returns the next webhook the app received; the fake's scripted
// actions are synchronous, so it is already there.
func (a *app) next(t *testing.T) hit {
	t.Helper()
	select {
	case h := <-a.hits:
		return h
	default:
		t.Fatalf("app: no webhook received")
		return hit{}
	}
}

// await waits for a webhook the fake sends in the background.
func (a *app) await(t *testing.T) hit {
	t.Helper()
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	select {
	case h := <-a.hits:
		return h
	case <-timer.C:
		t.Fatalf("app: no webhook within 5s")
		return hit{}
	}
}

// expectHit checks the next webhook's path and parameters.
func (a *app) expectHit(t *testing.T, path string, want map[string]string) hit {
	t.Helper()
	h := a.next(t)
	if h.Path != path {
		t.Fatalf("webhook to %s, want %s (%v)", h.Path, path, h.Form)
	}
	for k, v := range want {
		if got := h.Form.Get(k); got != v {
			t.Errorf("webhook %s: %s=%q, want %q", path, k, got, v)
		}
	}
	return h
}

func (a *app) expectNoHit(t *testing.T) {
	t.Helper()
	select {
	case h := <-a.hits:
		t.Errorf("unexpected webhook %s %v", h.Path, h.Form)
	default:
	}
}

// start starts a fake whose callbacks the app can verify.
func start(t *testing.T, a *app, opts faketwilio.Options) *faketwilio.Server {
	t.Helper()
	if opts.Numbers == nil {
		opts.Numbers = testNumbers
	}
	if a != nil {
		opts.AuthToken = a.token
		if opts.SMSWebhookURL == "" {
			opts.SMSWebhookURL = a.URL + "/sms"
		}
		if opts.VoiceWebhookURL == "" {
			opts.VoiceWebhookURL = a.URL + "/voice"
		}
	}
	return faketwilio.Start(t, opts)
}

const testToken = "0123456789abcdef0123456789abcdef"

// testNumbers are the test account's Twilio numbers, the lines its tests
// call and text from: ourLine, and calls_test.go's other line.
var testNumbers = []string{ourLine, "+12025550103"}

// fakeTB records failures instead of failing, to test that fluent helpers
// report problems.
type fakeTB struct {
	mu       sync.Mutex
	errors   []string
	skips    []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	panic(fatal{})
}

func (f *fakeTB) Skip(args ...any) {
	f.mu.Lock()
	f.skips = append(f.skips, fmt.Sprint(args...))
	f.mu.Unlock()
	panic(fatal{})
}

type fatal struct{}

func (f *fakeTB) cleanup() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// fails runs fn, which is to fail tb through a fluent helper, and returns
// the failures.
func fails(tb *fakeTB, fn func()) []string {
	func() {
		defer func() {
			if r := recover(); r != nil && r != (fatal{}) {
				panic(r)
			}
		}()
		fn()
	}()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := tb.errors
	tb.errors = nil
	return out
}
