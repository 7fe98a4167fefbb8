//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/faketwilio"
)

// The crash rig: the real ivr binary as a child process that a test kills
// with SIGKILL where the pager stops for it (IVR_TEST_PAUSE_AT), a fake
// Twilio whose record of accepted requests is the evidence, and a
// scripted engineer at every demo phone who answers page calls and
// presses 1, or replies to page texts with the page's code, whenever the
// service is up.

// crashPage is a page as the API shows it.
type crashPage struct {
	ID          int64  `json:"id"`
	Key         string `json:"key"`
	Status      string `json:"status"`
	AckedByName string `json:"acked_by_name"`
	AckVia      string `json:"ack_via"`
}

// crashAttempt is an attempt as the API shows it.
type crashAttempt struct {
	ID         int64  `json:"id"`
	PageID     int64  `json:"page_id"`
	Kind       string `json:"kind"`
	Purpose    string `json:"purpose"`
	Rung       int    `json:"rung"`
	To         string `json:"to"`
	Status     string `json:"status"`
	ProviderID string `json:"provider_id"`
	Outcome    string `json:"outcome"`
	Tries      int    `json:"tries"`
	Detail     string `json:"detail"`
}

// attemptPath finds the attempt id in a status callback URL.
var attemptPath = regexp.MustCompile(`/webhooks/twilio/page/(\d+)/(status|sms-status)$`)

func attemptOfCallback(u string) (int64, bool) {
	m := attemptPath.FindStringSubmatch(u)
	if m == nil {
		return 0, false
	}
	id, err := strconv.ParseInt(m[1], 10, 64)
	return id, err == nil
}

// crashRig is one crash test's world.
type crashRig struct {
	t      *testing.T
	ctx    context.Context
	bin    string
	dir    string
	base   string // where the service is reached, and its public URL
	fake   *faketwilio.Server
	gate   *gate
	client *http.Client
	wake   chan struct{} // the page raiser looks again
	start  time.Time

	mu      sync.Mutex
	raising bool
	noSlow  bool // raise no slow pages (their escalation takes a rung's wait)
	// answerKnown: the engineer picks up a page call only once the
	// service has stored its SID, so that a call whose maker died
	// before storing it waits to be found at Twilio.
	answerKnown bool
	phase       string // where the instance starting now is to pause
	pages       []int64
	slow        map[int64]bool  // by page id, once raising it has answered
	slowKeys    map[string]bool // by page key, before raising it
	keyOf       map[int64]string
	acked       map[int64]bool // by the scripted engineer's key or code
	attempts    map[int64]crashAttempt
	kills       map[string]int
	killLog     []string
	procs       []*ivrProc
	seq         int
}

// newCrashRig starts the fake Twilio, with the service to be reached at
// base, and the scripted engineer at every demo phone.
func newCrashRig(t *testing.T, base string) *crashRig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &crashRig{t: t, ctx: ctx, bin: ivrBinary(t), dir: t.TempDir(), base: base, gate: newGate(),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}},
		wake:   make(chan struct{}, 1), start: time.Now(),
		slow: map[int64]bool{}, slowKeys: map[string]bool{}, keyOf: map[int64]string{}, acked: map[int64]bool{}, attempts: map[int64]crashAttempt{}, kills: map[string]int{}}
	r.fake = faketwilio.Start(crashTB{t}, faketwilio.Options{SMSWebhookURL: base + "/webhooks/twilio/sms"})
	var wg sync.WaitGroup
	for _, e := range demo.Team {
		wg.Add(2)
		go func() { defer wg.Done(); r.takeCalls(e.Phone) }()
		go func() { defer wg.Done(); r.takeTexts(e.Phone) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); r.raiseLoop() }()
	// Registered after the fake's cleanup, so it runs before it: the
	// engineer stops before the fake checks that every call and text
	// was taken.
	t.Cleanup(func() { cancel(); r.gate.open(); wg.Wait() })
	return r
}

// env is what every instance runs with.
func (r *crashRig) env(db string, extra ...string) []string {
	return append([]string{"IVR_DB=" + db, "IVR_ADMIN_TOKEN=" + testAdminToken, "IVR_LOG_LEVEL=info",
		"IVR_TWILIO_API_URL=" + r.fake.URL(), "TWILIO_ACCOUNT_SID=" + r.fake.AccountSID(), "TWILIO_AUTH_TOKEN=" + r.fake.AuthToken(),
		"IVR_TWILIO_TIMEOUT=" + crashTwilioTimeout, "IVR_PAGER_TEXT_ONLY_AT_NIGHT=none", "HOME=" + r.dir, "TMPDIR=" + r.dir}, extra...)
}

