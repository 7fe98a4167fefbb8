package main

import (
	"maps"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/rttest"
)

// startRTRig is the pager rig with Request Tracker as the ticket system,
// as a site would configure it: IVR_TICKETS=rt and RT's address, the
// service's own RT user's token and name.
func startRTRig(t *testing.T, site *rttest.RT, extra map[string]string) *pagerRig {
	t.Helper()
	vars := map[string]string{
		"IVR_TICKETS": "rt", "IVR_RT_URL": site.URL, "IVR_RT_TOKEN": site.Token, "IVR_RT_USER": rttest.APIUser,
	}
	maps.Copy(vars, extra)
	return startVoicemailRigWith(t, vars)
}

// rtComments returns the text of the comments the service's RT user left
// on ticket id.
func rtComments(t *testing.T, site *rttest.RT, id int) []string {
	t.Helper()
	var hist struct {
		Items []struct {
			ID      string `json:"id"`
			Kind    string `json:"type"`
			Type    string `json:"Type"`
			Creator struct{ ID string }
		} `json:"items"`
	}
	site.Do(t, http.MethodGet, "/ticket/"+strconv.Itoa(id)+"/history?per_page=100&fields=Type,Creator", nil, &hist)
	ours := map[string]bool{}
	for _, x := range hist.Items {
		if x.Type == "Comment" && x.Creator.ID == rttest.APIUser {
			ours[x.ID] = true
		}
	}
	var att struct {
		Items []struct {
			Content       string
			TransactionID string `json:"TransactionId"` // a string here, not a reference
		} `json:"items"`
	}
	site.Do(t, http.MethodGet, "/ticket/"+strconv.Itoa(id)+"/attachments?per_page=100&fields=Content,TransactionId", nil, &att)
	var out []string
	for _, a := range att.Items {
		if ours[a.TransactionID] && strings.TrimSpace(a.Content) != "" {
			out = append(out, a.Content)
		}
	}
	return out
}

// callRecord is a call as the call log shows it, the fields about its
// ticket.
type callRecord struct {
	TicketID   string `json:"ticket_id"`
	TicketFrom string `json:"ticket_from"`
	Priority   string `json:"priority"`
	Level      string `json:"level"`
	Outcome    string `json:"outcome"`
}

// onlyCall waits for the test's one call to be in the call log and returns
// it.
func onlyCall(t *testing.T, r *pagerRig) callRecord {
	t.Helper()
	var calls struct {
		Calls []callRecord `json:"calls"`
	}
	waitFor(t, 10*time.Second, "the call in the call log", func() bool {
		get(t, r.base+"/api/v1/calls", testAdminToken, &calls)
		return len(calls.Calls) == 1
	})
	return calls.Calls[0]
}

// waitFor checks cond every 20 ms until it holds or within has passed.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("%s: not within %v", what, within)
		case <-tick.C:
		}
	}
}

// TestCallWithRTTicket: a Washington caller keys the id of a critical L2
// ticket held in a real RT (a one-digit-or-so id: RT's ids start at 1).
// They hear the priority RT holds, the L2 engineer on call is rung and
// takes the call, and when it ends the call's note is a comment of the
// service's RT user on that ticket.
func TestCallWithRTTicket(t *testing.T) {
	site := rttest.Start(t)
	id := site.CreateTicket(t, "L2", site.Unique("VPN down for the whole office"), 90, nil)
	// The watcher off: this test is the call's; TestRTTicketOpenedPages
	// is the watcher's.
	r := startRTRig(t, site, map[string]string{"IVR_RT_WATCH_EVERY": "0"})
	name, phone := r.onCall("L2", "primary")

	in := r.fake.Phone(clientPhone).Dial(washingtonLine)
	in.Answer()
	in.Silence() // keep English
	if hold := in.Press(strconv.Itoa(id) + "#"); hold.First("Enqueue") == nil {
		t.Fatalf("after keying RT ticket %d: %s; want the caller on hold", id, hold)
	}
	leg := r.fake.Phone(phone).ExpectCall()
	talk(t, in, leg)
	in.Hangup()

	if c := onlyCall(t, r); c.TicketID != strconv.Itoa(id) || c.TicketFrom != "caller" || c.Priority != "critical" ||
		c.Level != "L2" || c.Outcome != "connected" {
		t.Errorf("call record %+v; want RT ticket %d as keyed, critical at L2 as RT holds it, connected", c, id)
	}
	want := "Ticket: " + strconv.Itoa(id) + ", given by the caller; priority critical, level L2."
	waitFor(t, 10*time.Second, "the call's note on the RT ticket", func() bool {
		for _, c := range rtComments(t, site, id) {
			if strings.Contains(c, want) && strings.Contains(c, "Answered by "+name) {
				return true
			}
		}
		return false
	})
	site.Resolve(t, id) // closed: the other tests' watchers leave it alone
}

// ticketPage is a page as the API lists it, with what it says of its
// ticket.
type ticketPage struct {
	apiPage
	TicketID string `json:"ticket_id"`
	Level    string `json:"level"`
	Priority string `json:"priority"`
}

// ticketPages returns the pages of RT ticket id.
func (r *pagerRig) ticketPages(id int) []ticketPage {
	r.t.Helper()
	var out struct {
		Pages []ticketPage `json:"pages"`
	}
	get(r.t, r.base+"/api/v1/pages", testAdminToken, &out)
	var pages []ticketPage
	for _, p := range out.Pages {
		if p.TicketID == strconv.Itoa(id) {
			pages = append(pages, p)
		}
	}
	return pages
}

