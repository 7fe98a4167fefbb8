package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets/rt"
)

// `ivr rt seed` gets a Request Tracker ready for the demo: the queues of
// --rt-queues (and --rt-new-queue) when missing, and the demo tickets of
// package demo, once, so that a newcomer has RT ticket ids to key on the
// phone. It speaks REST 2 by hand like tickets/rt (no maintained Go client
// of RT exists), with the few calls it needs: tickets/rt's Client only
// offers the call flow's, and queues are an admin's business, not the
// service's.

// rtSeedTimeout is the default time allowed for each request to RT: a
// seeding has nobody on the line, and a production RT's bcrypt check alone
// takes a fifth of a second.
const rtSeedTimeout = 30 * time.Second

// maxSeedAnswer bounds an answer of RT's read by the seeding.
const maxSeedAnswer = 4 << 20

func rtSeed(ctx context.Context, args []string, env environ) error {
	var (
		c       rtConfig
		timeout time.Duration
	)
	fs := flag.NewFlagSet("rt seed", flag.ContinueOnError)
	c.register(fs, env)
	fs.DurationVar(&timeout, "timeout", rtSeedTimeout, "time allowed for each request to RT")
	fs.Usage = func() {
		_, _ = fmt.Fprint(fs.Output(), "usage: ivr rt seed --rt-url URL --rt-user root --rt-password … (or --rt-token of an admin)\n\n"+
			"Creates the queues of --rt-queues when missing and the demo tickets once, and prints their ids.\n\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, env); err != nil {
		return err
	}
	site, err := newSeedSite(c, timeout)
	if err != nil {
		return fmt.Errorf("rt seed: %w", err)
	}
	if err := site.checkLevels(demo.Tickets); err != nil {
		return fmt.Errorf("rt seed: %w", err)
	}
	out := env.stdout
	if err := site.ensureQueues(ctx, out); err != nil {
		return fmt.Errorf("rt seed: %w", err)
	}
	rows, err := site.seedTickets(ctx, demo.Tickets)
	printSeeded(out, rows) // what was created before a failure is worth showing
	if err != nil {
		return fmt.Errorf("rt seed: %w", err)
	}
	_, _ = fmt.Fprint(out, rtSiteReminder) // to the terminal, as run's usage
	return nil
}

// seedSite is the RT being seeded and what the seeding knows of it.
type seedSite struct {
	url            string // RT's web address, for messages
	base           string // …/REST/2.0
	token          string
	user, password string
	http           *http.Client
	thresholds     rt.Thresholds
	queues         []seedQueue             // --rt-queues in order, then --rt-new-queue if not among them
	byLevel        map[oncall.Level]string // the first queue of each level
	names          map[string]string       // queue id → name, filled by ensureQueues
}

type seedQueue struct {
	name   string
	level  oncall.Level
	newOne bool // --rt-new-queue only
}

// newSeedSite reads the settings; errors name the flag.
func newSeedSite(c rtConfig, timeout time.Duration) (*seedSite, error) {
	if strings.TrimSpace(c.url) == "" {
		return nil, fmt.Errorf("--rt-url: set it (or IVR_RT_URL) to RT's web address, e.g. https://rt.example.com")
	}
	if c.token == "" && c.password == "" {
		return nil, fmt.Errorf("--rt-password: set it (or IVR_RT_PASSWORD) with --rt-user of an RT admin such as root, " +
			"or give an admin's --rt-token (IVR_RT_TOKEN): creating queues takes an admin")
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("--timeout: %v is not a positive duration such as 30s", timeout)
	}
	// The service's own reading of the settings checks them all (URL,
	// credentials, queues, priorities) and names the flag of a bad one.
	cfg, queues, err := c.parse(timeout)
	if err != nil {
		return nil, err
	}
	if _, err := newRTClient(cfg); err != nil {
		return nil, err
	}
	s := &seedSite{url: strings.TrimSuffix(strings.TrimSpace(c.url), "/"), token: c.token, user: c.user, password: c.password,
		http: &http.Client{Timeout: timeout}, byLevel: map[oncall.Level]string{}, names: map[string]string{}}
	s.base = s.url + "/REST/2.0"
	for _, q := range queues {
		s.addQueue(seedQueue{name: q.name, level: q.level})
	}
	if q := strings.TrimSpace(c.newQueue); q != "" && !s.hasQueue(q) {
		s.addQueue(seedQueue{name: q, level: oncall.L1, newOne: true}) // a queue not in --rt-queues reads as L1
	}
	s.thresholds = cfg.Thresholds
	return s, nil
}

// addQueue adds q; a name given twice keeps its last level, as the
// service reads --rt-queues.
func (s *seedSite) addQueue(q seedQueue) {
	for i := range s.queues {
		if s.queues[i].name == q.name {
			s.queues[i].level = q.level
			s.rebuildLevels()
			return
		}
	}
	s.queues = append(s.queues, q)
	s.rebuildLevels()
}

func (s *seedSite) rebuildLevels() {
	clear(s.byLevel)
	for _, q := range s.queues {
		if _, ok := s.byLevel[q.level]; !ok && !q.newOne {
			s.byLevel[q.level] = q.name
		}
	}
}

func (s *seedSite) hasQueue(name string) bool {
	for _, q := range s.queues {
		if q.name == name {
			return true
		}
	}
	return false
}

// levelOf is the level the service reads a ticket in queue name at.
func (s *seedSite) levelOf(name string) oncall.Level {
	for _, q := range s.queues {
		if q.name == name {
			return q.level
		}
	}
	return oncall.L1
}

// checkLevels says which level of the tickets no queue stands for.
func (s *seedSite) checkLevels(ts []demo.Ticket) error {
	for _, t := range ts {
		if _, ok := s.byLevel[t.Level]; !ok {
			return fmt.Errorf("--rt-queues: no queue stands for %s, and demo tickets are at %s: add one, e.g. %s=%s",
				t.Level, t.Level, t.Level, t.Level)
		}
	}
	return nil
}

// ensureQueues reads each queue by name and creates the missing ones,
// saying which existed.
func (s *seedSite) ensureQueues(ctx context.Context, out io.Writer) error {
	_, _ = fmt.Fprintf(out, "Queues in RT at %s:\n", s.url)
	for _, q := range s.queues {
		var got struct {
			ID       json.Number `json:"id"`
			Name     string      `json:"Name"`
			Disabled json.Number `json:"Disabled"`
		}
		status, data, err := s.do(ctx, http.MethodGet, "/queue/"+url.PathEscape(q.name), nil)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("level %s", q.level)
		if q.newOne {
			what = "L1, new tickets (--rt-new-queue)"
		}
		switch status {
		case http.StatusOK:
			if err := json.Unmarshal(data, &got); err != nil || got.ID == "" {
				return fmt.Errorf("queue %q: RT's answer is not a queue (check --rt-url): %s", q.name, answerText(status, data))
			}
			if got.Disabled != "" && got.Disabled != "0" {
				return fmt.Errorf("queue %q exists in RT but is disabled: enable it (Admin → Queues) or name another in --rt-queues", q.name)
			}
			s.names[got.ID.String()] = q.name
			_, _ = fmt.Fprintf(out, "  %-12s %s: existed (id %s)\n", q.name, what, got.ID)
		case http.StatusNotFound:
			id, err := s.createQueue(ctx, q)
			if err != nil {
				return err
			}
			s.names[id] = q.name
			_, _ = fmt.Fprintf(out, "  %-12s %s: created (id %s)\n", q.name, what, id)
		default:
			return fmt.Errorf("reading queue %q: RT answered %s", q.name, answerText(status, data))
		}
	}
	return nil
}

func (s *seedSite) createQueue(ctx context.Context, q seedQueue) (string, error) {
	desc := fmt.Sprintf("Support level %d (ivr)", int(q.level))
	if q.newOne {
		desc = "Tickets opened for callers (ivr)"
	}
	status, data, err := s.do(ctx, http.MethodPost, "/queue", map[string]string{"Name": q.name, "Description": desc})
	if err != nil {
		return "", err
	}
	var created struct {
		ID json.Number `json:"id"`
	}
	if status != http.StatusCreated || json.Unmarshal(data, &created) != nil || created.ID == "" {
		return "", fmt.Errorf("RT refused to create queue %q: it answered %s; creating queues takes an RT admin, "+
			"e.g. --rt-user root --rt-password …", q.name, answerText(status, data))
	}
	return created.ID.String(), nil
}

// seeded is one demo ticket in RT, as the table shows it.
type seeded struct {
	id       string
	priority string
	level    oncall.Level
	subject  string
	created  bool
}

// seedTickets creates each ticket in its level's queue, unless an active
// ticket with its subject is in one of the queues already, and returns
// them all, created or found, in the order of ts (those done before a
// failure, with it).
func (s *seedSite) seedTickets(ctx context.Context, ts []demo.Ticket) ([]seeded, error) {
	var rows []seeded
	for _, t := range ts {
		row, found, err := s.findTicket(ctx, t.Subject)
		if err != nil {
			return rows, err
		}
		if !found {
			if row, err = s.createTicket(ctx, t); err != nil {
				return rows, err
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// findTicket looks for the oldest active ticket with subject in the
// seeded queues. A resolved one does not count: the demo wants tickets a
// caller can be put through on.
func (s *seedSite) findTicket(ctx context.Context, subject string) (seeded, bool, error) {
	var inQueues []string
	for _, q := range s.queues {
		inQueues = append(inQueues, "Queue = "+ticketSQLString(q.name))
	}
	query := fmt.Sprintf("Subject = %s AND Status = '__Active__' AND (%s)", ticketSQLString(subject), strings.Join(inQueues, " OR "))
	status, data, err := s.do(ctx, http.MethodGet, "/tickets?query="+url.QueryEscape(query)+
		"&fields=Subject,Priority,Queue&orderby=id&order=ASC&per_page=1", nil)
	if err != nil {
		return seeded{}, false, err
	}
	// Not "pages": RT writes 0.0 there when nothing matches.
	var res struct {
		Items []struct {
			ID       string `json:"id"`
			Subject  string `json:"Subject"`
			Priority string `json:"Priority"`
			Queue    struct {
				ID string `json:"id"`
			} `json:"Queue"`
		} `json:"items"`
	}
	if status != http.StatusOK || json.Unmarshal(data, &res) != nil {
		return seeded{}, false, fmt.Errorf("searching RT for the ticket %q: RT answered %s", subject, answerText(status, data))
	}
	if len(res.Items) == 0 {
		return seeded{}, false, nil
	}
	it := res.Items[0]
	return seeded{id: it.ID, priority: s.priorityOf(it.Priority), level: s.levelOf(s.names[it.Queue.ID]), subject: it.Subject}, true, nil
}

// priorityOf reads RT's priority as the service does.
func (s *seedSite) priorityOf(n string) string {
	if v, err := strconv.Atoi(strings.TrimSpace(n)); err == nil {
		return string(s.thresholds.Priority(v))
	}
	return n
}

// createTicket opens t in its level's queue at its priority's number (a
// label would be stored as text), with the note of its escalation as a
// comment.
func (s *seedSite) createTicket(ctx context.Context, t demo.Ticket) (seeded, error) {
	queue := s.byLevel[t.Level]
	status, data, err := s.do(ctx, http.MethodPost, "/ticket", map[string]any{
		"Queue": queue, "Subject": t.Subject, "Priority": s.thresholds.Number(t.Priority)})
	if err != nil {
		return seeded{}, err
	}
	var created struct {
		ID string `json:"id"`
	}
	if status != http.StatusCreated || json.Unmarshal(data, &created) != nil || created.ID == "" {
		return seeded{}, fmt.Errorf("RT refused the ticket %q in queue %s: it answered %s", t.Subject, queue, answerText(status, data))
	}
	row := seeded{id: created.ID, priority: string(t.Priority), level: t.Level, subject: t.Subject, created: true}
	if t.Escalation == "" {
		return row, nil
	}
	// JSON, not text/plain: RT double-encodes a text/plain body's
	// non-ASCII text.
	status, data, err = s.do(ctx, http.MethodPost, "/ticket/"+url.PathEscape(created.ID)+"/comment",
		map[string]string{"Content": t.EscalatedBy + ": " + t.Escalation, "ContentType": "text/plain"})
	if err == nil && status != http.StatusCreated {
		err = fmt.Errorf("RT answered %s", answerText(status, data))
	}
	if err != nil {
		return row, fmt.Errorf("ticket %s was created, but its escalation note could not be added (add it by hand): %w", created.ID, err)
	}
	return row, nil
}

// ticketSQLString is s as a TicketSQL string literal: RT's parser reads a
// backslash as escaping the next character, the quote included.
func ticketSQLString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// do sends a request with in as its JSON body (nil: none) and returns the
// status and body. An RT that does not answer, or refuses the
// credentials, is an error naming the flags to check.
func (s *seedSite) do(ctx context.Context, method, path string, in any) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return 0, nil, fmt.Errorf("--rt-url: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if s.token != "" {
		req.Header.Set("Authorization", "token "+s.token)
	} else {
		req.SetBasicAuth(s.user, s.password)
	}
	res, err := s.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("RT at %s did not answer (check --rt-url): %w", s.url, err)
	}
	defer func() { _ = res.Body.Close() }() // read path: ReadAll's error is the one that counts
	data, err := io.ReadAll(io.LimitReader(res.Body, maxSeedAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("RT at %s: reading its answer to %s %s: %w", s.url, method, req.URL.Path, err)
	}
	if res.StatusCode == http.StatusUnauthorized {
		who := "the token of --rt-token"
		if s.token == "" {
			who = fmt.Sprintf("user %q's password (--rt-user, --rt-password)", s.user)
		}
		return 0, nil, fmt.Errorf("RT at %s refused %s: it answered %s", s.url, who, answerText(res.StatusCode, data))
	}
	return res.StatusCode, data, nil
}

// answerText is RT's answer in a line: the status and RT's message (REST
// 2 writes {"message": …}, or a list of messages), else the start of the
// body.
func answerText(status int, data []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	var list []string
	text := strings.Join(strings.Fields(string(data)), " ")
	switch {
	case json.Unmarshal(data, &m) == nil && m.Message != "":
		text = m.Message
	case json.Unmarshal(data, &list) == nil && len(list) > 0:
		text = strings.Join(list, "; ")
	}
	if r := []rune(text); len(r) > 200 {
		text = string(r[:200]) + "…"
	}
	if text == "" {
		return fmt.Sprintf("%d %s", status, http.StatusText(status))
	}
	return fmt.Sprintf("%d %q", status, text)
}

// printSeeded prints the demo tickets as a table with RT's ids.
func printSeeded(out io.Writer, rows []seeded) {
	if len(rows) == 0 {
		return
	}
	created, paging := 0, 0
	for _, r := range rows {
		if r.created {
			created++
			if r.priority == string(oncall.Critical) || r.priority == string(oncall.Urgent) {
				paging++
			}
		}
	}
	_, _ = fmt.Fprintf(out, "\nDemo tickets: %d created, %d already in RT (an active ticket with the same subject in those queues).\n"+
		"Key an id on the demo line when it asks for your ticket number:\n\n", created, len(rows)-created)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "RT ID\tPRIORITY\tLEVEL\tSUBJECT")
	for _, r := range rows {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.id, r.priority, r.level, r.subject)
	}
	_ = tw.Flush()
	if paging > 0 {
		_, _ = fmt.Fprintf(out, "\nserve's RT watcher pages for critical and urgent tickets opened by anyone but its own RT user,\n"+
			"reading 15 minutes back on its first start: the %d just created page the on-call engineers if it reads them.\n", paging)
	}
}

// rtSiteReminder is what the service needs of the RT site besides the
// queues (internal/rttest's package comment says why, as RT 5.0.3
// answered).
const rtSiteReminder = `
The RT site also needs, for the service (see "Pointing the service at an RT" in the README):
  - the service's own RT user (serve's --rt-user, e.g. ivr): privileged, with the rights SeeQueue,
    ShowTicket, CreateTicket, CommentOnTicket, ModifyTicket and ShowTicketComments, and its
    time zone set to UTC (TicketSQL reads dates in that user's zone; the watcher writes UTC);
    an auth token of it for serve's IVR_RT_TOKEN;
  - in RT_SiteConfig.pm, so that callers are found by their phone:
      Set($UserSummaryExtraInfo, 'RealName, EmailAddress, Name, MobilePhone, WorkPhone, HomePhone');
  - recommended, four priorities that read as the service's (--rt-priorities 90,70,30):
      Set(%PriorityAsString, Default => { Low => 0, Normal => 30, Urgent => 70, Critical => 90 });
Then: IVR_TICKETS=rt IVR_RT_URL=… IVR_RT_USER=ivr IVR_RT_TOKEN=… ivr serve --demo
`
