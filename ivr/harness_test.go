package ivr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

const (
	moscow     = "+74996383867"
	washington = "+12025952118"
	client     = "+79161234567"
	callID     = "CA1"
)

// t0 is when every test call starts; events are given as seconds after it.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// engineer returns a test engineer whose phone is +7999000<id>.
func engineer(id int64, name string, langs ...oncall.Language) oncall.Engineer {
	if len(langs) == 0 {
		langs = []oncall.Language{oncall.Russian, oncall.English}
	}
	return oncall.Engineer{ID: id, Name: name, Languages: langs,
		Contacts: []oncall.ContactMethod{{Phone: fmt.Sprintf("+7999000%04d", id)}}}
}

// env is a Flow with fakes of everything it uses. The defaults: tickets
// 12345 (critical, L1), 777 (urgent, escalated to L2) and 86420 (low)
// exist, others are
// not found; new tickets get id 90210; on call are L1 Anna (11, primary) and
// Boris (12, secondary), L2 Clara (21) and Dmitri (22), L3 Elena (31,
// primary only); no language is remembered; every write succeeds.
type env struct {
	t       *testing.T
	cfg     Config
	tickets *fakeTickets
	roster  *fakeRoster
	pages   *fakePages
	prefs   *fakePrefs
	calls   *fakeCalls
	logs    *observer.ObservedLogs
	oncall  map[[2]int]oncall.Engineer
	known   map[string]Ticket
	flow    *Flow
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, cfg: DefaultConfig(),
		tickets: &fakeTickets{tb: t}, roster: &fakeRoster{tb: t}, pages: &fakePages{tb: t},
		prefs: &fakePrefs{tb: t}, calls: &fakeCalls{tb: t},
		known: map[string]Ticket{
			"12345": {ID: "12345", Subject: "Database down", Priority: oncall.Critical, Level: oncall.L1},
			"777":   {ID: "777", Subject: "Slow backups", Priority: oncall.Urgent, Level: oncall.L2},
			"86420": {ID: "86420", Subject: "How to rotate keys", Priority: oncall.Low, Level: oncall.L1},
		},
		oncall: map[[2]int]oncall.Engineer{
			{1, 1}: engineer(11, "Anna", oncall.Russian, oncall.English),
			{1, 2}: engineer(12, "Boris", oncall.English),
			{2, 1}: engineer(21, "Clara"),
			{2, 2}: engineer(22, "Dmitri"),
			{3, 1}: engineer(31, "Elena"),
		},
	}
	e.tickets.TicketFn = func(ctx context.Context, id string) (Ticket, error) {
		if tk, ok := e.known[id]; ok {
			return tk, nil
		}
		return Ticket{}, errs.E(errs.NotFound, "id", "no ticket %s", id)
	}
	e.tickets.OpenFn = func(ctx context.Context, nt NewTicket) (Ticket, error) {
		return Ticket{ID: "90210", Priority: nt.Priority, Level: oncall.L1}, nil
	}
	e.tickets.AddNoteFn = func(ctx context.Context, id, note string) error { return nil }
	e.roster.OnCallFn = func(ctx context.Context, l oncall.Level, y oncall.Layer, _ time.Time) (oncall.Engineer, bool, error) {
		eng, ok := e.oncall[[2]int{int(l), int(y)}]
		return eng, ok, nil
	}
	e.pages.RequestPageFn = func(ctx context.Context, p PageRequest) error { return nil }
	e.prefs.LanguageFn = func(ctx context.Context, caller string) (oncall.Language, bool, error) { return "", false, nil }
	e.prefs.SetLanguageFn = func(ctx context.Context, caller string, l oncall.Language) error { return nil }
	e.calls.SaveCallFn = func(ctx context.Context, r CallRecord) error { return nil }
	return e
}

func (e *env) build() *Flow {
	e.t.Helper()
	if e.flow != nil {
		return e.flow
	}
	core, logs := observer.New(zapcore.DebugLevel)
	e.logs = logs
	f, err := New(e.cfg, Deps{Tickets: e.tickets, Roster: e.roster, Pages: e.pages,
		Preferences: e.prefs, Calls: e.calls, Log: zap.New(core)})
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	e.flow = f
	return f
}

// call drives one call through the flow the way a stateless driver would:
// the state goes through JSON between every two events.
type call struct {
	e  *env
	st State
}

func (e *env) start(ev CallStarted) (*call, Result) {
	e.t.Helper()
	f := e.build()
	if ev.CallID == "" {
		ev.CallID = callID
	}
	if ev.At.IsZero() {
		ev.At = t0
	}
	st, res, err := f.Start(context.Background(), ev)
	if err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	c := &call{e: e, st: st}
	c.check(res, 0)
	return c, res
}

// send delivers ev (stamped at sec) and fails the test on an error.
func (c *call) send(sec float64, ev Event) Result {
	c.e.t.Helper()
	res, err := c.try(sec, ev)
	if err != nil {
		c.e.t.Fatalf("Handle(%T) at %gs: %v", ev, sec, err)
	}
	return res
}

