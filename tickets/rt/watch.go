package rt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickethooks"
)

// Events is the pager's ticket-event path (tickethooks.Handler.Deliver): it
// pages for the paging priorities, once per event id.
type Events interface {
	Deliver(ctx context.Context, ev tickethooks.Event) (tickethooks.Outcome, error)
}

// Cursors keep how far the watcher has read (store.DB).
type Cursors interface {
	WatchCursor(ctx context.Context, name string) (time.Time, bool, error)
	SetWatchCursor(ctx context.Context, name string, at time.Time) error
}

// CursorName is the watcher's cursor in Cursors.
const CursorName = "rt"

// Watcher defaults.
const (
	DefaultEvery    = 5 * time.Second
	DefaultOverlap  = time.Minute
	DefaultLookBack = 15 * time.Minute
	maxBackoff      = time.Minute
	perPage         = 100 // RT's largest page
)

// Log keys.
const (
	keyTicket = "ticket"
	keyEvent  = "event_id"
	keyFrom   = "from"
	keyWait   = "retry_in"
)

// WatcherConfig is what a Watcher needs.
type WatcherConfig struct {
	Client  *Client // required
	Events  Events  // required
	Cursors Cursors // required
	// User is the Name of the service's own RT user: its changes (tickets
	// it opened, its comments) raise no page. Required.
	User string
	// Every is how often RT is asked; 0 means DefaultEvery.
	Every time.Duration
	// Overlap is how far before the cursor each look starts, for changes
	// committed late within RT's one-second dates; 0 means
	// DefaultOverlap.
	Overlap time.Duration
	// LookBack is how far back the first look ever reads (no cursor yet);
	// 0 means DefaultLookBack.
	LookBack time.Duration
	Now      func() time.Time
	Log      *zap.Logger
}

// Watcher reads the tickets RT changed since its last look and delivers
// each opening at, and each escalation to, a paging priority as a ticket
// event whose id is "rt:<transaction id>" and whose time is the
// transaction's: the page's key, recorded with the page in one store
// transaction, so that a look repeated after a restart pages nobody twice;
// and the cursor is saved only once everything up to it was delivered, so
// that nothing is missed. Run and Look are for one goroutine.
//
// An escalation is a ticket moved to a queue of a higher level, or its
// priority raised to a higher one of the four (normal → urgent, say). What
// the service's own RT user did is never an event, nor is anything on a
// ticket that is closed by the time it is read.
type Watcher struct {
	cfg WatcherConfig
	log *zap.Logger
	// delivered remembers the events delivered by this process, so that
	// the overlap does not ask the pager again every few seconds.
	delivered map[string]time.Time

	zoneChecked bool // the API user's time zone was found to be UTC

	looks, failures, events atomic.Int64
	lastOK                  atomic.Int64 // unix seconds of the last look that succeeded
}

// WatchStats are a Watcher's counts since it started.
type WatchStats struct {
	Looks    int64     // looks that succeeded
	Failures int64     // looks that failed (RT down, refused, the store failing)
	Events   int64     // openings and escalations delivered (paging or not)
	LastLook time.Time // when the last successful look ended; zero before one
}

// Stats returns the watcher's counts; safe for concurrent use.
func (w *Watcher) Stats() WatchStats {
	st := WatchStats{Looks: w.looks.Load(), Failures: w.failures.Load(), Events: w.events.Load()}
	if s := w.lastOK.Load(); s > 0 {
		st.LastLook = time.Unix(s, 0)
	}
	return st
}

// NewWatcher returns a Watcher; an error names what is missing.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	switch {
	case cfg.Client == nil || cfg.Events == nil || cfg.Cursors == nil:
		return nil, errors.New("rt watcher: Client, Events and Cursors are required")
	case strings.TrimSpace(cfg.User) == "":
		return nil, errors.New("rt watcher: the service's RT user name is required, so that its own changes page nobody")
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = DefaultOverlap
	}
	if cfg.LookBack <= 0 {
		cfg.LookBack = DefaultLookBack
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return &Watcher{cfg: cfg, log: cfg.Log.Named("rt-watcher"), delivered: map[string]time.Time{}}, nil
}

