// Package ivr owns the call flow of the support lines: a provider-neutral
// state machine that takes a call event and returns the next steps for the
// caller and the engineer legs, with the prompt catalogue it speaks from.
// It is a domain package: it imports no Twilio, Asterisk, HTTP or database
// package; the drivers (webhooks/, asterisk/, the simulator) call it.
package ivr

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// Log keys.
const (
	keyCallID   = "call_id"
	keyLine     = "line"
	keyPhase    = "phase"
	keyTicket   = "ticket"
	keyLeg      = "leg"
	keyEngineer = "engineer_id"
	keyPriority = "priority"
)

// Flow runs calls. It keeps no per-call state (that is State), so one Flow
// serves every call, concurrently.
type Flow struct {
	cfg     Config
	tickets Tickets
	roster  Roster
	pages   Pages
	prefs   Preferences
	calls   CallLog
	others  OtherCalls // nil: nobody is busy
	log     *zap.Logger
}

// Deps are what a Flow needs from the rest of the service.
type Deps struct {
	Tickets     Tickets
	Roster      Roster
	Pages       Pages
	Preferences Preferences
	Calls       CallLog
	// OtherCalls says which engineers are taken by other calls, so that
	// the ring plan skips them; nil: nobody is.
	OtherCalls OtherCalls
	Log        *zap.Logger // nil: no logging
}

// New returns a Flow, or errs.Invalid if cfg cannot work or a dependency is
// missing.
func New(cfg Config, d Deps) (*Flow, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for name, missing := range map[string]bool{
		"tickets": d.Tickets == nil, "roster": d.Roster == nil, "pages": d.Pages == nil,
		"preferences": d.Preferences == nil, "calls": d.Calls == nil,
	} {
		if missing {
			return nil, errs.InvalidField(name, "is required")
		}
	}
	log := d.Log
	if log == nil {
		log = zap.NewNop()
	}
	return &Flow{cfg: cfg, tickets: d.Tickets, roster: d.Roster, pages: d.Pages,
		prefs: d.Preferences, calls: d.Calls, others: d.OtherCalls, log: log.Named("ivr")}, nil
}

// Start answers a new call: the caller hears the greeting of the line in
// the remembered or the line's language and the offer of the other one.
// The greeting's Gather takes a whole ticket id too (see languageChosen):
// a key alone is sent after LanguageTimeout.
// Errors: errs.Invalid for an event without CallID or time.
func (f *Flow) Start(ctx context.Context, ev CallStarted) (State, Result, error) {
	if ev.CallID == "" || ev.At.IsZero() {
		return State{}, Result{}, errs.E(errs.Invalid, "event", "a started call needs a call id and a time")
	}
	line, known := f.cfg.line(ev.Line)
	st := State{CallID: ev.CallID, Line: line.Number, Caller: ev.Caller, Lang: line.Language,
		Phase: PhaseLanguage, StartedAt: ev.At}
	t := f.turn(ctx, &st, ev.At)
	if !known {
		t.log.Warn("call to an unknown number answered as the default line",
			zap.String("dialled", ev.Line))
	}
	st.LangFrom = langFromLine
	if usableCaller(ev.Caller) {
		lctx, cancel := context.WithTimeout(ctx, f.cfg.LookupBudget)
		l, ok, err := f.prefs.Language(lctx, ev.Caller)
		cancel()
		switch {
		case err != nil:
			t.log.Warn("language preference lookup failed; using the line's language", zap.Error(err))
		case ok && l.Valid():
			st.Lang, st.LangFrom = l, langFromRemembered
		}
	}
	t.note("start", fmt.Sprintf("line %s caller %s lang %s (%s)", line.Name, callerOrWithheld(ev.Caller), st.Lang, st.LangFrom))
	t.callerStep(Gather{
		Prompts: []Prompt{
			{Name: line.Greeting, Lang: st.Lang},
			{Name: pLanguageOffer, Lang: otherLanguage(st.Lang)},
		},
		MaxDigits:  f.cfg.TicketDigitsMax + 1,
		Terminator: "#",
		Timeout:    f.cfg.LanguageTimeout,
	})
	st.Seq = 1
	return st, t.res, nil
}