// try delivers ev stamped at sec; the state advances only without error.
func (c *call) try(sec float64, ev Event) (Result, error) {
	c.e.t.Helper()
	before := c.st.Seq
	st, res, err := c.e.flow.Handle(context.Background(), roundTrip(c.e.t, c.st), stamp(ev, at(sec)))
	if err != nil {
		if !equalJSON(c.e.t, st, c.st) {
			c.e.t.Errorf("Handle changed the state although it failed")
		}
		return res, err
	}
	if st.Seq != before && st.Seq != before+1 {
		c.e.t.Errorf("Seq went from %d to %d", before, st.Seq)
	}
	c.st = st
	c.check(res, before)
	return res, nil
}

// check asserts what holds after every event: every prompt exists in both
// languages, and CallerSeq moves exactly when the caller gets a new step.
func (c *call) check(res Result, seqBefore int) {
	c.e.t.Helper()
	for _, p := range allPrompts(res) {
		emitted.Store(p.Name, true)
		if Text(p) == "" {
			c.e.t.Errorf("prompt %q in %q is not in the catalogue", p.Name, p.Lang)
		}
	}
	if res.Caller != nil && c.st.CallerSeq != c.st.Seq {
		c.e.t.Errorf("caller step issued but CallerSeq %d != Seq %d", c.st.CallerSeq, c.st.Seq)
	}
	if res.Caller == nil && c.st.CallerSeq > seqBefore && seqBefore > 0 {
		c.e.t.Errorf("CallerSeq moved to %d without a caller step", c.st.CallerSeq)
	}
}

// roundTrip marshals st and unmarshals it into a fresh State, failing if the
// second marshalling differs: the flow may depend on nothing JSON drops.
func roundTrip(t *testing.T, st State) State {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatalf("marshal state: %v", err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal state: %v\n%s", err, b)
	}
	b2, _ := json.Marshal(back)
	if !bytes.Equal(b, b2) {
		t.Fatalf("state does not round-trip:\n%s\n%s", b, b2)
	}
	return back
}

func equalJSON(t *testing.T, a, b State) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// stamp returns ev with its time set to at.
func stamp(ev Event, at time.Time) Event {
	switch e := ev.(type) {
	case Digits:
		e.At = at
		return e
	case HoldKey:
		e.At = at
		return e
	case Tick:
		e.At = at
		return e
	case LegAnswered:
		e.At = at
		return e
	case LegDigits:
		e.At = at
		return e
	case Bridged:
		e.At = at
		return e
	case LegEnded:
		e.At = at
		return e
	case RecordingDone:
		e.At = at
		return e
	case HungUp:
		e.At = at
		return e
	case CallStarted:
		e.At = at
		return e
	}
	panic(fmt.Sprintf("stamp: unknown event %T", ev))
}

// ex is one exchange of a scripted call: at sec, event ev, and the Result
// described as want ("" for an empty Result).
type ex struct {
	sec  float64
	ev   Event
	want string
}

// flowCase is a scripted call: setup adjusts the env, start begins the
// call, then each exchange is checked; check looks at the end state and at
// what the fakes recorded.
type flowCase struct {
	name  string
	setup func(e *env)
	start CallStarted
	want  string // the Result of Start
	turns []ex
	check func(t *testing.T, e *env, st State)
}

func runCases(t *testing.T, cases []flowCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			start := tc.start
			if start.Line == "" {
				start.Line = moscow
			}
			c, res := e.start(start)
			want := tc.want
			if want == "" {
				want = greetMoscowRU
			}
			if got := describe(res); got != want {
				t.Fatalf("start:\n got  %s\n want %s", got, want)
			}
			for i, x := range tc.turns {
				res := c.send(x.sec, x.ev)
				if got := describe(res); got != x.want {
					t.Fatalf("turn %d (%T at %gs):\n got  %s\n want %s", i+1, x.ev, x.sec, got, x.want)
				}
			}
			if tc.check != nil {
				tc.check(t, e, c.st)
			}
		})
	}
}

// savedOnce returns the one call record saved, failing unless there is
// exactly one.
func savedOnce(t *testing.T, e *env) CallRecord {
	t.Helper()
	e.calls.mu.Lock()
	defer e.calls.mu.Unlock()
	if len(e.calls.saved) != 1 {
		t.Fatalf("SaveCall called %d times, want once", len(e.calls.saved))
	}
	return e.calls.saved[0]
}

func onePage(t *testing.T, e *env) PageRequest {
	t.Helper()
	if len(e.pages.pages) != 1 {
		t.Fatalf("RequestPage called %d times, want once: %+v", len(e.pages.pages), e.pages.pages)
	}
	return e.pages.pages[0]
}

func noPage(t *testing.T, e *env) {
	t.Helper()
	if len(e.pages.pages) != 0 {
		t.Fatalf("RequestPage called: %+v", e.pages.pages)
	}
}

// logged reports whether a log entry at level or above contains msg.
func logged(e *env, level zapcore.Level, msg string) bool {
	for _, en := range e.logs.All() {
		if en.Level >= level && strings.Contains(en.Message, msg) {
			return true
		}
	}
	return false
}
