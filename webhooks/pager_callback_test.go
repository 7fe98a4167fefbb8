package webhooks_test

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr/ivrtest"
	"github.com/supportdesk/ivr/links"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/webhooks"
)

// The menu after the key and the voicemail links, against a pager that
// holds one page and its attempts.

const menuToken = "0123456789abcdef0123456789abcdef"

// onePage is the pager's engine as the menu sees it: one page, its
// attempts, and the call backs it was told of.
type onePage struct {
	mu       sync.Mutex
	p        pager.Page
	atts     []pager.Attempt
	calledBy []pager.CalledBack
}

func (o *onePage) Page(_ context.Context, id int64) (pager.Page, []pager.Attempt, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id != o.p.ID {
		return pager.Page{}, nil, errs.E(errs.NotFound, "", "no page %d", id)
	}
	return o.p, o.atts, nil
}

func (o *onePage) Attempt(_ context.Context, id int64) (pager.Attempt, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, a := range o.atts {
		if a.ID == id {
			return a, nil
		}
	}
	return pager.Attempt{}, errs.E(errs.NotFound, "", "no attempt %d", id)
}

func (o *onePage) AttemptEnded(context.Context, int64, pager.Outcome, string) (pager.Page, error) {
	return o.p, nil
}

func (o *onePage) Acknowledge(context.Context, int64, pager.Acknowledge) (pager.Page, error) {
	return o.p, nil
}

func (o *onePage) ConfirmAttempt(context.Context, int64, string) error { return nil }

func (o *onePage) AttemptByProviderID(context.Context, string) (pager.Attempt, error) {
	return pager.Attempt{}, errs.E(errs.NotFound, "", "no attempt has that provider id")
}

func (o *onePage) Pages(context.Context, pager.Filter) ([]pager.Page, error) {
	return []pager.Page{o.p}, nil
}

func (o *onePage) CalledBack(_ context.Context, _ int64, ev pager.CalledBack) (pager.Page, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calledBy = append(o.calledBy, ev)
	return o.p, nil
}

// voicemails keeps recordings by id.
type voicemails map[string]calls.Recording

func (v voicemails) Recording(_ context.Context, id string) (calls.Recording, error) {
	r, ok := v[id]
	if !ok {
		return calls.Recording{}, errs.E(errs.NotFound, "", "no recording %s", id)
	}
	return r, nil
}

type menuRig struct {
	t     *testing.T
	srv   *httptest.Server
	pages *onePage
	clock *ivrtest.Clock
}

// newMenuRig serves the pager's webhooks over a page a voicemail on the
// Washington line raised, acknowledged by engineer 7 on the page call of
// attempt 1; attempt 2 is engineer 8's call. withLinks: a link key is set.
func newMenuRig(t *testing.T, withLinks bool, page func(*pager.Page)) *menuRig {
	t.Helper()
	m := &menuRig{t: t, clock: ivrtest.NewClock(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))}
	r := mux.NewRouter()
	m.srv = httptest.NewServer(r)
	t.Cleanup(m.srv.Close)
	p := pager.Page{ID: 5, Source: pager.FromCall, TicketID: "1001", Priority: oncall.Critical, Line: "+12025952118",
		Caller: "+12025550151", Recording: m.srv.URL + "/api/v1/recordings/RE1", Status: pager.Acknowledged,
		AckedBy: 7, AckedByName: "Anna", AckVia: pager.ViaVoice}
	if page != nil {
		page(&p)
	}
	m.pages = &onePage{p: p, atts: []pager.Attempt{
		{ID: 1, PageID: 5, Kind: pager.KindVoice, EngineerID: 7, Language: oncall.English, Status: pager.Done, Outcome: pager.Acked},
		{ID: 2, PageID: 5, Kind: pager.KindVoice, EngineerID: 8, Language: oncall.English, Status: pager.Done, Outcome: pager.NoKey},
	}}
	cfg := webhooks.PagerConfig{PublicURL: m.srv.URL, AuthToken: menuToken, REST: webhooks.Unconfigured(),
		CallerID: "+74996383867", Pages: m.pages, Now: m.clock.Now,
		Voicemails: voicemails{"RE1": {ID: "RE1", CallID: "CA1", ContentType: "audio/x-wav", Data: []byte("RIFF-the-message")}}}
	if withLinks {
		s, err := links.New([]byte(strings.Repeat("k", links.KeySize)))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Links = s
	}
	pg, err := webhooks.NewPager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pg.Register(r)
	return m
}

// doc is a TwiML answer, parsed.
type doc struct {
	body  string
	nodes []node // every element, depth first
}

