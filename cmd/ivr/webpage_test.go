package main

// The staff's web page driven in a real headless Chromium against the real
// serve (demo team, fake Twilio): what an admin and an engineer do with it.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/supportdesk/ivr/internal/browsertest"
)

// browser is one Chromium tab on the service.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	return &browser{t: t, ctx: browsertest.Start(t, 1280, 900), base: base}
}

// open loads path and returns the HTTP status of the page shown.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	return res.Status
}

// text is what the page shows, as a reader sees it.
func (b *browser) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		b.t.Fatalf("read the page: %v", err)
	}
	return s
}

// has reports whether css matches an element of the page.
func (b *browser) has(css string) bool {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", css)))
	if err != nil {
		b.t.Fatalf("query %s: %v", css, err)
	}
	return n > 0
}

// set gives the form control with this id a value, as typing or choosing.
func (b *browser) set(id, value string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID(id), value)); err != nil {
		b.t.Fatalf("set #%s: %v", id, err)
	}
}

// submit clicks the submit button of the form css selects and returns the
// status of the page that answers.
func (b *browser) submit(form string) int64 {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)))
	if err != nil {
		b.t.Fatalf("submit %s: %v", form, err)
	}
	return res.Status
}

// signIn signs in with secret from the sign-in page.
func (b *browser) signIn(secret string) int64 {
	b.t.Helper()
	b.open("/signin")
	if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.ID("token"), secret)); err != nil {
		b.t.Fatalf("type the token: %v", err)
	}
	return b.submit(`form[action="/signin"]`)
}

// shot saves a screenshot of the whole page at width px as name.png among
// the test's artifacts, and under IVR_SCREENSHOTS (docs/ for the README)
// when set.
func (b *browser) shot(name string, width int64) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(width, 800)); err != nil {
		b.t.Fatal(err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		b.t.Fatal(err)
	}
	dirs := []string{b.t.ArtifactDir()}
	if d := os.Getenv("IVR_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o600); err != nil {
			b.t.Fatal(err)
		}
	}
}

// wide is the desktop width of the screenshots; narrow a phone's.
const (
	wide   = 1280
	narrow = 360
)

// pageTime is how the page writes an instant in UTC.
func pageTime(t time.Time) string { return t.UTC().Format("Mon 2 Jan 15:04") }

