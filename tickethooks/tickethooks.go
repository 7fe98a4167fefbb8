// Package tickethooks owns the ticket system's webhook, POST
// /webhooks/tickets: "ticket opened or escalated at priority P, level L".
// It checks the request's signature (X-Ivr-Signature: a timestamp and an
// HMAC-SHA256 of timestamp and body under a shared secret, refused outside
// five minutes), reads the event, and raises a page for the priorities
// that page, once per event: the page's key is the ticket system's own
// event id. It imports pager, oncall and errs; never the Twilio driver
// (webhooks) nor the admin API.
package tickethooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

const (
	// Path is the webhook's route.
	Path = "/webhooks/tickets"
	// Header carries the signature: "t=<unix seconds>,v1=<hex HMAC-SHA256
	// of "<t>.<body>">".
	Header = "X-Ivr-Signature"
	// Tolerance is how far a signature's timestamp may be from the
	// server's clock, either way.
	Tolerance = 5 * time.Minute
	// MinSecret is the shortest shared secret accepted, in characters.
	MinSecret = 32
	// DefaultPriorities are the priorities that page unless configured.
	DefaultPriorities = "critical,urgent"
	// SecretEnv names the environment variable of the shared secret, for
	// the messages that say what to set.
	SecretEnv = "IVR_TICKETS_WEBHOOK_SECRET" //nolint:gosec // G101: the variable's name, not its value
	// PrioritiesSetting names the setting of the priorities that page.
	PrioritiesSetting = "--tickets-webhook-priorities"

	maxBody    = 64 << 10
	maxEventID = 128
	keyPrefix  = "ticket:"
)

// Log keys.
const (
	keyEvent    = "event_id"
	keyTicket   = "ticket"
	keyPage     = "page_id"
	keyPriority = "priority"
	keyCode     = "code"
)

// Pages is the pager as the webhook uses it.
type Pages interface {
	// Raise pages about r; a request whose Key names an existing page
	// returns that page with created false and pages nobody.
	Raise(ctx context.Context, r pager.Request) (p pager.Page, created bool, err error)
}

// Config is what a Handler needs.
type Config struct {
	// Secret is shared with the ticket system; "" leaves the webhook
	// answering 503 with what to set. At least MinSecret characters.
	Secret string
	// Priorities are the priorities that page (see ParsePriorities);
	// events at others are answered 202, paged false.
	Priorities []oncall.Priority
	Pages      Pages // required
	Now        func() time.Time
	Log        *zap.Logger
}

// Handler serves the webhook.
type Handler struct {
	secret []byte
	pages  Pages
	paging map[oncall.Priority]bool
	names  string // the paging priorities, for messages
	now    func() time.Time
	log    *zap.Logger
}

// New returns the webhook's handler. An error if the secret is set but
// too short, or Pages is missing.
func New(cfg Config) (*Handler, error) {
	if cfg.Pages == nil {
		return nil, errors.New("tickethooks: Config.Pages is required")
	}
	if cfg.Secret != "" && len(cfg.Secret) < MinSecret {
		return nil, fmt.Errorf("%s is %d characters long; use at least %d random characters (e.g. from `openssl rand -hex 32`)",
			SecretEnv, len(cfg.Secret), MinSecret)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	h := &Handler{secret: []byte(cfg.Secret), pages: cfg.Pages, paging: map[oncall.Priority]bool{},
		now: cfg.Now, log: cfg.Log.Named("tickethooks")}
	var names []string
	for _, p := range cfg.Priorities {
		h.paging[p] = true
		names = append(names, string(p))
	}
	h.names = strings.Join(names, ", ")
	if h.names == "" {
		h.names = "none"
	}
	return h, nil
}

// ParsePriorities reads the priorities that page: a comma-separated list
// such as "critical,urgent", or "none".
func ParsePriorities(s string) ([]oncall.Priority, error) {
	if strings.TrimSpace(s) == "none" {
		return []oncall.Priority{}, nil
	}
	var out []oncall.Priority
	for _, v := range strings.Split(s, ",") {
		p, err := oncall.ParsePriority(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a priority (critical, urgent, normal, low) or none", PrioritiesSetting, v)
		}
		out = append(out, p)
	}
	return out, nil
}

// Sign returns the X-Ivr-Signature value for body sent at t under secret:
// what a ticket system computes (and what tests send).
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac([]byte(secret), ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// result is the body of an accepted event.
type result struct {
	Paged  bool         `json:"paged"`
	PageID int64        `json:"page_id,omitempty"`
	Status pager.Status `json:"status,omitempty"` // the page's
	Reason string       `json:"reason,omitempty"` // why it did not page
}

// ServeHTTP checks the signature, reads the event and pages: 201 with the
// new page, 200 with the page an earlier delivery of the event raised,
// 202 (paged false) at a priority that does not page; 400 naming the
// field at fault, 401 for a missing, wrong or stale signature, 503
// without a secret.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.fail(w, r, errs.InvalidField("", "method %s is not allowed on %s: POST the event", r.Method, r.URL.Path), http.StatusMethodNotAllowed)
		return
	}
	if len(h.secret) == 0 {
		h.fail(w, r, errs.E(errs.Unavailable, "", "the ticket webhook is not set up: set %s to the secret the ticket system signs with (at least %d characters)",
			SecretEnv, MinSecret), 0)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		h.fail(w, r, errs.InvalidField("", "the body could not be read or is larger than %d bytes", maxBody), 0)
		return
	}
	if err := h.verify(r.Header.Get(Header), body); err != nil {
		h.fail(w, r, err, 0)
		return
	}
	ev, err := h.parse(body)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	out, err := h.Deliver(r.Context(), ev)
	switch {
	case err != nil:
		h.fail(w, r, requestField(err), 0)
	case !out.Paged:
		writeJSON(w, http.StatusAccepted, result{Reason: out.Reason})
	case out.Created:
		writeJSON(w, http.StatusCreated, result{Paged: true, PageID: out.Page.ID, Status: out.Page.Status})
	default:
		writeJSON(w, http.StatusOK, result{Paged: true, PageID: out.Page.ID, Status: out.Page.Status})
	}
}

