package ivr_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/ivr/ivrtest"
	"github.com/supportdesk/ivr/oncall"
)

const (
	screenAnna   = "CA1-leg1: gather(1,10s) ru[screen_line_moscow word_ticket d:12345 pause word_priority priority_critical caller_speaks_ru screen_accept]"
	ringBoris2   = "ring CA1-leg2 e12 +79990000012 cid=+74996383867 25s"
	voicemailRU  = "caller: record(2m0s) ru[nobody_available leave_message]"
	connectAnna  = "caller: connect(CA1-leg1) ru[connecting] | CA1-leg1: connect(CA1-leg1) ru[screen_connecting]"
	recordedCrit = "caller: hangup ru[message_recorded respond_within response_1h goodbye] | done"
)

// toRinging: Russian kept, ticket 12345 found at 15 s, Anna rung.
var toRinging = []ex{{5, ivr.Digits{}, askTicketRU}, {15, ivr.Digits{Digits: "12345"}, ringAnnaFound}}

func script(steps ...ex) []ex { return append(slices.Clone(toRinging), steps...) }

// scriptRing is script for a config whose RingTime is ring.
func scriptRing(ring string, steps ...ex) []ex {
	s := script(steps...)
	s[1].want = strings.Replace(s[1].want, " 25s |", " "+ring+" |", 1)
	return s
}

func onCall(m map[[2]int]oncall.Engineer) func(e *env) {
	return func(e *env) {
		e.roster = ivrtest.NewRoster(nil)
		for k, eng := range m {
			e.roster.Put(oncall.Level(k[0]), oncall.Layer(k[1]), eng)
		}
	}
}

