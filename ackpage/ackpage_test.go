package ackpage_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/ackpage"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/links"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

var (
	t0       = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) // 03:00 in Moscow
	deadline = t0.Add(time.Hour)
	bob      = oncall.Engineer{ID: 7, Name: "Bob", Languages: []oncall.Language{oncall.English}, TimeZone: "America/New_York"}
	anna     = oncall.Engineer{ID: 8, Name: "Анна", Languages: []oncall.Language{oncall.Russian, oncall.English}, TimeZone: "Europe/Moscow"}
)

// pages is the pager's double: Acknowledge takes an open page as the
// engine does and leaves a closed one as it is.
type pages struct {
	mu   sync.Mutex
	m    map[int64]pager.Page
	acks []pager.Acknowledge
	fail error
}

func (p *pages) Page(_ context.Context, id int64) (pager.Page, []pager.Attempt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return pager.Page{}, nil, p.fail
	}
	pg, ok := p.m[id]
	if !ok {
		return pager.Page{}, nil, errs.E(errs.NotFound, "", "no page %d", id)
	}
	return pg, nil, nil
}

func (p *pages) Acknowledge(_ context.Context, id int64, ack pager.Acknowledge) (pager.Page, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acks = append(p.acks, ack)
	pg := p.m[id]
	if pg.Status == pager.Open {
		pg.Status, pg.AckedBy, pg.AckedByName, pg.AckVia, pg.AckedAt = pager.Acknowledged, ack.EngineerID, ack.Name, ack.Via, t0.Add(10*time.Minute)
		p.m[id] = pg
	}
	return pg, nil
}

func (p *pages) ackCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acks)
}

type engineers map[int64]oncall.Engineer

func (e engineers) Engineer(_ context.Context, id int64) (oncall.Engineer, error) {
	if eng, ok := e[id]; ok {
		return eng, nil
	}
	return oncall.Engineer{}, errs.E(errs.NotFound, "", "no engineer %d", id)
}

type rig struct {
	t      *testing.T
	signer *links.Signer
	links  ackpage.Links
	pages  *pages
	h      *ackpage.Handler
	now    time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	signer, err := links.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, signer: signer, links: ackpage.NewLinks(signer, "https://ivr.example.com/"), now: t0.Add(5 * time.Minute),
		pages: &pages{m: map[int64]pager.Page{42: {
			ID: 42, Source: pager.FromTickets, TicketID: "1001", Priority: oncall.Critical, Level: oncall.L1,
			Summary: "Payments fail <b>for every</b> card", RaisedAt: t0, Deadline: deadline, Status: pager.Open,
		}}}}
	r.h, err = ackpage.New(ackpage.Config{Links: r.links, Pages: r.pages, Engineers: engineers{7: bob, 8: anna},
		Now: func() time.Time { return r.now }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (r *rig) do(method, link string) answer {
	r.t.Helper()
	path := strings.TrimPrefix(link, "https://ivr.example.com")
	rec := httptest.NewRecorder()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, body)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.h.ServeHTTP(rec, req)
	return answer{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func (a answer) has(t *testing.T, what string, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(a.body, w) {
			t.Errorf("%s: the page lacks %q:\n%s", what, w, a.body)
		}
	}
}

func (a answer) hasNot(t *testing.T, what string, words ...string) {
	t.Helper()
	for _, w := range words {
		if strings.Contains(a.body, w) {
			t.Errorf("%s: the page has %q:\n%s", what, w, a.body)
		}
	}
}

var styleRE = regexp.MustCompile(`(?s)<style>(.*)</style>`)

// safe checks what every answer must carry: the URL is a credential, and
// the page runs nothing and loads nothing.
func (a answer) safe(t *testing.T, what string) {
	t.Helper()
	for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"Content-Type": "text/html; charset=utf-8", "X-Content-Type-Options": "nosniff"} {
		if got := a.header.Get(k); got != want {
			t.Errorf("%s: %s %q, want %q", what, k, got, want)
		}
	}
	csp := a.header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, d)
		}
	}
	m := styleRE.FindStringSubmatch(a.body)
	if m == nil {
		t.Fatalf("%s: no stylesheet", what)
	}
	sum := sha256.Sum256([]byte(m[1]))
	if h := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, h) {
		t.Errorf("%s: the stylesheet's hash is not the one the policy allows (%q)", what, csp)
	}
	a.hasNot(t, what, "<script", "src=", "href=", "http://", "https://", "@import", "url(")
}

