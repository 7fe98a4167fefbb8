package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/web"
)

// site is the web page over a real SQLite store with the demo team, as
// serve wires it (without the phone lines' parts).
type site struct {
	t   *testing.T
	db  *store.DB
	svc *oncall.Service
}

func newSite(t *testing.T) *site {
	t.Helper()
	db, svc := storetest.OpenDemo(t, zaptest.NewLogger(t))
	return &site{t: t, db: db, svc: svc}
}

// instance serves the page over the site's store, as one more instance
// of the service would.
func (s *site) instance() *httptest.Server {
	s.t.Helper()
	page, err := web.New(web.Config{OnCall: s.svc, Tokens: s.db, Sessions: s.db, Audit: s.db, Log: zaptest.NewLogger(s.t)})
	if err != nil {
		s.t.Fatal(err)
	}
	r := mux.NewRouter()
	page.Register(r)
	ts := httptest.NewServer(r)
	s.t.Cleanup(ts.Close)
	return ts
}

func (s *site) token(role string, engineerID int64) (access.Token, string) {
	s.t.Helper()
	tok, secret, err := access.Issue(s.t.Context(), s.db, "test", role+" test", role, engineerID)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok, secret
}

// visitor is a browser without JavaScript: a cookie jar, redirects not
// followed so that each answer is seen.
type visitor struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
}

func newVisitor(t *testing.T, base string) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (v *visitor) do(req *http.Request) (int, string, http.Header) {
	v.t.Helper()
	res, err := v.c.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		v.csrf = string(m[1])
	}
	return res.StatusCode, string(b), res.Header
}

func (v *visitor) get(path string) (int, string, http.Header) {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, v.base+path, nil)
	return v.do(req)
}

