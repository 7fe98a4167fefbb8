package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/supportdesk/ivr/faketwilio"
)

// End-to-end tests of what Twilio's faults and opt-outs do to pages: the
// real `ivr serve` against the fake Twilio, the pager's clock in the
// test's hands (retry pauses and the wait before looking for a request in
// doubt run on it too).

// faultRig is the pager rig with the fake Twilio's request log, to count
// even the requests it refused (which leave no call or message behind).
type faultRig struct {
	*pagerRig
	fakeLog *observer.ObservedLogs
}

func startFaultRig(t *testing.T) *faultRig {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	return &faultRig{pagerRig: startPagerRigWith(t, faketwilio.Options{Logger: zap.New(core)}), fakeLog: logs}
}

// creates counts the create requests of resource ("Calls", "Messages")
// that reached the fake, whatever it answered.
func (r *faultRig) creates(resource string) int {
	n := 0
	for _, e := range r.fakeLog.FilterMessage("request").All() {
		f := e.ContextMap()
		if f["method"] == http.MethodPost && strings.HasSuffix(fmt.Sprint(f["path"]), "/"+resource+".json") {
			n++
		}
	}
	return n
}

// lists counts the list requests of resource that reached the fake.
func (r *faultRig) lists(resource string) int {
	n := 0
	for _, e := range r.fakeLog.FilterMessage("request").All() {
		f := e.ContextMap()
		if f["method"] == http.MethodGet && strings.HasSuffix(fmt.Sprint(f["path"]), "/"+resource+".json") {
			n++
		}
	}
	return n
}

// pageAttempt is an attempt as GET /api/v1/pages/{id} shows it.
type pageAttempt struct {
	ID         int64  `json:"id"`
	Kind       string `json:"kind"`
	Purpose    string `json:"purpose"`
	To         string `json:"to"`
	Status     string `json:"status"`
	ProviderID string `json:"provider_id"`
	Outcome    string `json:"outcome"`
	Detail     string `json:"detail"`
	Tries      int    `json:"tries"`
}

// fullPage is a page with its attempts.
type fullPage struct {
	Page     apiPage       `json:"page"`
	Attempts []pageAttempt `json:"attempts"`
}

func (r *pagerRig) fullPage(id int64) fullPage {
	r.t.Helper()
	var out fullPage
	if code := get(r.t, fmt.Sprintf("%s/api/v1/pages/%d", r.base, id), testAdminToken, &out); code != http.StatusOK {
		r.t.Fatalf("GET page %d: %d", id, code)
	}
	return out
}

// logHas reports whether an entry of the page's log is what and its detail
// contains every one of words ("" what: any entry).
func (p fullPage) logHas(what string, words ...string) bool {
	for _, e := range p.Page.Log {
		if what != "" && e.What != what {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(e.Detail, w)
		}
		if ok {
			return true
		}
	}
	return false
}

func (p fullPage) logString() string {
	var b strings.Builder
	for _, e := range p.Page.Log {
		fmt.Fprintf(&b, "\n  %s: %s", e.What, e.Detail)
	}
	return b.String()
}

// attempts returns the page's attempts of kind and purpose.
func (p fullPage) attempts(kind, purpose string) []pageAttempt {
	var out []pageAttempt
	for _, a := range p.Attempts {
		if a.Kind == kind && a.Purpose == purpose {
			out = append(out, a)
		}
	}
	return out
}

// waitUntil checks cond every few milliseconds until it holds or within
// (real time) has passed, and reports whether it held.
func waitUntil(within time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
}

// waitPage waits until page id satisfies cond and returns it; the test
// fails, showing the page's log, if it does not within a few seconds.
func (r *pagerRig) waitPage(id int64, what string, cond func(p fullPage) bool) fullPage {
	r.t.Helper()
	var p fullPage
	if !waitUntil(5*time.Second, func() bool { p = r.fullPage(id); return cond(p) }) {
		r.t.Fatalf("page %d: %s never came; status %s, rung %d, attempts %+v, log:%s",
			id, what, p.Page.Status, p.Page.Current.Rung, p.Attempts, p.logString())
	}
	return p
}

