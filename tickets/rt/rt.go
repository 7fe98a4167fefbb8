// Package rt connects the service to Request Tracker 5 through its REST 2
// API (/REST/2.0): Client is RT as the call flow's ticket system (look a
// ticket up, open one for a caller, add the call's note as a comment), and
// Watcher reads RT's changes and delivers the tickets opened or escalated
// at a paging priority to the pager's ticket-event path (tickethooks). It
// depends on the domain (ivr, oncall, errs, tickets), tickethooks' event
// type and the standard library; nothing depends on it but the wiring in
// cmd/ivr.
//
// The REST calls are written by hand over net/http: no maintained Go
// client of RT's REST 2 exists, and the service needs five endpoints. What
// RT 5.0.3 answers, traps included, is recorded in internal/rttest's
// package comment, and the tests run against a real RT.
//
// # Mapping
//
//   - Priority: RT's number, read by Thresholds (by default ≥ 90 critical,
//     ≥ 70 urgent, ≥ 30 normal, else low). A ticket opened by a caller gets
//     its priority's threshold (critical 90, urgent 70, normal 30, low 0).
//   - Level: the ticket's queue, by name (Config.Queues; by default L1, L2
//     and L3); any other queue is L1.
//   - A merged ticket reads as the ticket it was merged into; a ticket in an
//     inactive status (Config.Inactive: resolved, rejected, deleted) reads
//     as closed.
package rt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets"
)

// DefaultTimeout bounds each request when Config.Timeout is 0: a caller
// may be waiting on the line.
const DefaultTimeout = 3 * time.Second

// maxResponseBytes bounds an answer; a page of 100 search results is far
// smaller.
const maxResponseBytes = 4 << 20

// DefaultInactive are the statuses read as closed: the inactive ones of
// RT's default lifecycle.
var DefaultInactive = []string{"resolved", "rejected", "deleted"}

// Thresholds read RT's numeric priority: a ticket at Critical or above is
// critical, at Urgent or above urgent, at Normal or above normal, below it
// low.
type Thresholds struct{ Critical, Urgent, Normal int }

// DefaultThresholds match the four-level %PriorityAsString the README
// recommends (Low 0, Normal 30, Urgent 70, Critical 90); they read RT's
// stock Low 0 / Medium 50 / High 100 as low / normal / critical.
var DefaultThresholds = Thresholds{Critical: 90, Urgent: 70, Normal: 30}

// Priority is the priority of an RT priority n.
func (t Thresholds) Priority(n int) oncall.Priority {
	switch {
	case n >= t.Critical:
		return oncall.Critical
	case n >= t.Urgent:
		return oncall.Urgent
	case n >= t.Normal:
		return oncall.Normal
	}
	return oncall.Low
}

// Number is the RT priority a ticket of priority p is opened with.
func (t Thresholds) Number(p oncall.Priority) int {
	switch p {
	case oncall.Critical:
		return t.Critical
	case oncall.Urgent:
		return t.Urgent
	case oncall.Normal:
		return t.Normal
	}
	return 0
}

// Config is how to reach RT and read its tickets.
type Config struct {
	// URL is RT's web address, e.g. https://rt.example.com (REST 2 is
	// below it, at /REST/2.0).
	URL string
	// Token is an RT auth token of the service's RT user; when "",
	// User and Password are sent as basic auth.
	Token          string
	User, Password string
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Thresholds read priorities; zero means DefaultThresholds.
	Thresholds Thresholds
	// Queues maps queue names to levels; nil means L1, L2 and L3 by their
	// own names. A queue not listed is L1.
	Queues map[string]oncall.Level
	// NewQueue is the queue of the tickets opened for callers; "" means
	// "L1".
	NewQueue string
	// Inactive are the statuses read as closed; nil means
	// DefaultInactive.
	Inactive []string
	// HTTPClient sends the requests; nil means one with Timeout.
	HTTPClient *http.Client
}

// Client is RT as the call flow's ticket system. Its methods are safe for
// concurrent use.
type Client struct {
	base       string // .../REST/2.0
	auth       string // the Authorization header
	thresholds Thresholds
	queues     map[string]oncall.Level
	newQueue   string
	inactive   []string
	http       *http.Client

	mu         sync.Mutex
	queueNames map[string]queueName // queue id → name, read once in a while
}

