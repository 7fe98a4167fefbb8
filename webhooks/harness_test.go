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
var team = map[[2]int]oncall.Engineer{
	{1, 1}: eng(11, "Anna"), {1, 2}: eng(12, "Boris"),
	{2, 1}: eng(21, "Clara"), {2, 2}: eng(22, "Dmitri"),
	{3, 1}: eng(31, "Elena"),
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

// deps are in-memory fakes of the flow's dependencies, recording writes.
type deps struct {
	mu      sync.Mutex
	pages   []ivr.PageRequest
	calls   []ivr.CallRecord
	opened  []ivr.NewTicket
	saved   map[string][]byte // recording sid → audio
	tickets map[string]ivr.Ticket
	// storeDown makes page requests and call records fail, as a store
	// that is unreachable would.
	storeDown bool
}

var errStoreDown = errors.New("store unreachable")

func (d *deps) Ticket(_ context.Context, id string) (ivr.Ticket, error) {
	if tk, ok := d.tickets[id]; ok {
		return tk, nil
	}
	return ivr.Ticket{}, errs.E(errs.NotFound, "id", "no ticket %s", id)
}

func (d *deps) OpenTicket(_ context.Context, nt ivr.NewTicket) (ivr.Ticket, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opened = append(d.opened, nt)
	return ivr.Ticket{ID: "9001", Priority: nt.Priority, Level: oncall.L1}, nil
}

func (d *deps) AddNote(context.Context, string, string) error { return nil }

func (d *deps) OnCall(_ context.Context, l oncall.Level, y oncall.Layer, _ time.Time) (oncall.Engineer, bool, error) {
	e, ok := team[[2]int{int(l), int(y)}]
	return e, ok, nil
}

func (d *deps) RequestPage(_ context.Context, p ivr.PageRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.storeDown {
		return errStoreDown
	}
	d.pages = append(d.pages, p)
	return nil
}

func (d *deps) Language(context.Context, string) (oncall.Language, bool, error) {
	return "", false, nil
}
func (d *deps) SetLanguage(context.Context, string, oncall.Language) error { return nil }

func (d *deps) SaveCall(_ context.Context, r ivr.CallRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.storeDown {
		return errStoreDown
	}
	d.calls = append(d.calls, r)
	return nil
}

func (d *deps) setStoreDown(down bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.storeDown = down
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

func (d *deps) snapshot() ([]ivr.PageRequest, []ivr.CallRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]ivr.PageRequest(nil), d.pages...), append([]ivr.CallRecord(nil), d.calls...)
}

// clock is the test's time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is the driver served on loopback, with a fake Twilio.
type env struct {
	t      testing.TB
	tw     *faketwilio.Server
	srv    *httptest.Server
	states webhooks.CallStates
	deps   *deps
	clock  *clock
	driver *webhooks.Driver
	router *mux.Router
}

func newEnv(t testing.TB) *env { return newEnvWith(t, newMemStates()) }

// newEnvWith is newEnv over the given store.
func newEnvWith(t testing.TB, states webhooks.CallStates) *env {
	t.Helper()
	e := &env{t: t, states: states, clock: &clock{t: time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)},
		deps: &deps{tickets: map[string]ivr.Ticket{
			critical: {ID: critical, Priority: oncall.Critical, Level: oncall.L2},
		}}}
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
		Preferences: e.deps, Calls: e.deps, OtherCalls: webhooks.OtherCalls(e.states)})
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