// advanceUntil moves the pager's clock on by step at a time, leaving the
// service a moment after each, until cond holds; the test fails if it
// does not before the clock has moved limit.
func (r *pagerRig) advanceUntil(step, limit time.Duration, what string, cond func() bool) {
	r.t.Helper()
	for moved := time.Duration(0); ; moved += step {
		if waitUntil(50*time.Millisecond, cond) {
			return
		}
		if moved >= limit {
			r.t.Fatalf("%s: not after the pager's clock moved %s", what, moved)
		}
		r.clock.Advance(step)
	}
}

// engineerID returns the id of the engineer called name.
func (r *pagerRig) engineerID(name string) int64 {
	r.t.Helper()
	var out struct {
		Engineers []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"engineers"`
	}
	if code := get(r.t, r.base+"/api/v1/engineers", testAdminToken, &out); code != http.StatusOK {
		r.t.Fatalf("GET /api/v1/engineers: %d", code)
	}
	for _, e := range out.Engineers {
		if e.Name == name {
			return e.ID
		}
	}
	r.t.Fatalf("no engineer %s", name)
	return 0
}

// smsOptedOut returns the engineer's numbers that opted out of texts, as
// GET /api/v1/engineers/{id} shows them to admins.
func (r *pagerRig) smsOptedOut(id int64) []string {
	r.t.Helper()
	var out struct {
		SMSOptedOut []string `json:"sms_opted_out"`
	}
	if code := get(r.t, fmt.Sprintf("%s/api/v1/engineers/%d", r.base, id), testAdminToken, &out); code != http.StatusOK {
		r.t.Fatalf("GET engineer %d: %d", id, code)
	}
	return out.SMSOptedOut
}

func (r *pagerRig) act(id int64, what string) {
	r.t.Helper()
	if code := r.post(fmt.Sprintf("/api/v1/pages/%d/%s", id, what), nil, nil); code != http.StatusOK {
		r.t.Fatalf("POST page %d %s: %d", id, what, code)
	}
}

func code(p apiPage) string { return fmt.Sprint(p.ID) }

// TestPageStop: the engineer texts STOP to a page's text. Twilio answers
// it, the service adds nothing; from then on their pages ring but send no
// text, and each page's log says texts are off, until START.
func TestPageStop(t *testing.T) {
	r := startFaultRig(t)
	name, phone := r.onCall("L1", "primary")
	id := r.engineerID(name)
	dev := r.fake.Phone(phone)

	first := r.raise("critical", "payments API returns 502")
	dev.ExpectCall().NoAnswer()
	text := dev.ExpectSMS(code(first))
	if reply := text.ThenReply("STOP"); len(reply.Find("Message")) != 0 {
		t.Errorf("the service answered STOP: %s; Twilio answers it alone", reply.Body)
	}
	dev.ExpectSMS("unsubscribed") // Twilio's own answer
	if got := r.smsOptedOut(id); len(got) != 1 || got[0] != phone {
		t.Errorf("engineer %s after STOP: sms_opted_out %v, want [%s]", name, got, phone)
	}
	// The page they were paged on is taken by an admin: nobody texts them
	// who took it.
	r.act(first.ID, "ack")
	r.waitPage(first.ID, "acknowledged", func(p fullPage) bool { return p.Page.Status == "acknowledged" })

	second := r.raise("critical", "payments API returns 502 again")
	dev.ExpectCall().NoAnswer()
	p := r.waitPage(second.ID, "the text skipped after the unanswered call", func(p fullPage) bool {
		return p.logHas("skipped", "opted out of texts")
	})
	if !p.logHas("texts off", phone, "STOP") {
		t.Errorf("page %d's log does not say texts are off:%s", second.ID, p.logString())
	}
	if sms := p.attempts("sms", "page"); len(sms) != 0 {
		t.Errorf("page %d texted an opted-out engineer: %+v", second.ID, sms)
	}
	r.act(second.ID, "resolve")
	r.waitPage(second.ID, "resolved", func(p fullPage) bool { return p.Page.Status == "resolved" })
	dev.ExpectNothing()

	if reply := dev.SendSMS(text.From(), "START"); len(reply.Find("Message")) != 0 {
		t.Errorf("the service answered START: %s; Twilio answers it alone", reply.Body)
	}
	dev.ExpectSMS("re-subscribed")
	if got := r.smsOptedOut(id); len(got) != 0 {
		t.Errorf("engineer %s after START: sms_opted_out %v, want none", name, got)
	}
	third := r.raise("critical", "payments API down")
	dev.ExpectCall().NoAnswer()
	dev.ExpectSMS(code(third)).ThenReply(code(third))
	dev.ExpectSMS(code(third)) // the confirmation
	if got := r.page(third.ID); got.Status != "acknowledged" || got.AckVia != "sms" {
		t.Errorf("page %d after START and the code texted: %+v, want acknowledged by text", third.ID, got)
	}
}

// TestPageStopAdvancedOptOut: with Twilio's Advanced Opt-Out the keyword
// comes with OptOutType, any of Twilio's opt-out and opt-in words.
func TestPageStopAdvancedOptOut(t *testing.T) {
	r := startPagerRigWith(t, faketwilio.Options{AdvancedOptOut: true})
	name, phone := r.onCall("L1", "primary")
	id := r.engineerID(name)
	dev := r.fake.Phone(phone)
	pg := r.raise("critical", "certificate expired")
	dev.ExpectCall().NoAnswer()
	text := dev.ExpectSMS(code(pg))
	for _, c := range []struct {
		word   string
		out    bool
		twilio string
	}{{"end", true, "unsubscribed"}, {"Unstop", false, "re-subscribed"}, {"QUIT", true, "unsubscribed"}} {
		if reply := text.ThenReply(c.word); len(reply.Find("Message")) != 0 {
			t.Errorf("the service answered %s: %s", c.word, reply.Body)
		}
		dev.ExpectSMS(c.twilio)
		if got := r.smsOptedOut(id); (len(got) == 1) != c.out {
			t.Errorf("after %s: sms_opted_out %v, want opted out %v", c.word, got, c.out)
		}
	}
	r.act(pg.ID, "resolve")
}

// TestPageTextToOptedOutNumber: Twilio refuses the text with 21610 (the
// number texted STOP before the service heard of it): the number is
// marked, admins see it, and the next page rings without trying a text.
func TestPageTextToOptedOutNumber(t *testing.T) {
	r := startFaultRig(t)
	name, phone := r.onCall("L1", "primary")
	dev := r.fake.Phone(phone).OptOut()

	first := r.raise("critical", "backups did not run")
	dev.ExpectCall().NoAnswer()
	p := r.waitPage(first.ID, "the text refused", func(p fullPage) bool {
		sms := p.attempts("sms", "page")
		return len(sms) == 1 && sms[0].Outcome == "opted-out"
	})
	if !p.logHas("sms", "21610") {
		t.Errorf("page %d's log does not show Twilio's 21610:%s", first.ID, p.logString())
	}
	if got := r.smsOptedOut(r.engineerID(name)); len(got) != 1 || got[0] != phone {
		t.Errorf("engineer %s after 21610: sms_opted_out %v, want [%s]", name, got, phone)
	}
	r.act(first.ID, "resolve")

	second := r.raise("critical", "backups did not run again")
	dev.ExpectCall().NoAnswer()
	p = r.waitPage(second.ID, "the text skipped", func(p fullPage) bool { return p.logHas("skipped", "opted out of texts") })
	if !p.logHas("texts off", phone) || len(p.attempts("sms", "page")) != 0 {
		t.Errorf("page %d: attempts %+v, log:%s; want voice only and texts off", second.ID, p.Attempts, p.logString())
	}
	if n := r.creates("Messages"); n != 1 {
		t.Errorf("the fake got %d Messages.create, want 1: the opted-out number is not texted again", n)
	}
	r.act(second.ID, "resolve")
}

// TestPageCallRefused: the call is refused for good (21215, no voice
// permission for the number's region): the text goes at once, the log
// shows the code, and the call is never tried again.
func TestPageCallRefused(t *testing.T) {
	r := startFaultRig(t)
	_, phone := r.onCall("L1", "primary")
	dev := r.fake.Phone(phone).NoVoicePermission()

	pg := r.raise("critical", "SAN is read-only")
	text := dev.ExpectSMS(code(pg)) // no clock moved: at once
	p := r.waitPage(pg.ID, "the call ended", func(p fullPage) bool {
		v := p.attempts("voice", "page")
		return len(v) == 1 && v[0].Status == "done"
	})
	if v := p.attempts("voice", "page")[0]; v.Outcome != "rejected" || v.Tries != 1 || !strings.Contains(v.Detail, "21215") {
		t.Errorf("the call's attempt: %+v, want rejected after one try, with 21215", v)
	}
	if !p.logHas("voice", "21215") {
		t.Errorf("page %d's log does not show Twilio's 21215:%s", pg.ID, p.logString())
	}
	// A minute of retry pauses passes: nothing tries the call again.
	for range 12 {
		r.clock.Advance(5 * time.Second)
	}
	text.ThenReply(code(pg))
	dev.ExpectSMS(code(pg)) // the confirmation
	if n := r.creates("Calls"); n != 1 {
		t.Errorf("the fake got %d Calls.create, want exactly 1", n)
	}
	if got := r.page(pg.ID); got.Status != "acknowledged" {
		t.Errorf("page %d: %s, want acknowledged by the text", pg.ID, got.Status)
	}
}

// TestPageTextRefused: texts refused for good at the create (21211,
// 21614, 21408) or undelivered in the status callback (30034) are never
// retried, and the page's log shows the code. When nothing reached the
// engineer (the call failed too) the page goes to the next rung at once;
// when their phone rang, they keep the rung's time to call back, and hear
// by text what became of the page unless their number takes no texts.
func TestPageTextRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		mark   func(*faketwilio.Device)
		call   func(*faketwilio.CallHandle) // nil: the call is refused too
		text   func(*faketwilio.MessageHandle)
		code   string
		atOnce bool
		told   bool // the first engineer is texted where the page went and who took it
	}{
		{name: "21211 invalid number: call and text refused", mark: func(d *faketwilio.Device) { d.Invalid() },
			code: "21211", atOnce: true},
		{name: "21408 no SMS permission, the call failed", mark: func(d *faketwilio.Device) { d.NoSMSPermission() },
			call: (*faketwilio.CallHandle).Fail, code: "21408", atOnce: true},
		{name: "30034 undelivered, the call failed", call: (*faketwilio.CallHandle).Fail,
			text: func(m *faketwilio.MessageHandle) { m.Undelivered(30034) }, code: "30034", atOnce: true},
		{name: "21614 landline, the call rang unanswered", mark: func(d *faketwilio.Device) { d.Landline() },
			call: (*faketwilio.CallHandle).NoAnswer, code: "21614"},
		{name: "30034 undelivered, the call rang unanswered", call: (*faketwilio.CallHandle).NoAnswer,
			text: func(m *faketwilio.MessageHandle) { m.Undelivered(30034) }, code: "30034", told: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := startFaultRig(t)
			_, first := r.onCall("L1", "primary")
			_, second := r.onCall("L1", "secondary")
			dev := r.fake.Phone(first)
			if c.mark != nil {
				c.mark(dev)
			}
			pg := r.raise("critical", "mail queue stuck")
			if c.call != nil {
				c.call(dev.ExpectCall())
			}
			if c.text != nil {
				c.text(dev.ExpectSMS(code(pg)))
			}
			p := r.waitPage(pg.ID, "the text ended", func(p fullPage) bool {
				sms := p.attempts("sms", "page")
				return len(sms) == 1 && sms[0].Status == "done"
			})
			if !p.logHas("sms", c.code) {
				t.Errorf("page %d's log does not show %s:%s", pg.ID, c.code, p.logString())
			}
			if !c.atOnce {
				if p.Page.Current.Rung != 0 {
					t.Fatalf("page %d went on at once (rung %d), though the engineer's phone rang:%s", pg.ID, p.Page.Current.Rung, p.logString())
				}
				dev.ExpectNothing()
				r.fake.Phone(second).ExpectNothing()
				r.clock.Advance(7*time.Minute + 31*time.Second) // the critical rung's wait
				// The next rung pages whoever is on call when it begins,
				// another engineer when a handover fell in the wait.
				_, second = r.onCall("L1", "secondary")
			}
			r.fake.Phone(second).ExpectCall().Busy()
			if c.told {
				dev.ExpectSMS("L1").Delivered() // where the page went
			}
			r.fake.Phone(second).ExpectSMS(code(pg)).ThenReply(code(pg))
			r.fake.Phone(second).ExpectSMS(code(pg)) // the confirmation
			p = r.waitPage(pg.ID, "acknowledged", func(p fullPage) bool { return p.Page.Status == "acknowledged" })
			texts := 2 // the page's text to each engineer; the confirmation is a reply
			if c.told {
				dev.ExpectSMS(code(pg)).Delivered() // who took it
				texts += 2
			}
			if sms := p.attempts("sms", "page"); len(sms) != 2 || sms[0].Tries != 1 {
				t.Errorf("page %d's texts: %+v, want one try to the first engineer", pg.ID, sms)
			}
			// Nothing more to the first engineer: no retry, and no notice
			// to a number whose text failed.
			dev.ExpectNothing()
			if n := r.creates("Messages"); n != texts {
				t.Errorf("the fake got %d Messages.create, want %d: no retry", n, texts)
			}
		})
	}
}

// TestPageCallInDoubt: Twilio placed the call but answered 500. The
// service looks for it at Twilio before trying again, finds it, and does
// not call twice; the engineer answers that call and acknowledges.
func TestPageCallInDoubt(t *testing.T) {
	r := startFaultRig(t)
	_, phone := r.onCall("L1", "primary")
	r.fake.Inject(faketwilio.Fault{Endpoint: "Calls.create", Status: http.StatusInternalServerError, Committed: true})
	pg := r.raise("critical", "DNS resolves nothing")
	call := r.fake.Phone(phone).ExpectCall()
	r.advanceUntil(time.Second, time.Minute, "the call in doubt found at Twilio", func() bool {
		v := r.fullPage(pg.ID).attempts("voice", "page")
		return len(v) == 1 && v[0].ProviderID == call.SID()
	})
	if r.lists("Calls") == 0 {
		t.Errorf("the service never listed Twilio's calls")
	}
	acknowledgeCall(t, r.pagerRig, pg, call)
	if n := r.creates("Calls"); n != 1 {
		t.Errorf("the fake got %d Calls.create, want 1: the call in doubt was found, not made again", n)
	}
}

// TestPageCallRetried: a 500 for a call Twilio did not make, and a 429:
// the service tries again after a pause (after a 500, once it has made
// sure Twilio has no such call), and the second try rings.
func TestPageCallRetried(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			r := startFaultRig(t)
			_, phone := r.onCall("L1", "primary")
			r.fake.Inject(faketwilio.Fault{Endpoint: "Calls.create", Status: status})
			pg := r.raise("critical", "VPN concentrator down")
			// A 500 leaves the call in doubt: the service waits a moment,
			// finds no call at Twilio, and only then plans to try again.
			r.advanceUntil(time.Second, time.Minute, "the retry planned", func() bool {
				v := r.fullPage(pg.ID).attempts("voice", "page")
				return len(v) == 1 && v[0].Status == "intended" && v[0].Tries == 1
			})
			if looked := r.lists("Calls") > 0; looked != (status == http.StatusInternalServerError) {
				t.Errorf("the service looked for the call at Twilio: %v; want it only after a 500", looked)
			}
			r.clock.Advance(time.Second) // less than any pause
			if waitUntil(50*time.Millisecond, func() bool { return r.creates("Calls") > 1 }) {
				t.Fatalf("the call was tried again before its pause")
			}
			r.advanceUntil(time.Second, time.Minute, "the second try", func() bool { return r.creates("Calls") == 2 })
			call := r.fake.Phone(phone).ExpectCall()
			acknowledgeCall(t, r.pagerRig, pg, call)
			if v := r.fullPage(pg.ID).attempts("voice", "page"); len(v) != 1 || v[0].Tries != 2 {
				t.Errorf("the call's attempt: %+v, want acknowledged on the second try", v)
			}
		})
	}
}

// acknowledgeCall answers a page call and presses 1.
func acknowledgeCall(t *testing.T, r *pagerRig, pg apiPage, call *faketwilio.CallHandle) {
	t.Helper()
	call.Answer()
	call.Press("1")
	call.Hangup()
	if got := r.page(pg.ID); got.Status != "acknowledged" || got.AckVia != "voice" {
		t.Errorf("page %d after 1: %+v, want acknowledged by voice", pg.ID, got)
	}
}

// TestPageTwilioDown: every call and text Twilio is asked for fails. Each
// channel is retried, then given up, and the page falls through to the
// next channel and the next rung; once its response time has passed it
// shows overdue. Never silence: the log says what failed.
func TestPageTwilioDown(t *testing.T) {
	r := startFaultRig(t)
	_, phone := r.onCall("L1", "primary")
	for _, ep := range []string{"Calls.create", "Messages.create"} {
		r.fake.Inject(faketwilio.Fault{Endpoint: ep, Status: http.StatusServiceUnavailable, Times: 1000})
	}
	pg := r.raise("critical", "the whole site is down")
	if pg.Overdue {
		t.Fatalf("a new page is overdue")
	}
	r.advanceUntil(5*time.Second, 7*time.Minute, "the call and the text given up, the next rung paged", func() bool {
		p := r.fullPage(pg.ID)
		return p.Page.Current.Rung >= 1 && p.logHas("unreachable")
	})
	p := r.fullPage(pg.ID)
	v, sms := p.attempts("voice", "page"), p.attempts("sms", "page")
	if len(v) == 0 || v[0].To != phone || v[0].Outcome != "failed" || v[0].Tries != 5 || len(sms) == 0 || sms[0].Outcome != "failed" {
		t.Errorf("the first rung's attempts: voice %+v, sms %+v; want both failed after 5 tries", v, sms)
	}
	if !p.logHas("voice", "failed", "5 tries", "503") || !p.logHas("sms", "failed", "5 tries") {
		t.Errorf("page %d's log does not show the failures:%s", pg.ID, p.logString())
	}
	r.advanceUntil(time.Minute, 2*time.Hour, "the page overdue", func() bool { return r.page(pg.ID).Overdue })
	got := r.page(pg.ID)
	if got.Status != "open" {
		t.Errorf("page %d: %s, want still open", pg.ID, got.Status)
	}
	if m := r.metrics(); !strings.Contains(m, "ivr_pager_overdue_pages 1") {
		t.Errorf("/metrics does not count the overdue page")
	}
	if n := r.creates("Calls"); n < 10 {
		t.Errorf("the fake got %d Calls.create in an hour of a page: the service gave up", n)
	}
}
