package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/internal/rttest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets/rt"
)

// seedRow is a line of `ivr rt seed`'s table.
var seedRow = regexp.MustCompile(`(?m)^(\d+) +(critical|urgent|normal|low) +(L[123]) +(.+)$`)

// runRTSeed runs `ivr rt seed` in-process with vars as its environment
// and returns its output and error.
func runRTSeed(t *testing.T, vars map[string]string, args ...string) (string, error) {
	t.Helper()
	env, out, errOut := testEnv(vars)
	err := run(t.Context(), append([]string{"rt", "seed"}, args...), env)
	t.Logf("ivr rt seed %s (error: %v):\n%s%s", strings.Join(args, " "), err, out, errOut)
	return out.String(), err
}

// rtQueueName returns the name of the queue RT's ticket id is in.
func rtQueueName(t *testing.T, site *rttest.RT, id string) (queue, priority string) {
	t.Helper()
	var tk struct {
		Priority string
		Queue    struct{ ID string }
	}
	if code := site.Do(t, http.MethodGet, "/ticket/"+id, nil, &tk); code != http.StatusOK {
		t.Fatalf("RT ticket %s: %d", id, code)
	}
	var q struct{ Name string }
	site.Do(t, http.MethodGet, "/queue/"+tk.Queue.ID, nil, &q)
	return q.Name, tk.Priority
}

// resolveSeeded closes the tickets of the table's rows, so that the other
// tests' RT watchers page nobody for them. Defer it: a deferred call still
// has the test's context, a cleanup has not.
func resolveSeeded(t *testing.T, site *rttest.RT, rows [][]string) {
	t.Helper()
	for _, r := range rows {
		id, _ := strconv.Atoi(r[1])
		site.Resolve(t, id)
	}
}