type queueName struct {
	name string
	at   time.Time
}

// queueNameTTL is how long a queue's name is remembered: renaming a queue
// is rare, and reading it again costs a request on a caller's path.
const queueNameTTL = 10 * time.Minute

var _ ivr.Tickets = (*Client)(nil)

// New returns a Client for cfg; Invalid naming the field for a URL that
// is not http(s) or missing credentials.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errs.InvalidField("url", "%q is not RT's web address, an http or https URL such as https://rt.example.com", cfg.URL)
	}
	c := &Client{base: strings.TrimSuffix(u.String(), "/") + "/REST/2.0", thresholds: cfg.Thresholds,
		queues: cfg.Queues, newQueue: cfg.NewQueue, inactive: cfg.Inactive, http: cfg.HTTPClient,
		queueNames: map[string]queueName{}}
	switch {
	case cfg.Token != "":
		c.auth = "token " + cfg.Token
	case cfg.User != "" && cfg.Password != "":
		req, _ := http.NewRequest(http.MethodGet, c.base, nil)
		req.SetBasicAuth(cfg.User, cfg.Password)
		c.auth = req.Header.Get("Authorization")
	default:
		return nil, errs.InvalidField("token", "is required (an RT auth token of the service's RT user), or a user and a password")
	}
	if c.thresholds == (Thresholds{}) {
		c.thresholds = DefaultThresholds
	}
	if !(c.thresholds.Critical > c.thresholds.Urgent && c.thresholds.Urgent > c.thresholds.Normal) {
		return nil, errs.InvalidField("priorities", "need critical > urgent > normal, have %d, %d, %d",
			c.thresholds.Critical, c.thresholds.Urgent, c.thresholds.Normal)
	}
	if c.queues == nil {
		c.queues = map[string]oncall.Level{"L1": oncall.L1, "L2": oncall.L2, "L3": oncall.L3}
	}
	if c.newQueue == "" {
		c.newQueue = "L1"
	}
	if c.inactive == nil {
		c.inactive = DefaultInactive
	}
	if c.http == nil {
		timeout := cfg.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		c.http = &http.Client{Timeout: timeout}
	}
	return c, nil
}

// ref is RT's reference to another record; id is a string (a user's is
// their Name).
type ref struct {
	ID string `json:"id"`
}

// wireTicket is GET /ticket/{id}'s answer, the fields read.
type wireTicket struct {
	ID       json.Number `json:"id"`
	Subject  string      `json:"Subject"`
	Status   string      `json:"Status"`
	Priority string      `json:"Priority"`
	Queue    ref         `json:"Queue"`
}

// Ticket returns ticket id as the flow sees it: the ticket it was merged
// into, if it was; Closed when its status is inactive. errs.NotFound for no
// such ticket, errs.Unavailable wrapping the cause on any other failure.
func (c *Client) Ticket(ctx context.Context, id string) (ivr.Ticket, error) {
	if !tickets.ValidID(id) {
		return ivr.Ticket{}, errs.E(errs.NotFound, "", "there is no ticket %q", id)
	}
	var w wireTicket
	status, err := c.do(ctx, http.MethodGet, "/ticket/"+id, nil, &w)
	switch {
	case err != nil:
		return ivr.Ticket{}, err
	case status == http.StatusNotFound:
		return ivr.Ticket{}, errs.E(errs.NotFound, "", "RT has no ticket %s", id)
	case status != http.StatusOK:
		return ivr.Ticket{}, unavailable(fmt.Errorf("GET ticket %s: status %d", id, status))
	}
	queue, err := c.queueName(ctx, w.Queue.ID)
	if err != nil {
		return ivr.Ticket{}, err
	}
	t := c.flowTicket(w.ID.String(), w.Subject, w.Priority, queue, w.Status)
	if t.ID == "" {
		t.ID = id
	}
	return t, nil
}

// flowTicket maps RT's fields to the flow's ticket. A priority that is not
// a number (a label stored as text) maps to its name if it is one, else
// to none, which the flow routes as normal.
func (c *Client) flowTicket(id, subject, priority, queue, status string) ivr.Ticket {
	return ivr.Ticket{ID: id, Subject: subject, Priority: c.priority(priority), Level: c.level(queue), Closed: c.closed(status)}
}

