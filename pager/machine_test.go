package pager

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/supportdesk/ivr/oncall"
)

// The harness: a fixed roster, a clock the test sets, and a store that
// keeps the page's attempts the way the Store contract says (ids assigned,
// a Key the page has already not added again, Ended applied unless the
// attempt is done, Canceled only for an attempt still intended).

// t0 is 12:00 in Moscow and 04:00 in New York.
var t0 = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

const (
	ru = oncall.Russian
	en = oncall.English
)

var (
	anna   = Target{EngineerID: 1, Name: "Анна", Language: ru, Phone: "+79000000001", SMSPhone: "+79000000101", TimeZone: "Europe/Moscow"}
	bob    = Target{EngineerID: 2, Name: "Bob", Language: en, Phone: "+12025550002", SMSPhone: "+12025550102", TimeZone: "America/New_York"}
	vera   = Target{EngineerID: 3, Name: "Вера", Language: ru, Phone: "+79000000003", SMSPhone: "+79000000103", TimeZone: "Europe/Moscow"}
	dan    = Target{EngineerID: 4, Name: "Dan", Language: en, Phone: "+12025550004", SMSPhone: "+12025550104", TimeZone: "America/New_York"}
	galina = Target{EngineerID: 5, Name: "Галина", Language: ru, Phone: "+79000000005", SMSPhone: "+79000000105", TimeZone: "Europe/Moscow"}
	eve    = Target{EngineerID: 6, Name: "Eve", Language: en, Phone: "+12025550006", SMSPhone: "+12025550106", TimeZone: "America/New_York"}
	// oleg takes no texts; mute has no phone at all.
	oleg = Target{EngineerID: 7, Name: "Олег", Language: ru, Phone: "+79000000007", TimeZone: "Europe/Moscow"}
	mute = Target{EngineerID: 8, Name: "Mute", Language: en, TimeZone: "UTC"}
)

const (
	lastResortPhone = "+79000000999"
	supportLine     = "+74950000000"
	client          = "+74951112233"
)

type slot struct {
	level oncall.Level
	layer oncall.Layer
}

var (
	l1p = slot{oncall.L1, oncall.Primary}
	l1s = slot{oncall.L1, oncall.Secondary}
	l2p = slot{oncall.L2, oncall.Primary}
	l2s = slot{oncall.L2, oncall.Secondary}
	l3p = slot{oncall.L3, oncall.Primary}
	l3s = slot{oncall.L3, oncall.Secondary}
)

// roster is who is on call, by level and layer; a missing slot is a gap.
type roster map[slot]Target

func fullRoster() roster {
	return roster{l1p: anna, l1s: bob, l2p: vera, l2s: dan, l3p: galina, l3s: eve}
}

// without is the full roster with gaps at slots.
func without(slots ...slot) roster {
	r := fullRoster()
	for _, s := range slots {
		delete(r, s)
	}
	return r
}

// firstThen is the full roster with first and second at L1.
func firstThen(first, second Target) roster {
	r := fullRoster()
	r[l1p], r[l1s] = first, second
	return r
}

// with is the full roster with t on call at s.
func with(s slot, t Target) roster {
	r := fullRoster()
	r[s] = t
	return r
}

// testPage is a critical voicemail on ticket 1001, raised at raised.
func testPage(raised time.Time) Page {
	return Page{
		ID: 42, Key: "call:CA1", Source: FromCall, TicketID: "1001", Priority: oncall.Critical, Level: oncall.L1,
		Line: supportLine, Caller: client, Language: ru, Recording: "https://example.test/rec/1", RecordingSeconds: 65,
		RaisedAt: raised, Deadline: raised.Add(time.Hour), Status: Open, CreatedAt: raised,
	}
}

func testRules() Rules {
	return Rules{OverdueWait: 5 * time.Minute, LineNames: map[string]string{supportLine: "moscow"}}
}