// post sends form with the page's last CSRF token unless form has one.
func (v *visitor) post(path string, form url.Values) (int, string, http.Header) {
	v.t.Helper()
	if !form.Has("csrf") {
		form.Set("csrf", v.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

func (v *visitor) signIn(secret string) int {
	v.t.Helper()
	v.get("/signin")
	code, _, _ := v.post("/signin", url.Values{"token": {secret}, "next": {"/"}})
	return code
}

// A session signed in on one instance works on another (it is kept in the
// store), and ends on every instance once its token is revoked.
func TestSessionAcrossInstancesEndsWithItsToken(t *testing.T) {
	s := newSite(t)
	a, b := s.instance(), s.instance()
	engineers, _ := s.svc.Engineers(t.Context())
	tok, secret := s.token("engineer", engineers[0].ID)
	v := newVisitor(t, a.URL)
	if code := v.signIn(secret); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	v.base = b.URL
	if code, body, _ := v.get("/"); code != http.StatusOK || !strings.Contains(body, engineers[0].Name) {
		t.Fatalf("the board on the other instance: %d", code)
	}
	if err := s.db.RevokeToken(t.Context(), "test", tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{a.URL, b.URL} {
		v.base = base
		if code, _, h := v.get("/"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/signin") {
			t.Errorf("the board after the token's revocation: %d to %q, want the sign-in page", code, h.Get("Location"))
		}
	}
	if code := v.signIn(secret); code != http.StatusUnauthorized {
		t.Errorf("signing in with the revoked token: %d, want 401", code)
	}
}

// The sign-in form sends the browser only to a path of the site, never to
// another site named in ?next=.
func TestSignInStaysOnTheSite(t *testing.T) {
	s := newSite(t)
	_, secret := s.token("admin", 0)
	v := newVisitor(t, s.instance().URL)
	for next, want := range map[string]string{"/timeline?from=2027-01-04": "/timeline?from=2027-01-04",
		"//evil.example/": "/", "https://evil.example/": "/", `/\evil.example`: "/"} {
		v.get("/signin")
		code, _, h := v.post("/signin", url.Values{"token": {secret}, "next": {next}})
		if code != http.StatusSeeOther || h.Get("Location") != want {
			t.Errorf("next=%q: %d to %q, want %q", next, code, h.Get("Location"), want)
		}
	}
	// The sign-in form checks its own CSRF secret too.
	v.get("/signin")
	if code, _, _ := v.post("/signin", url.Values{"token": {secret}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("sign-in without the form's secret: %d, want 403", code)
	}
}

// Swapping two shifts gives each to the other engineer, as two overrides
// written together with their audit entries; a swap of one engineer's two
// shifts is refused next to the second choice, and nothing is written.
func TestSwapShifts(t *testing.T) {
	s := newSite(t)
	_, secret := s.token("admin", 0)
	v := newVisitor(t, s.instance().URL)
	v.signIn(secret)
	_, page, _ := v.get("/overrides")
	choices := regexp.MustCompile(`<option value="(1\|1\|\d+\|\d+\|\d+)"`).FindAllStringSubmatch(page, -1)
	if len(choices) < 3 {
		t.Fatalf("the swap form offers %d L1 primary shifts", len(choices))
	}
	shift := func(v string) (eng int64, start time.Time) {
		var lvl, layer, st, end int64
		if n, err := fmt.Sscanf(strings.ReplaceAll(v, "|", " "), "%d %d %d %d %d", &lvl, &layer, &eng, &st, &end); n != 5 {
			t.Fatalf("shift value %q: %v", v, err)
		}
		return eng, time.Unix(st, 0)
	}
	first, second := choices[1][1], choices[2][1]
	e1, s1 := shift(first)
	e2, s2 := shift(second)
	if e1 == e2 {
		t.Fatalf("neighbouring shifts of one engineer: %s %s", first, second)
	}
	entries := func() int {
		es, err := s.db.AuditLog(t.Context(), audit.Filter{Entity: audit.Override})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	before := entries()

	if code, body, _ := v.post("/swap", url.Values{"first": {first}, "second": {first}}); code != http.StatusBadRequest ||
		!strings.Contains(body, `id="second-error"`) || entries() != before {
		t.Errorf("a swap of one shift with itself: %d, %d audit entries (was %d)", code, entries(), before)
	}
	if code, _, h := v.post("/swap", url.Values{"first": {first}, "second": {second}}); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "swap.done") {
		t.Fatalf("swap: %d to %q", code, h.Get("Location"))
	}
	for _, c := range []struct {
		at   time.Time
		want int64
	}{{s1.Add(time.Minute), e2}, {s2.Add(time.Minute), e1}} {
		if a, ok := s.svc.OnCall(oncall.L1, oncall.Primary, c.at); !ok || a.Engineer.ID != c.want || a.Shift.OverrideID == 0 {
			t.Errorf("L1 at %s after the swap: %+v, want engineer %d by an override", c.at, a.Shift, c.want)
		}
	}
	if got := entries(); got != before+2 {
		t.Errorf("audit entries of overrides: %d, want %d (two overrides)", got, before+2)
	}
	// The same choice again names shifts the schedule no longer has (they
	// are the overrides now): refused, nothing added.
	if code, _, _ := v.post("/swap", url.Values{"first": {first}, "second": {second}}); code != http.StatusBadRequest || entries() != before+2 {
		t.Errorf("the swap again: %d, %d entries, want 400 and still %d", code, entries(), before+2)
	}
}

// The rotation form adds a version; a bad zone is told next to the field
// and adds none.
func TestRotationForm(t *testing.T) {
	s := newSite(t)
	_, secret := s.token("admin", 0)
	v := newVisitor(t, s.instance().URL)
	v.signIn(secret)
	rots, _ := s.svc.Rotations(t.Context())
	r := rots[0]
	form := func(zone string) url.Values {
		f := url.Values{"name": {r.Name + " (edited)"}, "handoff": {"08:00"}, "shift_length": {"1"}, "shift_unit": {"days"},
			"start": {r.Start.String()}, "time_zone": {zone}}
		for i, p := range r.Participants {
			f.Set(fmt.Sprintf("participants[%d]", i), fmt.Sprint(p))
		}
		return f
	}
	path := fmt.Sprintf("/rotations/%d", r.ID)
	v.get(path)
	if code, body, _ := v.post(path, form("Mars/Olympus")); code != http.StatusBadRequest || !strings.Contains(body, `id="time_zone-error"`) {
		t.Errorf("a bad zone: %d", code)
	}
	if vs, _ := s.svc.Rotation(t.Context(), r.ID); len(vs) != 1 {
		t.Errorf("versions after the refused edit: %d, want 1", len(vs))
	}
	if code, _, h := v.post(path, form("Europe/Moscow")); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "rotation.saved") {
		t.Fatalf("edit: %d to %q", code, h.Get("Location"))
	}
	if vs, _ := s.svc.Rotation(t.Context(), r.ID); len(vs) != 2 || vs[1].Name != r.Name+" (edited)" || vs[1].Handoff.String() != "08:00" {
		t.Errorf("versions after the edit: %+v", vs)
	}
}

// The page speaks the language the browser asks for first, of the two it
// has, until one is chosen on the page.
func TestLanguage(t *testing.T) {
	s := newSite(t)
	ts := s.instance()
	for header, want := range map[string]string{"ru-RU,ru;q=0.9,en;q=0.8": "Вход", "de-DE,en;q=0.5,ru;q=0.4": "Sign in",
		"fr": "Sign in", "en;q=0.2,ru;q=0.7": "Вход"} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/signin", nil)
		req.Header.Set("Accept-Language", header)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(b), "<h1>"+want+"</h1>") {
			t.Errorf("Accept-Language %q: no %q", header, want)
		}
	}
}

// An engineer's session is refused every admin form even when the form is
// posted by hand with a valid CSRF token, and nothing is written.
func TestEngineerPostsNoAdminForm(t *testing.T) {
	s := newSite(t)
	engineers, _ := s.svc.Engineers(t.Context())
	_, secret := s.token("engineer", engineers[0].ID)
	v := newVisitor(t, s.instance().URL)
	if code := v.signIn(secret); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	v.get("/") // the session's CSRF token
	logged, _ := s.db.AuditLog(t.Context(), audit.Filter{})
	start := time.Now().Add(time.Hour).UTC()
	for path, form := range map[string]url.Values{
		"/overrides": {"engineer_id": {fmt.Sprint(engineers[0].ID)}, "level": {"L1"}, "layer": {"1"},
			"start": {start.Format("2006-01-02T15:04")}, "end": {start.Add(time.Hour).Format("2006-01-02T15:04")}},
		"/overrides/1/delete": {},
		"/swap":               {"first": {"x"}, "second": {"y"}},
		"/rotations/1":        {"name": {"mine now"}},
		fmt.Sprintf("/engineers/%d/contacts", engineers[1].ID): {"contacts[0].phone": {"+12025550177"}},
	} {
		if code, body, _ := v.post(path, form); code != http.StatusForbidden || !strings.Contains(strings.ToLower(body), "only") {
			t.Errorf("POST %s as an engineer: %d, want 403", path, code)
		}
	}
	if after, _ := s.db.AuditLog(t.Context(), audit.Filter{}); len(after) != len(logged) {
		t.Errorf("the refused forms wrote %d audit entries", len(after)-len(logged))
	}
}