// TestRTSeed: a newcomer readies an RT for the demo as root. Queues that
// are missing are created and those there are said to exist; each demo
// ticket is in RT, in its level's queue at its priority's number, and the
// table gives its RT id; the escalated ones carry their note. Seeding
// again creates nothing and prints the same ids.
func TestRTSeed(t *testing.T) {
	site := rttest.Start(t)
	// Queues of their own, which the site does not have, so that this
	// test creates them and sees only its tickets; the new tickets' queue
	// stays the site's L1.
	q := map[oncall.Level]string{oncall.L1: site.Unique("Tier1"), oncall.L2: site.Unique("Tier2"), oncall.L3: site.Unique("Tier3")}
	queues := fmt.Sprintf("%s=L1,%s=L2,%s=L3", q[oncall.L1], q[oncall.L2], q[oncall.L3])
	vars := map[string]string{"IVR_RT_URL": site.URL, "IVR_RT_USER": rttest.RootUser, "IVR_RT_PASSWORD": rttest.RootPassword}

	out, err := runRTSeed(t, vars, "--rt-queues", queues)
	rows := seedRow.FindAllStringSubmatch(out, -1)
	defer func() { resolveSeeded(t, site, rows) }()
	if err != nil {
		t.Fatalf("ivr rt seed: %v", err)
	}
	for _, level := range oncall.Levels {
		if !regexp.MustCompile(`(?m)^ +` + regexp.QuoteMeta(q[level]) + ` +level ` + level.String() + `: created \(id \d+\)$`).MatchString(out) {
			t.Errorf("output does not say queue %s was created:\n%s", q[level], out)
		}
	}
	if !regexp.MustCompile(`(?m)^ +L1 .*new tickets.*: existed \(id 3\)$`).MatchString(out) {
		t.Errorf("output does not say the new tickets' queue L1 existed:\n%s", out)
	}
	if !strings.Contains(out, "Demo tickets: 8 created, 0 already in RT") {
		t.Errorf("output does not say 8 tickets were created:\n%s", out)
	}
	for _, want := range []string{"time zone set to UTC", "$UserSummaryExtraInfo", "Low => 0, Normal => 30, Urgent => 70, Critical => 90"} {
		if !strings.Contains(out, want) {
			t.Errorf("the reminder of the RT site's needs lacks %q:\n%s", want, out)
		}
	}
	if len(rows) != len(demo.Tickets) {
		t.Fatalf("table rows %q; want one per demo ticket (%d)", rows, len(demo.Tickets))
	}
	ids := map[string]bool{}
	for i, d := range demo.Tickets {
		id, prio, level, subject := rows[i][1], rows[i][2], rows[i][3], rows[i][4]
		if subject != d.Subject || prio != string(d.Priority) || level != d.Level.String() {
			t.Errorf("row %d: %s %s %s %q; want %s %s %q", i, id, prio, level, subject, d.Priority, d.Level, d.Subject)
		}
		ids[id] = true
		queue, number := rtQueueName(t, site, id)
		if want := strconv.Itoa(rt.DefaultThresholds.Number(d.Priority)); queue != q[d.Level] || number != want {
			t.Errorf("RT ticket %s (%q) is in queue %s at priority %s; want %s at %s", id, d.Subject, queue, number, q[d.Level], want)
		}
	}
	if len(ids) != len(demo.Tickets) {
		t.Errorf("ids %v: want one ticket each", ids)
	}
	// The L3 ticket's escalation note is a comment on it.
	var att struct {
		Items []struct{ Content string } `json:"items"`
	}
	site.Do(t, http.MethodGet, "/ticket/"+rows[1][1]+"/attachments?per_page=100&fields=Content", nil, &att)
	var noted bool
	for _, a := range att.Items {
		noted = noted || strings.Contains(a.Content, demo.Tickets[1].EscalatedBy+": "+demo.Tickets[1].Escalation)
	}
	if !noted {
		t.Errorf("RT ticket %s has no escalation note; attachments %+v", rows[1][1], att.Items)
	}

	again, err := runRTSeed(t, vars, "--rt-queues", queues)
	if err != nil {
		t.Fatalf("ivr rt seed again: %v", err)
	}
	if strings.Contains(again, ": created (id") || !strings.Contains(again, "Demo tickets: 0 created, 8 already in RT") {
		t.Errorf("seeding again created something:\n%s", again)
	}
	if got := seedRow.FindAllString(again, -1); strings.Join(got, "\n") != strings.Join(seedRow.FindAllString(out, -1), "\n") {
		t.Errorf("seeding again printed\n%s\nwant the first table\n%s", strings.Join(got, "\n"), strings.Join(seedRow.FindAllString(out, -1), "\n"))
	}
	var found struct {
		Total int `json:"total"`
	}
	query := fmt.Sprintf("Queue = '%s' OR Queue = '%s' OR Queue = '%s'", q[oncall.L1], q[oncall.L2], q[oncall.L3])
	site.Do(t, http.MethodGet, "/tickets?query="+url.QueryEscape(query), nil, &found)
	if found.Total != len(demo.Tickets) {
		t.Errorf("RT has %d tickets in the seeded queues after two runs; want %d", found.Total, len(demo.Tickets))
	}
}