// Run looks every Every until ctx ends. A look that fails is logged and
// the next one waits twice as long (at most a minute), then catches up
// from the cursor.
func (w *Watcher) Run(ctx context.Context) {
	wait := w.cfg.Every
	for {
		if err := w.Look(ctx); err != nil && ctx.Err() == nil {
			wait = min(wait*2, maxBackoff)
			w.log.Warn("could not read RT's changes; trying again", zap.Duration(keyWait, wait), zap.Error(err))
		} else {
			wait = w.cfg.Every
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Look reads once the tickets changed since the cursor (less the overlap),
// delivers their events, and moves the cursor to the newest change read.
func (w *Watcher) Look(ctx context.Context) error {
	if err := w.look(ctx); err != nil {
		w.failures.Add(1)
		return err
	}
	w.looks.Add(1)
	w.lastOK.Store(w.cfg.Now().Unix())
	return nil
}

func (w *Watcher) look(ctx context.Context) error {
	if !w.zoneChecked {
		if err := w.checkZone(ctx); err != nil {
			return err
		}
		w.zoneChecked = true
	}
	cursor, ok, err := w.cfg.Cursors.WatchCursor(ctx, CursorName)
	if err != nil {
		return err
	}
	if !ok {
		cursor = w.cfg.Now().Add(-w.cfg.LookBack)
	}
	from := cursor.Add(-w.cfg.Overlap).UTC().Truncate(time.Second)
	changed, err := w.changedSince(ctx, from)
	if err != nil {
		return err
	}
	newest := cursor
	for _, t := range changed {
		if err := w.ticketEvents(ctx, t, from); err != nil {
			return fmt.Errorf("ticket %s: %w", t.ID, err)
		}
		if t.LastUpdated.After(newest) {
			newest = t.LastUpdated
		}
	}
	w.forget(from)
	if !ok || newest.After(cursor) {
		return w.cfg.Cursors.SetWatchCursor(ctx, CursorName, newest)
	}
	return nil
}

// checkZone makes sure that TicketSQL reads the dates the watcher writes
// as UTC, that is, that the API user's time zone is UTC: RT reads a date
// in that zone and ignores any zone written after it, so a user west of
// UTC would make every look start hours late and miss what changed
// meanwhile. It searches for the ticket updated last at its own
// LastUpdated, written as UTC, with >= and with <=: both find it only if
// RT reads the date as UTC. An RT with no ticket yet passes.
func (w *Watcher) checkZone(ctx context.Context) error {
	var last struct {
		Items []changed `json:"items"`
	}
	path := "/tickets?query=" + url.QueryEscape("id > 0") + "&fields=LastUpdated&orderby=LastUpdated&order=DESC&per_page=1"
	status, err := w.cfg.Client.do(ctx, http.MethodGet, path, nil, &last)
	switch {
	case err != nil:
		return err
	case status != http.StatusOK:
		return unavailable(fmt.Errorf("search the last ticket updated: status %d", status))
	case len(last.Items) == 0:
		return nil
	}
	t := last.Items[0]
	at := t.LastUpdated.UTC().Format(time.DateTime)
	for _, op := range []string{">=", "<="} {
		var res struct {
			Items []changed `json:"items"`
		}
		q := fmt.Sprintf("id = %s AND LastUpdated %s '%s'", t.ID, op, at)
		status, err := w.cfg.Client.do(ctx, http.MethodGet, "/tickets?query="+url.QueryEscape(q), nil, &res)
		switch {
		case err != nil:
			return err
		case status != http.StatusOK:
			return unavailable(fmt.Errorf("search ticket %s by its LastUpdated: status %d", t.ID, status))
		case len(res.Items) == 0:
			return fmt.Errorf("RT reads the dates of the service's searches in another time zone than UTC: "+
				"set the time zone of RT user %q to UTC (RT: Admin → Users → %s → Timezone), "+
				"else tickets changed while the watcher looks would be missed", w.cfg.User, w.cfg.User)
		}
	}
	return nil
}

// changed is a ticket in a search's answer.
type changed struct {
	ID          string    `json:"id"`
	Subject     string    `json:"Subject"`
	Status      string    `json:"Status"`
	Priority    string    `json:"Priority"`
	Queue       ref       `json:"Queue"`
	LastUpdated time.Time `json:"LastUpdated"`
}

// changedSince returns every ticket whose LastUpdated is at from or later,
// oldest change first, through all of the search's pages. The date is
// written without a zone: TicketSQL reads it in the API user's zone (which
// must be UTC; a "Z" would make RT read the day alone).
func (w *Watcher) changedSince(ctx context.Context, from time.Time) ([]changed, error) {
	q := fmt.Sprintf("LastUpdated >= '%s'", from.Format(time.DateTime))
	var all []changed
	for page := 1; ; page++ {
		var res struct {
			Items    []changed `json:"items"`
			NextPage string    `json:"next_page"`
		}
		path := "/tickets?query=" + url.QueryEscape(q) + "&fields=Subject,Status,Priority,Queue,LastUpdated" +
			"&orderby=LastUpdated&order=ASC&per_page=" + strconv.Itoa(perPage) + "&page=" + strconv.Itoa(page)
		status, err := w.cfg.Client.do(ctx, http.MethodGet, path, nil, &res)
		switch {
		case err != nil:
			return nil, err
		case status != http.StatusOK:
			return nil, unavailable(fmt.Errorf("search tickets changed since %s: status %d", from.Format(time.DateTime), status))
		}
		all = append(all, res.Items...)
		if res.NextPage == "" || len(res.Items) == 0 {
			return all, nil
		}
	}
}

// transaction is an entry of a ticket's history.
type transaction struct {
	ID       string    `json:"id"`
	Kind     string    `json:"type"` // "transaction": its own field, or the case-insensitive match fills Type with it
	Type     string    `json:"Type"`
	Field    string    `json:"Field"`
	OldValue string    `json:"OldValue"`
	NewValue string    `json:"NewValue"`
	Created  time.Time `json:"Created"`
	Creator  ref       `json:"Creator"`
	ObjectID string    `json:"ObjectId"` // the ticket it belongs to (after a merge, others' appear too)
}

// state is a ticket's queue (id) and priority (RT's number) at a moment.
type state struct{ queue, priority string }

// ticketEvents delivers the events of ticket t from its transactions
// created at from or later.
func (w *Watcher) ticketEvents(ctx context.Context, t changed, from time.Time) error {
	log := w.log.With(zap.String(keyTicket, t.ID))
	txns, err := w.history(ctx, t.ID)
	if err != nil {
		return err
	}
	if w.cfg.Client.closed(t.Status) {
		return nil // nobody is paged about a closed ticket
	}
	// Walk back from the ticket as it is now: each Set undone gives the
	// state before it, so every transaction's state after it is known.
	after := state{queue: t.Queue.ID, priority: t.Priority}
	type step struct {
		txn           transaction
		before, after state
	}
	var steps []step
	for i := len(txns) - 1; i >= 0; i-- {
		x := txns[i]
		if x.ObjectID != "" && x.ObjectID != t.ID {
			continue // a merged-in ticket's history
		}
		before := after
		if x.Type == "Set" && x.Field == "Queue" {
			before.queue = x.OldValue
		}
		if x.Type == "Set" && x.Field == "Priority" {
			before.priority = x.OldValue
		}
		if !x.Created.Before(from) {
			steps = append(steps, step{x, before, after})
		}
		after = before
	}
	for i := len(steps) - 1; i >= 0; i-- { // oldest first
		s := steps[i]
		kind, ok := w.event(ctx, s.txn, s.before, s.after)
		if !ok || s.txn.Creator.ID == w.cfg.User {
			continue
		}
		id := "rt:" + s.txn.ID
		if _, done := w.delivered[id]; done {
			continue
		}
		now, err := w.cfg.Client.queueName(ctx, s.after.queue)
		if err != nil {
			return err
		}
		ev := tickethooks.Event{ID: id, TicketID: t.ID, Priority: w.cfg.Client.priority(s.after.priority), Level: w.cfg.Client.level(now),
			Kind: kind, Subject: t.Subject, At: s.txn.Created}
		if _, err := w.cfg.Events.Deliver(ctx, ev); err != nil {
			return fmt.Errorf("deliver %s: %w", id, err)
		}
		log.Info("RT ticket event delivered", zap.String(keyEvent, id), zap.String(keyFrom, kind))
		w.events.Add(1)
		w.delivered[id] = s.txn.Created
	}
	return nil
}

// event says whether transaction x, which took the ticket from before to
// after, opened or escalated it.
func (w *Watcher) event(ctx context.Context, x transaction, before, after state) (string, bool) {
	switch {
	case x.Type == "Create":
		return "opened", true
	case x.Type == "Set" && x.Field == "Priority":
		return "escalated", raised(w.cfg.Client.priority(before.priority), w.cfg.Client.priority(after.priority))
	case x.Type == "Set" && x.Field == "Queue":
		b, err1 := w.cfg.Client.queueName(ctx, before.queue)
		a, err2 := w.cfg.Client.queueName(ctx, after.queue)
		if err1 != nil || err2 != nil {
			return "", false // a queue since deleted: not a level
		}
		return "escalated", w.cfg.Client.level(a) > w.cfg.Client.level(b)
	}
	return "", false
}

// raised reports whether after is a higher priority than before: a
// shorter guaranteed response time (none is the lowest).
func raised(before, after oncall.Priority) bool {
	return after.Valid() && (!before.Valid() || after.ResponseTime() < before.ResponseTime())
}

// history returns ticket id's transactions, oldest first, through all
// pages.
func (w *Watcher) history(ctx context.Context, id string) ([]transaction, error) {
	var all []transaction
	for page := 1; ; page++ {
		var res struct {
			Items    []transaction `json:"items"`
			NextPage string        `json:"next_page"`
		}
		path := "/ticket/" + id + "/history?fields=Type,Field,OldValue,NewValue,Created,Creator,ObjectId&per_page=" +
			strconv.Itoa(perPage) + "&page=" + strconv.Itoa(page)
		status, err := w.cfg.Client.do(ctx, http.MethodGet, path, nil, &res)
		switch {
		case err != nil:
			return nil, err
		case status != http.StatusOK:
			return nil, unavailable(fmt.Errorf("history of ticket %s: status %d", id, status))
		}
		all = append(all, res.Items...)
		if res.NextPage == "" || len(res.Items) == 0 {
			return all, nil
		}
	}
}

// forget drops the delivered events older than from: the next look starts
// after them.
func (w *Watcher) forget(from time.Time) {
	for id, at := range w.delivered {
		if at.Before(from) {
			delete(w.delivered, id)
		}
	}
}