func TestRouting(t *testing.T) {
	runCases(t, []flowCase{{
		name: "ring plan: layers then levels, skipping empty rungs and engineers already rung",
		setup: onCall(map[[2]int]oncall.Engineer{
			{1, 1}: engineer(11, "Anna"),
			{2, 1}: engineer(21, "Clara"),
			{2, 2}: engineer(11, "Anna"), // on call twice: rung once
			{3, 1}: engineer(31, "Elena"),
			{3, 2}: engineer(32, "Fedor"),
		}),
		turns: script(
			ex{40, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.NoAnswer}, "ring CA1-leg2 e21 +79990000021 cid=+74996383867 25s"},
			ex{45, ivr.LegEnded{LegID: "CA1-leg2", Reason: ivr.Busy}, "ring CA1-leg3 e31 +79990000031 cid=+74996383867 25s"},
			ex{46, ivr.LegEnded{LegID: "CA1-leg3", Reason: ivr.Failed}, "ring CA1-leg4 e32 +79990000032 cid=+74996383867 25s"},
			ex{70, ivr.LegEnded{LegID: "CA1-leg4", Reason: ivr.NoAnswer}, voicemailRU},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			if !slices.Equal(st.Tried, []int64{11, 21, 31, 32}) {
				t.Errorf("tried %v", st.Tried)
			}
			var skips []string
			for _, s := range st.Steps {
				if s.Kind == "skip" {
					skips = append(skips, s.Detail)
				}
			}
			want := []string{"L1 secondary: nobody on call", "L2 secondary: engineer 11 already rung"}
			if !slices.Equal(skips, want) {
				t.Errorf("skips %q", skips)
			}
		},
	}, {
		name: "escalated ticket: L2 primary, L2 secondary, L3, then voicemail",
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "777"}, "ring CA1-leg1 e21 +79990000021 cid=+74996383867 25s | caller: hold ru[word_ticket d:777 pause word_priority priority_urgent searching hold_offer_message]"},
			{40, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.NoAnswer}, "ring CA1-leg2 e22 +79990000022 cid=+74996383867 25s"},
			{65, ivr.LegEnded{LegID: "CA1-leg2", Reason: ivr.NoAnswer}, "ring CA1-leg3 e31 +79990000031 cid=+74996383867 25s"},
			{90, ivr.LegEnded{LegID: "CA1-leg3", Reason: ivr.NoAnswer}, voicemailRU},
		},
	}, {
		name: "screening: 1 accepts and connects; the caller's hang-up ends it",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna},
			ex{26, ivr.Bridged{LegID: "CA1-leg1"}, ""},
			ex{27, ivr.Bridged{LegID: "CA1-leg1"}, ""}, // a repeat changes nothing
			ex{90, ivr.Tick{}, ""},
			ex{600, ivr.HungUp{}, "CA1-leg1: hangup | done"},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			r := savedOnce(t, e)
			if r.Outcome != ivr.OutcomeConnected || r.EngineerID != 11 || r.EngineerName != "Anna" ||
				r.EngineerPhone != "+79990000011" || !r.AnsweredAt.Equal(at(24)) || r.Duration != 600*time.Second {
				t.Errorf("record %+v", r)
			}
			noPage(t, e)
			if n := e.tickets.Notes("12345"); len(n) != 1 || !strings.Contains(n[0], "Anna") {
				t.Errorf("notes %q", n)
			}
		},
	}, {
		name:  "screening is in the engineer's language",
		setup: func(e *env) { e.roster.Remove(oncall.L1, oncall.Primary) },
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "12345"}, "ring CA1-leg1 e12 +79990000012 cid=+74996383867 25s | caller: hold ru[word_ticket d:12345 pause word_priority priority_critical searching hold_offer_message]"},
			{20, ivr.LegAnswered{LegID: "CA1-leg1"}, "CA1-leg1: gather(1,10s) en[screen_line_moscow word_ticket d:12345 pause word_priority priority_critical caller_speaks_ru screen_accept]"},
			{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, "caller: connect(CA1-leg1) ru[connecting] | CA1-leg1: connect(CA1-leg1) en[screen_connecting]"},
		},
	}, {
		name: "screening without a ticket leaves the ticket out",
		setup: func(e *env) {
			e.tickets.OpenFn = func(ctx context.Context, nt ivr.NewTicket) (ivr.Ticket, error) {
				return ivr.Ticket{}, errors.New("down")
			}
		},
		turns: []ex{{5, ivr.Digits{}, askTicketRU}, {8, ivr.Digits{Digits: "*"}, priorityMenuRU},
			{12, ivr.Digits{Digits: "2"}, ringAnna + " | caller: hold ru[priority_set_urgent searching hold_offer_message]"},
			{20, ivr.LegAnswered{LegID: "CA1-leg1"}, "CA1-leg1: gather(1,10s) ru[screen_line_moscow word_priority priority_urgent caller_speaks_ru screen_accept]"},
		},
	}, {
		name: "an answering machine that picks up is never an acceptance: no input 3 times, next rung",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{35, ivr.LegDigits{LegID: "CA1-leg1"}, screenAnna},
			ex{50, ivr.LegDigits{LegID: "CA1-leg1"}, screenAnna},
			ex{65, ivr.LegDigits{LegID: "CA1-leg1"}, ringBoris2 + " | CA1-leg1: hangup ru[screen_no_accept]"},
			ex{66, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Completed}, ""},
		),
	}, {
		name: "wrong keys 3 times: next rung",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{25, ivr.LegDigits{LegID: "CA1-leg1", Digits: "2"}, screenAnna},
			ex{30, ivr.LegDigits{LegID: "CA1-leg1", Digits: "9"}, screenAnna},
			ex{35, ivr.LegDigits{LegID: "CA1-leg1", Digits: "*"}, ringBoris2 + " | CA1-leg1: hangup ru[screen_no_accept]"},
		),
	}, {
		name: "wrong key, then 1: accepted",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{25, ivr.LegDigits{LegID: "CA1-leg1", Digits: "2"}, screenAnna},
			ex{30, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna},
		),
	}, {
		name:  "machine detected: next rung",
		turns: script(ex{22, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Machine}, ringBoris2}),
	}, {
		name: "engineer hangs up on the screening (declines): next rung",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{23, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Completed}, ringBoris2},
		),
	}, {
		name: "ring timeout by Tick: cancel, next rung; late events of the old leg",
		turns: script(
			ex{39, ivr.Tick{}, ""},
			ex{40, ivr.Tick{}, "cancel CA1-leg1 | " + ringBoris2},
			ex{41, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Canceled}, ""},
			ex{42, ivr.LegAnswered{LegID: "CA1-leg1"}, "CA1-leg1: hangup ru[screen_withdrawn]"},
			ex{43, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, "CA1-leg1: hangup ru[screen_withdrawn]"},
			ex{45, ivr.Tick{}, "caller: hold ru[hold_progress hold_offer_message]"},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.Leg.ID != "CA1-leg2" || st.Phase != ivr.PhaseRouting {
				t.Errorf("leg %s phase %s", st.Leg.ID, st.Phase)
			}
		},
	}, {
		name: "answered leg is not cut by the ring time while screening",
		turns: script(
			ex{38, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{45, ivr.Tick{}, "caller: hold ru[hold_progress hold_offer_message]"},
			ex{47, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna},
		),
	}, {
		name: "progress message at most every 30 s, on ticks only",
		setup: func(e *env) {
			e.cfg.RingTime = time.Hour
			e.cfg.MaxHold = time.Hour
		},
		turns: scriptRing("1h0m0s",
			ex{20, ivr.Tick{}, ""}, ex{25, ivr.Tick{}, ""}, ex{30, ivr.Tick{}, ""}, ex{35, ivr.Tick{}, ""}, ex{40, ivr.Tick{}, ""},
			ex{44.9, ivr.Tick{}, ""},
			ex{45, ivr.Tick{}, "caller: hold ru[hold_progress hold_offer_message]"},
			ex{50, ivr.Tick{}, ""}, ex{60, ivr.Tick{}, ""}, ex{70, ivr.Tick{}, ""},
			ex{74, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{76, ivr.Tick{}, "caller: hold ru[hold_progress hold_offer_message]"},
			ex{100, ivr.Tick{}, ""},
			ex{106, ivr.Tick{}, "caller: hold ru[hold_progress hold_offer_message]"},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			n := 0
			for _, s := range st.Steps {
				if s.Kind == "progress" {
					n++
				}
			}
			if n != 3 || st.Seq != 17 {
				t.Errorf("%d progress entries, seq %d", n, st.Seq)
			}
		},
	}, {
		name:  "max hold: ringing leg cancelled, voicemail, page at the ticket's level",
		setup: func(e *env) { e.cfg.MaxHold = time.Minute },
		turns: script(
			ex{40, ivr.Tick{}, "cancel CA1-leg1 | " + ringBoris2},
			ex{45, ivr.Tick{}, "caller: hold ru[hold_progress hold_offer_message]"},
			ex{65, ivr.Tick{}, "cancel CA1-leg2 | ring CA1-leg3 e21 +79990000021 cid=+74996383867 25s"},
			ex{74.9, ivr.Tick{}, ""},
			ex{75, ivr.Tick{}, "cancel CA1-leg3 | " + voicemailRU},
			ex{76, ivr.LegEnded{LegID: "CA1-leg3", Reason: ivr.Canceled}, ""},
			ex{140, ivr.RecordingDone{URL: "https://rec.example/1", Seconds: 42}, recordedCrit},
			ex{150, ivr.HungUp{}, "done"},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			p := onePage(t, e)
			want := ivr.PageRequest{CallID: callID, TicketID: "12345", Priority: oncall.Critical, Level: oncall.L1,
				VoicemailURL: "https://rec.example/1", VoicemailSeconds: 42, Line: moscow, Caller: "", Language: oncall.Russian, RequestedAt: at(140)}
			if p != want {
				t.Errorf("page\n got  %+v\n want %+v", p, want)
			}
			r := savedOnce(t, e)
			if r.Outcome != ivr.OutcomeVoicemail || !r.Paged || r.VoicemailURL == "" || !slices.Equal(r.Rang, []int64{11, 12, 21}) {
				t.Errorf("record %+v", r)
			}
		},
	}, {
		name:  "max hold while an engineer is screening: told the call is gone",
		setup: func(e *env) { e.cfg.MaxHold = 30 * time.Second },
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{45, ivr.Tick{}, voicemailRU + " | CA1-leg1: hangup ru[screen_withdrawn]"},
			ex{46, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, "CA1-leg1: hangup ru[screen_withdrawn]"},
		),
	}, {
		name: "max hold reached when a leg ends: voicemail, not the next rung",
		setup: func(e *env) {
			e.cfg.MaxHold = 20 * time.Second
			e.cfg.RingTime = time.Minute
		},
		turns: scriptRing("1m0s", ex{36, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.NoAnswer}, voicemailRU}),
	}, {
		name:  "escalated page: voicemail pages the ticket's level",
		setup: onCall(map[[2]int]oncall.Engineer{}),
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "777"}, "caller: record(2m0s) ru[word_ticket d:777 pause word_priority priority_urgent nobody_available leave_message]"},
			{60, ivr.RecordingDone{URL: "u", Seconds: 30}, "caller: hangup ru[message_recorded respond_within response_2h goodbye] | done"},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if p := onePage(t, e); p.Level != oncall.L2 || p.Priority != oncall.Urgent {
				t.Errorf("page %+v", p)
			}
		},
	}, {
		name: "roster failure on a rung: skipped",
		setup: func(e *env) {
			e.roster.OnCallFn = func(ctx context.Context, l oncall.Level, y oncall.Layer, _ time.Time) (oncall.Engineer, bool, error) {
				if l == oncall.L1 && y == oncall.Primary {
					return oncall.Engineer{}, false, errors.New("db down")
				}
				eng, ok := e.roster.At(l, y)
				return eng, ok, nil
			}
		},
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "12345"}, "ring CA1-leg1 e12 +79990000012 cid=+74996383867 25s | caller: hold ru[word_ticket d:12345 pause word_priority priority_critical searching hold_offer_message]"}},
	}, {
		name: "engineer without a phone: skipped",
		setup: func(e *env) {
			a, _ := e.roster.At(oncall.L1, oncall.Primary)
			a.Contacts = nil
			e.roster.Put(oncall.L1, oncall.Primary, a)
		},
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "12345"}, "ring CA1-leg1 e12 +79990000012 cid=+74996383867 25s | caller: hold ru[word_ticket d:12345 pause word_priority priority_critical searching hold_offer_message]"}},
	}, {
		name: "on-call time is the event's time",
		setup: func(e *env) {
			e.roster.OnCallFn = func(ctx context.Context, l oncall.Level, y oncall.Layer, when time.Time) (oncall.Engineer, bool, error) {
				if !when.Equal(at(15)) && !when.Equal(at(40)) {
					return oncall.Engineer{}, false, errors.New("wrong time")
				}
				if when.Equal(at(40)) && l == oncall.L1 && y == oncall.Secondary {
					return engineer(13, "Gleb"), true, nil // the shift changed meanwhile
				}
				eng, ok := e.roster.At(l, y)
				return eng, ok, nil
			}
		},
		turns: script(ex{40, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.NoAnswer}, "ring CA1-leg2 e13 +79990000013 cid=+74996383867 25s"}),
	}, {
		name:  "nobody on call at all: voicemail straight after the readback",
		setup: onCall(map[[2]int]oncall.Engineer{}),
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "12345"}, "caller: record(2m0s) ru[word_ticket d:12345 pause word_priority priority_critical nobody_available leave_message]"}},
	}, {
		name:  "Washington, in English, from greeting to conversation",
		start: ivr.CallStarted{Line: washington, Caller: client},
		want:  greetWashingtonEN,
		turns: []ex{{5, ivr.Digits{}, askTicketEN},
			{15, ivr.Digits{Digits: "86420"}, "ring CA1-leg1 e11 +79990000011 cid=+12025952118 25s | caller: hold en[word_ticket d:86420 pause word_priority priority_low searching hold_offer_message]"},
			{20, ivr.LegAnswered{LegID: "CA1-leg1"}, "CA1-leg1: gather(1,10s) ru[screen_line_washington word_ticket d:86420 pause word_priority priority_low caller_speaks_en screen_accept]"},
			{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, "caller: connect(CA1-leg1) en[connecting] | CA1-leg1: connect(CA1-leg1) ru[screen_connecting]"},
			{26, ivr.Bridged{LegID: "CA1-leg1"}, ""},
			{200, ivr.HungUp{}, "CA1-leg1: hangup | done"},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			r := savedOnce(t, e)
			if r.Line != washington || r.Language != oncall.English || r.Priority != oncall.Low {
				t.Errorf("record %+v", r)
			}
			if n := e.tickets.Notes("86420"); len(n) != 1 || !strings.HasPrefix(n[0], "Phone call to the Washington line") {
				t.Errorf("notes %q", n)
			}
		},
	}, {
		name:  "ring timeout on the last rung: voicemail",
		setup: onCall(map[[2]int]oncall.Engineer{{1, 1}: engineer(11, "Anna")}),
		turns: script(ex{40, ivr.Tick{}, "cancel CA1-leg1 | " + voicemailRU}),
	}, {
		name:  "1 keyed whose answer report was lost: accepted",
		turns: script(ex{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna}),
		check: func(t *testing.T, e *env, st ivr.State) {
			if !st.Leg.AnsweredAt.Equal(at(24)) {
				t.Errorf("answered at %v", st.Leg.AnsweredAt)
			}
		},
	}, {
		name: "keys from the engineer after the connection are not the flow's",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna},
			ex{30, ivr.LegDigits{LegID: "CA1-leg1", Digits: "5"}, ""},
		),
	}, {
		name: "engineer's call drops between the 1 and the bridge: the caller keeps waiting, the next engineer is rung",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna},
			ex{27, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Completed}, ringBoris2 + " | caller: hold ru[hold_progress hold_offer_message]"},
			ex{30, ivr.Bridged{LegID: "CA1-leg1"}, "CA1-leg1: hangup ru[screen_withdrawn]"}, // too late: a stale leg
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.Phase != ivr.PhaseRouting || st.Leg.ID != "CA1-leg2" || len(e.calls.Tried()) != 0 {
				t.Errorf("phase %s leg %q, %d records; want routing to the second leg, nothing saved", st.Phase, st.Leg.ID, len(e.calls.Tried()))
			}
		},
	}, {
		name: "engineer hangs up after the conversation: caller hears goodbye",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna},
			ex{25, ivr.LegAnswered{LegID: "CA1-leg1"}, ""},
			ex{26, ivr.Bridged{LegID: "CA1-leg1"}, ""},
			ex{300, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Completed}, "caller: hangup ru[goodbye] | done"},
			ex{305, ivr.HungUp{}, "done"},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			if r := savedOnce(t, e); r.Outcome != ivr.OutcomeConnected || r.EndedAt != at(300) {
				t.Errorf("record %+v", r)
			}
		},
	}})
}

