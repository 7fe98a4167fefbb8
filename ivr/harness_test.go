package ivr_test

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
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/ivr/ivrtest"
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

// env is a Flow over ivrtest's in-memory dependencies. The defaults:
// tickets 12345 (critical, L1), 777 (urgent, escalated to L2) and 86420
// (low) exist, others are not found; new tickets get id 90210; on call are
// L1 Anna (11, primary) and Boris (12, secondary), L2 Clara (21) and
// Dmitri (22), L3 Elena (31, primary only); no language is remembered;
// every write succeeds.
type env struct {
	t       *testing.T
	cfg     ivr.Config
	tickets *ivrtest.Tickets
	roster  *ivrtest.Roster
	pages   *ivrtest.Pages
	prefs   *ivrtest.Preferences
	calls   *ivrtest.CallLog
	logs    *observer.ObservedLogs
	flow    *ivr.Flow
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{t: t, cfg: ivr.DefaultConfig(),
		tickets: ivrtest.NewTickets(
			ivr.Ticket{ID: "12345", Subject: "Database down", Priority: oncall.Critical, Level: oncall.L1},
			ivr.Ticket{ID: "777", Subject: "Slow backups", Priority: oncall.Urgent, Level: oncall.L2},
			ivr.Ticket{ID: "86420", Subject: "How to rotate keys", Priority: oncall.Low, Level: oncall.L1},
		),
		roster: ivrtest.NewRoster(map[ivrtest.Rung]oncall.Engineer{
			{Level: oncall.L1, Layer: oncall.Primary}:   engineer(11, "Anna", oncall.Russian, oncall.English),
			{Level: oncall.L1, Layer: oncall.Secondary}: engineer(12, "Boris", oncall.English),
			{Level: oncall.L2, Layer: oncall.Primary}:   engineer(21, "Clara"),
			{Level: oncall.L2, Layer: oncall.Secondary}: engineer(22, "Dmitri"),
			{Level: oncall.L3, Layer: oncall.Primary}:   engineer(31, "Elena"),
		}),
		pages: &ivrtest.Pages{}, prefs: &ivrtest.Preferences{}, calls: &ivrtest.CallLog{},
	}
}

// deps returns the env's dependencies for ivr.New.
func (e *env) deps() ivr.Deps {
	return ivr.Deps{Tickets: e.tickets, Roster: e.roster, Pages: e.pages, Preferences: e.prefs, Calls: e.calls}
}

// errUnexpected is what a hook that forbids a call returns, if it must
// return an error.
var errUnexpected = errs.E(errs.Internal, "", "unexpected")

// unexpected fails the test, saying that the flow used dep although the
// test said it must not: the hooks that forbid a call make it.
func (e *env) unexpected(dep string, args ...any) {
	e.t.Errorf("unexpected %s%v", dep, args)
}

func (e *env) build() *ivr.Flow {
	e.t.Helper()
	if e.flow != nil {
		return e.flow
	}
	core, logs := observer.New(zapcore.DebugLevel)
	e.logs = logs
	deps := e.deps()
	deps.Log = zap.New(core)
	f, err := ivr.New(e.cfg, deps)
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
	st ivr.State
}

func (e *env) start(ev ivr.CallStarted) (*call, ivr.Result) {
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
func (c *call) send(sec float64, ev ivr.Event) ivr.Result {
	c.e.t.Helper()
	res, err := c.try(sec, ev)
	if err != nil {
		c.e.t.Fatalf("Handle(%T) at %gs: %v", ev, sec, err)
	}
	return res
}

// try delivers ev stamped at sec; the state advances only without error.
func (c *call) try(sec float64, ev ivr.Event) (ivr.Result, error) {
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
	if res.Settle {
		// As a driver does once the request is answered: the Tick on
		// which the finished call writes its ticket note.
		st, _, err := c.e.flow.Handle(context.Background(), roundTrip(c.e.t, c.st), ivr.Tick{At: at(sec)})
		if err != nil {
			c.e.t.Fatalf("the settling Tick after %T at %gs: %v", ev, sec, err)
		}
		c.st = st
	}
	return res, nil
}

// check asserts what holds after every event: every prompt exists in both
// languages, and CallerSeq moves exactly when the caller gets a new step.
func (c *call) check(res ivr.Result, seqBefore int) {
	c.e.t.Helper()
	for _, p := range allPrompts(res) {
		emitted.Store(p.Name, true)
		if ivr.Text(p) == "" {
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
func roundTrip(t *testing.T, st ivr.State) ivr.State {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatalf("marshal state: %v", err)
	}
	var back ivr.State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal state: %v\n%s", err, b)
	}
	b2, _ := json.Marshal(back)
	if !bytes.Equal(b, b2) {
		t.Fatalf("state does not round-trip:\n%s\n%s", b, b2)
	}
	return back
}

func equalJSON(t *testing.T, a, b ivr.State) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// stamp returns ev with its time set to at.
func stamp(ev ivr.Event, at time.Time) ivr.Event {
	switch e := ev.(type) {
	case ivr.Digits:
		e.At = at
		return e
	case ivr.HoldKey:
		e.At = at
		return e
	case ivr.Tick:
		e.At = at
		return e
	case ivr.LegAnswered:
		e.At = at
		return e
	case ivr.LegDigits:
		e.At = at
		return e
	case ivr.Bridged:
		e.At = at
		return e
	case ivr.LegEnded:
		e.At = at
		return e
	case ivr.RecordingDone:
		e.At = at
		return e
	case ivr.HungUp:
		e.At = at
		return e
	case ivr.CallStarted:
		e.At = at
		return e
	}
	panic(fmt.Sprintf("stamp: unknown event %T", ev))
}

// ex is one exchange of a scripted call: at sec, event ev, and the Result
// described as want ("" for an empty Result).
type ex struct {
	sec  float64
	ev   ivr.Event
	want string
}

// flowCase is a scripted call: setup adjusts the env, start begins the
// call, then each exchange is checked; check looks at the end state and at
// what the fakes recorded.
type flowCase struct {
	name  string
	setup func(e *env)
	start ivr.CallStarted
	want  string // the Result of Start
	turns []ex
	check func(t *testing.T, e *env, st ivr.State)
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
func savedOnce(t *testing.T, e *env) ivr.CallRecord {
	t.Helper()
	saved := e.calls.Tried()
	if len(saved) != 1 {
		t.Fatalf("SaveCall called %d times, want once", len(saved))
	}
	return saved[0]
}

func onePage(t *testing.T, e *env) ivr.PageRequest {
	t.Helper()
	pages := e.pages.Requested()
	if len(pages) != 1 {
		t.Fatalf("RequestPage called %d times, want once: %+v", len(pages), pages)
	}
	return pages[0]
}

func noPage(t *testing.T, e *env) {
	t.Helper()
	if pages := e.pages.Requested(); len(pages) != 0 {
		t.Fatalf("RequestPage called: %+v", pages)
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