// crashLease is the instances' --pager-lease: how soon an attempt held by
// a dead instance is looked for at Twilio. It must be longer than
// crashTwilioTimeout, which leaves the fake, slowed down by -race and a
// busy machine, ample time to answer: a request that timed out is looked
// for after DoubtGrace, which the fast clock shrinks to milliseconds.
const (
	crashLease         = "4s"
	crashTwilioTimeout = "2s"
)

// launch starts an instance at addr.
func (r *crashRig) launch(addr string, env []string) *ivrProc {
	r.t.Helper()
	r.mu.Lock()
	r.seq++
	name := fmt.Sprintf("ivr-%02d", r.seq)
	r.mu.Unlock()
	p := startIVR(r.t, r.bin, name, r.dir, []string{"--addr", addr, "--demo", "--pager-lease", crashLease}, env)
	r.mu.Lock()
	r.procs = append(r.procs, p)
	r.mu.Unlock()
	return p
}

// awaitReady waits for p to serve; a pause before it is returned.
func (r *crashRig) awaitReady(p *ivrProc, within time.Duration) (pauseEvent, bool) {
	r.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	select {
	case <-p.ready:
		return pauseEvent{}, false
	case ev := <-p.paused:
		return ev, true
	case <-p.exited:
		r.t.Fatalf("%s ended before serving: %v\n%s", p.name, p.exitErr, p.tail())
	case <-deadline.C:
		r.t.Fatalf("%s did not serve within %v\n%s", p.name, within, p.tail())
	}
	return pauseEvent{}, false
}

// awaitPause waits for p to stop at its phase.
func (r *crashRig) awaitPause(p *ivrProc, phase string, within time.Duration) pauseEvent {
	r.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	select {
	case ev := <-p.paused:
		return ev
	case <-p.exited:
		r.t.Fatalf("%s ended before pausing at %s: %v\n%s", p.name, phase, p.exitErr, p.tail())
	case <-deadline.C:
		r.t.Fatalf("%s did not reach %s within %v (pages %d)\n%s", p.name, phase, within, r.pageCount(), p.tail())
	}
	return pauseEvent{}
}

// killed counts a kill at ev.
func (r *crashRig) killed(p *ivrProc, ev pauseEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kills[ev.Phase]++
	r.killLog = append(r.killLog, fmt.Sprintf("%s at %s (page %d, attempt %d)", p.name, ev.Phase, ev.PageID, ev.AttemptID))
}

func (r *crashRig) setRaising(on bool) {
	r.mu.Lock()
	r.raising = on
	r.mu.Unlock()
	r.poke()
}

func (r *crashRig) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *crashRig) pageCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pages)
}

// raiseLoop keeps work flowing while raising is on: one page the engineer
// takes at the first call, and one slow page whose first engineer lets it
// ring and ignores its text, so that its timer comes due and it escalates.
func (r *crashRig) raiseLoop() {
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.wake:
		}
		r.gate.do(r.ctx, func() {
			for _, slow := range r.needs() {
				r.raise(slow)
			}
		})
	}
}

// needs says which pages to raise now: a page is in flight until the
// scripted engineer acknowledged it.
func (r *crashRig) needs() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.raising {
		return nil
	}
	fast, slow := false, false
	for _, id := range r.pages {
		if r.acked[id] {
			continue
		}
		if r.slow[id] {
			slow = true
		} else {
			fast = true
		}
	}
	var out []bool
	// Waiting for a timer, pages the engineer takes at once would only
	// pile up.
	if !fast && r.phase != "due" {
		out = append(out, false)
	}
	if !slow && !r.noSlow {
		out = append(out, true)
	}
	return out
}

// raise raises a critical page through the API (critical pages ring at
// any hour and are never folded into others). It runs under the gate.
func (r *crashRig) raise(slow bool) {
	r.mu.Lock()
	n := len(r.pages) + 1
	key := fmt.Sprintf("crash-%d", n)
	// Known before the page's first call can ring, which may be before
	// the answer.
	r.slowKeys["api:"+key] = slow
	r.mu.Unlock()
	var p crashPage
	body := map[string]any{"priority": "critical", "summary": fmt.Sprintf("crash test page %d", n), "key": key}
	code, err := r.api(http.MethodPost, "/api/v1/pages", body, &p)
	if err != nil || (code != http.StatusCreated && code != http.StatusOK) {
		r.t.Errorf("raise page %d: %d %v", n, code, err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.pages, p.ID) {
		r.pages = append(r.pages, p.ID)
		r.slow[p.ID] = slow
	}
}

// api makes a request to the service with the admin token.
func (r *crashRig) api(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(r.ctx, method, r.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			return res.StatusCode, fmt.Errorf("decode %s: %w", path, err)
		}
	}
	return res.StatusCode, nil
}