// acknowledge has the engineer on call at level take the page call and
// press 1, and waits for the acknowledgement's comment on RT ticket id.
func (r *pagerRig) acknowledge(site *rttest.RT, id int, level string) {
	r.t.Helper()
	name, phone := r.onCall(level, "primary")
	call := r.fake.Phone(phone).ExpectCall()
	call.Answer()
	call.Press("1")
	call.Hangup()
	waitFor(r.t, 10*time.Second, "the acknowledgement on the RT ticket", func() bool {
		for _, c := range rtComments(r.t, site, id) {
			if strings.Contains(c, name+" acknowledged the page") {
				return true
			}
		}
		return false
	})
}

// watchLooks waits until serve's RT watcher has looked n more times than
// it had when called, so that what it reads is known to be read.
func (r *pagerRig) watchLooks(n int) {
	r.t.Helper()
	looks := func() int {
		for _, line := range strings.Split(r.metrics(), "\n") {
			if v, ok := strings.CutPrefix(line, "ivr_rt_watch_looks_total "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return int(f)
			}
		}
		return 0
	}
	from := looks()
	waitFor(r.t, 20*time.Second, "the RT watcher's looks", func() bool { return looks() >= from+n })
}

// TestRTTicketOpenedPages: with serve watching RT, a critical ticket a
// person opens in RT's L3 queue raises one page at L3, for that ticket,
// and its acknowledgement is a comment on the ticket.
func TestRTTicketOpenedPages(t *testing.T) {
	site := rttest.Start(t)
	r := startRTRig(t, site, map[string]string{"IVR_RT_WATCH_EVERY": "100ms"})
	id := site.CreateTicket(t, "L3", site.Unique("payments fail"), 95, nil)
	waitFor(t, 20*time.Second, "a page for the RT ticket", func() bool { return len(r.ticketPages(id)) > 0 })
	r.watchLooks(2)
	if p := r.ticketPages(id); len(p) != 1 || p[0].Level != "L3" || p[0].Priority != "critical" {
		t.Fatalf("pages for ticket %d: %+v, want one, critical at L3", id, p)
	}
	r.acknowledge(site, id, "L3")
	site.Resolve(t, id)
}

// TestRTWatcherAcrossRestart: a critical ticket pages once; serve stops;
// meanwhile the ticket is moved up to L3; serve starts again on the same
// store and pages the escalation once, and the opening not again.
func TestRTWatcherAcrossRestart(t *testing.T) {
	site := rttest.Start(t)
	vars := map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_RT_WATCH_EVERY": "100ms"}
	id := site.CreateTicket(t, "L2", site.Unique("checkout broken"), 90, nil)
	t.Run("first serve", func(t *testing.T) {
		r := startRTRig(t, site, vars)
		waitFor(t, 20*time.Second, "the opening's page", func() bool { return len(r.ticketPages(id)) > 0 })
		r.acknowledge(site, id, "L2")
	}) // serve stops here
	site.SetTicket(t, id, map[string]any{"Queue": "L3"})
	t.Run("second serve", func(t *testing.T) {
		r := startRTRig(t, site, vars)
		waitFor(t, 20*time.Second, "the escalation's page", func() bool { return len(r.ticketPages(id)) > 1 })
		r.watchLooks(2)
		p := r.ticketPages(id)
		levels := map[string]int{}
		for _, pg := range p {
			levels[pg.Level]++
		}
		if len(p) != 2 || levels["L2"] != 1 || levels["L3"] != 1 {
			t.Fatalf("pages for ticket %d after the restart: %+v; want the opening's at L2 and the escalation's at L3, once each", id, p)
		}
		r.acknowledge(site, id, "L3")
	})
	site.Resolve(t, id)
}

// TestRTDownMidCall: RT stops while a caller is in the menus. The id they
// key is kept, unverified, rather than a second ticket opened; they are put
// through to L1 at normal priority (the defaults) and the call record says
// the ticket was not verified.
func TestRTDownMidCall(t *testing.T) {
	site := rttest.Start(t)
	id := site.CreateTicket(t, "L3", site.Unique("printer on fire"), 90, nil)
	site.Resolve(t, id) // nobody's watcher pages it; the caller keys it all the same
	r := startRTRig(t, site, map[string]string{"IVR_RT_WATCH_EVERY": "0"})
	_, phone := r.onCall("L1", "primary")

	in := r.fake.Phone(clientPhone).Dial(washingtonLine)
	in.Answer()
	in.Silence()
	site.Stop(t)
	if hold := in.Press(strconv.Itoa(id) + "#"); hold.First("Enqueue") == nil {
		t.Fatalf("after keying a ticket with RT down: %s; want the caller on hold", hold)
	}
	talk(t, in, r.fake.Phone(phone).ExpectCall())
	in.Hangup()
	site.Restart(t)

	if c := onlyCall(t, r); c.TicketID != strconv.Itoa(id) || c.TicketFrom != "unverified" || c.Priority != "normal" || c.Level != "L1" {
		t.Errorf("call record %+v; want ticket %d kept unverified, normal at L1", c, id)
	}
}