func zone(name string) *time.Location {
	loc, err := oncall.LoadZone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// tb is what the rig needs of a test: *testing.T and *rapid.T.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

type rig struct {
	t      tb
	now    time.Time
	roster roster
	rules  Rules
	p      Page
	atts   []Attempt
	nextID int64
	// optedOut: numbers that opted out of texts since their engineer was
	// found on call (Env.SMSOptedOut).
	optedOut map[string]bool
	// lines: page calls in flight or waiting per phone (Env.Line).
	lines map[string]VoiceLine

	// What the last event did, as stored.
	ch       Changes
	added    []Attempt
	canceled []Attempt
	skipped  []string // keys added that the page had already
	logFrom  int      // the first entry of p.Log the last event wrote
}

func newRig(t tb, p Page, ros roster, rules Rules, now time.Time) *rig {
	return &rig{t: t, now: now, roster: ros, rules: rules, p: p, nextID: 100}
}

func (r *rig) env() Env {
	return Env{
		Now: r.now,
		OnCall: func(level oncall.Level, layer oncall.Layer, _ time.Time) (Target, bool) {
			t, ok := r.roster[slot{level, layer}]
			return t, ok
		},
		Rules:       r.rules,
		Zone:        zone,
		SMSOptedOut: func(phone string) bool { return r.optedOut[phone] },
		Line:        func(phone string) VoiceLine { return r.lines[phone] },
	}
}

// apply applies ev at r.now and stores what it returns. It checks that
// Apply is pure: it leaves the attempts it is given as they were, and the
// same input gives the same output.
func (r *rig) apply(ev Event) Changes {
	r.t.Helper()
	atts := cloneAttempts(r.atts)
	twin, twinAtts := clonePage(r.p), cloneAttempts(r.atts)
	r.logFrom = len(r.p.Log)
	ch := Apply(&r.p, atts, ev, r.env())
	if !reflect.DeepEqual(atts, r.atts) {
		r.t.Fatalf("Apply(%T) changed the attempts it was given", ev)
	}
	twinCh := Apply(&twin, twinAtts, ev, r.env())
	if !reflect.DeepEqual(twin, r.p) || !reflect.DeepEqual(twinCh, ch) {
		r.t.Fatalf("Apply(%T) is not pure: the same input gave different results", ev)
	}
	r.store(ch)
	return ch
}

func clonePage(p Page) Page {
	q := p
	q.Plan = slices.Clone(p.Plan)
	for i := range q.Plan {
		q.Plan[i].Channels = slices.Clone(p.Plan[i].Channels)
	}
	q.Paged = slices.Clone(p.Paged)
	q.Log = slices.Clone(p.Log)
	return q
}

func cloneAttempts(atts []Attempt) []Attempt {
	if atts == nil {
		return nil
	}
	return slices.Clone(atts)
}

// store writes ch as the Store contract says.
func (r *rig) store(ch Changes) {
	r.t.Helper()
	r.ch, r.added, r.canceled, r.skipped = ch, nil, nil, nil
	keys := map[string]bool{}
	for _, a := range r.atts {
		keys[a.Key] = true
	}
	for _, a := range ch.Add {
		if keys[a.Key] {
			r.skipped = append(r.skipped, a.Key)
			continue
		}
		keys[a.Key] = true
		r.nextID++
		a.ID, a.PageID, a.Status, a.CreatedAt, a.UpdatedAt = r.nextID, r.p.ID, Intended, r.now, r.now
		r.atts = append(r.atts, a)
		r.added = append(r.added, a)
	}
	for _, e := range ch.End {
		i := slices.IndexFunc(r.atts, func(a Attempt) bool { return a.ID == e.AttemptID })
		if i < 0 {
			r.t.Errorf("Apply ended attempt %d, which the page does not have", e.AttemptID)
			continue
		}
		a := &r.atts[i]
		if a.Status == Done || e.Outcome == Canceled && a.Status != Intended {
			continue
		}
		a.Status, a.Outcome, a.Detail, a.UpdatedAt = Done, e.Outcome, e.Detail, r.now
		if e.Outcome == Canceled {
			r.canceled = append(r.canceled, *a)
		}
	}
}

// sendAll is the engine claiming every intended attempt and the provider
// accepting it: from now on, none of them can be canceled.
func (r *rig) sendAll() {
	for i := range r.atts {
		if r.atts[i].Status == Intended {
			r.atts[i].Status, r.atts[i].ProviderID = Sent, fmt.Sprintf("SID%d", r.atts[i].ID)
		}
	}
}

// sent is the engine sending the newest page attempt of kind to t.
func (r *rig) sent(kind Kind, t Target) {
	r.t.Helper()
	id := r.last(kind, t).ID
	for i := range r.atts {
		if r.atts[i].ID == id && r.atts[i].Status == Intended {
			r.atts[i].Status, r.atts[i].ProviderID = Sent, fmt.Sprintf("SID%d", id)
		}
	}
}

// last returns the newest page attempt of kind to t.
func (r *rig) last(kind Kind, t Target) Attempt {
	r.t.Helper()
	for i := len(r.atts) - 1; i >= 0; i-- {
		a := r.atts[i]
		if a.Kind == kind && a.Purpose == PurposePage && a.EngineerID == t.EngineerID {
			return a
		}
	}
	r.t.Fatalf("no %s page to %s", kind, t.Name)
	return Attempt{}
}

// Events, built when the step runs.

type evFn func(r *rig) Event

func open() evFn {
	return func(r *rig) Event { return Opened{Policy: oncall.DefaultPolicy(r.p.Priority)} }
}

func openWith(policy oncall.Policy) evFn { return func(*rig) Event { return Opened{Policy: policy} } }

func due() evFn { return func(*rig) Event { return Due{} } }

// ended reports the outcome of the newest page attempt of kind to t.
func ended(kind Kind, t Target, o Outcome) evFn {
	return func(r *rig) Event {
		return AttemptEnded{AttemptID: r.last(kind, t).ID, Outcome: o, Detail: "test"}
	}
}

func ack(t Target, via Via) evFn {
	return func(*rig) Event { return Acknowledge{EngineerID: t.EngineerID, Name: t.Name, Via: via} }
}

func adminAck() evFn {
	return func(*rig) Event { return Acknowledge{Name: "admin", Via: ViaAPI} }
}

func resolve(by string) evFn { return func(*rig) Event { return Resolve{By: by} } }

// want is an attempt a step expects to be added.
type want struct {
	kind     Kind
	purpose  Purpose
	to       string
	engineer int64
	lang     oncall.Language
	body     []string // substrings of the body
}

func (w want) String() string {
	return fmt.Sprintf("%s %s to %s (%s) %q", w.purpose, w.kind, w.to, w.lang, w.body)
}

func voice(t Target) want {
	return want{kind: KindVoice, purpose: PurposePage, to: t.Phone, engineer: t.EngineerID, lang: t.Language}
}

func sms(t Target, body ...string) want {
	return want{kind: KindSMS, purpose: PurposePage, to: t.SMSPhone, engineer: t.EngineerID, lang: t.Language, body: body}
}

func notice(t Target, body ...string) want {
	return want{kind: KindSMS, purpose: PurposeNotice, to: t.SMSPhone, engineer: t.EngineerID, lang: t.Language, body: body}
}

func lastResort(lang oncall.Language, body ...string) want {
	return want{kind: KindSMS, purpose: PurposeLastResort, to: lastResortPhone, lang: lang, body: body}
}

func note(body ...string) want {
	return want{kind: KindNote, purpose: PurposeNote, to: "1001", body: body}
}

// step is one event in a page's life and what must follow.
type step struct {
	after  time.Duration // advance the clock by this first
	send   bool          // first, the engine sends every intended attempt
	prep   func(r *rig)  // first, anything else (after send)
	roster roster        // first, who is on call from now on (nil: as before)
	ev     evFn

	status  Status        // "": not checked
	rung    string        // "2 L2 primary Вера" or "1 L1 secondary nobody"; "": not checked
	dueIn   time.Duration // DueAt - now; 0: not checked (closed pages: DueAt zero, always checked)
	paged   []string      // names in Paged, in order; nil: not checked
	overdue bool          // always checked
	log     []string      // What of entries the event wrote, in order (others may come between)
	add     []want        // exactly the attempts the event added, in order
	cancel  int           // how many attempts the event canceled (always checked)
	noop    bool          // the event changes nothing but Seq
	check   func(t *testing.T, r *rig)
}

func rungOf(p *Page, rules Rules) string {
	if len(p.Plan) == 0 {
		return "no plan"
	}
	r, _ := rungAt(p.Plan, p.Current.Rung, rules.overdueWait())
	return fmt.Sprintf("%d %s %s %s", p.Current.Rung, r.Level, r.Layer, nameOr(p.Current.Target))
}

func nameOr(t Target) string {
	if t.Name == "" {
		return "nobody"
	}
	return t.Name
}

func run(t *testing.T, r *rig, steps []step) {
	t.Helper()
	for i, s := range steps {
		r.now = r.now.Add(s.after)
		if s.send {
			r.sendAll()
		}
		if s.prep != nil {
			s.prep(r)
		}
		if s.roster != nil {
			r.roster = s.roster
		}
		ev := s.ev(r)
		before, beforeAtts := clonePage(r.p), cloneAttempts(r.atts)
		r.apply(ev)
		at := fmt.Sprintf("step %d (%T at +%s)", i, ev, r.now.Sub(t0))
		p := &r.p

		if len(r.skipped) > 0 {
			t.Errorf("%s: added keys the page had already: %v", at, r.skipped)
		}
		if p.DueAt.IsZero() != p.Status.Closed() {
			t.Errorf("%s: status %s with DueAt %v", at, p.Status, p.DueAt)
		}
		if s.status != "" && p.Status != s.status {
			t.Errorf("%s: status %s, want %s", at, p.Status, s.status)
		}
		if s.rung != "" {
			if got := rungOf(p, r.rules); got != s.rung {
				t.Errorf("%s: rung %q, want %q", at, got, s.rung)
			}
		}
		if s.dueIn != 0 && p.DueAt.Sub(r.now) != s.dueIn {
			t.Errorf("%s: due in %s, want %s", at, p.DueAt.Sub(r.now), s.dueIn)
		}
		if s.paged != nil {
			var names []string
			for _, x := range p.Paged {
				names = append(names, x.Name)
			}
			if !slices.Equal(names, s.paged) {
				t.Errorf("%s: paged %v, want %v", at, names, s.paged)
			}
		}
		if p.Overdue != s.overdue {
			t.Errorf("%s: overdue %v, want %v", at, p.Overdue, s.overdue)
		}
		wrote := p.Log[r.logFrom:]
		if !logHas(wrote, s.log) {
			t.Errorf("%s: log %s, want %v in order", at, logString(wrote), s.log)
		}
		checkAdded(t, at, r.added, s.add)
		if len(r.canceled) != s.cancel {
			t.Errorf("%s: canceled %d attempts, want %d: %v", at, len(r.canceled), s.cancel, r.canceled)
		}
		if s.noop {
			before.Seq = p.Seq
			if !reflect.DeepEqual(before, *p) || !reflect.DeepEqual(beforeAtts, r.atts) {
				t.Errorf("%s: want no change, got log %s, changes %+v", at, logString(wrote), r.ch)
			}
		}
		if s.check != nil {
			s.check(t, r)
		}
		if t.Failed() {
			t.Fatalf("%s failed; page log:\n%s", at, logString(p.Log))
		}
	}
}

func logHas(log []Entry, whats []string) bool {
	i := 0
	for _, e := range log {
		if i < len(whats) && e.What == whats[i] {
			i++
		}
	}
	return i == len(whats)
}

func logString(log []Entry) string {
	var b strings.Builder
	for _, e := range log {
		fmt.Fprintf(&b, "\n  %s %s: %s", e.At.Format("15:04:05"), e.What, e.Detail)
	}
	return b.String()
}

func checkAdded(t *testing.T, at string, got []Attempt, wants []want) {
	t.Helper()
	ok := len(got) == len(wants)
	for i := 0; ok && i < len(got); i++ {
		ok = matches(got[i], wants[i])
	}
	if ok {
		return
	}
	var b strings.Builder
	for _, a := range got {
		fmt.Fprintf(&b, "\n  %s %s to %s (%s, engineer %d, rung %d) %q", a.Purpose, a.Kind, a.To, a.Language, a.EngineerID, a.Rung, a.Body)
	}
	b.WriteString("\n want:")
	for _, w := range wants {
		fmt.Fprintf(&b, "\n  %s", w)
	}
	t.Errorf("%s: added%s", at, b.String())
}

func matches(a Attempt, w want) bool {
	if a.Kind != w.kind || a.Purpose != w.purpose || a.To != w.to || a.EngineerID != w.engineer {
		return false
	}
	if w.lang != "" && a.Language != w.lang {
		return false
	}
	for _, s := range w.body {
		if !strings.Contains(a.Body, s) {
			return false
		}
	}
	return (a.Purpose == PurposePage || a.Purpose == PurposeLastResort) == (a.Rung >= 0)
}

// lifeCase is a page's life, event by event.
type lifeCase struct {
	name   string
	page   func(p *Page) // changes to testPage
	roster roster        // nil: fullRoster
	rules  func(r *Rules)
	start  time.Time // the clock when the page is raised; zero: t0
	lines  map[string]VoiceLine
	steps  []step
}

func runCases(t *testing.T, cases []lifeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := c.start
			if start.IsZero() {
				start = t0
			}
			p := testPage(start)
			if c.page != nil {
				c.page(&p)
			}
			ros := c.roster
			if ros == nil {
				ros = fullRoster()
			}
			rules := testRules()
			if c.rules != nil {
				c.rules(&rules)
			}
			r := newRig(t, p, ros, rules, start)
			r.lines = c.lines
			run(t, r, c.steps)
		})
	}
}

