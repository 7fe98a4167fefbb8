package rt_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/rttest"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/tickethooks"
	"github.com/supportdesk/ivr/tickets/rt"
)

// pages is the pager as the ticket-event path sees it: one page per key,
// as the store keeps it (the key recorded with the page).
type pages struct {
	mu     sync.Mutex
	byKey  map[string]pager.Request
	raised []pager.Request // the requests that created a page, in order
}

func (p *pages) Raise(_ context.Context, r pager.Request) (pager.Page, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byKey == nil {
		p.byKey = map[string]pager.Request{}
	}
	if _, ok := p.byKey[r.Key]; ok {
		return pager.Page{ID: 1, Status: pager.Open}, false, nil
	}
	p.byKey[r.Key] = r
	p.raised = append(p.raised, r)
	return pager.Page{ID: int64(len(p.raised)), Status: pager.Open}, true, nil
}

// of returns the pages raised for ticket id, in order.
func (p *pages) of(id int) []pager.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pager.Request
	for _, r := range p.raised {
		if r.TicketID == strconv.Itoa(id) {
			out = append(out, r)
		}
	}
	return out
}

// cursors is the store's watch cursors, in memory.
type cursors struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (c *cursors) WatchCursor(_ context.Context, name string) (time.Time, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.at[name]
	return at, ok, nil
}

func (c *cursors) SetWatchCursor(_ context.Context, name string, at time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		c.at = map[string]time.Time{}
	}
	if at.After(c.at[name]) {
		c.at[name] = at
	}
	return nil
}