// TestWebPageAdmin: an admin signs in, sees who is on call, adds an
// override and sees it on the board and the timeline, is told which field
// of a bad one is wrong, sees a coverage gap by its times and a DST day,
// plays a client's voicemail, reads the page in Russian, finds the
// override in the audit log, has a form without its CSRF token refused,
// and signs out.
func TestWebPageAdmin(t *testing.T) {
	r := startVoicemailRig(t)
	_, l1Phone := r.leaveVoicemail(voicemailWAV())
	pageCall := r.fake.Phone(l1Phone).ExpectCall() // the voicemail's page rings the L1 engineer
	b := newBrowser(t, r.base)

	if code := b.open("/"); code != http.StatusOK || !b.has(`form[action="/signin"]`) {
		t.Fatalf("/ signed out: %d, want the sign-in form", code)
	}
	if code := b.signIn(testAdminToken); code != http.StatusOK {
		t.Fatalf("sign in: %d:\n%s", code, b.text())
	}
	b.open("/?tz=UTC")
	l1, _ := r.onCall("L1", "primary")
	board := b.text()
	if !strings.Contains(board, "Who is on call now") || !strings.Contains(board, l1) || !strings.Contains(board, "+74996383867") {
		t.Fatalf("the board does not show %s on call at L1, or the lines:\n%s", l1, board)
	}
	b.shot("board", wide)
	b.shot("board-360", narrow)

	// An override: an L2 engineer covers L1 from now for three hours.
	l2, _ := r.onCall("L2", "primary")
	b.open("/overrides")
	now := time.Now().UTC()
	start, end := now.Truncate(time.Minute), now.Truncate(time.Minute).Add(3*time.Hour)
	b.set("engineer_id", fmt.Sprint(r.engineerID(l2)))
	b.set("level", "L1")
	b.set("start", start.Format("2006-01-02T15:04"))
	b.set("end", end.Format("2006-01-02T15:04"))
	b.set("reason", "covering a dentist visit")
	if code := b.submit(`form[action="/overrides"]`); code != http.StatusOK || !strings.Contains(b.text(), "Override added.") {
		t.Fatalf("add override: %d:\n%s", code, b.text())
	}
	b.open("/")
	if row := b.row("table.board", "L1 primary"); !strings.Contains(row, l2) || !strings.Contains(row, "override") || !strings.Contains(row, pageTime(end)) {
		t.Errorf("board's L1 row after the override: %q, want %s (override) until %s", row, l2, pageTime(end))
	}
	b.open("/timeline")
	want := fmt.Sprintf("L1: %s, %s – %s (override)", l2, pageTime(start), pageTime(end))
	if !strings.Contains(b.text(), want) {
		t.Errorf("the timeline lacks %q:\n%s", want, b.text())
	}
	if !b.has(".timeline .bar.override") {
		t.Errorf("the timeline draws no override bar")
	}

	// A bad override: its end before its start, told next to the field.
	b.open("/overrides")
	b.set("engineer_id", fmt.Sprint(r.engineerID(l2)))
	b.set("start", end.Format("2006-01-02T15:04"))
	b.set("end", start.Format("2006-01-02T15:04"))
	if code := b.submit(`form[action="/overrides"]`); code != http.StatusBadRequest {
		t.Errorf("a bad override: %d, want 400", code)
	}
	msg, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.ID("end-error")))
	if err != nil || !strings.Contains(msg, "must be after start") {
		t.Errorf("the error next to the end field: %q (%v), want the API's 'must be after start'", msg, err)
	}

	// A gap: every L3 rotation ends three hours from now.
	gapFrom := r.endRotations("L3", now.Truncate(time.Hour).Add(3*time.Hour))
	b.open("/timeline")
	windowEnd := time.Date(now.Year(), now.Month(), now.Day()+14, 0, 0, 0, 0, time.UTC)
	want = fmt.Sprintf("L3: nobody on call from %s to %s", pageTime(gapFrom), pageTime(windowEnd))
	if !strings.Contains(b.text(), want) || !b.has(".timeline .bar.gap") {
		t.Errorf("the timeline does not show the L3 gap %q:\n%s", want, b.text())
	}
	b.shot("timeline", wide)
	b.shot("timeline-360", narrow)

	// America/New_York's spring-forward day is 23 hours long.
	b.open("/timeline?from=2027-03-08&tz=America/New_York")
	if !strings.Contains(b.text(), "Sun 14 Mar (23 h)") {
		t.Errorf("the timeline over 14 March 2027 in New York shows no 23-hour day:\n%s", b.text())
	}
	b.open("/?tz=UTC")

	// The voicemail plays in the page.
	b.open("/calls")
	href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('a[href$="#voicemail"]').getAttribute("href")`))
	if err != nil {
		t.Fatalf("no call with a voicemail in the call log: %v\n%s", err, b.text())
	}
	b.open(href)
	played, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`new Promise((ok, fail) => {
		const a = document.querySelector("audio");
		a.addEventListener("error", () => fail(new Error("audio error " + (a.error && a.error.code))));
		a.addEventListener("timeupdate", () => { if (a.currentTime > 0) ok(a.duration); });
		a.play().catch(fail);
	})`, chromedp.EvalAwaitPromise))
	if err != nil || played < 1.9 || played > 2.1 {
		t.Errorf("the voicemail did not play: duration %v, %v; want the 2 s recording", played, err)
	}

	// The voicemail's page, open while its call rings; the admin takes it.
	b.open("/pages")
	link, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('table a[href^="/pages/"]').getAttribute("href")`))
	if err != nil {
		t.Fatalf("no page in the list: %v\n%s", err, b.text())
	}
	b.open(link)
	if !strings.Contains(b.text(), "open") || !b.has(`form[action$="/ack"]`) {
		t.Fatalf("the voicemail's page is not open with an acknowledge button:\n%s", b.text())
	}
	if code := b.submit(`form[action$="/ack"]`); code != http.StatusOK || !strings.Contains(b.text(), "Page acknowledged.") ||
		!strings.Contains(b.text(), "acknowledged") || b.has(`form[action$="/ack"]`) {
		t.Errorf("acknowledge: %d:\n%s", code, b.text())
	}
	pageCall.NoAnswer()
	r.fake.Phone(l1Phone).ExpectSMS("1001") // told that someone took the page

	// In Russian.
	b.open("/?lang=ru")
	if !strings.Contains(b.text(), "Кто дежурит сейчас") || !strings.Contains(b.text(), "Вы вошли как") {
		t.Errorf("the board in Russian:\n%s", b.text())
	}
	b.open("/?lang=en")

	// The audit log shows the override, who made it and what it was.
	b.open("/audit")
	if row := b.row("table.audit", "create override"); !strings.Contains(row, "via web") {
		t.Errorf("audit: %q, want the override created by the admin's token via web:\n%s", row, b.text())
	}
	if !b.has(`details pre`) || !strings.Contains(b.outerHTML("table.audit"), "covering a dentist visit") {
		t.Errorf("the audit entry does not carry the override's after")
	}

	// A form posted without its CSRF token is refused and changes nothing.
	b.open("/overrides")
	before := strings.Count(b.outerHTML("main"), "<tr>")
	b.set("engineer_id", fmt.Sprint(r.engineerID(l2)))
	b.set("level", "L2")
	b.set("start", now.Add(48*time.Hour).Format("2006-01-02T15:04"))
	b.set("end", now.Add(50*time.Hour).Format("2006-01-02T15:04"))
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector('form[action="/overrides"] [name=csrf]').remove() || true`)); err != nil {
		t.Fatal(err)
	}
	if code := b.submit(`form[action="/overrides"]`); code != http.StatusForbidden || !strings.Contains(b.text(), "The form expired or was sent from another site") {
		t.Errorf("an override without its CSRF token: %d:\n%s", code, b.text())
	}
	b.open("/overrides")
	if after := strings.Count(b.outerHTML("main"), "<tr>"); after != before {
		t.Errorf("rows on the overrides page: %d after the refused form, want %d", after, before)
	}

	// Sign out: the session is gone, also for a cookie kept from before.
	if code := b.submit(`form[action="/signout"]`); code != http.StatusOK || !strings.Contains(b.text(), "You are signed out.") {
		t.Errorf("sign out: %d:\n%s", code, b.text())
	}
	if b.open("/"); !b.has(`form[action="/signin"]`) {
		t.Errorf("/ after signing out does not ask to sign in:\n%s", b.text())
	}
}

// TestWebPageEngineer: an engineer signed in with their own token reads
// the board and edits their own contacts, but is refused another
// engineer's contacts and every admin form; and failed sign-ins beyond
// the limit are refused, the right token too.
func TestWebPageEngineer(t *testing.T) {
	r := startPagerRig(t)
	me, _ := r.onCall("L1", "primary")
	other, _ := r.onCall("L2", "primary")
	mine, theirs := r.engineerID(me), r.engineerID(other)
	var tok struct {
		Secret string `json:"secret"`
	}
	if code := r.post("/api/v1/tokens", map[string]any{"name": me + "'s phone", "role": "engineer", "engineer_id": mine}, &tok); code != http.StatusCreated {
		t.Fatalf("create the engineer's token: %d", code)
	}
	b := newBrowser(t, r.base)
	if code := b.signIn(tok.Secret); code != http.StatusOK || !strings.Contains(b.text(), "Signed in as "+me+" (engineer)") {
		t.Fatalf("sign in as %s: %d:\n%s", me, code, b.text())
	}
	if b.open("/engineers"); strings.Contains(b.text(), other) {
		t.Errorf("the engineers page shows an engineer %s's colleague %s:\n%s", me, other, b.text())
	}
	if code := b.open(fmt.Sprintf("/engineers/%d/contacts", mine)); code != http.StatusOK || !b.has(`input[name="contacts[0].phone"]`) {
		t.Errorf("own contacts: %d, want the form", code)
	}
	// A number they add for themselves is unverified until they type the
	// code sent to it.
	const added = "+12025550188"
	b.set("phone-1", added)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById("sms-1").checked = true`)); err != nil {
		t.Fatal(err)
	}
	if code := b.submit(`form[action$="/contacts"]`); code != http.StatusOK || !strings.Contains(b.text(), "Saved.") ||
		!strings.Contains(b.text(), added+" (SMS) unverified") && !strings.Contains(b.text(), added+" unverified") {
		t.Fatalf("add a number: %d:\n%s", code, b.text())
	}
	b.submit("form.send-code")
	sms := r.fake.Phone(added).ExpectSMS()
	if !strings.Contains(b.text(), "A code was sent to "+added) {
		t.Errorf("after sending the code:\n%s", b.text())
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(sms.Body())
	if code == "" {
		t.Fatalf("no 6-digit code in the text %q", sms.Body())
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	b.set("code-1", wrong)
	if status := b.submit("form.confirm-code"); status != http.StatusBadRequest || !b.has(".confirm-code .field-error") {
		t.Errorf("a wrong code: %d:\n%s", status, b.text())
	}
	b.set("code-1", code)
	if status := b.submit("form.confirm-code"); status != http.StatusOK || !strings.Contains(b.text(), added+" is verified.") || b.has(".tag.warn") {
		t.Errorf("the right code: %d:\n%s", status, b.text())
	}

	if code := b.open(fmt.Sprintf("/engineers/%d/contacts", theirs)); code != http.StatusForbidden || b.has(`input[name="contacts[0].phone"]`) {
		t.Errorf("%s's contacts for %s: %d, want 403 and no form", other, me, code)
	}
	for _, path := range []string{"/audit", "/rotations/1"} {
		if code := b.open(path); code != http.StatusForbidden || !strings.Contains(b.text(), "Only admins may do this.") {
			t.Errorf("%s for an engineer: %d:\n%s", path, code, b.text())
		}
	}
	if b.open("/overrides"); b.has(`form[action="/overrides"]`) || b.has(`form[action="/swap"]`) || b.has(`form[action$="/delete"]`) {
		t.Errorf("the overrides page offers an engineer its admin forms")
	}
	b.submit(`form[action="/signout"]`)

	// Five wrong tokens are told so; then even the right one is refused.
	for i := range 5 {
		if code := b.signIn("ivr_not-a-token"); code != http.StatusUnauthorized || !strings.Contains(b.text(), "is not a valid API token") {
			t.Fatalf("wrong token %d: %d:\n%s", i+1, code, b.text())
		}
	}
	if code := b.signIn(tok.Secret); code != http.StatusTooManyRequests || !regexp.MustCompile(`Too many sign-in attempts\. Try again in \d+s\.`).MatchString(b.text()) {
		t.Errorf("the right token after five wrong ones: %d:\n%s", code, b.text())
	}
	if b.open("/"); !b.has(`form[action="/signin"]`) {
		t.Errorf("signed in after a refused attempt")
	}
}

// outerHTML is the markup of the first element css selects.
func (b *browser) outerHTML(css string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("read %s: %v", css, err)
	}
	return s
}