const rungWait = 7*time.Minute + 30*time.Second // critical: 15 min a level, split over two layers

func withLastResort(lang oncall.Language) func(*Rules) {
	return func(r *Rules) { r.LastResort, r.LastResortLanguage = lastResortPhone, lang }
}

func TestOpen(t *testing.T) {
	l2 := func(p *Page) { p.Level = oncall.L2 }
	runCases(t, []lifeCase{
		{name: "critical: six rungs of 7m30s, voice to L1 primary", steps: []step{
			{ev: open(), status: Open, rung: "0 L1 primary Анна", dueIn: rungWait, paged: []string{"Анна"},
				log: []string{"opened", "rung"}, add: []want{voice(anna)},
				check: func(t *testing.T, r *rig) {
					var got []string
					for _, x := range r.p.Plan {
						got = append(got, fmt.Sprintf("%s %s %s %v", x.Level, x.Layer, x.Wait, x.Channels))
					}
					want := []string{
						"L1 primary 7m30s [voice sms]", "L1 secondary 7m30s [voice sms]",
						"L2 primary 7m30s [voice sms]", "L2 secondary 7m30s [voice sms]",
						"L3 primary 7m30s [voice sms]", "L3 secondary 7m30s [voice sms]",
					}
					if !slices.Equal(got, want) || r.p.Compressed {
						t.Errorf("plan %v (compressed %v), want %v", got, r.p.Compressed, want)
					}
					if !r.p.Deadline.Equal(t0.Add(time.Hour)) {
						t.Errorf("deadline %v", r.p.Deadline)
					}
				}},
			{ev: open(), noop: true, rung: "0 L1 primary Анна"}, // opened twice: nothing more
		}},
		{name: "English engineer first", roster: with(l1p, bob), steps: []step{
			{ev: open(), rung: "0 L1 primary Bob", add: []want{voice(bob)}},
		}},
		{name: "start level L2 skips L1", page: l2, steps: []step{
			{ev: open(), rung: "0 L2 primary Вера", dueIn: rungWait, add: []want{voice(vera)},
				check: func(t *testing.T, r *rig) {
					if len(r.p.Plan) != 4 || r.p.Plan[0].Level != oncall.L2 || r.p.Plan[3].Level != oncall.L3 {
						t.Errorf("plan %+v", r.p.Plan)
					}
				}},
			{after: rungWait, send: true, ev: due(), rung: "1 L2 secondary Dan", add: []want{voice(dan), notice(vera, "L2", "Dan")}},
		}},
		{name: "level above every step: the last step's channels and delay",
			page: func(p *Page) { p.Level = oncall.L3 },
			steps: []step{
				{ev: openWith(oncall.Policy{Priority: oncall.Critical, Steps: []oncall.Step{
					{Level: oncall.L1, Channels: []oncall.Channel{oncall.Voice}, Delay: oncall.Duration(10 * time.Minute)},
					{Level: oncall.L2, Channels: []oncall.Channel{oncall.SMS}, Delay: oncall.Duration(20 * time.Minute)},
				}}),
					rung: "0 L3 primary Галина", dueIn: 10 * time.Minute, add: []want{sms(galina, "Ответьте 42")}},
				{after: 10 * time.Minute, send: true, ev: due(), rung: "1 L3 secondary Eve", dueIn: 10 * time.Minute,
					add: []want{sms(eve, "Reply 42"), notice(galina, "L3", "Eve")}},
				// Past the plan: the last level again, every OverdueWait.
				{after: 10 * time.Minute, send: true, ev: due(), rung: "2 L3 primary Галина", dueIn: 5 * time.Minute, log: []string{"rung"},
					add: []want{sms(galina)}},
			}},
		{name: "upgrade inside its window is paged", start: t0,
			page: func(p *Page) {
				p.Source, p.RaisedAt, p.Deadline = FromUpgrade, t0.Add(-30*time.Minute), t0.Add(30*time.Minute)
			},
			steps: []step{
				{ev: open(), status: Open, rung: "0 L1 primary Анна", log: []string{"opened", "compressed"}, add: []want{voice(anna)}},
			}},
		{name: "upgrade past its deadline expires and sends nothing",
			page: func(p *Page) {
				p.Source, p.RaisedAt, p.Deadline = FromUpgrade, t0.Add(-2*time.Hour), t0.Add(-time.Hour)
			},
			steps: []step{
				{ev: open(), status: Expired, log: []string{"expired"}},
				{after: time.Hour, ev: due(), status: Expired, noop: true},
				{ev: ack(anna, ViaAPI), status: Expired},
				{ev: resolve("admin"), status: Expired, noop: true},
			}},
	})
}

