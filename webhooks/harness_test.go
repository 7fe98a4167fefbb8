package webhooks_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/ivr/ivrtest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/webhooks"
)

const (
	washington = "+12025952118"
	moscow     = "+74996383867"
	client     = "+12025550123"
	critical   = "4242" // a critical ticket escalated to L2
)

// Engineers on call: L1 Anna/Boris, L2 Clara/Dmitri, L3 Elena.
var team = map[ivrtest.Rung]oncall.Engineer{
	{Level: oncall.L1, Layer: oncall.Primary}: eng(11, "Anna"), {Level: oncall.L1, Layer: oncall.Secondary}: eng(12, "Boris"),
	{Level: oncall.L2, Layer: oncall.Primary}: eng(21, "Clara"), {Level: oncall.L2, Layer: oncall.Secondary}: eng(22, "Dmitri"),
	{Level: oncall.L3, Layer: oncall.Primary}: eng(31, "Elena"),
}

func eng(id int64, name string) oncall.Engineer {
	return oncall.Engineer{ID: id, Name: name, Languages: []oncall.Language{oncall.English, oncall.Russian},
		Contacts: []oncall.ContactMethod{{Phone: phoneOf(id)}}}
}

func phoneOf(id int64) string { return fmt.Sprintf("+1555000%04d", id) }

// memStates is CallStates in memory, with the store's compare-and-swap.
type memStates struct {
	mu  sync.Mutex
	m   map[string]memState
	now func() time.Time // the env's clock
}

type memState struct {
	data     []byte
	version  int64
	updated  time.Time
	finished bool
}

func newMemStates() *memStates { return &memStates{m: map[string]memState{}, now: time.Now} }

func (s *memStates) CreateCallState(_ context.Context, id string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; ok {
		return errs.E(errs.Conflict, "", "call %s has a state", id)
	}
	s.m[id] = memState{data: append([]byte(nil), data...), version: 1, updated: s.now()}
	return nil
}

func (s *memStates) CallState(_ context.Context, id string) ([]byte, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[id]
	if !ok {
		return nil, 0, errs.E(errs.NotFound, "", "no state")
	}
	return append([]byte(nil), st.data...), st.version, nil
}

func (s *memStates) UpdateCallState(_ context.Context, id string, v int64, data []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[id]
	switch {
	case !ok:
		return 0, errs.E(errs.NotFound, "", "no state")
	case st.version != v:
		return 0, errs.E(errs.Conflict, "", "version moved")
	}
	s.m[id] = memState{data: append([]byte(nil), data...), version: v + 1, updated: s.now()}
	return v + 1, nil
}

func (s *memStates) OpenCallStates(_ context.Context, idleSince time.Time, limit int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, st := range s.m {
		if !st.finished && st.updated.Before(idleSince) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { // longest idle first, as the store
		return cmp.Or(s.m[a].updated.Compare(s.m[b].updated), strings.Compare(a, b))
	})
	return ids[:max(0, min(len(ids), limit))], nil
}

func (s *memStates) FinishCallState(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.m[id]; ok {
		st.finished = true
		s.m[id] = st
	}
	return nil
}