// watcher is the watcher as serve wires it, over the real ticket-event
// path with the default paging priorities (critical, urgent).
func watcher(t *testing.T, site *rttest.RT, pg *pages, cur *cursors) *rt.Watcher {
	t.Helper()
	prios, err := tickethooks.ParsePriorities(tickethooks.DefaultPriorities)
	if err != nil {
		t.Fatal(err)
	}
	events, err := tickethooks.New(tickethooks.Config{Priorities: prios, Pages: pg})
	if err != nil {
		t.Fatal(err)
	}
	w, err := rt.NewWatcher(rt.WatcherConfig{Client: client(t, site), Events: events, Cursors: cur, User: rttest.APIUser})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// createdAt returns the Created time of ticket id's transaction of type
// typ (and field, for a Set) that is the newest such.
func createdAt(t *testing.T, site *rttest.RT, id int, typ, field string) (string, time.Time) {
	t.Helper()
	var hist struct {
		Items []struct {
			ID      string    `json:"id"`
			Kind    string    `json:"type"`
			Type    string    `json:"Type"`
			Field   string    `json:"Field"`
			Created time.Time `json:"Created"`
		} `json:"items"`
	}
	site.Do(t, http.MethodGet, "/ticket/"+strconv.Itoa(id)+"/history?per_page=100&fields=Type,Field,Created", nil, &hist)
	for i := len(hist.Items) - 1; i >= 0; i-- {
		if x := hist.Items[i]; x.Type == typ && x.Field == field {
			return x.ID, x.Created
		}
	}
	t.Fatalf("ticket %d has no %s %s transaction", id, typ, field)
	return "", time.Time{}
}

// TestWatcherPages: a critical ticket opened, a normal one raised to
// urgent and a ticket moved up a level each raise exactly one page, keyed by
// RT's transaction and dated by it; what the service did itself, what does
// not page (a normal ticket, a comment, a move down, a priority lowered)
// and a ticket already closed raise none; a second look, and a look by a
// restarted service, raise nothing again.
func TestWatcherPages(t *testing.T) {
	site := rttest.Start(t)
	pg, cur := &pages{}, &cursors{}
	w := watcher(t, site, pg, cur)
	ctx := t.Context()
	if err := w.Look(ctx); err != nil { // a first look sets the cursor
		t.Fatal(err)
	}

	critical := site.CreateTicket(t, "L1", site.Unique("db down"), 90, nil)
	normal := site.CreateTicket(t, "L1", site.Unique("question"), 30, nil)
	closed := site.CreateTicket(t, "L1", site.Unique("fixed already"), 90, nil)
	site.Resolve(t, closed)
	own, err := client(t, site).OpenTicket(ctx, ivr.NewTicket{Priority: oncall.Critical, Line: "+12025952118"})
	if err != nil {
		t.Fatal(err)
	}
	ownID, _ := strconv.Atoi(own.ID)
	if err := w.Look(ctx); err != nil {
		t.Fatal(err)
	}
	got := pg.of(critical)
	if len(got) != 1 {
		t.Fatalf("critical ticket opened: pages %+v, want one", got)
	}
	txn, created := createdAt(t, site, critical, "Create", "")
	if r := got[0]; r.Key != "ticket:rt:"+txn || r.Priority != oncall.Critical || r.Level != oncall.L1 ||
		!r.RaisedAt.Equal(created) || r.Source != pager.FromTickets {
		t.Errorf("page %+v; want key ticket:rt:%s, critical at L1, raised at the transaction's %v", r, txn, created)
	}
	for name, id := range map[string]int{"normal": normal, "closed": closed, "opened by the service": ownID} {
		if p := pg.of(id); len(p) != 0 {
			t.Errorf("%s ticket paged: %+v", name, p)
		}
	}

	site.SetTicket(t, normal, map[string]any{"Priority": 70}) // normal → urgent: escalated
	site.SetTicket(t, critical, map[string]any{"Queue": "L2"})
	site.Comment(t, critical, "looking into it")
	down := site.CreateTicket(t, "L3", site.Unique("moved down"), 70, nil)
	site.SetTicket(t, down, map[string]any{"Queue": "L1", "Priority": 30})
	if err := w.Look(ctx); err != nil {
		t.Fatal(err)
	}
	if p := pg.of(normal); len(p) != 1 || p[0].Priority != oncall.Urgent {
		t.Errorf("normal raised to urgent: pages %+v, want one urgent", p)
	}
	if p := pg.of(critical); len(p) != 2 || p[1].Level != oncall.L2 || p[1].Priority != oncall.Critical {
		t.Errorf("critical moved to L2: pages %+v, want a second one, critical at L2", p)
	}
	if p := pg.of(down); len(p) != 1 {
		t.Errorf("urgent opened at L3, then moved down and lowered: pages %+v, want only the opening's", p)
	}

	before := len(pg.raised)
	if err := w.Look(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := watcher(t, site, pg, cur) // a new process: nothing in memory, the same store
	if err := restarted.Look(ctx); err != nil {
		t.Fatal(err)
	}
	if len(pg.raised) != before {
		t.Errorf("looking again, and after a restart, raised %+v", pg.raised[before:])
	}
}

// TestWatcherCatchesUpAfterRTDown: a ticket opened just before RT went
// down, which a look during the outage could not read, pages once RT is
// back.
func TestWatcherCatchesUpAfterRTDown(t *testing.T) {
	site := rttest.Start(t)
	pg, cur := &pages{}, &cursors{}
	w := watcher(t, site, pg, cur)
	ctx := t.Context()
	if err := w.Look(ctx); err != nil {
		t.Fatal(err)
	}
	id := site.CreateTicket(t, "L3", site.Unique("before the outage"), 95, nil)
	site.Stop(t)
	if err := w.Look(ctx); err == nil {
		t.Fatal("a look with RT down succeeded")
	}
	if p := pg.of(id); len(p) != 0 {
		t.Fatalf("paged with RT down: %+v", p)
	}
	site.Restart(t)
	if err := w.Look(ctx); err != nil {
		t.Fatal(err)
	}
	if p := pg.of(id); len(p) != 1 || p[0].Level != oncall.L3 {
		t.Errorf("pages %+v, want one at L3", p)
	}
}

// TestWatcherRefusesAnotherZone: RT reads the watcher's dates in its API
// user's time zone; with a user in New York every look would start five
// hours late, with one in Moscow three hours early. The watcher finds out
// and refuses to look, saying what to set, rather than miss changes.
func TestWatcherRefusesAnotherZone(t *testing.T) {
	site := rttest.Start(t)
	id := site.CreateTicket(t, "L1", site.Unique("zone"), 0, nil)
	site.Resolve(t, id)
	for _, zone := range []string{"America/New_York", "Europe/Moscow"} {
		site.Do(t, http.MethodPut, "/user/"+rttest.APIUser, map[string]any{"Timezone": zone}, nil)
		err := watcher(t, site, &pages{}, &cursors{}).Look(t.Context())
		site.Do(t, http.MethodPut, "/user/"+rttest.APIUser, map[string]any{"Timezone": "UTC"}, nil)
		if err == nil || !strings.Contains(err.Error(), "time zone of RT user \"ivr\" to UTC") {
			t.Errorf("API user in %s: look %v, want a refusal naming the setting", zone, err)
		}
	}
	if err := watcher(t, site, &pages{}, &cursors{}).Look(t.Context()); err != nil {
		t.Errorf("API user in UTC again: %v", err)
	}
}