// voiceAcked is the simplest life: L1 primary presses 1.
func TestVoiceAcknowledged(t *testing.T) {
	var cases []lifeCase
	for _, pair := range [][2]Target{{anna, bob}, {bob, anna}} {
		first := pair[0]
		ros := firstThen(pair[0], pair[1])
		cases = append(cases,
			lifeCase{name: first.Name + " presses 1", roster: ros, steps: []step{
				{ev: open(), add: []want{voice(first)}},
				{after: time.Minute, send: true, ev: ended(KindVoice, first, Acked), status: Acknowledged,
					log: []string{"voice", "acknowledged"},
					// nobody else was paged; the ticket's note is in the client's language
					add: []want{note("Дежурный инженер " + first.Name + " принял вызов по телефону")},
					check: func(t *testing.T, r *rig) {
						if r.p.AckedBy != first.EngineerID || r.p.AckVia != ViaVoice || !r.p.AckedAt.Equal(t0.Add(time.Minute)) {
							t.Errorf("acked by %d via %s at %v", r.p.AckedBy, r.p.AckVia, r.p.AckedAt)
						}
					}},
				{after: rungWait, ev: due(), status: Acknowledged, noop: true},
				{ev: ended(KindVoice, first, Acked), noop: true}, // the callback again
			}},
			lifeCase{name: first.Name + " presses 1, no ticket: no note", roster: ros,
				page: func(p *Page) { p.TicketID = "" },
				steps: []step{
					{ev: open(), add: []want{voice(first)}},
					{send: true, ev: ended(KindVoice, first, Acked), status: Acknowledged},
				}},
		)
	}
	cases = append(cases,
		lifeCase{name: "English client: the note is in English",
			page: func(p *Page) { p.Language = "" },
			steps: []step{
				{ev: open(), add: []want{voice(anna)}},
				{send: true, ev: ended(KindVoice, anna, Acked), add: []want{note("On-call engineer Анна acknowledged the page by phone")}},
			}},
		lifeCase{name: "pressed 1 on an earlier rung's call: acknowledged, the others told, pending canceled", steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: time.Minute, send: true, ev: ended(KindVoice, anna, NoAnswer), add: []want{sms(anna)}},
			// Анна's text has not gone yet: canceled; she was called, so she hears
			// where the page went.
			{after: rungWait - time.Minute, ev: due(), rung: "1 L1 secondary Bob", cancel: 1,
				add: []want{voice(bob), notice(anna, "Вызов 42 (заявка 1001, критический) не подтверждён и передан на L1: Bob.")}},
			{after: time.Minute, send: true, ev: ended(KindVoice, bob, NoAnswer), add: []want{sms(bob)}},
			// Анна calls back in and presses 1 on the page call: Bob's text is not sent.
			{after: time.Minute, ev: ack(anna, ViaVoice), status: Acknowledged, cancel: 1,
				add: []want{notice(bob, "Page 42 (ticket 1001, critical) was acknowledged by Анна."), note("Анна", "по телефону")}},
		}},
		lifeCase{name: "acknowledged while an escalation notice waits: the acker gets no stale notice", steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: time.Minute, send: true, ev: ended(KindVoice, anna, NoAnswer), add: []want{sms(anna)}},
			{send: true, ev: ended(KindSMS, anna, Delivered)},
			{after: rungWait - time.Minute, ev: due(), rung: "1 L1 secondary Bob",
				add: []want{voice(bob), notice(anna, "передан на L1: Bob")}},
			// The voice to Bob is ringing, the notice to Анна not sent yet,
			// when Анна replies to her text: she is not told the page she
			// just took went to Bob.
			{after: 10 * time.Second, prep: func(r *rig) { r.sent(KindVoice, bob) }, ev: ack(anna, ViaSMS), status: Acknowledged, cancel: 1,
				add: []want{notice(bob, "acknowledged by Анна"), note("по SMS")}},
		}},
	)
	runCases(t, cases)
}

func TestOtherAcks(t *testing.T) {
	escalated := []step{
		{ev: open(), add: []want{voice(anna)}},
		{after: time.Minute, send: true, ev: ended(KindVoice, anna, Busy), add: []want{sms(anna)}},
		{send: true, ev: ended(KindSMS, anna, Delivered)},
		{after: rungWait - time.Minute, ev: due(), add: []want{voice(bob), notice(anna)}},
		{send: true, ev: ended(KindVoice, bob, Machine), add: []want{sms(bob, "CRITICAL page 42", "Reply 42 to acknowledge.")}},
		{send: true, ev: ended(KindSMS, bob, Delivered)},
	}
	then := func(s ...step) []step { return append(slices.Clone(escalated), s...) }
	runCases(t, []lifeCase{
		{name: "SMS reply", steps: then(
			step{after: time.Minute, ev: ack(bob, ViaSMS), status: Acknowledged,
				add: []want{notice(anna, "Вызов 42 (заявка 1001, критический) принят: Bob."), note("Bob", "по SMS")}},
			step{ev: ack(bob, ViaSMS), status: Acknowledged, log: []string{"acknowledge ignored"}},
		)},
		{name: "link", steps: then(
			step{ev: ack(anna, ViaLink), status: Acknowledged,
				add: []want{notice(bob, "acknowledged by Анна"), note("Анна", "по ссылке")}},
		)},
		{name: "API by an admin: every engineer paged is told", steps: then(
			step{ev: adminAck(), status: Acknowledged,
				add: []want{notice(anna, "принят: admin"), notice(bob, "acknowledged by admin"), note("admin", "в системе")}},
		)},
		{name: "acknowledged before any call went out: the calls are canceled, nobody told", steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{ev: ack(anna, ViaAPI), status: Acknowledged, cancel: 1, add: []want{note("в системе")}},
		}},
	})
}