// row is the text of the first body row of table css that contains s,
// its white space folded.
func (b *browser) row(table, s string) string {
	b.t.Helper()
	rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
		`[...document.querySelectorAll(%q)].map(r => r.innerText.replace(/\s+/g, " ").trim())`, table+" tbody tr")))
	if err != nil {
		b.t.Fatalf("read %s: %v", table, err)
	}
	for _, r := range rows {
		if strings.Contains(r, s) {
			return r
		}
	}
	return ""
}

// endRotations ends every rotation of level at at through the API and
// returns at.
func (r *pagerRig) endRotations(level string, at time.Time) time.Time {
	r.t.Helper()
	var list struct {
		Rotations []struct {
			ID    int64  `json:"id"`
			Level string `json:"level"`
		} `json:"rotations"`
	}
	if c := get(r.t, r.base+"/api/v1/rotations", testAdminToken, &list); c != http.StatusOK {
		r.t.Fatalf("list rotations: %d", c)
	}
	for _, rot := range list.Rotations {
		if rot.Level != level {
			continue
		}
		req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/api/v1/rotations/%d?at=%s", r.base, rot.ID, at.Format(time.RFC3339)), nil)
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			r.t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			r.t.Fatalf("end rotation %d: %d", rot.ID, res.StatusCode)
		}
	}
	return at
}