func TestLink(t *testing.T) {
	r := newRig(t)
	link := r.links.URL(42, 7, deadline)
	if !strings.HasPrefix(link, "https://ivr.example.com/a/42-7.") || len(link) > 80 {
		t.Errorf("link %q: want https://ivr.example.com/a/42-7.…, short enough for a text", link)
	}
	if got := r.links.URL(42, 0, deadline); got != "" {
		t.Errorf("a link for nobody: %q, want none", got)
	}
	// It works until a day after the page's deadline.
	r.now = deadline.Add(ackpage.Grace - time.Second)
	if a := r.do(http.MethodGet, link); a.status != http.StatusOK {
		t.Errorf("a second before its end: %d, want 200", a.status)
	}
	r.now = deadline.Add(ackpage.Grace)
	if a := r.do(http.MethodGet, link); a.status != http.StatusNotFound {
		t.Errorf("at its end: %d, want 404", a.status)
	}
}

func TestGetDoesNotAcknowledge(t *testing.T) {
	r := newRig(t)
	link := r.links.URL(42, 7, deadline)
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodGet} {
		a := r.do(method, link)
		if a.status != http.StatusOK {
			t.Fatalf("%s: %d, want 200", method, a.status)
		}
		if method == http.MethodHead {
			continue
		}
		a.safe(t, "GET")
		a.has(t, "GET", `<html lang="en">`, "Page 42", "critical", "1001", "Payments fail &lt;b&gt;for every&lt;/b&gt; card",
			"5 min ago", "open, waiting for an engineer", `<form method="post">`, `<button type="submit">Acknowledge</button>`,
			"as Bob", `name="viewport"`)
	}
	if n := r.pages.ackCount(); n != 0 {
		t.Errorf("GET and HEAD acknowledged %d times; only the button's POST may", n)
	}
	if r.pages.m[42].Status != pager.Open {
		t.Errorf("the page is %s after GETs, want open", r.pages.m[42].Status)
	}
}

func TestPostAcknowledges(t *testing.T) {
	r := newRig(t)
	link := r.links.URL(42, 7, deadline)
	a := r.do(http.MethodPost, link)
	if a.status != http.StatusOK {
		t.Fatalf("POST: %d", a.status)
	}
	a.safe(t, "POST")
	want := pager.Acknowledge{EngineerID: 7, Name: "Bob", Via: pager.ViaLink}
	if len(r.pages.acks) != 1 || r.pages.acks[0] != want {
		t.Fatalf("acknowledgements %+v, want %+v", r.pages.acks, want)
	}
	a.has(t, "POST", "You acknowledged the page", "acknowledged by Bob, 30 Nov 2026 19:10 EST")
	a.hasNot(t, "POST", "<form")
	// Again (a reload): still theirs, nothing else changes.
	a = r.do(http.MethodGet, link)
	a.has(t, "GET after", "You acknowledged this page: 30 Nov 2026 19:10 EST.")
	a.hasNot(t, "GET after", "<form")
}

func TestClosedPageSaysWhoTookIt(t *testing.T) {
	r := newRig(t)
	// Anna took it by voice; Bob opens his link, then presses anyway (an
	// old tab).
	if _, err := r.pages.Acknowledge(t.Context(), 42, pager.Acknowledge{EngineerID: 8, Name: "Анна", Via: pager.ViaVoice}); err != nil {
		t.Fatal(err)
	}
	link := r.links.URL(42, 7, deadline)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		a := r.do(method, link)
		if a.status != http.StatusOK {
			t.Fatalf("%s: %d", method, a.status)
		}
		a.has(t, method, "Анна already acknowledged this page, 30 Nov 2026 19:10 EST.")
		a.hasNot(t, method, "<form", "You acknowledged")
	}
	if p := r.pages.m[42]; p.AckedBy != 8 || p.AckVia != pager.ViaVoice {
		t.Errorf("page %+v: Bob's press took it from Анна", p)
	}
	// A resolved page says who closed it.
	p := r.pages.m[42]
	p.Status, p.ResolvedBy = pager.Resolved, "admin"
	r.pages.m[42] = p
	a := r.do(http.MethodGet, link)
	a.has(t, "resolved", "The page was resolved by admin: there is nothing to acknowledge.")
	a.hasNot(t, "resolved", "<form")
}