// TestFallback: every voice outcome that is not a keypress falls back to
// the same engineer's text.
func TestFallback(t *testing.T) {
	var cases []lifeCase
	for _, pair := range [][2]Target{{anna, bob}, {bob, anna}} {
		first, second := pair[0], pair[1]
		for _, o := range []Outcome{NoAnswer, Busy, NoKey, Machine, Failed, Rejected} {
			code := pick(first.Language, "Ответьте 42, чтобы подтвердить.", "Reply 42 to acknowledge.")
			cases = append(cases, lifeCase{name: first.Name + " voice " + string(o), roster: firstThen(first, second), steps: []step{
				{ev: open(), add: []want{voice(first)}},
				{after: 2 * time.Minute, send: true, ev: ended(KindVoice, first, o), status: Open,
					rung: "0 L1 primary " + first.Name, dueIn: rungWait - 2*time.Minute, log: []string{"voice"},
					add: []want{sms(first, code)}},
				{send: true, ev: ended(KindSMS, first, Delivered), dueIn: rungWait - 2*time.Minute},
				// A late copy of the voice callback changes nothing.
				{ev: ended(KindVoice, first, o), noop: true},
				{after: rungWait - 2*time.Minute, ev: due(), rung: "1 L1 secondary " + second.Name, log: []string{"not acknowledged", "rung"},
					add: []want{voice(second), notice(first, "L1", second.Name)}},
			}})
		}
	}
	cases = append(cases,
		lifeCase{name: "no SMS phone: waits for the timer after a call that rang", roster: with(l1p, oleg), steps: []step{
			{ev: open(), add: []want{voice(oleg)}},
			{after: time.Minute, send: true, ev: ended(KindVoice, oleg, NoAnswer), log: []string{"voice", "skipped"},
				rung: "0 L1 primary Олег", dueIn: rungWait - time.Minute},
			// Олег takes no texts: no notice for him.
			{after: rungWait - time.Minute, ev: due(), rung: "1 L1 secondary Bob", add: []want{voice(bob)}},
		}},
		lifeCase{name: "no SMS phone and the call rejected: next rung at once", roster: with(l1p, oleg), steps: []step{
			{ev: open(), add: []want{voice(oleg)}},
			{after: time.Minute, send: true, ev: ended(KindVoice, oleg, Rejected), log: []string{"skipped", "unreachable", "rung"},
				rung: "1 L1 secondary Bob", dueIn: rungWait, add: []want{voice(bob)}},
		}},
		lifeCase{name: "no phone at all: passed over at once, told to nobody twice",
			roster: with(l1s, mute), steps: []step{
				{ev: open(), add: []want{voice(anna)}},
				{after: rungWait, send: true, ev: due(), rung: "2 L2 primary Вера", log: []string{"rung", "unreachable", "rung"}, paged: []string{"Анна", "Вера"},
					add: []want{voice(vera), notice(anna, "передан на L2: Вера")}},
			}},
		lifeCase{name: "late keypress on a call the engine had given up on still acknowledges", steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: 3 * time.Minute, send: true, ev: ended(KindVoice, anna, Failed), add: []want{sms(anna)}},
			{after: 10 * time.Second, ev: ended(KindVoice, anna, Acked), status: Acknowledged, cancel: 1, add: []want{note("по телефону")}},
		}},
	)
	runCases(t, cases)
}

// TestPermanentFailures: what no retry can fix moves on at once.
func TestPermanentFailures(t *testing.T) {
	var cases []lifeCase
	for _, o := range []Outcome{Rejected, OptedOut, Failed, Undelivered} {
		// Nothing reached Анна: she hears nothing of where the page went.
		cases = append(cases,
			lifeCase{name: "voice rejected, sms " + string(o), steps: []step{
				{ev: open(), add: []want{voice(anna)}},
				{send: true, ev: ended(KindVoice, anna, Rejected), add: []want{sms(anna)}},
				{after: 30 * time.Second, send: true, ev: ended(KindSMS, anna, o), log: []string{"sms", "unreachable", "rung"},
					rung: "1 L1 secondary Bob", dueIn: rungWait, add: []want{voice(bob)}},
			}})
		// Her phone rang: she hears of it, unless her number opted out of
		// texts or takes none (the text was refused for good).
		told := []want{voice(bob), notice(anna, "передан на L1: Bob")}
		if o == OptedOut || o == Rejected {
			told = told[:1]
		}
		cases = append(cases,
			lifeCase{name: "voice rang, sms " + string(o) + ": waits for the timer", steps: []step{
				{ev: open(), add: []want{voice(anna)}},
				{send: true, ev: ended(KindVoice, anna, NoAnswer), add: []want{sms(anna)}},
				{after: 30 * time.Second, send: true, ev: ended(KindSMS, anna, o), rung: "0 L1 primary Анна", dueIn: rungWait - 30*time.Second},
				{after: rungWait - 30*time.Second, ev: due(), rung: "1 L1 secondary Bob", add: told},
			}},
			lifeCase{name: "text-only rung, sms " + string(o),
				page: func(p *Page) { p.Priority = oncall.Low },
				rules: func(r *Rules) {
					r.Quiet = map[oncall.Priority]WakingHours{oncall.Low: {Start: 8 * time.Hour, End: 22 * time.Hour}}
				},
				start: time.Date(2026, 12, 2, 22, 0, 0, 0, time.UTC), // 01:00 in Moscow, 17:00 in New York
				steps: []step{
					{ev: open(), log: []string{"rung", "skipped"}, add: []want{sms(anna, "низкий")}},
					{send: true, ev: ended(KindSMS, anna, o), log: []string{"unreachable"}, rung: "1 L1 secondary Bob",
						add: []want{voice(bob)}},
				}},
		)
	}
	runCases(t, cases)
}

// TestEscalation walks L1 → L2 → L3 and past the plan.
func TestEscalation(t *testing.T) {
	runCases(t, []lifeCase{
		{name: "L1 to L3 and the repeats", steps: []step{
			{ev: open(), rung: "0 L1 primary Анна", add: []want{voice(anna)}},
			{after: time.Minute, ev: due(), noop: true}, // too early
			{after: rungWait - time.Minute, send: true, ev: due(), rung: "1 L1 secondary Bob", dueIn: rungWait,
				add: []want{voice(bob), notice(anna, "Вызов 42 (заявка 1001, критический) не подтверждён и передан на L1: Bob.")}},
			{ev: due(), noop: true}, // the same timer again
			{after: rungWait, send: true, ev: due(), rung: "2 L2 primary Вера",
				add: []want{voice(vera), notice(anna, "передан на L2: Вера"),
					notice(bob, "Page 42 (ticket 1001, critical) was not acknowledged and went to L2: Вера.")}},
			{after: rungWait, send: true, ev: due(), rung: "3 L2 secondary Dan",
				add: []want{voice(dan), notice(anna, "L2: Dan"), notice(bob, "L2: Dan"), notice(vera, "передан на L2: Dan")}},
			{after: rungWait, send: true, ev: due(), rung: "4 L3 primary Галина",
				add: []want{voice(galina), notice(anna, "L3: Галина"), notice(bob, "L3: Галина"), notice(vera, "L3: Галина"),
					notice(dan, "went to L3: Галина")}},
			{after: rungWait, send: true, ev: due(), rung: "5 L3 secondary Eve", paged: []string{"Анна", "Bob", "Вера", "Dan", "Галина", "Eve"},
				add: []want{voice(eve), notice(anna, "L3: Eve"), notice(bob, "L3: Eve"), notice(vera, "L3: Eve"),
					notice(dan, "L3: Eve"), notice(galina, "передан на L3: Eve")}},
			// Past the plan (45 min in): the last level again, every 5 min; everyone
			// knows it reached L3 already, so no more notices.
			{after: rungWait, send: true, ev: due(), rung: "6 L3 primary Галина", dueIn: 5 * time.Minute, log: []string{"rung"},
				add: []want{voice(galina)}},
			{after: 5 * time.Minute, send: true, ev: due(), rung: "7 L3 secondary Eve", dueIn: 5 * time.Minute, add: []want{voice(eve)}},
			{after: 5 * time.Minute, send: true, ev: due(), rung: "8 L3 primary Галина", add: []want{voice(galina)}},
			// 60 min: the deadline has passed.
			{after: 5 * time.Minute, send: true, ev: due(), rung: "9 L3 secondary Eve", overdue: true, log: []string{"overdue", "rung"},
				add: []want{voice(eve)}},
			{after: time.Minute, send: true, ev: ended(KindVoice, eve, NoAnswer), overdue: true,
				add: []want{sms(eve, "OVERDUE! CRITICAL page 42")}},
			{after: time.Minute, ev: ack(eve, ViaSMS), overdue: true, status: Acknowledged, cancel: 1,
				add: []want{notice(anna, "принят: Eve"), notice(bob, "acknowledged by Eve"), notice(vera), notice(dan), notice(galina),
					note("Eve")}},
		}},
		{name: "late callback of an earlier rung: logged, no fallback", steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: rungWait, send: true, ev: due(), add: []want{voice(bob), notice(anna)}},
			{after: 30 * time.Second, ev: ended(KindVoice, anna, NoAnswer), rung: "1 L1 secondary Bob", log: []string{"voice"}},
			{ev: ended(KindVoice, anna, NoAnswer), noop: true},
			{ev: AttemptEndedFor(999, NoAnswer), noop: true},
		}},
		{name: "same engineer on both layers is paged on each", roster: with(l1s, anna), steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: rungWait, send: true, ev: due(), rung: "1 L1 secondary Анна", add: []want{voice(anna)}},
			{after: rungWait, send: true, ev: due(), rung: "2 L2 primary Вера", paged: []string{"Анна", "Вера"},
				add: []want{voice(vera), notice(anna, "L2: Вера")}},
		}},
	})
}

