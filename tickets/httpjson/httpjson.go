// Package httpjson connects the call flow to a team's own ticket system
// through a small HTTP JSON API, which the team serves in front of their
// system (a short adapter script is enough). Client implements ivr.Tickets.
// It depends on the domain (ivr, oncall, errs, tickets) and the standard
// library; nothing depends on it but the wiring in cmd/ivr.
//
// # The API a ticket system serves
//
// Every request carries "Authorization: Bearer <token>" and
// "Accept: application/json"; request bodies are JSON
// ("Content-Type: application/json; charset=utf-8"). {base} is the
// configured base URL, which may have a path (https://tickets.example.com/ivr).
//
//	GET  {base}/tickets/{id}        200 and a ticket; 404 if there is no such ticket
//	POST {base}/tickets             a new ticket in; 200 or 201 and the ticket opened
//	POST {base}/tickets/{id}/notes  a note in; any 2xx; 404 if there is no such ticket
//
// A ticket, as GET returns it:
//
//	{"id": "1001", "subject": "VPN drops every hour", "priority": "critical", "level": "L2"}
//
//	id        string (a JSON number is accepted too): digits, so that a caller
//	          can key it on the phone; if absent, the id asked for
//	subject   string, optional
//	priority  "critical", "urgent", "normal" or "low" (any case); required
//	level     "L1", "L2" or "L3" (or 1, 2, 3): the support level the ticket is
//	          escalated to; absent or null means L1
//
// A new ticket, as POST {base}/tickets receives it (caller_phone and
// language are left out when unknown):
//
//	{"subject": "Phone call from +12025550142", "priority": "urgent",
//	 "caller_phone": "+12025550142", "language": "en", "line": "+12025952118"}
//
//	subject       string: "Phone call from …" in the caller's language
//	priority      the priority the caller chose
//	caller_phone  E.164 of the caller; absent when the number was withheld
//	language      "ru" or "en": the language the caller speaks
//	line          E.164 of the support line called
//
// The answer is the ticket opened, as above; only its id is required (the
// priority asked for and L1 are assumed for fields left out).
//
// A note, as POST {base}/tickets/{id}/notes receives it: the summary of a
// call, in the caller's language, for the client to read in their ticket.
//
//	{"author": "IVR", "text": "Phone call to the Washington line …"}
//
// # Errors
//
// A 404 is errs.NotFound. Anything else that is not the answer described
// above — a timeout (DefaultTimeout unless the HTTP client says otherwise,
// and never past the caller's context), a refused connection, another
// status, a body that is not such JSON or is larger than MaxResponseBytes,
// an unknown priority or level — is errs.Unavailable wrapping the cause: the
// call flow then goes on without a ticket and logs why.
package httpjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets"
)

// DefaultTimeout bounds each request when the Client has no HTTPClient of
// its own: a caller is waiting on the line.
const DefaultTimeout = 3 * time.Second

// MaxResponseBytes bounds a response body; a ticket is far smaller.
const MaxResponseBytes = 1 << 20

var _ ivr.Tickets = (*Client)(nil)

// Client talks to a ticket system's HTTP JSON API. Set its fields before
// first use; its methods are then safe for concurrent use.
type Client struct {
	// BaseURL is the API's absolute http or https URL, without the
	// trailing /tickets.
	BaseURL string
	// Token is sent as the bearer token; "" sends none.
	Token string
	// HTTPClient sends the requests; nil means a client with
	// DefaultTimeout.
	HTTPClient *http.Client
}