// Handle applies ev to the call in st and returns the new state and what the
// driver does next. Dependency failures never surface as errors: the flow
// handles them. Errors (with st returned unchanged):
//   - errs.Invalid: st is not a started call, or ev has no time;
//   - errs.Conflict: ev cannot happen in this phase (e.g. Digits while on
//     hold, HoldKey at a menu, anything but HungUp or a leg event after the
//     call finished, a leg this call never placed, CallStarted).
//
// A finished call whose page, record or ticket note could not be written
// (State.Owed) takes Ticks: each retries what is owed.
func (f *Flow) Handle(ctx context.Context, st State, ev Event) (State, Result, error) {
	if st.CallID == "" || st.Phase == "" {
		return st, Result{}, errs.E(errs.Invalid, "state", "not a started call")
	}
	if ev == nil || ev.when().IsZero() {
		return st, Result{}, errs.E(errs.Invalid, "event", "an event needs a time")
	}
	next := st.clone()
	t := f.turn(ctx, &next, ev.when())
	if err := t.dispatch(ev); err != nil {
		return st, Result{}, err
	}
	if t.ignored {
		return st, t.res, nil
	}
	next.Seq++
	t.res.WakeAt = f.wakeAt(next)
	return next, t.res, nil
}

// turn is the handling of one event.
type turn struct {
	f       *Flow
	ctx     context.Context
	st      *State
	at      time.Time
	log     *zap.Logger
	res     Result
	ignored bool // the event changes nothing: the state is returned as it was
}

func (f *Flow) turn(ctx context.Context, st *State, at time.Time) *turn {
	log := f.log.With(zap.String(keyCallID, st.CallID), zap.String(keyLine, st.Line))
	return &turn{f: f, ctx: ctx, st: st, at: at, log: log}
}

func (t *turn) dispatch(ev Event) error {
	st := t.st
	if st.Phase == PhaseDone {
		return t.afterDone(ev)
	}
	switch e := ev.(type) {
	case Digits:
		keys := e.Digits // the menus see a terminator as a trailing #: "" is silence
		if e.Finished && !strings.HasSuffix(keys, "#") {
			keys += "#"
		}
		switch st.Phase {
		case PhaseLanguage:
			t.languageChosen(keys)
		case PhaseTicket:
			t.ticketKeyed(keys)
		case PhasePriority:
			t.priorityKeyed(keys)
		default:
			return t.conflict("digits")
		}
	case HoldKey:
		switch st.Phase {
		case PhaseRouting:
			t.holdKeyed(e.Key)
		case PhaseConnected, PhaseVoicemail, PhaseVoicemailWait:
			t.ignored = true // pressed as the call moved on: too late to change anything
		default:
			return t.conflict("a key on hold")
		}
	case Tick:
		t.tick()
	case LegAnswered:
		return t.legEvent(e.LegID, false, t.legAnswered)
	case LegDigits:
		return t.legEvent(e.LegID, false, func() { t.legKeyed(e.Digits) })
	case Bridged:
		return t.legEvent(e.LegID, false, t.bridged)
	case LegEnded:
		return t.legEvent(e.LegID, true, func() { t.legEnded(e.Reason) })
	case RecordingDone:
		if st.Phase != PhaseVoicemail && st.Phase != PhaseVoicemailWait {
			return t.conflict("a recording")
		}
		t.recordingDone(e.URL, e.Seconds)
	case HungUp:
		t.hungUp()
	case CallStarted:
		return t.conflict("a second start")
	default:
		return errs.E(errs.Invalid, "event", "unknown event %T", ev)
	}
	return nil
}

func (t *turn) conflict(what string) error {
	return errs.E(errs.Conflict, "event", "%s cannot happen while the call is in phase %s", what, t.st.Phase)
}

