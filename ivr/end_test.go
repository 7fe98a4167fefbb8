package ivr_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

func TestVoicemail(t *testing.T) {
	nobody := onCall(map[[2]int]oncall.Engineer{})
	toMenu := []ex{{5, ivr.Digits{}, askTicketRU}, {8, ivr.Digits{Digits: "*"}, priorityMenuRU}}
	var cases []flowCase
	for _, p := range []struct {
		key      string
		priority oncall.Priority
		response string
	}{{"1", oncall.Critical, "response_1h"}, {"2", oncall.Urgent, "response_2h"},
		{"3", oncall.Normal, "response_8h"}, {"4", oncall.Low, "response_24h"}} {
		cases = append(cases, flowCase{
			name:  "response time of a " + string(p.priority) + " call",
			setup: nobody,
			start: ivr.CallStarted{Caller: client},
			turns: append(slices.Clone(toMenu),
				ex{12, ivr.Digits{Digits: p.key}, "caller: record(2m0s) ru[priority_set_" + string(p.priority) + " ticket_opened d:90210 pause nobody_available leave_message]"},
				ex{60, ivr.RecordingDone{URL: "https://rec.example/7", Seconds: 30},
					"caller: hangup ru[message_recorded respond_within " + p.response + " goodbye] | done"},
			),
			check: func(t *testing.T, e *env, st ivr.State) {
				pg := onePage(t, e)
				if pg.Priority != p.priority || pg.Level != oncall.L1 || pg.TicketID != "90210" || pg.Caller != client {
					t.Errorf("page %+v", pg)
				}
			},
		})
	}
	cases = append(cases, flowCase{
		name:  "in English",
		setup: nobody,
		start: ivr.CallStarted{Line: washington},
		want:  greetWashingtonEN,
		turns: []ex{{5, ivr.Digits{}, askTicketEN},
			{15, ivr.Digits{Digits: "777"}, "caller: record(2m0s) en[word_ticket d:777 pause word_priority priority_urgent nobody_available leave_message]"},
			{60, ivr.RecordingDone{URL: "u", Seconds: 3}, "caller: hangup en[message_recorded respond_within response_2h goodbye] | done"},
		},
	}, flowCase{
		name:  "empty recording still pages; the caller is not told a message was recorded",
		setup: nobody,
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "12345"}, "caller: record(2m0s) ru[word_ticket d:12345 pause word_priority priority_critical nobody_available leave_message]"},
			{40, ivr.RecordingDone{}, "caller: hangup ru[respond_within response_1h goodbye] | done"},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if p := onePage(t, e); p.VoicemailURL != "" || p.TicketID != "12345" {
				t.Errorf("page %+v", p)
			}
			if !logged(e, zapcore.WarnLevel, "voicemail is empty") {
				t.Error("not logged")
			}
		},
	}, flowCase{
		name: "page request fails: logged as an error, the caller is still told",
		setup: func(e *env) {
			nobody(e)
			e.pages.RequestPageFn = func(ctx context.Context, p ivr.PageRequest) error { return errors.New("db down") }
		},
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "12345"}, "caller: record(2m0s) ru[word_ticket d:12345 pause word_priority priority_critical nobody_available leave_message]"},
			{60, ivr.RecordingDone{URL: "u", Seconds: 20}, recordedCrit},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if r := savedOnce(t, e); r.Paged || r.VoicemailURL != "u" {
				t.Errorf("record %+v", r)
			}
			if !logged(e, zapcore.ErrorLevel, "could not request a page") {
				t.Error("not logged as an error")
			}
		},
	}, flowCase{
		name:  "caller hangs up while recording: the page waits for the recording",
		setup: nobody,
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "12345"}, "caller: record(2m0s) ru[word_ticket d:12345 pause word_priority priority_critical nobody_available leave_message]"},
			{50, ivr.HungUp{}, ""},
			{51, ivr.HungUp{}, ""},
			{52, ivr.Tick{}, ""},
			{53, ivr.RecordingDone{URL: "u", Seconds: 25}, "done"},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if p := onePage(t, e); p.VoicemailURL != "u" || p.VoicemailSeconds != 25 {
				t.Errorf("page %+v", p)
			}
			if r := savedOnce(t, e); r.Outcome != ivr.OutcomeVoicemail || r.EndedAt != at(53) {
				t.Errorf("record %+v", r)
			}
		},
	}, flowCase{
		name:  "caller hangs up before the tone or while recording, no recording ever comes: page a grace after the hang-up",
		setup: nobody,
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "12345"}, "caller: record(2m0s) ru[word_ticket d:12345 pause word_priority priority_critical nobody_available leave_message]"},
			{20, ivr.HungUp{}, ""},
			{79, ivr.Tick{}, ""},
			{80, ivr.Tick{}, "done"}, // the hang-up + 60 s, not the longest recording's end
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if p := onePage(t, e); p.VoicemailURL != "" || !p.RequestedAt.Equal(at(80)) {
				t.Errorf("page %+v", p)
			}
			savedOnce(t, e)
		},
	})
	runCases(t, cases)
}