// Event is a ticket opened or escalated, from the webhook or from a
// watcher of a ticket system (tickets/rt).
type Event struct {
	// ID is the ticket system's own id of the event; the page's key is
	// "ticket:<ID>", so the same event delivered twice, by any path,
	// pages once.
	ID       string
	TicketID string
	Priority oncall.Priority
	Level    oncall.Level
	Kind     string // "opened" or "escalated"
	Subject  string // one line; cut to the page's summary length
	At       time.Time
}

// Outcome is what delivering an event did.
type Outcome struct {
	Paged   bool       // the event's priority pages
	Created bool       // this delivery raised the page (else an earlier one did)
	Page    pager.Page // when Paged
	Reason  string     // why it did not page
}

// Deliver raises the page of ev when its priority pages, once per event
// id. Errors are the pager's (Invalid naming a pager.Request field).
func (h *Handler) Deliver(ctx context.Context, ev Event) (Outcome, error) {
	log := h.log.With(zap.String(keyEvent, ev.ID), zap.String(keyTicket, ev.TicketID), zap.String(keyPriority, string(ev.Priority)))
	if !h.paging[ev.Priority] {
		log.Info("ticket event does not page")
		return Outcome{Reason: fmt.Sprintf("%s tickets do not page: the paging priorities are %s (%s)",
			ev.Priority, h.names, PrioritiesSetting)}, nil
	}
	p, created, err := h.pages.Raise(ctx, pager.Request{
		Key: keyPrefix + ev.ID, Source: pager.FromTickets, TicketID: ev.TicketID, Priority: ev.Priority,
		Level: ev.Level, Summary: summary(ev.Subject), RaisedAt: ev.At,
	})
	if err != nil {
		return Outcome{}, err
	}
	if created {
		log.Info("ticket event paged", zap.Int64(keyPage, p.ID), zap.String(keyEventName, ev.Kind))
	} else {
		log.Info("ticket event delivered again; its page stands", zap.Int64(keyPage, p.ID))
	}
	return Outcome{Paged: true, Created: created, Page: p}, nil
}

// verify checks header against body: the signature must be genuine and
// its timestamp within Tolerance of now.
func (h *Handler) verify(header string, body []byte) error {
	const format = "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">"
	unauthorized := func(format string, args ...any) error {
		return errs.E(errs.Unauthorized, Header, format, args...)
	}
	if strings.TrimSpace(header) == "" {
		return unauthorized("is missing: sign each request as %s under the shared secret (%s)", format, SecretEnv)
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
			return unauthorized("%q is not %s", header, format)
		case k == "t":
			ts = v
		case k == "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			} else {
				sigs = append(sigs, nil) // never equal: counts as a wrong signature
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return unauthorized("%q is not %s", header, format)
	}
	want := mac(h.secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return unauthorized("does not match the body: v1 must be the lower-case hex HMAC-SHA256, under the shared secret (%s), of the timestamp t, a dot and the body exactly as sent", SecretEnv)
	}
	signed := time.Unix(unix, 0)
	if d := h.now().Sub(signed); d > Tolerance || d < -Tolerance {
		return unauthorized("was made at %s, %s from the server's clock (%s): signatures more than %s old or ahead are refused; sign each delivery, retries too, when it is sent, and check the sender's clock",
			signed.UTC().Format(time.RFC3339), d.Abs().Round(time.Second), h.now().UTC().Format(time.RFC3339), Tolerance)
	}
	return nil
}

// fields are the body's fields, in the order they are checked.
var fields = []string{"event_id", "ticket_id", "priority", "level", "event", "subject", "at"}

