package tickethooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/tickethooks"
)

const secret = "0123456789abcdef0123456789abcdef-shared"

var now = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

// pages is the pager's double: one page per key, as the engine keeps them.
type pages struct {
	mu    sync.Mutex
	byKey map[string]pager.Page
	reqs  []pager.Request
}

func (p *pages) Raise(_ context.Context, r pager.Request) (pager.Page, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := r.Validate(); err != nil {
		return pager.Page{}, false, err
	}
	if pg, ok := p.byKey[r.Key]; ok {
		return pg, false, nil
	}
	if p.byKey == nil {
		p.byKey = map[string]pager.Page{}
	}
	pg := pager.Page{ID: int64(len(p.byKey) + 41), Key: r.Key, Status: pager.Open}
	p.byKey[r.Key] = pg
	p.reqs = append(p.reqs, r)
	return pg, true, nil
}

func newHandler(t *testing.T, secret string, priorities string) (*tickethooks.Handler, *pages) {
	t.Helper()
	prios, err := tickethooks.ParsePriorities(priorities)
	if err != nil {
		t.Fatal(err)
	}
	pg := &pages{}
	h, err := tickethooks.New(tickethooks.Config{Secret: secret, Priorities: prios, Pages: pg, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return h, pg
}

type reply struct {
	status int
	Paged  bool   `json:"paged"`
	PageID int64  `json:"page_id"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Error  struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

// post sends body with the signature header; "" sends none.
func post(t *testing.T, h http.Handler, body string, signature string) reply {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, tickethooks.Path, strings.NewReader(body))
	if signature != "" {
		req.Header.Set(tickethooks.Header, signature)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out reply
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer %d is not JSON: %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	out.status = rec.Code
	return out
}

func signed(t *testing.T, h http.Handler, body string) reply {
	t.Helper()
	return post(t, h, body, tickethooks.Sign(secret, now, []byte(body)))
}

const opened = `{"event_id": "evt-9f2", "ticket_id": "1001", "priority": "critical", "level": "L2", "event": "opened",
	"subject": "Payments fail for every card", "at": "2026-12-01T02:58:30+03:00"}`

func TestTicketEvent(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h, pg := newHandler(t, secret, tickethooks.DefaultPriorities)
		got := signed(t, h, opened)
		if got.status != http.StatusCreated || !got.Paged || got.PageID != 41 || got.Status != "open" {
			t.Fatalf("answer %+v, want 201 paged, page 41 open", got)
		}
		want := pager.Request{Key: "ticket:evt-9f2", Source: pager.FromTickets, TicketID: "1001", Priority: oncall.Critical,
			Level: oncall.L2, Summary: "Payments fail for every card", RaisedAt: time.Date(2026, 11, 30, 23, 58, 30, 0, time.UTC)}
		if len(pg.reqs) != 1 || pg.reqs[0].Key != want.Key || pg.reqs[0].Source != want.Source || pg.reqs[0].TicketID != want.TicketID ||
			pg.reqs[0].Priority != want.Priority || pg.reqs[0].Level != want.Level || pg.reqs[0].Summary != want.Summary ||
			!pg.reqs[0].RaisedAt.Equal(want.RaisedAt) {
			t.Errorf("pages raised %+v, want %+v", pg.reqs, want)
		}
	})

	t.Run("Replayed", func(t *testing.T) {
		h, pg := newHandler(t, secret, tickethooks.DefaultPriorities)
		first := signed(t, h, opened)
		// The ticket system retries: the same event, signed again a
		// minute later, and its very first delivery replayed as it was.
		retry := post(t, h, opened, tickethooks.Sign(secret, now.Add(-time.Minute), []byte(opened)))
		again := signed(t, h, opened)
		if first.status != http.StatusCreated || retry.status != http.StatusOK || again.status != http.StatusOK {
			t.Fatalf("statuses %d, %d, %d; want 201, 200, 200", first.status, retry.status, again.status)
		}
		if retry.PageID != first.PageID || again.PageID != first.PageID || !retry.Paged {
			t.Errorf("pages %d, %d, %d: want one page", first.PageID, retry.PageID, again.PageID)
		}
		if len(pg.reqs) != 1 {
			t.Errorf("%d pages raised, want 1", len(pg.reqs))
		}
		// Another event of the same ticket (its escalation) is a page of
		// its own.
		esc := strings.Replace(strings.Replace(opened, "evt-9f2", "evt-a01", 1), `"opened"`, `"escalated"`, 1)
		if got := signed(t, h, esc); got.status != http.StatusCreated || got.PageID == first.PageID {
			t.Errorf("escalation: %+v, want a new page", got)
		}
	})

	t.Run("ErrStale", func(t *testing.T) {
		h, pg := newHandler(t, secret, tickethooks.DefaultPriorities)
		for _, at := range []time.Time{now.Add(-5*time.Minute - time.Second), now.Add(5*time.Minute + time.Second)} {
			got := post(t, h, opened, tickethooks.Sign(secret, at, []byte(opened)))
			if got.status != http.StatusUnauthorized || got.Error.Field != tickethooks.Header ||
				!strings.Contains(got.Error.Message, "5m0s") || !strings.Contains(got.Error.Message, "clock") {
				t.Errorf("signed at %s: %+v, want 401 saying it is more than 5 minutes off", at, got)
			}
		}
		if got := post(t, h, opened, tickethooks.Sign(secret, now.Add(-4*time.Minute), []byte(opened))); got.status != http.StatusCreated {
			t.Errorf("signed 4 minutes ago: %d, want 201", got.status)
		}
		if len(pg.reqs) != 1 {
			t.Errorf("%d pages, want the one in time", len(pg.reqs))
		}
	})

	t.Run("ErrSignature", func(t *testing.T) {
		h, pg := newHandler(t, secret, tickethooks.DefaultPriorities)
		good := tickethooks.Sign(secret, now, []byte(opened))
		for name, c := range map[string]struct{ body, sig, says string }{
			"missing":          {opened, "", "missing"},
			"other key":        {opened, tickethooks.Sign(strings.Repeat("x", 40), now, []byte(opened)), "does not match"},
			"body edited":      {strings.Replace(opened, "L2", "L1", 1), good, "does not match"},
			"timestamp edited": {opened, strings.Replace(good, "t=", "t=1", 1), "does not match"},
			"not hex":          {opened, "t=" + good[2:12] + ",v1=zz", "does not match"},
			"no v1":            {opened, "t=" + good[2:12], "is not t=<unix seconds>"},
			"garbage":          {opened, "sha256=abc", "is not t=<unix seconds>"},
		} {
			got := post(t, h, c.body, c.sig)
			if got.status != http.StatusUnauthorized || got.Error.Code != "unauthorized" || got.Error.Field != tickethooks.Header ||
				!strings.Contains(got.Error.Message, c.says) {
				t.Errorf("%s: %+v, want 401 saying %q", name, got, c.says)
			}
		}
		// A second v1 (a key being rotated at the sender) is accepted if
		// one matches.
		two := good + ",v1=" + strings.Repeat("ab", 32)
		if got := post(t, h, opened, "v1="+strings.Repeat("00", 32)+","+two); got.status != http.StatusCreated {
			t.Errorf("two signatures, one good: %+v", got)
		}
		if len(pg.reqs) != 1 {
			t.Errorf("%d pages, want only the one signed", len(pg.reqs))
		}
	})

	t.Run("ErrNoSecret", func(t *testing.T) {
		h, pg := newHandler(t, "", tickethooks.DefaultPriorities)
		got := signed(t, h, opened)
		if got.status != http.StatusServiceUnavailable || got.Error.Code != "unavailable" ||
			!strings.Contains(got.Error.Message, "IVR_TICKETS_WEBHOOK_SECRET") {
			t.Errorf("no secret: %+v, want 503 naming IVR_TICKETS_WEBHOOK_SECRET", got)
		}
		if len(pg.reqs) != 0 {
			t.Error("paged without a secret")
		}
		if _, err := tickethooks.New(tickethooks.Config{Secret: "short", Pages: pg}); err == nil ||
			!strings.Contains(err.Error(), "at least 32") {
			t.Errorf("a 5-character secret: %v, want refused", err)
		}
	})

	t.Run("ErrFields", func(t *testing.T) {
		h, pg := newHandler(t, secret, tickethooks.DefaultPriorities)
		set := func(field, value string) string {
			var m map[string]json.RawMessage
			_ = json.Unmarshal([]byte(opened), &m)
			if value == "" {
				delete(m, field)
			} else {
				m[field] = json.RawMessage(value)
			}
			b, _ := json.Marshal(m)
			return string(b)
		}
		for _, c := range []struct{ name, body, field, says string }{
			{"not JSON", `{"event_id": `, "", "not a JSON object"},
			{"an array", `[1, 2]`, "", "not a JSON object"},
			{"two values", opened + ` {}`, "", "more than one"},
			{"unknown field", set("prio", `"critical"`), "prio", "not a field"},
			{"no event id", set("event_id", ""), "event_id", "required"},
			{"blank event id", set("event_id", `"  "`), "event_id", "required"},
			{"event id too long", set("event_id", `"`+strings.Repeat("e", 129)+`"`), "event_id", "longer than 128"},
			{"event id an object", set("event_id", `{"id": 1}`), "event_id", "string or a whole number"},
			{"no ticket", set("ticket_id", ""), "ticket_id", "required"},
			{"ticket with a newline", set("ticket_id", `"10\n01"`), "ticket_id", "control characters"},
			{"ticket a boolean", set("ticket_id", `true`), "ticket_id", "string or a whole number"},
			{"no priority", set("priority", ""), "priority", "required"},
			{"unknown priority", set("priority", `"P1"`), "priority", `"P1" is not a priority`},
			{"priority a number", set("priority", `1`), "priority", "JSON string"},
			{"unknown level", set("level", `"L4"`), "level", "L1, L2 or L3"},
			{"unknown event", set("event", `"closed"`), "event", "opened or escalated"},
			{"no event", set("event", ""), "event", "opened or escalated"},
			{"no time", set("at", ""), "at", "required"},
			{"not RFC 3339", set("at", `"01.12.2026 03:00"`), "at", "RFC 3339"},
			{"in the future", set("at", `"2026-12-01T04:00:00Z"`), "at", "ahead"},
		} {
			got := signed(t, h, c.body)
			if got.status != http.StatusBadRequest || got.Error.Code != "invalid" || got.Error.Field != c.field ||
				!strings.Contains(got.Error.Message, c.says) {
				t.Errorf("%s: %d %+v, want 400 on %q saying %q", c.name, got.status, got.Error, c.field, c.says)
			}
		}
		if len(pg.reqs) != 0 {
			t.Errorf("bad events paged: %+v", pg.reqs)
		}
	})

	t.Run("NotPaging", func(t *testing.T) {
		h, pg := newHandler(t, secret, tickethooks.DefaultPriorities)
		body := strings.Replace(opened, "critical", "normal", 1)
		got := signed(t, h, body)
		if got.status != http.StatusAccepted || got.Paged || got.PageID != 0 ||
			!strings.Contains(got.Reason, "normal tickets do not page") || !strings.Contains(got.Reason, "critical, urgent") {
			t.Errorf("a normal ticket: %d %+v, want 202, paged false, saying why", got.status, got)
		}
		if len(pg.reqs) != 0 {
			t.Error("a normal ticket paged")
		}
		// Configured to page normal tickets too, it does; "none" pages
		// nothing.
		h, pg = newHandler(t, secret, "critical, urgent, normal")
		if got := signed(t, h, body); got.status != http.StatusCreated || len(pg.reqs) != 1 {
			t.Errorf("normal configured to page: %+v", got)
		}
		h, _ = newHandler(t, secret, "none")
		if got := signed(t, h, opened); got.status != http.StatusAccepted || !strings.Contains(got.Reason, "none") {
			t.Errorf("none configured: %+v", got)
		}
		if _, err := tickethooks.ParsePriorities("critical,p1"); err == nil || !strings.Contains(err.Error(), "--tickets-webhook-priorities") {
			t.Errorf("ParsePriorities(critical,p1) = %v, want an error naming the setting", err)
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		// No level: L1; a numeric ticket id; a subject of several lines
		// and more than pager.MaxSummary bytes becomes one line that fits.
		h, pg := newHandler(t, secret, tickethooks.DefaultPriorities)
		subject := "Платежи не проходят\nпосле выкладки. " + strings.Repeat("Всё стоит. ", 60)
		b, _ := json.Marshal(map[string]any{"event_id": 77, "ticket_id": 1001, "priority": "URGENT", "event": "opened",
			"subject": subject, "at": "2026-12-01T02:59:00Z"})
		if got := signed(t, h, string(b)); got.status != http.StatusCreated {
			t.Fatalf("answer %+v", got)
		}
		r := pg.reqs[0]
		if r.Key != "ticket:77" || r.TicketID != "1001" || r.Level != oncall.L1 || r.Priority != oncall.Urgent {
			t.Errorf("request %+v", r)
		}
		if len(r.Summary) > pager.MaxSummary || !utf8.ValidString(r.Summary) || strings.ContainsAny(r.Summary, "\n\t") ||
			!strings.HasPrefix(r.Summary, "Платежи не проходят после выкладки.") {
			t.Errorf("summary (%d bytes) %q", len(r.Summary), r.Summary)
		}
	})

	t.Run("ErrMethod", func(t *testing.T) {
		h, _ := newHandler(t, secret, tickethooks.DefaultPriorities)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tickethooks.Path, bytes.NewReader(nil)))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d, want 405", rec.Code)
		}
	})
}