// afterDone handles the events that may still trail a finished call: the
// caller's hang-up and the ends of cancelled legs change nothing; a leg
// picked up too late is told so and hung up. A Tick retries the writes the
// call still owes (State.Owed), and is refused when it owes none.
func (t *turn) afterDone(ev Event) error {
	t.ignored = true
	t.res.Done = true
	switch e := ev.(type) {
	case Tick:
		if t.st.Owed.Due(t.at) {
			t.ignored = false
			t.settle()
			return nil
		}
		if t.st.Owed.Any() {
			return nil // not yet: nothing changes
		}
	case HungUp:
		return nil
	case LegEnded:
		return t.knownLeg(e.LegID)
	case LegAnswered:
		return t.withdrawLeg(e.LegID)
	case LegDigits:
		return t.withdrawLeg(e.LegID)
	}
	return errs.E(errs.Conflict, "event", "the call has finished")
}

func (t *turn) withdrawLeg(id string) error {
	if err := t.knownLeg(id); err != nil {
		return err
	}
	t.legStep(id, Hangup{Prompts: promptsIn(t.line().Language, pScreenWithdrawn)})
	return nil
}

// knownLeg returns errs.Conflict unless id is a leg this call placed.
func (t *turn) knownLeg(id string) error {
	n, err := strconv.Atoi(strings.TrimPrefix(id, t.st.CallID+"-leg"))
	if err != nil || !strings.HasPrefix(id, t.st.CallID+"-leg") || n < 1 || n > t.st.Legs {
		return errs.E(errs.Conflict, "leg_id", "%q is not a leg of this call", id)
	}
	return nil
}

// legEvent runs handle if id is the current leg and refuses an id this call
// never placed. A leg the call has let go of (cancelled, hung up) may still
// report: its end is only noted; if it is picked up or keys something, it
// is told the call is no longer waiting and hung up.
func (t *turn) legEvent(id string, end bool, handle func()) error {
	if err := t.knownLeg(id); err != nil {
		return err
	}
	if id == t.st.Leg.ID {
		handle()
		return nil
	}
	t.note("stale", id)
	if !end {
		t.legStep(id, Hangup{Prompts: promptsIn(t.line().Language, pScreenWithdrawn)})
	}
	return nil
}

func (t *turn) note(kind, detail string) {
	t.st.Steps = append(t.st.Steps, Entry{At: t.at, Kind: kind, Detail: detail})
}

// callerStep sets the caller's next step.
func (t *turn) callerStep(s Step) {
	t.res.Caller = s
	t.st.CallerSeq = t.st.Seq + 1
}

func (t *turn) legStep(id string, s Step) {
	t.res.Legs = append(t.res.Legs, LegStep{LegID: id, Step: s})
}

func (t *turn) action(a Action) { t.res.Actions = append(t.res.Actions, a) }

// prompts returns the named prompts in the caller's language.
func (t *turn) prompts(names ...string) []Prompt { return promptsIn(t.st.Lang, names...) }

func (t *turn) line() Line {
	l, _ := t.f.cfg.line(t.st.Line)
	return l
}

// wakeAt is the state's next deadline, zero if it has none.
func (f *Flow) wakeAt(st State) time.Time {
	var ts []time.Time
	switch st.Phase {
	case PhaseRouting:
		ts = append(ts, st.RoutedAt.Add(f.cfg.MaxHold), st.ProgressAt.Add(f.cfg.ProgressEvery))
		if st.Leg.ringing() {
			ts = append(ts, st.Leg.RangAt.Add(f.cfg.RingTime))
		}
	case PhaseVoicemail, PhaseVoicemailWait:
		ts = append(ts, f.recordingDeadline(st))
	}
	var w time.Time
	for _, x := range ts {
		if w.IsZero() || x.Before(w) {
			w = x
		}
	}
	return w
}

// recordingDeadline is when the flow stops waiting for the voicemail and
// pages without it: RecordingGrace after the longest recording could end,
// or after the caller hung up (a recording is complete then; one never
// started if they hung up before the tone).
func (f *Flow) recordingDeadline(st State) time.Time {
	d := st.RecordAt.Add(f.cfg.VoicemailMaxLength + f.cfg.RecordingGrace)
	if gone := st.GoneAt.Add(f.cfg.RecordingGrace); !st.GoneAt.IsZero() && gone.Before(d) {
		return gone
	}
	return d
}

func callerOrWithheld(c string) string {
	if usableCaller(c) {
		return c
	}
	return "withheld"
}

func validLevel(l oncall.Level) oncall.Level {
	if l.Valid() {
		return l
	}
	return oncall.L1
}