// page reads a page and its attempts.
func (r *crashRig) page(id int64) (crashPage, []crashAttempt, error) {
	var out struct {
		Page     crashPage      `json:"page"`
		Attempts []crashAttempt `json:"attempts"`
	}
	code, err := r.api(http.MethodGet, fmt.Sprintf("/api/v1/pages/%d", id), nil, &out)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("GET page %d: %d", id, code)
	}
	if err != nil {
		return crashPage{}, nil, err
	}
	r.mu.Lock()
	r.keyOf[id] = out.Page.Key
	for _, a := range out.Attempts {
		r.attempts[a.ID] = a
	}
	r.mu.Unlock()
	return out.Page, out.Attempts, nil
}

// attempt finds attempt id among the pages raised, newest first. It runs
// under the gate.
func (r *crashRig) attempt(id int64) (crashAttempt, bool) {
	r.mu.Lock()
	a, ok := r.attempts[id]
	pages := slices.Clone(r.pages)
	r.mu.Unlock()
	if ok {
		return a, true
	}
	slices.Reverse(pages)
	look := func(pages []int64) (crashAttempt, bool) {
		for _, pid := range pages {
			if _, _, err := r.page(pid); err != nil {
				r.t.Errorf("looking for attempt %d: %v", id, err)
				return crashAttempt{}, false
			}
			r.mu.Lock()
			a, ok := r.attempts[id]
			r.mu.Unlock()
			if ok {
				return a, true
			}
		}
		return crashAttempt{}, false
	}
	if a, ok := look(pages); ok {
		return a, true
	}
	// A page whose raising has not answered yet: its first call can come
	// before the answer does.
	var list struct {
		Pages []crashPage `json:"pages"`
	}
	if _, err := r.api(http.MethodGet, "/api/v1/pages?limit=1000", nil, &list); err != nil {
		r.t.Errorf("looking for attempt %d: %v", id, err)
		return crashAttempt{}, false
	}
	var others []int64
	for _, p := range list.Pages {
		if !slices.Contains(pages, p.ID) {
			others = append(others, p.ID)
		}
	}
	return look(others)
}

// request returns the fake's record of the request that created sid.
func (r *crashRig) request(sid string) (faketwilio.Request, bool) {
	for _, q := range r.fake.Requests() {
		if q.SID == sid {
			return q, true
		}
	}
	return faketwilio.Request{}, false
}

func (r *crashRig) isSlow(page int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.slowKeys[r.keyOf[page]]
}

func (r *crashRig) engineerAcked(page int64) {
	r.mu.Lock()
	r.acked[page] = true
	r.mu.Unlock()
	r.poke()
}

// script runs one scripted action; a failure of the fake's helpers has
// been reported and ends only the action.
func (r *crashRig) script(fn func()) {
	defer func() {
		if v := recover(); v != nil && v != (scriptFailed{}) {
			panic(v)
		}
	}()
	fn()
}

// takeCalls is the engineer's phone: every page call is answered and
// acknowledged with 1, except the first rung's call of a slow page, which
// rings out.
func (r *crashRig) takeCalls(phone string) {
	d := r.fake.Phone(phone)
	for {
		call, err := d.WaitCall(r.ctx)
		if err != nil {
			return
		}
		r.script(func() {
			q, _ := r.request(call.SID())
			id, ok := attemptOfCallback(q.StatusCallback)
			if !ok {
				r.t.Errorf("call %s to %s names no attempt in its status callback %q", call.SID(), phone, q.StatusCallback)
				return
			}
			if r.answerKnown {
				r.awaitKnown(id, call.SID())
			}
			r.gate.do(r.ctx, func() {
				a, ok := r.attempt(id)
				if !ok {
					r.t.Errorf("call %s to %s: attempt %d is on no page raised", call.SID(), phone, id)
					return
				}
				if a.Rung == 0 && r.isSlow(a.PageID) {
					call.NoAnswer()
					return
				}
				if doc := call.Answer(); doc.Has("Gather") {
					call.Press("1")
					r.engineerAcked(a.PageID)
				}
				call.Hangup()
			})
		})
	}
}