// priority reads RT's priority field: a number by the thresholds, a
// label stored as text by its name, else none.
func (c *Client) priority(field string) oncall.Priority {
	if n, err := strconv.Atoi(strings.TrimSpace(field)); err == nil {
		return c.thresholds.Priority(n)
	}
	if p, err := oncall.ParsePriority(field); err == nil {
		return p
	}
	return ""
}

// closed reports whether status is one read as closed.
func (c *Client) closed(status string) bool {
	return slices.Contains(c.inactive, strings.ToLower(status))
}

func (c *Client) level(queue string) oncall.Level {
	if l, ok := c.queues[queue]; ok {
		return l
	}
	return oncall.L1
}

// queueName returns the name of queue id, from memory when read in the
// last queueNameTTL.
func (c *Client) queueName(ctx context.Context, id string) (string, error) {
	c.mu.Lock()
	q, ok := c.queueNames[id]
	c.mu.Unlock()
	if ok && time.Since(q.at) < queueNameTTL {
		return q.name, nil
	}
	if _, err := strconv.Atoi(id); err != nil {
		return "", unavailable(fmt.Errorf("the ticket's queue %q is not a queue id", id))
	}
	var w struct {
		Name string `json:"Name"`
	}
	status, err := c.do(ctx, http.MethodGet, "/queue/"+id, nil, &w)
	switch {
	case err != nil:
		return "", err
	case status != http.StatusOK:
		return "", unavailable(fmt.Errorf("GET queue %s: status %d", id, status))
	}
	c.mu.Lock()
	c.queueNames[id] = queueName{name: w.Name, at: time.Now()}
	c.mu.Unlock()
	return w.Name, nil
}

// OpenTicket opens a ticket for a caller who has none, in Config.NewQueue,
// with the subject tickets.CallSubject gives and the caller's priority.
// Its requestor is the RT user whose phone is the caller's number, when
// exactly one is and RT lets the service search users; otherwise it has none (RT's autoreply then mails
// nobody), and the number is in the subject. A ticket that follows a
// closed one refers to it. errs.Unavailable wrapping the cause on any
// failure.
func (c *Client) OpenTicket(ctx context.Context, nt ivr.NewTicket) (ivr.Ticket, error) {
	body := map[string]any{"Queue": c.newQueue, "Subject": tickets.CallSubject(nt),
		// RT stores a priority label sent on create as text: send the number.
		"Priority": c.thresholds.Number(nt.Priority)}
	if nt.CallerPhone != "" {
		// Best effort: a search RT refuses (the API user may not see
		// users) leaves the ticket without a requestor, not the caller
		// without a ticket.
		if user, err := c.userByPhone(ctx, nt.CallerPhone); err == nil && user != "" {
			body["Requestor"] = user
		}
	}
	if tickets.ValidID(nt.Follows) {
		body["RefersTo"] = nt.Follows
	}
	var w struct {
		ID json.Number `json:"id"`
	}
	status, err := c.do(ctx, http.MethodPost, "/ticket", body, &w)
	switch {
	case err != nil:
		return ivr.Ticket{}, err
	case status != http.StatusCreated:
		return ivr.Ticket{}, unavailable(fmt.Errorf("POST ticket in queue %s: status %d", c.newQueue, status))
	case !tickets.ValidID(w.ID.String()):
		return ivr.Ticket{}, unavailable(fmt.Errorf("POST ticket: the answer's id %q is not a ticket id", w.ID))
	}
	return ivr.Ticket{ID: w.ID.String(), Subject: body["Subject"].(string), Priority: nt.Priority, Level: c.level(c.newQueue)}, nil
}

// phoneFields are the user fields searched for a caller's number, each on
// its own (RT ANDs the conditions of one search).
var phoneFields = []string{"MobilePhone", "WorkPhone", "HomePhone"}