// TestRTSeedQuotes: a subject with quotes and a backslash is found again
// by the TicketSQL search, so a second seeding adds no second ticket.
func TestRTSeedQuotes(t *testing.T) {
	site := rttest.Start(t)
	c := rtConfig{url: site.URL, user: rttest.RootUser, password: rttest.RootPassword,
		queues: "L1=L1,L2=L2,L3=L3", priorities: "90,70,30", inactive: "resolved", newQueue: "L1"}
	s, err := newSeedSite(c, rtSeedTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ensureQueues(t.Context(), &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	ts := []demo.Ticket{{Subject: site.Unique(`O'Brien's "printer" \ prints 'blank' pages\`), Priority: oncall.Low, Level: oncall.L2}}
	first, err := s.seedTickets(t.Context(), ts)
	if len(first) == 1 {
		id, _ := strconv.Atoi(first[0].id)
		defer site.Resolve(t, id)
	}
	if err != nil || len(first) != 1 || !first[0].created {
		t.Fatalf("first seeding: %+v, %v; want one ticket created", first, err)
	}
	second, err := s.seedTickets(t.Context(), ts)
	if err != nil || len(second) != 1 || second[0].created || second[0].id != first[0].id ||
		second[0].subject != ts[0].Subject || second[0].level != oncall.L2 || second[0].priority != "low" {
		t.Fatalf("second seeding: %+v, %v; want ticket %s found, low at L2, with its subject", second, err, first[0].id)
	}
	if queue, _ := rtQueueName(t, site, first[0].id); queue != "L2" {
		t.Errorf("ticket %s is in %s, want L2", first[0].id, queue)
	}
}

// TestRTSeedErrors: what goes wrong says which flag to look at, or what RT
// answered, and the command fails.
func TestRTSeedErrors(t *testing.T) {
	site := rttest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close() // nothing listens there now

	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want []string
	}{
		{"NoURL", map[string]string{"IVR_RT_PASSWORD": "x"}, nil, []string{"--rt-url"}},
		{"NoCredentials", map[string]string{"IVR_RT_URL": site.URL}, nil, []string{"--rt-password", "--rt-token", "admin"}},
		{"BadURL", map[string]string{"IVR_RT_PASSWORD": "x"}, []string{"--rt-url", "rt.example.com"}, []string{"--rt-url", "rt.example.com"}},
		{"NoQueueForL3", map[string]string{"IVR_RT_URL": site.URL, "IVR_RT_PASSWORD": "x"}, []string{"--rt-queues", "L1=L1,L2=L2"},
			[]string{"--rt-queues", "L3"}},
		{"Unreachable", map[string]string{"IVR_RT_URL": closed, "IVR_RT_PASSWORD": "x"}, nil,
			[]string{"did not answer", "--rt-url", "connection refused"}},
		{"WrongPassword", map[string]string{"IVR_RT_URL": site.URL, "IVR_RT_USER": rttest.RootUser, "IVR_RT_PASSWORD": "wrong"}, nil,
			[]string{"refused", `"root"`, "--rt-password", "401", "Unauthorized"}},
		// The service's own user may not create queues: RT's refusal is
		// shown, and that it takes an admin.
		{"NotAdmin", map[string]string{"IVR_RT_URL": site.URL, "IVR_RT_TOKEN": site.Token},
			[]string{"--rt-queues", site.Unique("Tier1") + "=L1,L2=L2,L3=L3"},
			[]string{"refused to create queue", "403", "admin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runRTSeed(t, tc.vars, tc.args...)
			if err == nil {
				t.Fatalf("no error; output:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if seedRow.MatchString(out) {
				t.Errorf("tickets seeded after all:\n%s", out)
			}
		})
	}
}

// TestRTSeedDemoCall: the demo with RT. After `ivr rt seed`, serve --demo
// with the same queues answers a caller who keys the id of the critical L3
// demo ticket with that ticket as RT holds it: the L3 engineer on call is
// rung.
func TestRTSeedDemoCall(t *testing.T) {
	site := rttest.Start(t)
	queues := fmt.Sprintf("%s=L1,%s=L2,%s=L3", site.Unique("Tier1"), site.Unique("Tier2"), site.Unique("Tier3"))
	out, err := runRTSeed(t, map[string]string{"IVR_RT_URL": site.URL, "IVR_RT_USER": rttest.RootUser,
		"IVR_RT_PASSWORD": rttest.RootPassword}, "--rt-queues", queues)
	rows := seedRow.FindAllStringSubmatch(out, -1)
	defer func() { resolveSeeded(t, site, rows) }()
	if err != nil || len(rows) != len(demo.Tickets) {
		t.Fatalf("ivr rt seed: %v; rows %q", err, rows)
	}
	id := rows[1][1] // critical, L3

	// The watcher off: the seeded critical tickets would page.
	r := startRTRig(t, site, map[string]string{"IVR_RT_QUEUES": queues, "IVR_RT_WATCH_EVERY": "0"})
	_, phone := r.onCall("L3", "primary")
	in := r.fake.Phone(clientPhone).Dial(washingtonLine)
	in.Answer()
	in.Silence() // keep English
	if hold := in.Press(id + "#"); hold.First("Enqueue") == nil {
		t.Fatalf("after keying demo ticket %s: %s; want the caller on hold", id, hold)
	}
	leg := r.fake.Phone(phone).ExpectCall()
	talk(t, in, leg)
	in.Hangup()
	if c := onlyCall(t, r); c.TicketID != id || c.Priority != "critical" || c.Level != "L3" || c.Outcome != "connected" {
		t.Errorf("call record %+v; want demo ticket %s, critical at L3, connected", c, id)
	}
}