// awaitKnown waits until the service has stored sid for attempt id.
func (r *crashRig) awaitKnown(id int64, sid string) {
	ok, why := r.eventually(60*time.Second, func() (bool, string) {
		a, ok := r.attempt(id)
		if !ok {
			return false, fmt.Sprintf("attempt %d is on no page raised", id)
		}
		if _, _, err := r.page(a.PageID); err != nil {
			return false, err.Error()
		}
		r.mu.Lock()
		a = r.attempts[id]
		r.mu.Unlock()
		return a.ProviderID == sid, fmt.Sprintf("attempt %d is %s with provider id %q", id, a.Status, a.ProviderID)
	})
	if !ok {
		r.t.Errorf("call %s: the service did not store it for attempt %d within 60 s: %s", sid, id, why)
	}
}

// takeTexts is the engineer reading texts: a page's text is answered with
// its code, except the first rung's text of a slow page.
func (r *crashRig) takeTexts(phone string) {
	d := r.fake.Phone(phone)
	for {
		m, err := d.WaitSMS(r.ctx)
		if err != nil {
			return
		}
		q, ok := r.request(m.SID())
		if !ok {
			continue // the service's answer to the engineer's own text
		}
		r.script(func() {
			id, ok := attemptOfCallback(q.StatusCallback)
			if !ok {
				r.t.Errorf("text %s to %s names no attempt in its status callback %q", m.SID(), phone, q.StatusCallback)
				return
			}
			r.gate.do(r.ctx, func() {
				a, ok := r.attempt(id)
				if !ok {
					r.t.Errorf("text %s to %s: attempt %d is on no page raised", m.SID(), phone, id)
					return
				}
				if a.Purpose != "page" || (a.Rung == 0 && r.isSlow(a.PageID)) {
					return
				}
				m.ThenReply(strconv.FormatInt(a.PageID, 10))
				r.engineerAcked(a.PageID)
			})
		})
	}
}

// eventually checks cond until it holds or within has passed; it returns
// cond's last word.
func (r *crashRig) eventually(within time.Duration, cond func() (bool, string)) (bool, string) {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return true, ""
		}
		select {
		case <-deadline.C:
			return false, why
		case <-tick.C:
		}
	}
}

// settle waits until every page raised is acknowledged and no attempt is
// left to send or in doubt.
func (r *crashRig) settle(within time.Duration) {
	r.t.Helper()
	ok, why := r.eventually(within, func() (bool, string) {
		r.mu.Lock()
		pages := slices.Clone(r.pages)
		r.mu.Unlock()
		for _, id := range pages {
			p, atts, err := r.page(id)
			if err != nil {
				return false, err.Error()
			}
			if p.Status != "acknowledged" {
				return false, fmt.Sprintf("page %d is %s", id, p.Status)
			}
			for _, a := range atts {
				if a.Status != "done" && (a.Status != "sent" || a.Kind == "voice") {
					return false, fmt.Sprintf("page %d: %s attempt %d (%s, rung %d) is %s after %d tries",
						id, a.Kind, a.ID, a.Purpose, a.Rung, a.Status, a.Tries)
				}
			}
		}
		return true, ""
	})
	if !ok {
		r.mu.Lock()
		last := r.procs[len(r.procs)-1]
		r.mu.Unlock()
		r.t.Errorf("the pages did not settle within %v: %s\n%s's log ends:\n%s", within, why, last.name, last.tail())
	}
}

// lostCallback matches what the fake notes when a callback of its own
// could not reach the service because the service was dead: Twilio loses
// those too, and the service must cope.
var lostCallback = regexp.MustCompile(`(connection refused|connection reset|EOF|broken pipe)`)