func TestWakeAt(t *testing.T) {
	e := newEnv(t)
	c, _ := e.start(ivr.CallStarted{Caller: client})
	if res := c.send(5, ivr.Digits{}); !res.WakeAt.IsZero() {
		t.Errorf("menu has a deadline: %v", res.WakeAt)
	}
	res := c.send(15, ivr.Digits{Digits: "12345"})
	if !res.WakeAt.Equal(at(40)) { // the ring time, before progress (45) and max hold (255)
		t.Errorf("routing WakeAt %v", res.WakeAt)
	}
	res = c.send(20, ivr.LegAnswered{LegID: "CA1-leg1"})
	if !res.WakeAt.Equal(at(45)) { // answered: the ring time no longer counts
		t.Errorf("screening WakeAt %v", res.WakeAt)
	}
}

// TestHoldKey: the hold messages offer a key to leave a message instead of
// waiting; pressing it goes to voicemail as the maximum hold would, and
// the voicemail pages as any other.
func TestHoldKey(t *testing.T) {
	leaveMessageRU := "caller: record(2m0s) ru[leave_message]"
	runCases(t, []flowCase{{
		name: "1 while an engineer is rung: the leg is cancelled, the caller records, the message pages",
		turns: script(
			ex{30, ivr.HoldKey{Key: "1"}, "cancel CA1-leg1 | " + leaveMessageRU},
			ex{31, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Canceled}, ""},
			ex{80, ivr.RecordingDone{URL: "https://rec.example/9", Seconds: 40}, recordedCrit},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			p := onePage(t, e)
			if p.TicketID != "12345" || p.VoicemailURL != "https://rec.example/9" || p.Priority != oncall.Critical || p.Level != oncall.L1 {
				t.Errorf("page %+v", p)
			}
			r := savedOnce(t, e)
			if r.Outcome != ivr.OutcomeVoicemail || !r.Paged || !slices.Equal(r.Rang, []int64{11}) {
				t.Errorf("record %+v", r)
			}
			if !slices.ContainsFunc(st.Steps, func(s ivr.Entry) bool { return s.Kind == "voicemail" && s.Detail == "caller chose voicemail" }) {
				t.Errorf("steps %+v", st.Steps)
			}
		},
	}, {
		name: "1 while an engineer is screening: the engineer is told the call is gone",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{25, ivr.HoldKey{Key: "1"}, leaveMessageRU + " | CA1-leg1: hangup ru[screen_withdrawn]"},
			ex{26, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, "CA1-leg1: hangup ru[screen_withdrawn]"},
		),
	}, {
		name:  "1 after a progress message, in English",
		start: ivr.CallStarted{Line: washington},
		want:  greetWashingtonEN,
		turns: []ex{{5, ivr.Digits{}, askTicketEN},
			{15, ivr.Digits{Digits: "86420"}, "ring CA1-leg1 e11 +79990000011 cid=+12025952118 25s | caller: hold en[word_ticket d:86420 pause word_priority priority_low searching hold_offer_message]"},
			{45, ivr.Tick{}, "cancel CA1-leg1 | ring CA1-leg2 e12 +79990000012 cid=+12025952118 25s | caller: hold en[hold_progress hold_offer_message]"},
			{50, ivr.HoldKey{Key: "1"}, "cancel CA1-leg2 | caller: record(2m0s) en[leave_message]"},
		},
	}, {
		name:  "another key changes nothing",
		turns: script(ex{25, ivr.HoldKey{Key: "5"}, ""}, ex{26, ivr.HoldKey{Key: "#"}, ""}),
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.Phase != ivr.PhaseRouting || st.Leg.ID != "CA1-leg1" || st.Seq != 3 {
				t.Errorf("phase %s leg %q seq %d; want still routing to leg 1, unchanged", st.Phase, st.Leg.ID, st.Seq)
			}
		},
	}, {
		name: "too late once the engineer accepted, or while recording",
		turns: script(
			ex{20, ivr.LegAnswered{LegID: "CA1-leg1"}, screenAnna},
			ex{24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"}, connectAnna},
			ex{25, ivr.HoldKey{Key: "1"}, ""},
			ex{26, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Completed}, ringBoris2 + " | caller: hold ru[hold_progress hold_offer_message]"},
			ex{30, ivr.HoldKey{Key: "1"}, "cancel CA1-leg2 | " + leaveMessageRU},
			ex{31, ivr.HoldKey{Key: "1"}, ""},
		),
	}})

	// A key on hold is not a menu's: at a menu it is refused.
	e := newEnv(t)
	c, _ := e.start(ivr.CallStarted{})
	if _, err := c.try(3, ivr.HoldKey{Key: "1"}); !errs.Is(err, errs.Conflict) {
		t.Errorf("HoldKey at the greeting: %v, want a conflict", err)
	}
}
