package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr/ivrtest"
)

// testClock is the pager's clock in end-to-end tests: it stands still
// until the test moves it, and then fires every timer that has come due,
// so a page's 7½-minute waits pass at once.
type testClock = ivrtest.Clock

func newTestClock() *testClock { return ivrtest.NewClock(time.Now()) }

// pagerRig is the real `ivr serve` (demo team, SQLite) in this process,
// talking to a fake Twilio that plays every engineer's phone, with the
// pager's clock in the test's hands.
type pagerRig struct {
	t     *testing.T
	base  string
	fake  *faketwilio.Server
	clock *testClock
}

func startPagerRig(t *testing.T) *pagerRig {
	t.Helper()
	return startPagerRigWith(t, faketwilio.Options{})
}

// startPagerRigWith is startPagerRig with a fake Twilio of opts (its
// SMSWebhookURL set to the service's).
func startPagerRigWith(t *testing.T, opts faketwilio.Options) *pagerRig {
	t.Helper()
	return startPagerRigEnv(t, opts, nil)
}

// startPagerRigEnv is startPagerRigWith with more environment variables
// for serve.
func startPagerRigEnv(t *testing.T, opts faketwilio.Options, extra map[string]string) *pagerRig {
	t.Helper()
	// The service's address must be known before the fake starts (the fake
	// posts engineers' texts to it), and the fake's before the service
	// does (it is Twilio's API URL): the service's port is picked first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	opts.SMSWebhookURL = "http://" + addr + "/webhooks/twilio/sms"
	fake := faketwilio.Start(t, opts)
	clock := newTestClock()
	vars := map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": fake.URL(), "TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none"}
	maps.Copy(vars, extra)
	env, _, errOut := testEnv(vars)
	env.clock = clock
	base := startWithEnv(t, env, errOut, "--demo", "--addr", addr)
	return &pagerRig{t: t, base: base, fake: fake, clock: clock}
}

// startWithEnv runs serve with env until the test (or benchmark) ends.
func startWithEnv(t testing.TB, env environ, errOut *syncBuffer, args ...string) string {
	t.Helper()
	addr := make(chan string, 1)
	env.onListen = func(a string) { addr <- a }
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- run(ctx, append([]string{"serve"}, args...), env) }()
	select {
	case a := <-addr:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve ended with %v; log:\n%s", err, errOut.String())
			}
		})
		return "http://" + a
	case err := <-done:
		cancel()
		t.Fatalf("serve failed to start: %v; log:\n%s", err, errOut.String())
	}
	return ""
}

// apiPage is a page as the API shows it.
type apiPage struct {
	ID          int64  `json:"id"`
	Status      string `json:"status"`
	AckedByName string `json:"acked_by_name"`
	AckVia      string `json:"ack_via"`
	Overdue     bool   `json:"overdue"`
	Current     struct {
		Rung   int `json:"rung"`
		Target struct {
			Name  string `json:"name"`
			Phone string `json:"phone"`
		} `json:"target"`
	} `json:"current"`
	Log []struct {
		What   string `json:"what"`
		Detail string `json:"detail"`
	} `json:"log"`
}

func (r *pagerRig) post(path string, body any, out any) int {
	r.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, r.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			r.t.Fatalf("POST %s: decode: %v", path, err)
		}
	}
	return res.StatusCode
}

func (r *pagerRig) raise(priority, summary string) apiPage {
	r.t.Helper()
	var p apiPage
	if code := r.post("/api/v1/pages", map[string]any{"priority": priority, "summary": summary}, &p); code != http.StatusCreated {
		r.t.Fatalf("POST /api/v1/pages: %d", code)
	}
	return p
}

func (r *pagerRig) page(id int64) apiPage {
	r.t.Helper()
	var out struct {
		Page apiPage `json:"page"`
	}
	if code := get(r.t, fmt.Sprintf("%s/api/v1/pages/%d", r.base, id), testAdminToken, &out); code != http.StatusOK {
		r.t.Fatalf("GET page %d: %d", id, code)
	}
	return out.Page
}