// parse reads body as a ticket event, naming the first field at fault.
func (h *Handler) parse(body []byte) (Event, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return Event{}, errs.InvalidField("", "the body is not a JSON object with the fields %s", strings.Join(fields, ", "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Event{}, errs.InvalidField("", "the body holds more than one JSON value")
	}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !slices.Contains(fields, k) {
			return Event{}, errs.InvalidField(k, "is not a field of a ticket event (%s)", strings.Join(fields, ", "))
		}
	}
	var ev Event
	var err error
	if ev.ID, err = id(raw, "event_id", maxEventID); err != nil {
		return Event{}, err
	}
	if ev.TicketID, err = id(raw, "ticket_id", 64); err != nil {
		return Event{}, err
	}
	prio, err := str(raw, "priority")
	switch {
	case err != nil:
		return Event{}, err
	case prio == "":
		return Event{}, errs.InvalidField("priority", "is required (critical, urgent, normal or low)")
	}
	if ev.Priority, err = oncall.ParsePriority(prio); err != nil {
		return Event{}, err
	}
	ev.Level = oncall.L1
	if lvl, err := str(raw, "level"); err != nil {
		return Event{}, err
	} else if lvl != "" {
		if ev.Level, err = oncall.ParseLevel(lvl); err != nil {
			return Event{}, errs.InvalidField("level", "%q is not a support level (L1, L2 or L3)", lvl)
		}
	}
	if ev.Kind, err = str(raw, "event"); err != nil {
		return Event{}, err
	}
	if ev.Kind != "opened" && ev.Kind != "escalated" {
		return Event{}, errs.InvalidField("event", "%q is not an event (opened or escalated)", ev.Kind)
	}
	subject, err := str(raw, "subject")
	if err != nil {
		return Event{}, err
	}
	ev.Subject = subject
	at, err := str(raw, "at")
	switch {
	case err != nil:
		return Event{}, err
	case at == "":
		return Event{}, errs.InvalidField("at", "is required: the event's own time, in RFC 3339 such as 2026-12-01T03:04:05Z")
	}
	if ev.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return Event{}, errs.InvalidField("at", "%q is not a time in RFC 3339 such as 2026-12-01T03:04:05Z", at)
	}
	if ahead := ev.At.Sub(h.now()); ahead > Tolerance {
		return Event{}, errs.InvalidField("at", "%s is %s ahead of the server's clock: the page's deadline counts from it", at, ahead.Round(time.Second))
	}
	return ev, nil
}

// str returns the string field name, "" when it is absent or null.
func str(raw map[string]json.RawMessage, name string) (string, error) {
	v, ok := raw[name]
	if !ok || string(v) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errs.InvalidField(name, "must be a JSON string, not %s", v)
	}
	return s, nil
}

// id returns the required id field name: a string, or a whole number
// (ticket systems' ids often are), of at most n characters and no control
// characters.
func id(raw map[string]json.RawMessage, name string, n int) (string, error) {
	v := strings.TrimSpace(string(raw[name]))
	var s string
	switch {
	case v == "" || v == "null":
		return "", errs.InvalidField(name, "is required")
	case v[0] == '"':
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return "", errs.InvalidField(name, "must be a JSON string, not %s", v)
		}
	default:
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			return "", errs.InvalidField(name, "must be a string or a whole number, not %s", v)
		}
		s = v
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errs.InvalidField(name, "is required")
	case len(s) > n:
		return "", errs.InvalidField(name, "is longer than %d characters", n)
	case strings.ContainsFunc(s, isControl):
		return "", errs.InvalidField(name, "contains control characters")
	}
	return s, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// summary is a ticket's subject as a page's summary: one line (control
// characters become spaces), at most pager.MaxSummary bytes, never cut
// inside a character.
func summary(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return isControl(r) || r == ' ' }), " ")
	if len(s) <= pager.MaxSummary {
		return s
	}
	n := pager.MaxSummary
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n])
}

// requestField renames the fields of a pager.Request's validation error
// to the body's.
func requestField(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.Invalid {
		return err
	}
	names := map[string]string{"key": "event_id", "raised_at": "at", "summary": "subject"}
	if n, ok := names[e.Field]; ok {
		return errs.InvalidField(n, "%s", e.Message)
	}
	return err
}

// fail writes err as the service's one error shape,
// {"error": {"code", "field", "message"}}, with the status its code maps
// to (status, when not 0, wins). Errors that are not *errs.Error are
// internal: logged, and shown only as "internal error".
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, status int) {
	var e *errs.Error
	if !errors.As(err, &e) || e.Code == errs.Internal {
		h.log.Error("ticket event", zap.String(keyPath, r.URL.Path), zap.Error(err))
		e = errs.E(errs.Internal, "", "internal error")
	} else {
		h.log.Info("ticket event refused", zap.String(keyCode, string(e.Code)), zap.String(keyField, e.Field), zap.String(keyMessage, e.Message))
	}
	if status == 0 {
		status = errs.HTTPStatus(e.Code)
	}
	type detail struct {
		Code    errs.Code `json:"code"`
		Field   string    `json:"field,omitempty"`
		Message string    `json:"message"`
	}
	writeJSON(w, status, struct {
		Error detail `json:"error"`
	}{detail{e.Code, e.Field, e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// More log keys.
const (
	keyEventName = "event"
	keyField     = "field"
	keyMessage   = "message"
	keyPath      = "path"
)