// New returns a Client for the API at baseURL, with an HTTP client whose
// timeout is timeout (DefaultTimeout if 0). Invalid (base_url) if baseURL is
// not an absolute http or https URL.
func New(baseURL, token string, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errs.InvalidField("base_url", "%q is not an http or https URL such as https://tickets.example.com/ivr", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errs.InvalidField("base_url", "%q must not have a query or a fragment", baseURL)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{BaseURL: u.String(), Token: token, HTTPClient: &http.Client{Timeout: timeout}}, nil
}

// Ticket returns ticket id; errs.NotFound on a 404, errs.Unavailable
// wrapping the cause on any other failure.
func (c *Client) Ticket(ctx context.Context, id string) (ivr.Ticket, error) {
	var w wireTicket
	if err := c.do(ctx, http.MethodGet, "/tickets/"+url.PathEscape(id), nil, &w); err != nil {
		return ivr.Ticket{}, err
	}
	t, err := w.ticket("")
	if err != nil {
		return ivr.Ticket{}, unavailable(fmt.Errorf("GET ticket %s: %w", id, err))
	}
	return t, nil
}

// OpenTicket opens a ticket for a caller who has none and returns it with
// its id; errs.Unavailable wrapping the cause on any failure.
func (c *Client) OpenTicket(ctx context.Context, nt ivr.NewTicket) (ivr.Ticket, error) {
	in := wireNewTicket{Subject: tickets.CallSubject(nt), Priority: nt.Priority, CallerPhone: nt.CallerPhone,
		Language: nt.Language, Line: nt.Line}
	var w wireTicket
	if err := c.do(ctx, http.MethodPost, "/tickets", in, &w); err != nil {
		if errs.Is(err, errs.NotFound) {
			// No such endpoint: the system is misconfigured, not the
			// ticket missing.
			return ivr.Ticket{}, unavailable(errors.New("POST /tickets: 404"))
		}
		return ivr.Ticket{}, err
	}
	t, err := w.ticket(nt.Priority)
	if err == nil && t.ID == "" {
		err = errors.New("the answer has no id")
	}
	if err != nil {
		return ivr.Ticket{}, unavailable(fmt.Errorf("POST ticket: %w", err))
	}
	return t, nil
}

// AddNote appends note to ticket id, written by the phone line;
// errs.NotFound on a 404, errs.Unavailable wrapping the cause on any other
// failure.
func (c *Client) AddNote(ctx context.Context, id string, note string) error {
	return c.do(ctx, http.MethodPost, "/tickets/"+url.PathEscape(id)+"/notes",
		wireNote{Author: tickets.Author, Text: note}, nil)
}

// wireTicket is a ticket as the API sends it; id and level accept a
// string or a number.
type wireTicket struct {
	ID       json.RawMessage `json:"id"`
	Subject  string          `json:"subject"`
	Priority string          `json:"priority"`
	Level    json.RawMessage `json:"level"`
}

type wireNewTicket struct {
	Subject     string          `json:"subject"`
	Priority    oncall.Priority `json:"priority"`
	CallerPhone string          `json:"caller_phone,omitempty"`
	Language    oncall.Language `json:"language,omitempty"`
	Line        string          `json:"line,omitempty"`
}

type wireNote struct {
	Author string `json:"author"`
	Text   string `json:"text"`
}

// ticket converts w; an absent priority is defaultPriority, or an error if
// that is "".
func (w wireTicket) ticket(defaultPriority oncall.Priority) (ivr.Ticket, error) {
	t := ivr.Ticket{Subject: w.Subject}
	var err error
	if t.ID, err = wireID(w.ID); err != nil {
		return t, err
	}
	switch {
	case strings.TrimSpace(w.Priority) != "":
		p, err := oncall.ParsePriority(w.Priority)
		if err != nil {
			return t, fmt.Errorf("priority %q is not critical, urgent, normal or low", w.Priority)
		}
		t.Priority = p
	case defaultPriority != "":
		t.Priority = defaultPriority
	default:
		return t, errors.New("the ticket has no priority")
	}
	if t.Level, err = wireLevel(w.Level); err != nil {
		return t, err
	}
	return t, nil
}

// wireID reads an id sent as a string or as a whole number.
func wireID(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("id: %w", err)
		}
		return strings.TrimSpace(s), nil
	}
	if tickets.ValidID(string(raw)) {
		return string(raw), nil
	}
	return "", fmt.Errorf("id %s is neither a string nor a whole number", shorten(string(raw)))
}

// wireLevel reads a level sent as "L2", "2" or 2; absent is L1.
func wireLevel(raw json.RawMessage) (oncall.Level, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return oncall.L1, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("level: %w", err)
		}
	}
	l, err := oncall.ParseLevel(s)
	if err != nil {
		return 0, fmt.Errorf("level %s is not L1, L2 or L3", shorten(string(raw)))
	}
	return l, nil
}

// do sends a request with in as its JSON body (nil: none) and decodes a 2xx
// answer's body into out (nil: the body is ignored). A 404 is
// errs.NotFound; every other failure is errs.Unavailable.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	what := method + " " + path
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return unavailable(fmt.Errorf("%s: %w", what, err))
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return unavailable(fmt.Errorf("%s: %w", what, err))
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	res, err := c.client().Do(req)
	if err != nil {
		return unavailable(err) // a *url.Error names the method and URL
	}
	defer func() { _ = res.Body.Close() }() // read path: ReadAll's error is the one that counts
	data, err := io.ReadAll(io.LimitReader(res.Body, MaxResponseBytes+1))
	switch {
	case err != nil:
		return unavailable(fmt.Errorf("%s: read the answer: %w", what, err))
	case len(data) > MaxResponseBytes:
		return unavailable(fmt.Errorf("%s: the answer is larger than %d bytes", what, MaxResponseBytes))
	case res.StatusCode == http.StatusNotFound:
		return errs.E(errs.NotFound, "", "the ticket system has no such ticket")
	case res.StatusCode < 200 || res.StatusCode > 299:
		return unavailable(fmt.Errorf("%s: status %d: %s", what, res.StatusCode, shorten(string(data))))
	case out == nil:
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return unavailable(fmt.Errorf("%s: the answer is not the JSON expected: %w", what, err))
	}
	return nil
}

func (c *Client) client() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// unavailable is errs.Unavailable wrapping cause: errs.CodeOf sees the
// code, errors.Is the cause, and the log the whole text.
func unavailable(cause error) error {
	return fmt.Errorf("%w: %w", errs.E(errs.Unavailable, "", "the ticket system is unavailable"), cause)
}

// shorten returns at most 200 bytes of s, control characters removed, for
// an error message.
func shorten(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return strings.TrimSpace(s)
}
