package ivr_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/ivr/ivrtest"
)

// withBusy builds the env's flow with busy as its OtherCalls.
func withBusy(busy ivr.OtherCalls) func(e *env) {
	return func(e *env) {
		deps := e.deps()
		deps.OtherCalls = busy
		f, err := ivr.New(e.cfg, deps)
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
	annaBusy := &ivrtest.OtherCalls{}
	annaBusy.SetBusy(11, true)
	runCases(t, []flowCase{{
		name:  "Anna busy on another call: Boris rung first",
		setup: withBusy(annaBusy),
		turns: []ex{{5, ivr.Digits{}, askTicketRU}, {15, ivr.Digits{Digits: "12345"},
			"ring CA1-leg1 e12 +79990000012 cid=+74996383867 25s | caller: hold ru[word_ticket d:12345 pause word_priority priority_critical searching hold_offer_message]"}},
		check: func(t *testing.T, e *env, st ivr.State) {
			for _, s := range st.Steps {
				if s.Kind == "skip" && strings.Contains(s.Detail, "engineer 11") && strings.Contains(s.Detail, "busy") {
					return
				}
			}
			t.Errorf("steps %+v do not say engineer 11 was skipped as busy", st.Steps)
		},
	}, {
		name: "Busy unavailable: Anna rung",
		setup: withBusy(&ivrtest.OtherCalls{BusyFn: func(context.Context, int64) (bool, error) {
			return false, errors.New("store down")
		}}),
		turns: toRinging,
	}})
}