func TestForgedOrExpired(t *testing.T) {
	r := newRig(t)
	good := r.links.URL(42, 7, deadline)
	token := strings.TrimPrefix(good, "https://ivr.example.com/a/")
	_, rest, _ := strings.Cut(token, ".")
	other, _ := links.New([]byte("fedcba9876543210fedcba9876543210"))
	for name, path := range map[string]string{
		"another engineer's id":   "/a/42-8." + rest,
		"another page's id":       "/a/43-7." + rest,
		"signature changed":       "/a/" + token[:len(token)-2] + "xx",
		"another key":             "/a/" + other.Token(ackpage.Purpose, "42-7", deadline.Add(ackpage.Grace)),
		"another purpose":         "/a/" + r.signer.Token("recording", "42-7", deadline.Add(ackpage.Grace)),
		"not a page and engineer": "/a/" + r.signer.Token(ackpage.Purpose, "42", deadline.Add(ackpage.Grace)),
		"expired":                 "/a/" + r.signer.Token(ackpage.Purpose, "42-7", r.now.Add(-time.Second)),
		"a page that is gone":     "/a/" + r.signer.Token(ackpage.Purpose, "99-7", deadline),
		"an engineer who is gone": "/a/" + r.signer.Token(ackpage.Purpose, "42-9", deadline),
		"nothing":                 "/a/",
		"garbage":                 "/a/%3Cscript%3E",
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			a := r.do(method, "https://ivr.example.com"+path)
			if a.status != http.StatusNotFound {
				t.Errorf("%s, %s: %d, want 404", name, method, a.status)
			}
			a.safe(t, name)
			a.has(t, name, "This link is not valid", "Ссылка недействительна")
			a.hasNot(t, name, "<form", "Page 42", "1001")
		}
	}
	if n := r.pages.ackCount(); n != 0 {
		t.Errorf("%d acknowledgements through links that are not valid", n)
	}
}

func TestRussianEngineer(t *testing.T) {
	r := newRig(t)
	link := r.links.URL(42, 8, deadline)
	a := r.do(http.MethodGet, link)
	a.has(t, "GET", `<html lang="ru">`, "Вызов 42", "Приоритет", "критический", "Заявка", "5 минут назад",
		"открыт, ждёт дежурного", `<button type="submit">Принять вызов</button>`, "от имени Анна")
	a.hasNot(t, "GET", "Acknowledge", "Priority")
	a = r.do(http.MethodPost, link)
	a.has(t, "POST", "Вы приняли вызов. Больше никого не вызывают.", "принят: Анна, 01.12.2026 03:10 MSK")
	if len(r.pages.acks) != 1 || r.pages.acks[0].EngineerID != 8 || r.pages.acks[0].Via != pager.ViaLink {
		t.Errorf("acknowledgements %+v", r.pages.acks)
	}
}

func TestStoreFails(t *testing.T) {
	r := newRig(t)
	r.pages.fail = errors.New("disk on fire")
	a := r.do(http.MethodPost, r.links.URL(42, 7, deadline))
	if a.status != http.StatusInternalServerError {
		t.Errorf("store down: %d, want 500", a.status)
	}
	a.safe(t, "store down")
	a.has(t, "store down", "Something went wrong", "Не получилось")
	a.hasNot(t, "store down", "disk on fire")
	if a := r.do(http.MethodPut, r.links.URL(42, 7, deadline)); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") == "" {
		t.Errorf("PUT: %d, Allow %q; want 405 with Allow", a.status, a.header.Get("Allow"))
	}
}