func AttemptEndedFor(id int64, o Outcome) evFn {
	return func(*rig) Event { return AttemptEnded{AttemptID: id, Outcome: o} }
}

func TestNobodyOnCall(t *testing.T) {
	runCases(t, []lifeCase{
		{name: "gap at L1 primary: L1 secondary at once", roster: without(l1p), steps: []step{
			{ev: open(), rung: "1 L1 secondary Bob", dueIn: rungWait, log: []string{"nobody on call", "rung"}, paged: []string{"Bob"},
				add: []want{voice(bob)}},
		}},
		{name: "gap, last resort told in its language", roster: without(l1p, l1s), rules: withLastResort(ru), steps: []step{
			{ev: open(), rung: "2 L2 primary Вера", log: []string{"nobody on call", "nobody on call", "rung"},
				add: []want{voice(vera), lastResort(ru, "Вызов 42 (заявка 1001, критический): на L1 (основной), L1 (резервный) никто не дежурит.")}},
		}},
		{name: "gap met on escalation", roster: without(l1s, l2p), rules: withLastResort(en), steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: rungWait, send: true, ev: due(), rung: "3 L2 secondary Dan",
				add: []want{voice(dan), lastResort(en, "Page 42 (ticket 1001, critical): nobody is on call at L1 secondary, L2 primary."),
					notice(anna, "передан на L2: Dan")}},
		}},
		{name: "nobody at all: waits OverdueWait and retries", roster: roster{}, rules: withLastResort(en), steps: []step{
			{ev: open(), status: Open, rung: "0 L1 primary nobody", dueIn: 5 * time.Minute, paged: []string{},
				add: []want{lastResort(en, "nobody is on call at L1 primary, L1 secondary, L2 primary, L2 secondary, L3 primary, L3 secondary")}},
			{after: time.Minute, ev: due(), noop: true},
			{after: 4 * time.Minute, ev: due(), rung: "0 L1 primary nobody", dueIn: 5 * time.Minute,
				add: []want{lastResort(en, "nobody is on call")}},
			// Вера comes on call at L2: paged at once on the next retry, and the
			// last resort hears of the gaps before her.
			{after: 5 * time.Minute, roster: roster{l2p: vera}, ev: due(), rung: "2 L2 primary Вера", dueIn: rungWait,
				add: []want{voice(vera), lastResort(en, "L1 primary, L1 secondary.")}},
			{after: time.Minute, ev: ack(vera, ViaVoice), status: Acknowledged, cancel: 1, add: []want{note("Вера")}},
		}},
		{name: "escalated into nobody: told once, retried from there", roster: roster{l1p: anna}, steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: rungWait, send: true, ev: due(), rung: "1 L1 secondary nobody", dueIn: 5 * time.Minute,
				add: []want{notice(anna, "не подтверждён и передан на L1: дежурного нет.")}},
			{after: 5 * time.Minute, ev: due(), rung: "1 L1 secondary nobody", dueIn: 5 * time.Minute},
			{after: 5 * time.Minute, roster: roster{l1p: anna, l3s: eve}, ev: due(), rung: "5 L3 secondary Eve",
				add: []want{voice(eve), notice(anna, "передан на L3: Eve")}},
		}},
		{name: "nobody on call can be reached: waits, the last resort told, no endless search",
			roster: roster{l1p: mute, l1s: mute, l2p: oleg, l2s: mute, l3p: oleg, l3s: mute},
			rules: func(r *Rules) {
				withLastResort(en)(r)
				r.Quiet = map[oncall.Priority]WakingHours{oncall.Normal: {Start: 8 * time.Hour, End: 22 * time.Hour}}
			},
			page:  func(p *Page) { p.Priority, p.Deadline = oncall.Normal, p.RaisedAt.Add(8*time.Hour) },
			start: time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC), // 00:00 in Moscow: Олег gets texts only, and takes none
			steps: []step{
				{ev: open(), rung: "0 L1 primary nobody", dueIn: 5 * time.Minute, paged: []string{},
					log: []string{"rung", "unreachable", "rung", "unreachable"},
					add: []want{lastResort(en, "Page 42 (ticket 1001, normal): nobody on call can be reached; nobody could be paged.")}},
				{after: 5 * time.Minute, ev: due(), rung: "0 L1 primary nobody", log: []string{"trying again"},
					add: []want{lastResort(en, "nobody on call can be reached")}},
				{after: 5 * time.Minute, roster: roster{l2p: oleg}, ev: due(), rung: "0 L1 primary nobody",
					add: []want{lastResort(en, "nobody is on call at L1 primary, L1 secondary, L2 secondary, L3 primary, L3 secondary. Nobody could be paged.")}},
			}},
		{name: "acknowledged while nobody is on call", roster: roster{}, steps: []step{
			{ev: open(), rung: "0 L1 primary nobody"},
			{after: time.Minute, ev: adminAck(), status: Acknowledged, add: []want{note("admin")}},
		}},
	})
}

