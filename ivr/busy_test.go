package ivr

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// busyFn is an OtherCalls from a function.
type busyFn func(ctx context.Context, engineerID int64) (bool, error)

func (f busyFn) Busy(ctx context.Context, engineerID int64) (bool, error) { return f(ctx, engineerID) }

// withBusy builds the env's flow with busy as its OtherCalls.
func withBusy(busy OtherCalls) func(e *env) {
	return func(e *env) {
		f, err := New(e.cfg, Deps{Tickets: e.tickets, Roster: e.roster, Pages: e.pages,
			Preferences: e.prefs, Calls: e.calls, OtherCalls: busy})
		if err != nil {
			e.t.Fatalf("New: %v", err)
		}
		e.flow = f
	}
}

// An engineer already talking to another caller is not rung for this
// one: the plan goes on to the next rung, and says why in the steps. A
// Busy that fails rings the engineer all the same (better a call waiting
// than a rung skipped for nothing).
func TestRingPlanSkipsEngineersBusyOnAnotherCall(t *testing.T) {
	annaBusy := busyFn(func(_ context.Context, id int64) (bool, error) { return id == 11, nil })
	runCases(t, []flowCase{{
		name:  "Anna busy on another call: Boris rung first",
		setup: withBusy(annaBusy),
		turns: []ex{{5, Digits{}, askTicketRU}, {15, Digits{Digits: "12345"},
			"ring CA1-leg1 e12 +79990000012 cid=+74996383867 25s | caller: hold ru[word_ticket d:12345 pause word_priority priority_critical searching hold_offer_message]"}},
		check: func(t *testing.T, e *env, st State) {
			for _, s := range st.Steps {
				if s.Kind == "skip" && strings.Contains(s.Detail, "engineer 11") && strings.Contains(s.Detail, "busy") {
					return
				}
			}
			t.Errorf("steps %+v do not say engineer 11 was skipped as busy", st.Steps)
		},
	}, {
		name: "Busy unavailable: Anna rung",
		setup: withBusy(busyFn(func(context.Context, int64) (bool, error) {
			return false, errors.New("store down")
		})),
		turns: toRinging,
	}})
}