func TestHangup(t *testing.T) {
	noNote := func(e *env) {
		e.tickets.AddNoteFn = func(_ context.Context, id, _ string) error { e.unexpected("Tickets.AddNote", id); return nil }
	}
	outcome := func(o ivr.Outcome, paged bool) func(t *testing.T, e *env, st ivr.State) {
		return func(t *testing.T, e *env, st ivr.State) {
			r := savedOnce(t, e)
			if r.Outcome != o || r.Paged != paged || len(e.pages.Requested()) != map[bool]int{true: 1}[paged] {
				t.Errorf("record %+v, pages %+v", r, e.pages.Requested())
			}
			if st.Phase != ivr.PhaseDone || r.Steps[len(r.Steps)-1].Kind != "end" {
				t.Errorf("phase %s, steps %+v", st.Phase, r.Steps)
			}
		}
	}
	runCases(t, []flowCase{{
		name:  "during the language offer",
		setup: noNote,
		turns: []ex{{2, ivr.HungUp{}, "done"}},
		check: outcome(ivr.OutcomeHungUp, false),
	}, {
		name:  "during ticket entry",
		setup: noNote,
		turns: []ex{{5, ivr.Digits{}, askTicketRU}, {15, ivr.Digits{Digits: "999"}, retryUnknownRU}, {18, ivr.HungUp{}, "done"}},
		check: outcome(ivr.OutcomeHungUp, false),
	}, {
		name:  "during the priority menu",
		setup: noNote,
		turns: []ex{{5, ivr.Digits{}, askTicketRU}, {8, ivr.Digits{Digits: "*"}, priorityMenuRU}, {10, ivr.HungUp{}, "done"}},
		check: outcome(ivr.OutcomeHungUp, false),
	}, {
		name:  "while an engineer is rung: leg cancelled, page, note",
		turns: script(ex{30, ivr.HungUp{}, "cancel CA1-leg1 | done"}),
		check: func(t *testing.T, e *env, st ivr.State) {
			outcome(ivr.OutcomeAbandoned, true)(t, e, st)
			if p := onePage(t, e); p.TicketID != "12345" || p.VoicemailURL != "" || p.Level != oncall.L1 {
				t.Errorf("page %+v", p)
			}
			if len(e.tickets.Notes("12345")) != 1 {
				t.Errorf("notes %v", e.tickets.Notes("12345"))
			}
		},
	}, {
		name: "while an engineer is screening: engineer told",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{22, ivr.HungUp{}, "CA1-leg1: hangup ru[screen_caller_gone] | done"},
			ex{23, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, "CA1-leg1: hangup ru[screen_withdrawn] | done"},
			ex{24, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Completed}, "done"},
		),
		check: outcome(ivr.OutcomeAbandoned, true),
	}, {
		name: "after connect: engineer leg hung up, saved once",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna},
			ex{25, ivr.Bridged{LegID: "CA1-leg1"}, ""},
			ex{100, ivr.HungUp{}, "CA1-leg1: hangup | done"},
			ex{101, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Completed}, "done"},
			ex{102, ivr.HungUp{}, "done"},
		),
		check: outcome(ivr.OutcomeConnected, false),
	}, {
		name: "caller hangs up between the engineer's 1 and the bridge: abandoned, paged, the engineer told",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna},
			ex{25, ivr.HungUp{}, "CA1-leg1: hangup ru[screen_caller_gone] | done"},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			outcome(ivr.OutcomeAbandoned, true)(t, e, st)
			if r := e.calls.Tried()[0]; r.EngineerID != 11 {
				t.Errorf("record %+v: want the engineer who accepted named", r)
			}
		},
	}, {
		name:  "during voicemail, the recording arrives",
		setup: func(e *env) { e.cfg.MaxHold = 20 * time.Second },
		turns: script(
			ex{35, ivr.Tick{}, "cancel CA1-leg1 | " + voicemailRU},
			ex{50, ivr.HungUp{}, ""},
			ex{51, ivr.RecordingDone{URL: "u", Seconds: 9}, "done"},
		),
		check: outcome(ivr.OutcomeVoicemail, true),
	}})
}