// onCall returns the phone of the engineer on call at level and layer now.
func (r *pagerRig) onCall(level, layer string) (name, phone string) {
	r.t.Helper()
	var out struct {
		OnCall []struct {
			Level    string `json:"level"`
			Layer    string `json:"layer"`
			Engineer *struct {
				Name   string   `json:"name"`
				Phones []string `json:"phones"`
			} `json:"engineer"`
		} `json:"oncall"`
	}
	at := r.clock.Now().UTC().Format(time.RFC3339)
	if code := get(r.t, r.base+"/api/v1/oncall?at="+at, testAdminToken, &out); code != http.StatusOK {
		r.t.Fatalf("GET /api/v1/oncall: %d", code)
	}
	for _, e := range out.OnCall {
		if e.Level == level && e.Layer == layer && e.Engineer != nil {
			return e.Engineer.Name, e.Engineer.Phones[0]
		}
	}
	r.t.Fatalf("nobody on call at %s %s", level, layer)
	return "", ""
}

// TestPageVoiceAcknowledged: a page raised through the API rings the L1
// engineer on call, who presses 1; the page is acknowledged by them, by
// voice, and nobody else is paged.
func TestPageVoiceAcknowledged(t *testing.T) {
	r := startPagerRig(t)
	name, phone := r.onCall("L1", "primary")
	p := r.raise("critical", "mail server rejects all mail")

	call := r.fake.Phone(phone).ExpectCall()
	doc := call.Answer()
	if !doc.Has("Gather") || len(doc.Find("Play")) < 3 {
		t.Fatalf("the page call says too little: %s", doc.Body)
	}
	doc = call.Press("1")
	if !doc.Has("Hangup") {
		t.Errorf("after 1: %s, want thanks and hang-up", doc.Body)
	}
	call.Hangup()
	got := r.page(p.ID)
	if got.Status != "acknowledged" || got.AckedByName != name || got.AckVia != "voice" {
		t.Errorf("page after 1: %+v, want acknowledged by %s by voice", got, name)
	}
	metrics := r.metrics()
	for _, want := range []string{`ivr_pager_attempts_total{channel="voice",outcome="acknowledged"} 1`,
		"ivr_pager_open_pages 0", "ivr_pager_overdue_pages 0", `ivr_pager_provider_latency_seconds_count{channel="voice"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// metrics returns what /metrics serves.
func (r *pagerRig) metrics() string {
	r.t.Helper()
	res, err := http.Get(r.base + "/metrics")
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// TestPageSMSFallbackAcknowledged: the engineer does not answer the page
// call; a text follows at once, and replying with the page's code
// acknowledges it.
func TestPageSMSFallbackAcknowledged(t *testing.T) {
	r := startPagerRig(t)
	name, phone := r.onCall("L1", "primary")
	p := r.raise("urgent", "VPN drops every few minutes")

	r.fake.Phone(phone).ExpectCall().NoAnswer()
	sms := r.fake.Phone(phone).ExpectSMS(fmt.Sprint(p.ID))
	reply := sms.ThenReply(fmt.Sprint(p.ID))
	if len(reply.Find("Message")) != 1 {
		t.Errorf("the service's answer to the code: %s, want one confirmation", reply.Body)
	}
	r.fake.Phone(phone).ExpectSMS(fmt.Sprint(p.ID)) // the confirmation
	got := r.page(p.ID)
	if got.Status != "acknowledged" || got.AckedByName != name || got.AckVia != "sms" {
		t.Errorf("page after the reply: %+v, want acknowledged by %s by text", got, name)
	}
}

// TestPageEscalates: nobody acknowledges a critical page; at each rung's
// end it goes on, L1 primary → L1 secondary → L2 → … → L3, and the
// engineers paged before learn by text where it went.
func TestPageEscalates(t *testing.T) {
	r := startPagerRig(t)
	type rung struct{ level, layer string }
	rungs := []rung{{"L1", "primary"}, {"L1", "secondary"}, {"L2", "primary"}, {"L2", "secondary"}, {"L3", "primary"}, {"L3", "secondary"}}
	phones := map[string]bool{}
	p := r.raise("critical", "database cluster lost its leader")
	for i, g := range rungs {
		// Each rung pages whoever is on call when it begins: the clock
		// passes 45 minutes, across a handover when the test runs shortly
		// before one.
		_, phone := r.onCall(g.level, g.layer)
		call := r.fake.Phone(phone).ExpectCall()
		call.Busy()
		r.fake.Phone(phone).ExpectSMS(fmt.Sprint(p.ID)).Delivered()
		for prev := range phones {
			if prev != phone {
				r.fake.Phone(prev).ExpectSMS(rungs[i].level) // where the page went
			}
		}
		phones[phone] = true
		got := r.page(p.ID)
		if got.Status != "open" || got.Current.Rung != i {
			t.Fatalf("rung %d (%s %s): page %+v", i, rungs[i].level, rungs[i].layer, got)
		}
		r.clock.Advance(7*time.Minute + 31*time.Second)
	}
	var whats []string
	for _, e := range r.page(p.ID).Log {
		whats = append(whats, e.What)
	}
	sort.Strings(whats)
	if !strings.Contains(strings.Join(whats, " "), "not acknowledged") {
		t.Errorf("log %v lacks the escalations", whats)
	}
}

// TestPageStormCollapses: eleven pages for the engineer on call arrive
// within seconds. The first rings at once; a critical one, finding the
// line busy, is texted at once and gets its own call next; the other nine
// wait for the storm gap and come as one call that says how many pages
// there are, and whose 1 acknowledges all nine.
func TestPageStormCollapses(t *testing.T) {
	r := startPagerRig(t)
	began := time.Now()
	_, phone := r.onCall("L1", "primary")
	first := r.raise("urgent", "backups failed")
	firstCall := r.fake.Phone(phone).ExpectCall()
	critical := r.raise("critical", "storage array lost a shelf")
	// Its call waits for the line; its text goes at once.
	r.fake.Phone(phone).ExpectSMS(fmt.Sprint(critical.ID))
	var storm []apiPage
	for i := range 9 {
		storm = append(storm, r.raise("urgent", fmt.Sprintf("backup job %d failed", i+1)))
	}

	firstCall.Answer()
	firstCall.Press("1")
	firstCall.Hangup()
	// The critical page is not held for the gap, nor folded into others.
	critCall := r.fake.Phone(phone).ExpectCall()
	if doc := critCall.Answer(); strings.Contains(strings.Join(doc.Plays(), " "), "page_you_have") {
		t.Errorf("the critical page's call announces several pages: %s", doc.Body)
	}
	critCall.Press("1")
	critCall.Hangup()
	r.fake.Phone(phone).ExpectNothing() // the nine wait for the storm gap
	// The gap runs from the end of the critical call, which the store
	// stamps with its own clock, the real one: the pager's clock, the
	// test's, must pass it by as much real time as has gone since the rig
	// started (seconds on a loaded machine), not only by the gap.
	r.clock.Advance(61*time.Second + time.Since(began))
	stormCall := r.fake.Phone(phone).ExpectCall()
	doc := stormCall.Answer()
	if plays := strings.Join(doc.Plays(), " "); !strings.Contains(plays, "page_you_have") || !strings.Contains(plays, "num_9") {
		t.Errorf("the storm's call does not say how many pages: %s", plays)
	}
	stormCall.Press("1")
	stormCall.Hangup()
	for _, p := range append([]apiPage{first, critical}, storm...) {
		if got := r.page(p.ID); got.Status != "acknowledged" || got.AckVia != "voice" {
			t.Errorf("page %d: %s via %q, want acknowledged by voice", p.ID, got.Status, got.AckVia)
		}
	}
	r.fake.Phone(phone).ExpectNothing()
}

// TestPageResolvedWhileRinging: the page is resolved while its call rings;
// the engineer who then presses 1 hears that the page is closed, never
// that they acknowledged it, and the page stays resolved.
func TestPageResolvedWhileRinging(t *testing.T) {
	r := startPagerRig(t)
	_, phone := r.onCall("L1", "primary")
	p := r.raise("urgent", "printer on fire, or not")
	call := r.fake.Phone(phone).ExpectCall()
	call.Answer()
	if code := r.post(fmt.Sprintf("/api/v1/pages/%d/resolve", p.ID), nil, nil); code != http.StatusOK {
		t.Fatalf("resolve: %d", code)
	}
	r.fake.Phone(phone).ExpectSMS(fmt.Sprint(p.ID)) // the page was closed, by whom
	doc := call.Press("1")
	plays := strings.Join(doc.Plays(), " ")
	if !strings.Contains(plays, "page_closed") || strings.Contains(plays, "page_acked") {
		t.Errorf("after 1 on a resolved page: %s, want the page-closed message", plays)
	}
	call.Hangup()
	if got := r.page(p.ID); got.Status != "resolved" {
		t.Errorf("page %s, want resolved", got.Status)
	}
}