func TestCompression(t *testing.T) {
	runCases(t, []lifeCase{
		{name: "raised 50 min ago: waits shrink to reach L3 before the deadline", start: t0,
			page: func(p *Page) { p.RaisedAt, p.Deadline = t0.Add(-50*time.Minute), t0.Add(10*time.Minute) },
			steps: []step{
				{ev: open(), log: []string{"opened", "compressed", "rung"}, dueIn: 100 * time.Second, add: []want{voice(anna)},
					check: func(t *testing.T, r *rig) {
						var before time.Duration
						for _, x := range r.p.Plan[:len(r.p.Plan)-1] {
							before += x.Wait
						}
						if !r.p.Compressed || before >= 10*time.Minute {
							t.Errorf("compressed %v, waits before the last rung %s, 10m left", r.p.Compressed, before)
						}
					}},
				{after: 100 * time.Second, send: true, ev: due(), dueIn: 100 * time.Second, add: []want{voice(bob), notice(anna)}},
				{after: 100 * time.Second, send: true, ev: due(), add: []want{voice(vera), notice(anna), notice(bob)}},
				{after: 100 * time.Second, send: true, ev: due(), add: []want{voice(dan), notice(anna), notice(bob), notice(vera)}},
				{after: 100 * time.Second, send: true, ev: due(), add: []want{voice(galina), notice(anna), notice(bob), notice(vera), notice(dan)}},
				{after: 100 * time.Second, send: true, ev: due(), rung: "5 L3 secondary Eve",
					add: []want{voice(eve), notice(anna), notice(bob), notice(vera), notice(dan), notice(galina)},
					check: func(t *testing.T, r *rig) {
						if !r.now.Before(r.p.Deadline) {
							t.Errorf("the last rung started at %v, after the deadline %v", r.now, r.p.Deadline)
						}
					}},
			}},
		{name: "raised 59 min ago: MinRungWait at the least",
			page: func(p *Page) { p.RaisedAt, p.Deadline = t0.Add(-59*time.Minute), t0.Add(time.Minute) },
			steps: []step{
				{ev: open(), dueIn: MinRungWait, add: []want{voice(anna)}},
			}},
		{name: "past its deadline: every wait OverdueWait, every text overdue",
			page:   func(p *Page) { p.RaisedAt, p.Deadline = t0.Add(-2*time.Hour), t0.Add(-time.Hour) },
			rules:  withLastResort(ru),
			roster: without(l2p),
			steps: []step{
				{ev: open(), overdue: true, log: []string{"opened", "compressed", "overdue", "rung"}, dueIn: 5 * time.Minute,
					add: []want{voice(anna)},
					check: func(t *testing.T, r *rig) {
						for _, x := range r.p.Plan {
							if x.Wait != 5*time.Minute {
								t.Errorf("rung %+v: want 5m", x)
							}
						}
					}},
				{send: true, ev: ended(KindVoice, anna, NoAnswer), overdue: true,
					add: []want{sms(anna, "ПРОСРОЧЕН! КРИТИЧЕСКИЙ вызов 42, заявка 1001", "2 часа назад")}},
				{after: 5 * time.Minute, send: true, ev: due(), overdue: true, dueIn: 5 * time.Minute,
					add: []want{voice(bob), notice(anna, "ПРОСРОЧЕН! Вызов 42")}},
				{send: true, ev: ended(KindVoice, bob, NoKey), overdue: true,
					add: []want{sms(bob, "OVERDUE! CRITICAL page 42, ticket 1001: voicemail 1:05, Moscow line from "+client+", 2 h ago. Reply 42 to acknowledge.")}},
				{after: 5 * time.Minute, ev: due(), overdue: true, rung: "3 L2 secondary Dan", cancel: 1, // Bob's text
					add: []want{voice(dan), lastResort(ru, "ПРОСРОЧЕН! Вызов 42", "L2 (основной)"),
						notice(anna, "ПРОСРОЧЕН!", "L2: Dan"), notice(bob, "OVERDUE! Page 42")}},
			}},
	})
}

func TestQuietHours(t *testing.T) {
	quiet := func(r *Rules) {
		r.Quiet = map[oncall.Priority]WakingHours{
			oncall.Normal: {Start: 8 * time.Hour, End: 22 * time.Hour},
			oncall.Low:    {Start: 22 * time.Hour, End: 20 * time.Hour}, // spans midnight: quiet 20:00–22:00 only
		}
	}
	normal := func(p *Page) { p.Priority = oncall.Normal; p.Deadline = p.RaisedAt.Add(8 * time.Hour) }
	night := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC) // 23:00 in Moscow, 15:00 in New York
	runCases(t, []lifeCase{
		{name: "normal by day in Moscow, night in New York", page: normal, rules: quiet, steps: []step{
			{ev: open(), dueIn: time.Hour, add: []want{voice(anna)}},
			{after: time.Hour, send: true, ev: due(), rung: "1 L1 secondary Bob", log: []string{"rung", "skipped"},
				add: []want{sms(bob, "normal page 42"), notice(anna, "обычный")}},
		}},
		{name: "normal at night in Moscow, by day in New York", page: normal, rules: quiet, start: night, steps: []step{
			{ev: open(), log: []string{"rung", "skipped"}, add: []want{sms(anna, "обычный вызов 42")}},
			{after: time.Hour, send: true, ev: due(), add: []want{voice(bob), notice(anna)}},
		}},
		{name: "critical rings at night", rules: quiet, start: night, steps: []step{
			{ev: open(), add: []want{voice(anna)}},
		}},
		{name: "low: waking hours across midnight", page: func(p *Page) { p.Priority = oncall.Low },
			rules: quiet, start: time.Date(2026, 12, 2, 17, 30, 0, 0, time.UTC), // 20:30 in Moscow
			steps: []step{
				{ev: open(), add: []want{sms(anna, "низкий")}},
			}},
		{name: "text only at night and no SMS phone: passed over", page: normal, rules: quiet, start: night,
			roster: with(l1p, oleg), steps: []step{
				{ev: open(), rung: "1 L1 secondary Bob", log: []string{"skipped", "skipped", "unreachable", "rung"},
					paged: []string{"Bob"}, add: []want{voice(bob)}},
			}},
	})
}

func TestResolve(t *testing.T) {
	runCases(t, []lifeCase{
		{name: "open page resolved: the engineers told, pending canceled", steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: rungWait, send: true, ev: due(), add: []want{voice(bob), notice(anna)}},
			{send: true, ev: ended(KindVoice, bob, NoAnswer), add: []want{sms(bob)}},
			{after: time.Minute, ev: resolve("admin"), status: Resolved, cancel: 1, // Bob's text had not gone
				add: []want{notice(anna, "Вызов 42 (заявка 1001, критический) закрыт: admin."),
					notice(bob, "Page 42 (ticket 1001, critical) was resolved by admin.")},
				check: func(t *testing.T, r *rig) {
					if r.p.ResolvedBy != "admin" || !r.p.ResolvedAt.Equal(r.now) {
						t.Errorf("resolved by %q at %v", r.p.ResolvedBy, r.p.ResolvedAt)
					}
				}},
			{after: time.Minute, ev: resolve("admin"), status: Resolved, noop: true},
			{ev: ack(bob, ViaSMS), status: Resolved, log: []string{"acknowledge ignored"}},
			{after: time.Hour, ev: due(), status: Resolved, noop: true},
			{send: true, ev: ended(KindVoice, anna, Acked), status: Resolved},
		}},
		{name: "acknowledged page resolved: nobody told again", steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{send: true, ev: ended(KindVoice, anna, Acked), status: Acknowledged, add: []want{note()}},
			{after: time.Hour, ev: resolve("Анна"), status: Resolved, log: []string{"resolved"}},
		}},
	})
}