// flowState decodes the flow state of a call from the store.
func flowState(t testing.TB, s webhooks.CallStates, id string) ivr.State {
	t.Helper()
	data, _, err := s.CallState(context.Background(), id)
	if err != nil {
		t.Fatalf("state of %s: %v", id, err)
	}
	var e struct {
		Flow ivr.State `json:"flow"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e.Flow
}

// deps are the flow's dependencies in memory (ivrtest's: ticket critical,
// the team on call, no caller's language remembered, so each call starts
// in its line's language), recording what it was given, and the voicemail
// store.
type deps struct {
	*ivrtest.Tickets
	*ivrtest.Roster
	*ivrtest.Pages
	*ivrtest.Preferences
	*ivrtest.CallLog

	mu    sync.Mutex
	saved map[string][]byte // recording sid → audio
}

// newDeps returns the dependencies holding tickets, new tickets opened as
// 9001.
func newDeps(tickets ...ivr.Ticket) *deps {
	d := &deps{Tickets: ivrtest.NewTickets(tickets...), Roster: ivrtest.NewRoster(team),
		Pages: &ivrtest.Pages{}, Preferences: &ivrtest.Preferences{}, CallLog: &ivrtest.CallLog{}}
	d.OpenedID = "9001"
	d.SetLanguageFn = func(context.Context, string, oncall.Language) error { return nil }
	return d
}

var errStoreDown = errors.New("store unreachable")

// setStoreDown makes page requests and call records fail, as a store that
// is unreachable would, or work again.
func (d *deps) setStoreDown(down bool) {
	var err error
	if down {
		err = errStoreDown
	}
	d.Pages.Fail(err)
	d.CallLog.Fail(err)
}

func (d *deps) SaveRecording(_ context.Context, callID, sid, ct string, data []byte, secs int) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.saved == nil {
		d.saved = map[string][]byte{}
	}
	d.saved[sid] = data
	return "https://ivr.example/api/v1/recordings/" + sid, nil
}

// snapshot returns the pages raised and the call records saved.
func (d *deps) snapshot() ([]ivr.PageRequest, []ivr.CallRecord) {
	return d.Pages.Pages(), d.Records()
}

// clock is the test's time (ivrtest's), moved by hand; Add is Advance.
type clock struct{ *ivrtest.Clock }

func newClock() clock { return clock{ivrtest.NewClock(time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC))} }

func (c clock) Add(d time.Duration) { c.Advance(d) }

// env is the driver served on loopback, with a fake Twilio.
type env struct {
	t      testing.TB
	tw     *faketwilio.Server
	srv    *httptest.Server
	states webhooks.CallStates
	deps   *deps
	clock  clock
	driver *webhooks.Driver
	router *mux.Router
}

func newEnv(t testing.TB) *env { return newEnvWith(t, newMemStates()) }

// newEnvWith is newEnv over the given store.
func newEnvWith(t testing.TB, states webhooks.CallStates) *env {
	t.Helper()
	e := &env{t: t, states: states, clock: newClock(),
		deps: newDeps(ivr.Ticket{ID: critical, Priority: oncall.Critical, Level: oncall.L2})}
	if m, ok := states.(*memStates); ok {
		m.now = e.clock.Now
	}
	e.router = mux.NewRouter()
	e.srv = httptest.NewServer(e.router)
	t.Cleanup(e.srv.Close)
	e.tw = faketwilio.Start(t, faketwilio.Options{
		VoiceWebhookURL:        e.srv.URL + "/webhooks/twilio/voice",
		VoiceStatusCallbackURL: e.srv.URL + "/webhooks/twilio/voice/status",
		ServiceNumber:          washington,
		Now:                    e.clock.Now,
	})
	e.driver = e.newDriver(e.router, e.tw.AuthToken())
	return e
}

// closeTwilio stops the fake Twilio once the driver's queued changes at
// Twilio are made (Close waits for them), so that none reaches a stopped
// fake.
func (e *env) closeTwilio() {
	e.driver.Close()
	e.tw.Close()
}

// newDriver returns a driver (an "instance") on r over the env's store.
func (e *env) newDriver(r *mux.Router, token string) *webhooks.Driver {
	e.t.Helper()
	flow, err := ivr.New(ivr.DefaultConfig(), ivr.Deps{Tickets: e.deps, Roster: e.deps, Pages: e.deps,
		Preferences: e.deps, Calls: e.deps})
	if err != nil {
		e.t.Fatal(err)
	}
	rest, err := webhooks.NewREST(webhooks.Settings{APIURL: e.tw.URL(), AccountSID: e.tw.AccountSID(), AuthToken: e.tw.AuthToken()})
	if err != nil {
		e.t.Fatal(err)
	}
	d, err := webhooks.New(webhooks.Config{
		PublicURL: e.srv.URL, AuthToken: token, AccountSID: e.tw.AccountSID(),
		Flow: flow, States: e.states, Recordings: e.deps, Pages: e.deps, REST: rest,
		Log: logger(e.t), Now: e.clock.Now,
		AfterFunc: func(time.Duration, func()) func() bool { return func() bool { return true } },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(d.Close) // its queued changes at Twilio are made before the fake stops
	d.Register(r)
	return d
}

func logger(tb testing.TB) *zap.Logger {
	if t, ok := tb.(*testing.T); ok {
		return zaptest.NewLogger(t)
	}
	return zap.NewNop()
}

// hasPlay reports whether doc plays prompt name (in any language).
func hasPlay(doc *faketwilio.TwiML, name string) bool {
	for _, p := range doc.Plays() {
		if strings.Contains(p, "/"+name+".wav") {
			return true
		}
	}
	return false
}

// waitClosed fails the test if ch is not closed soon; the fake sends
// callbacks after API updates in the background.
func waitClosed(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

// post sends a signed webhook request as Twilio would and returns the
// status and body.
func (e *env) post(path string, form map[string]string, sign func(url string, p map[string][]string) string) (int, string) {
	e.t.Helper()
	vals := map[string][]string{}
	for k, v := range form {
		vals[k] = []string{v}
	}
	full := e.srv.URL + path
	body := encode(vals)
	req, _ := http.NewRequest(http.MethodPost, full, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sign != nil {
		req.Header.Set("X-Twilio-Signature", sign(full, vals))
	}
	return do(e.t, req)
}

func (e *env) signer() func(string, map[string][]string) string {
	return func(u string, p map[string][]string) string { return faketwilio.Signature(e.tw.AuthToken(), u, p) }
}

func encode(v map[string][]string) string {
	var parts []string
	for k, vs := range v {
		for _, x := range vs {
			parts = append(parts, urlEscape(k)+"="+urlEscape(x))
		}
	}
	return strings.Join(parts, "&")
}

func urlEscape(s string) string { return url.QueryEscape(s) }

func do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