// verify checks the record: every page acknowledged by the scripted
// engineer, no request the fake accepted made twice, every provider id
// stored naming the fake's request for that very attempt, nothing
// unexpected but callbacks lost to a dead service.
func (r *crashRig) verify() {
	t := r.t
	t.Helper()
	r.mu.Lock()
	pages := slices.Clone(r.pages)
	r.mu.Unlock()
	engineers := map[string]bool{}
	for _, e := range demo.Team {
		engineers[e.Name] = true
	}
	attempts := map[int64]crashAttempt{}
	for _, id := range pages {
		p, atts, err := r.page(id)
		if err != nil {
			t.Errorf("page %d: %v", id, err)
			continue
		}
		if p.Status != "acknowledged" || !engineers[p.AckedByName] || (p.AckVia != "voice" && p.AckVia != "sms") {
			t.Errorf("page %d ended %s by %q via %q, want acknowledged by a demo engineer by key or code", id, p.Status, p.AckedByName, p.AckVia)
		}
		for _, a := range atts {
			attempts[a.ID] = a
		}
	}
	byAttempt := map[int64][]faketwilio.Request{}
	reqs := r.fake.Requests()
	for _, q := range reqs {
		id, ok := attemptOfCallback(q.StatusCallback)
		if !ok {
			t.Errorf("the fake accepted a %s %s to %s for no attempt (status callback %q)", q.Kind, q.SID, q.To, q.StatusCallback)
			continue
		}
		byAttempt[id] = append(byAttempt[id], q)
	}
	dups := 0
	for id, qs := range byAttempt {
		a, ok := attempts[id]
		switch {
		case !ok:
			t.Errorf("the fake accepted %s for attempt %d, which is on no page raised", qs[0].SID, id)
		case len(qs) > 1:
			dups++
			var sids []string
			for _, q := range qs {
				sids = append(sids, q.SID+" at "+q.Created.Format("15:04:05.000"))
			}
			t.Errorf("DUPLICATE: attempt %d (page %d, %s to %s) was made %d times: %s", id, a.PageID, a.Kind, a.To, len(qs), strings.Join(sids, ", "))
		case a.ProviderID != qs[0].SID:
			t.Errorf("attempt %d (page %d, %s to %s) stores provider id %q, but the fake made %s for it", id, a.PageID, a.Kind, a.To, a.ProviderID, qs[0].SID)
		}
	}
	// Above the outbox: one step of a page rings one engineer once, even
	// when a crash left the step's timer half fired.
	rang := map[string][]int64{}
	for id, a := range attempts {
		if a.Kind == "voice" && a.Purpose == "page" && len(byAttempt[id]) > 0 {
			step := fmt.Sprintf("page %d, rung %d, to %s", a.PageID, a.Rung, a.To)
			rang[step] = append(rang[step], id)
		}
	}
	for step, ids := range rang {
		if len(ids) > 1 {
			dups++
			t.Errorf("DUPLICATE: %s was called by %d attempts: %v", step, len(ids), ids)
		}
	}
	resent := 0
	for id, a := range attempts {
		if (a.Kind == "voice" || a.Kind == "sms") && a.ProviderID != "" && len(byAttempt[id]) == 0 {
			t.Errorf("attempt %d (page %d) stores provider id %q, which the fake never issued for it", id, a.PageID, a.ProviderID)
		}
		if a.Tries > 1 {
			resent++
		}
	}
	lost := 0
	for _, u := range r.fake.TakeUnexpected() {
		if strings.Contains(u, r.base) && lostCallback.MatchString(u) && !strings.Contains(u, "answered") {
			lost++
			t.Logf("lost to a dead service: %.300s", u)
			continue
		}
		t.Errorf("the fake found this unexpected: %s", u)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	slow := 0
	for _, s := range r.slow {
		if s {
			slow++
		}
	}
	lookedUp, found := 0, 0
	for _, p := range r.procs {
		lookedUp += p.count(msgLookedUp)
		found += p.count(msgFound)
	}
	t.Logf("pages %d (%d escalated past a first engineer who let them ring); requests the fake accepted %d, duplicates %d; "+
		"attempts looked for at Twilio after their claim ran out %d, of them found there %d; attempts claimed more than once %d; "+
		"callbacks lost to a dead service %d", len(pages), slow, len(reqs), dups, lookedUp, found, resent, lost)
	for _, p := range r.procs {
		for _, e := range p.errorLines() {
			t.Logf("%s logged: %.1500s", p.name, e)
		}
	}
}

// The pager's log messages for an attempt in doubt that the crash tests
// count.
const (
	msgLookedUp = "attempt in doubt after its claim ran out; looking for it at the provider"
	msgFound    = "attempt in doubt was made after all"
)

// killSummary logs the kills per phase and the time taken.
func (r *crashRig) killSummary(backend string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	var parts []string
	for _, ph := range crashPhases {
		total += r.kills[ph]
		parts = append(parts, fmt.Sprintf("%s %d", ph, r.kills[ph]))
	}
	r.t.Logf("%s: %d kills (%s) in %v", backend, total, strings.Join(parts, ", "), time.Since(r.start).Round(100*time.Millisecond))
	for _, k := range r.killLog {
		r.t.Logf("  killed %s", k)
	}
}

// setPhase says where the next instance is to pause.
func (r *crashRig) setPhase(phase string) {
	r.mu.Lock()
	r.phase = phase
	r.mu.Unlock()
	r.poke()
}
