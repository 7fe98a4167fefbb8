package ivr_test

import (
	"encoding/json"
	"testing"

	"github.com/supportdesk/ivr/ivr"
)

// A stateless driver stores the State between webhooks: it must stay small.
func TestStateSize(t *testing.T) {
	e := newEnv(t)
	c, _ := e.start(ivr.CallStarted{Caller: client})
	c.send(4, ivr.Digits{})
	c.send(14, ivr.Digits{Digits: "12345"})
	c.send(20, ivr.LegAnswered{LegID: "CA1-leg1"})
	c.send(31, ivr.LegDigits{LegID: "CA1-leg1"})
	c.send(40, ivr.LegEnded{LegID: "CA1-leg1", Reason: ivr.Completed})
	c.send(44, ivr.Tick{})
	c.send(48, ivr.Tick{})
	b, err := json.Marshal(c.st)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("State of a call on hold, second engineer ringing: %d bytes of JSON, %d step entries\n%s",
		len(b), len(c.st.Steps), b)
	if len(b) > 2048 {
		t.Errorf("state is %d bytes; keep it under 2 KiB", len(b))
	}
}

func TestStateJSONFieldsRoundTrip(t *testing.T) {
	e := newEnv(t)
	c, _ := e.start(ivr.CallStarted{Caller: client})
	c.send(4, ivr.Digits{Digits: "9"})
	c.send(14, ivr.Digits{Digits: "12345"})
	c.send(20, ivr.LegAnswered{LegID: "CA1-leg1"})
	c.send(24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"})
	st := roundTrip(t, c.st)
	if st.Leg.Level.String() != "L1" || st.Leg.Layer.String() != "primary" || !st.Leg.Accepted() ||
		st.Phase != ivr.PhaseConnected || st.Lang != "en" {
		t.Errorf("after JSON: %+v", st)
	}
}