func TestSaveAndNoteFailures(t *testing.T) {
	runCases(t, []flowCase{{
		name: "SaveCall and AddNote fail: logged, the call still ends",
		setup: func(e *env) {
			e.calls.SaveCallFn = func(ctx context.Context, r ivr.CallRecord) error { return errors.New("disk full") }
			e.tickets.AddNoteFn = func(ctx context.Context, id, note string) error { return errors.New("503") }
		},
		// With the store failing the note waits for the round that retries
		// the record, a minute later.
		turns: script(ex{30, ivr.HungUp{}, "cancel CA1-leg1 | done"}, ex{31, ivr.HungUp{}, "done"}, ex{90, ivr.Tick{}, "done"}),
		check: func(t *testing.T, e *env, st ivr.State) {
			if !logged(e, zapcore.ErrorLevel, "could not save") || !logged(e, zapcore.WarnLevel, "could not add the call's note") {
				t.Error("failures not logged")
			}
		},
	}})
}

func TestRefusedEvents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	f := e.build()
	if _, _, err := f.Start(ctx, ivr.CallStarted{Line: moscow, At: t0}); !errs.Is(err, errs.Invalid) {
		t.Errorf("start without call id: %v", err)
	}
	if _, _, err := f.Start(ctx, ivr.CallStarted{CallID: callID, Line: moscow}); !errs.Is(err, errs.Invalid) {
		t.Errorf("start without time: %v", err)
	}
	if _, _, err := f.Handle(ctx, ivr.State{}, ivr.Tick{At: t0}); !errs.Is(err, errs.Invalid) {
		t.Errorf("zero state: %v", err)
	}

	c, _ := e.start(ivr.CallStarted{Caller: client})
	if _, _, err := f.Handle(ctx, c.st, ivr.Digits{Digits: "9"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("event without time: %v", err)
	}
	if _, _, err := f.Handle(ctx, c.st, nil); !errs.Is(err, errs.Invalid) {
		t.Errorf("nil event: %v", err)
	}
	conflict := func(sec float64, ev ivr.Event) {
		t.Helper()
		if _, err := c.try(sec, ev); !errs.Is(err, errs.Conflict) {
			t.Errorf("%T in phase %s: %v, want conflict", ev, c.st.Phase, err)
		}
	}
	conflict(1, ivr.CallStarted{CallID: callID})
	conflict(1, ivr.RecordingDone{URL: "u", Seconds: 1})
	conflict(1, ivr.LegAnswered{LegID: "CA1-leg1"}) // no leg placed yet
	c.send(2, ivr.Tick{})                           // harmless outside routing
	c.send(5, ivr.Digits{})
	c.send(15, ivr.Digits{Digits: "12345"})
	conflict(16, ivr.Digits{Digits: "1"}) // no gather while on hold
	conflict(16, ivr.LegAnswered{LegID: "CA1-leg2"})
	conflict(16, ivr.LegEnded{LegID: "CA2-leg1", Reason: ivr.NoAnswer})
	conflict(16, ivr.LegDigits{LegID: "bogus", Digits: "1"})
	c.send(20, ivr.HungUp{})
	conflict(21, ivr.Digits{Digits: "1"})
	conflict(21, ivr.Tick{})
	conflict(21, ivr.RecordingDone{URL: "u", Seconds: 3})
	conflict(21, ivr.LegAnswered{LegID: "CA1-leg7"})
	if res := c.send(21, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Canceled}); !res.Done {
		t.Errorf("leg end after the call: %s", describe(res))
	}
	if res := c.send(22, ivr.HungUp{}); describe(res) != "done" {
		t.Errorf("second hang-up: %s", describe(res))
	}
	savedOnce(t, e)
}

func TestStateIsNotShared(t *testing.T) {
	e := newEnv(t)
	f := e.build()
	ctx := context.Background()
	st, _, _ := f.Start(ctx, ivr.CallStarted{CallID: callID, Line: moscow, At: t0})
	st.Steps = slices.Grow(st.Steps, 10) // spare capacity the flow must not write into
	a, _, err := f.Handle(ctx, st, ivr.Digits{Digits: "9", At: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.Handle(ctx, st, ivr.Digits{Digits: "", At: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	if a.Lang == b.Lang || !strings.Contains(a.Steps[1].Detail, "switched") || len(st.Steps) != 1 {
		t.Errorf("states share memory: %+v / %+v", a.Steps, b.Steps)
	}
}