// userByPhone returns the Name of the one RT user whose phone is phone, ""
// when none or several are. RT answers every user when the API user may
// not search phone fields (they must be in $UserSummaryExtraInfo): an
// answer of more than one user is taken as no match, so that such a site
// gets no wrong requestor.
func (c *Client) userByPhone(ctx context.Context, phone string) (string, error) {
	type result struct {
		names []string
		err   error
	}
	results := make([]result, len(phoneFields))
	var wg sync.WaitGroup
	for i, field := range phoneFields {
		wg.Go(func() {
			q, _ := json.Marshal([]map[string]string{{"field": field, "value": phone}})
			var w struct {
				Total json.Number `json:"total"`
				Items []ref       `json:"items"`
			}
			status, err := c.do(ctx, http.MethodGet, "/users?per_page=2&query="+url.QueryEscape(string(q)), nil, &w)
			switch {
			case err != nil:
				results[i].err = err
			case status != http.StatusOK:
				results[i].err = unavailable(fmt.Errorf("search users by %s: status %d", field, status))
			default:
				for _, it := range w.Items {
					results[i].names = append(results[i].names, it.ID)
				}
				if n, _ := w.Total.Int64(); n > int64(len(w.Items)) {
					results[i].names = append(results[i].names, "…") // more than shown: several
				}
			}
		})
	}
	wg.Wait()
	var names []string
	for _, r := range results {
		if r.err != nil {
			return "", r.err
		}
		for _, n := range r.names {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) != 1 {
		return "", nil
	}
	return names[0], nil
}

// AddNote adds note to ticket id as a comment (not a correspondence: the
// client is not mailed it). errs.NotFound when RT has no such ticket,
// errs.Invalid when it refuses the comment (neither is tried again),
// errs.Unavailable on any other failure.
func (c *Client) AddNote(ctx context.Context, id string, note string) error {
	if !tickets.ValidID(id) {
		return errs.E(errs.NotFound, "", "there is no ticket %q", id)
	}
	// JSON, not text/plain: RT double-encodes a text/plain body's
	// non-ASCII text, and the Russian notes are all non-ASCII.
	status, err := c.do(ctx, http.MethodPost, "/ticket/"+id+"/comment",
		map[string]string{"Content": note, "ContentType": "text/plain"}, nil)
	switch {
	case err != nil:
		return err
	case status == http.StatusCreated:
		return nil
	case status == http.StatusNotFound:
		return errs.E(errs.NotFound, "", "RT has no ticket %s", id)
	case status == http.StatusBadRequest || status == http.StatusForbidden:
		// RT answers 400 "Message could not be recorded" for a ticket that
		// does not exist.
		return errs.E(errs.Invalid, "", "RT refused the comment on ticket %s (status %d)", id, status)
	}
	return unavailable(fmt.Errorf("comment on ticket %s: status %d", id, status))
}

// do sends a request with in as its JSON body (nil: none) and decodes a 2xx
// answer's JSON into out (nil: ignored). It returns the status; an error
// (errs.Unavailable) only when no answer came or it could not be read.
func (c *Client) do(ctx context.Context, method, path string, in, out any) (int, error) {
	what := method + " " + strings.SplitN(path, "?", 2)[0]
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, unavailable(fmt.Errorf("%s: %w", what, err))
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, unavailable(fmt.Errorf("%s: %w", what, err))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", c.auth)
	if in != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	res, err := c.http.Do(req)
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "dial":
		// No connection: RT never saw the request, so retrying a note
		// cannot make a duplicate.
		return 0, unavailable(fmt.Errorf("%w: %w", ivr.ErrNotDelivered, err))
	case err != nil:
		return 0, unavailable(err) // a *url.Error names the method and URL
	}
	defer func() { _ = res.Body.Close() }() // read path: ReadAll's error is the one that counts
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	switch {
	case err != nil:
		return 0, unavailable(fmt.Errorf("%s: read the answer: %w", what, err))
	case len(data) > maxResponseBytes:
		return 0, unavailable(fmt.Errorf("%s: the answer is larger than %d bytes", what, maxResponseBytes))
	case res.StatusCode == http.StatusUnauthorized:
		// Refused before anything was done: not delivered either.
		return 0, unavailable(fmt.Errorf("%s: RT refused the credentials (401): check the RT token, or user and password: %w", what, ivr.ErrNotDelivered))
	case res.StatusCode < 200 || res.StatusCode > 299 || out == nil:
		return res.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return 0, unavailable(fmt.Errorf("%s: the answer is not the JSON expected: %w", what, err))
	}
	return res.StatusCode, nil
}

func unavailable(cause error) error {
	return fmt.Errorf("%w: %w", errs.E(errs.Unavailable, "", "RT is unavailable"), cause)
}