type node struct {
	name  string
	attrs map[string]string
	text  string
}

func parseDoc(body string) *doc {
	d := &doc{body: body}
	dec := xml.NewDecoder(strings.NewReader(body))
	var open []int
	for {
		tok, err := dec.Token()
		if err != nil {
			return d
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := node{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			d.nodes = append(d.nodes, n)
			open = append(open, len(d.nodes)-1)
		case xml.CharData:
			if len(open) > 0 {
				d.nodes[open[len(open)-1]].text += strings.TrimSpace(string(tok))
			}
		case xml.EndElement:
			open = open[:len(open)-1]
		}
	}
}

func (d *doc) String() string { return d.body }

// First returns the first element called name, or nil.
func (d *doc) First(name string) *node {
	for i := range d.nodes {
		if d.nodes[i].name == name {
			return &d.nodes[i]
		}
	}
	return nil
}

func (d *doc) Has(name string) bool { return d.First(name) != nil }
func (d *doc) HangsUp() bool        { return d.Has("Hangup") }

// Plays returns the URL of every <Play>.
func (d *doc) Plays() []string {
	var out []string
	for _, n := range d.nodes {
		if n.name == "Play" {
			out = append(out, n.text)
		}
	}
	return out
}

// post sends a signed webhook to path with form, as Twilio does, and
// returns the answer.
func (m *menuRig) post(path string, form url.Values) (int, *doc) {
	m.t.Helper()
	full := m.srv.URL + path
	req, _ := http.NewRequest(http.MethodPost, full, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Signature(menuToken, full, form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, parseDoc(string(b))
}

func played(doc *doc, name string) bool {
	for _, u := range doc.Plays() {
		u, _, _ = strings.Cut(u, "?")
		if strings.HasSuffix(u, "/"+name+".wav") {
			return true
		}
	}
	return false
}

func TestMenuPlaysTheVoicemailFromASignedLink(t *testing.T) {
	m := newMenuRig(t, true, nil)
	code, doc := m.post("/webhooks/twilio/page/1/menu?n=1", url.Values{"CallSid": {"CA9"}, "Digits": {"2"}})
	var link string
	for _, u := range doc.Plays() {
		if strings.HasPrefix(u, m.srv.URL+"/recordings/signed/") {
			link = u
		}
	}
	if code != http.StatusOK || !played(doc, "page_message") || link == "" || !played(doc, "page_press_callback") {
		t.Fatalf("2: %d %s; want the message from a signed link, then the menu", code, doc)
	}
	get := func(u string, hdr ...string) (int, string, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	if code, body, h := get(link); code != http.StatusOK || body != "RIFF-the-message" || h.Get("Content-Type") != "audio/x-wav" ||
		h.Get("Cache-Control") != "private, no-store" {
		t.Errorf("GET the link: %d %q %v", code, body, h)
	}
	if code, body, _ := get(link, "Range", "bytes=0-3"); code != http.StatusPartialContent || body != "RIFF" {
		t.Errorf("a range of it: %d %q, want 206 RIFF", code, body)
	}
	tok := strings.TrimPrefix(link, m.srv.URL+"/recordings/signed/")
	s, _ := links.New([]byte(strings.Repeat("k", links.KeySize)))
	for name, u := range map[string]string{
		"another purpose's token": m.srv.URL + "/recordings/signed/" + s.Token("ack", "RE1", m.clock.Now().Add(time.Hour)),
		"a changed token":         m.srv.URL + "/recordings/signed/" + tok[:len(tok)-1] + flip(tok[len(tok)-1]),
		"a recording not kept":    m.srv.URL + "/recordings/signed/" + s.Token("recording", "RE2", m.clock.Now().Add(time.Hour)),
	} {
		if code, body, _ := get(u); code != http.StatusNotFound || strings.Contains(body, "RIFF") {
			t.Errorf("%s: %d %q, want 404", name, code, body)
		}
	}
	m.clock.Advance(11 * time.Minute)
	if code, _, _ := get(link); code != http.StatusNotFound {
		t.Errorf("the link after 11 minutes: %d, want 404 (expired)", code)
	}
}

// flip is another character of a token's alphabet than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestMenuWithoutLinkKeyOffersNoVoicemail(t *testing.T) {
	m := newMenuRig(t, false, nil)
	_, doc := m.post("/webhooks/twilio/page/1/menu?n=1", url.Values{"CallSid": {"CA9"}, "Digits": {"2"}})
	if played(doc, "page_message") || played(doc, "page_press_listen") || !played(doc, "page_press_callback") {
		t.Errorf("2 without a link key: %s, want the menu again with 3 only", doc)
	}
	res, err := http.Get(m.srv.URL + "/recordings/signed/RE1.zzzz.abc")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("the link route without a key: %d, want none (404)", res.StatusCode)
	}
}

func TestMenuPlaysTwiliosCopyAsIs(t *testing.T) {
	// The service could not keep a copy: the page has Twilio's URL.
	twilioURL := "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
	m := newMenuRig(t, false, func(p *pager.Page) { p.Recording = twilioURL })
	_, doc := m.post("/webhooks/twilio/page/1/menu?n=1", url.Values{"CallSid": {"CA9"}, "Digits": {"2"}})
	if !played(doc, "page_message") || !strings.Contains(doc.String(), twilioURL) {
		t.Errorf("2: %s, want Twilio's recording played", doc)
	}
}

func TestMenuCallsTheClientBack(t *testing.T) {
	m := newMenuRig(t, true, nil)
	_, doc := m.post("/webhooks/twilio/page/1/menu?n=1", url.Values{"CallSid": {"CA9"}, "Digits": {"3"}})
	dial := doc.First("Dial")
	num := doc.First("Number")
	if !played(doc, "page_calling_client") || dial == nil || dial.attrs["callerId"] != "+12025952118" || num == nil ||
		num.text != "+12025550151" || !strings.HasSuffix(num.attrs["statusCallback"], "/webhooks/twilio/page/1/callback-status") {
		t.Fatalf("3: %s, want the client dialled from the line they called", doc)
	}
	// The leg's end, twice (Twilio retries): the pager hears both and
	// keeps one (its own test).
	for range 2 {
		m.post("/webhooks/twilio/page/1/callback-status", url.Values{"CallSid": {"CA10"}, "CallStatus": {"completed"},
			"CallDuration": {"75"}, "ParentCallSid": {"CA9"}})
	}
	m.post("/webhooks/twilio/page/1/callback-status", url.Values{"CallSid": {"CA10"}, "CallStatus": {"in-progress"}})
	got := m.pages.calledBy
	if len(got) != 3 || got[0].Ended || got[0].EngineerID != 7 || got[0].Name != "Anna" ||
		!got[1].Ended || !got[1].Answered || got[1].Talked != 75*time.Second || got[1].CallID != "CA10" {
		t.Errorf("call backs told to the pager: %+v", got)
	}
	_, done := m.post("/webhooks/twilio/page/1/callback-done", url.Values{"CallSid": {"CA9"}, "DialCallStatus": {"completed"}})
	if !played(done, "page_call_ended") || !done.HangsUp() {
		t.Errorf("after the call: %s", done)
	}
	_, missed := m.post("/webhooks/twilio/page/1/callback-done", url.Values{"CallSid": {"CA9"}, "DialCallStatus": {"busy"}})
	if !played(missed, "page_client_no_answer") || !missed.Has("Gather") {
		t.Errorf("after a busy client: %s, want that and the menu", missed)
	}
}

func TestMenuOnlyForWhoTookThePage(t *testing.T) {
	m := newMenuRig(t, true, nil)
	for _, d := range []string{"2", "3"} {
		_, doc := m.post("/webhooks/twilio/page/2/menu?n=1", url.Values{"CallSid": {"CA9"}, "Digits": {d}})
		if !played(doc, "page_closed") || !doc.HangsUp() || doc.Has("Dial") || strings.Contains(doc.String(), "/recordings/signed/") {
			t.Errorf("%s on another engineer's call: %s, want closed", d, doc)
		}
	}
	if len(m.pages.calledBy) != 0 {
		t.Errorf("call backs: %+v", m.pages.calledBy)
	}
}

func TestMenuGivesUpAfterRepeats(t *testing.T) {
	m := newMenuRig(t, true, func(p *pager.Page) { p.Recording = "" })
	_, doc := m.post("/webhooks/twilio/page/1/menu?n=1", url.Values{"CallSid": {"CA9"}, "Digits": {""}})
	if played(doc, "page_press_listen") || !played(doc, "page_press_callback") || !doc.Has("Gather") || !strings.Contains(doc.First("Gather").attrs["action"], "n=2") {
		t.Errorf("no key, a page with no voicemail: %s, want 3 offered again", doc)
	}
	_, doc = m.post("/webhooks/twilio/page/1/menu?n=3", url.Values{"CallSid": {"CA9"}, "Digits": {"9"}})
	if !played(doc, "page_goodbye") || !doc.HangsUp() {
		t.Errorf("after the last ask: %s, want goodbye", doc)
	}
}