// TestApplyInvariants applies random events to random pages and checks
// what must hold whatever happens: no attempt key twice on a page, nothing
// paged once the page is closed, DueAt zero exactly when it is closed, an
// engineer paged at most once per channel on a rung, at most one notice
// per engineer per event and none to the engineer who took the page.
func TestApplyInvariants(t *testing.T) {
	everyone := []Target{anna, bob, vera, dan, galina, eve, oleg, mute}
	slots := []slot{l1p, l1s, l2p, l2s, l3p, l3s}
	voiceOutcomes := []Outcome{Acked, NoAnswer, Busy, NoKey, Machine, Failed, Rejected}
	smsOutcomes := []Outcome{Delivered, Accepted, Undelivered, Failed, Rejected, OptedOut}
	vias := []Via{ViaVoice, ViaSMS, ViaLink, ViaAPI}
	rapid.Check(t, func(rt *rapid.T) {
		drawRoster := func() roster {
			ros := roster{}
			for _, s := range slots {
				if i := rapid.IntRange(-2, len(everyone)-1).Draw(rt, "on call"); i >= 0 {
					ros[s] = everyone[i]
				}
			}
			return ros
		}
		prio := rapid.SampledFrom(oncall.Priorities[:]).Draw(rt, "priority")
		ago := time.Duration(rapid.Int64Range(0, int64(2*prio.ResponseTime())).Draw(rt, "raised ago"))
		p := testPage(t0.Add(-ago))
		p.Priority, p.Deadline = prio, p.RaisedAt.Add(prio.ResponseTime())
		p.Level = rapid.SampledFrom([]oncall.Level{0, oncall.L1, oncall.L2, oncall.L3}).Draw(rt, "level")
		p.Source = rapid.SampledFrom([]Source{FromCall, FromAPI, FromTickets, FromUpgrade}).Draw(rt, "source")
		if rapid.Bool().Draw(rt, "no ticket") {
			p.TicketID = ""
		}
		rules := testRules()
		if rapid.Bool().Draw(rt, "last resort") {
			rules.LastResort = lastResortPhone
		}
		if rapid.Bool().Draw(rt, "quiet hours") {
			rules.Quiet = map[oncall.Priority]WakingHours{prio: {
				Start: time.Duration(rapid.IntRange(0, 23).Draw(rt, "wake")) * time.Hour,
				End:   time.Duration(rapid.IntRange(0, 23).Draw(rt, "sleep")) * time.Hour,
			}}
		}
		r := newRig(rt, p, drawRoster(), rules, t0)
		events := 0
		check := func(ev Event, wasClosed bool) {
			events++
			p := &r.p
			if len(r.skipped) > 0 {
				rt.Fatalf("%T added keys the page had already: %v", ev, r.skipped)
			}
			if p.Seq != events {
				rt.Fatalf("Seq %d after %d events", p.Seq, events)
			}
			if p.DueAt.IsZero() != p.Status.Closed() {
				rt.Fatalf("%T left status %s with DueAt %v", ev, p.Status, p.DueAt)
			}
			if wasClosed && len(r.added) > 0 {
				rt.Fatalf("%T on a %s page added %+v", ev, p.Status, r.added)
			}
			told := map[int64]bool{}
			for _, a := range r.added {
				switch a.Purpose {
				case PurposePage:
					if p.Status.Closed() {
						rt.Fatalf("%T closed the page (%s) and paged %s", ev, p.Status, a.To)
					}
					if a.EngineerID != p.Current.Target.EngineerID || a.Rung != p.Current.Rung {
						rt.Fatalf("%T paged engineer %d on rung %d; the current rung is %d, %s", ev, a.EngineerID, a.Rung, p.Current.Rung, p.Current.Target.Name)
					}
				case PurposeNotice:
					if told[a.EngineerID] {
						rt.Fatalf("%T told engineer %d twice: %+v", ev, a.EngineerID, r.added)
					}
					told[a.EngineerID] = true
					if p.Status == Acknowledged && a.EngineerID == p.AckedBy && p.AckedBy != 0 {
						rt.Fatalf("%T told %s, who took the page, %q", ev, p.AckedByName, a.Body)
					}
				}
			}
			type rungKind struct {
				rung int
				kind Kind
			}
			seen := map[rungKind]bool{}
			to := map[int]int64{}
			for _, a := range r.atts {
				if a.Purpose != PurposePage {
					continue
				}
				k := rungKind{a.Rung, a.Kind}
				if seen[k] {
					rt.Fatalf("two %s pages on rung %d", a.Kind, a.Rung)
				}
				seen[k] = true
				if e, ok := to[a.Rung]; ok && e != a.EngineerID {
					rt.Fatalf("rung %d paged engineers %d and %d", a.Rung, e, a.EngineerID)
				}
				to[a.Rung] = a.EngineerID
			}
			if cur := p.Current; p.Status == Open && cur.Target != (Target{}) {
				if _, ok := to[cur.Rung]; !ok {
					rt.Fatalf("%T: the current rung %d names %s, who was not paged on it", ev, cur.Rung, cur.Target.Name)
				}
			}
			ids := map[int64]bool{}
			for _, x := range p.Paged {
				if ids[x.EngineerID] {
					rt.Fatalf("%s listed twice in Paged", x.Name)
				}
				ids[x.EngineerID] = true
			}
		}

		open := Opened{Policy: oncall.DefaultPolicy(prio)}
		r.apply(open)
		check(open, false)
		if p.Source == FromUpgrade && !t0.Before(p.Deadline) && r.p.Status != Expired {
			rt.Fatalf("an upgraded page past its deadline is %s", r.p.Status)
		}
		n := rapid.IntRange(1, 60).Draw(rt, "events")
		for range n {
			r.now = r.now.Add(time.Duration(rapid.Int64Range(0, int64(20*time.Minute)).Draw(rt, "wait")))
			for i := range r.atts {
				if r.atts[i].Status == Intended && rapid.Bool().Draw(rt, "sent") {
					r.atts[i].Status = Sent
				}
			}
			if rapid.IntRange(0, 9).Draw(rt, "roster changes") == 0 {
				r.roster = drawRoster()
			}
			var ev Event
			switch k := rapid.IntRange(0, 19).Draw(rt, "event"); {
			case k == 0:
				ev = Resolve{By: "admin"}
			case k == 1:
				e := rapid.SampledFrom(append(everyone, Target{Name: "admin"})).Draw(rt, "acker")
				ev = Acknowledge{EngineerID: e.EngineerID, Name: e.Name, Via: rapid.SampledFrom(vias).Draw(rt, "via")}
			case k < 10:
				if !r.p.DueAt.IsZero() && rapid.Bool().Draw(rt, "on time") && r.now.Before(r.p.DueAt) {
					r.now = r.p.DueAt
				}
				ev = Due{}
			default:
				if len(r.atts) == 0 {
					ev = Due{}
					break
				}
				a := rapid.SampledFrom(r.atts).Draw(rt, "attempt")
				o := Accepted
				switch a.Kind {
				case KindVoice:
					o = rapid.SampledFrom(voiceOutcomes).Draw(rt, "outcome")
				case KindSMS:
					o = rapid.SampledFrom(smsOutcomes).Draw(rt, "outcome")
				}
				ev = AttemptEnded{AttemptID: a.ID, Outcome: o}
			}
			wasClosed := r.p.Status.Closed()
			r.apply(ev)
			check(ev, wasClosed)
		}
	})
}
