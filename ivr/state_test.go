package ivr

import (
	"encoding/json"
	"testing"
)

// A stateless driver stores the State between webhooks: it must stay small.
func TestStateSize(t *testing.T) {
	e := newEnv(t)
	c, _ := e.start(CallStarted{Caller: client})
	c.send(4, Digits{})
	c.send(14, Digits{Digits: "12345"})
	c.send(20, LegAnswered{LegID: "CA1-leg1"})
	c.send(31, LegDigits{LegID: "CA1-leg1"})
	c.send(40, LegEnded{LegID: "CA1-leg1", Reason: Completed})
	c.send(44, Tick{})
	c.send(48, Tick{})
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
	c, _ := e.start(CallStarted{Caller: client})
	c.send(4, Digits{Digits: "9"})
	c.send(14, Digits{Digits: "12345"})
	c.send(20, LegAnswered{LegID: "CA1-leg1"})
	c.send(24, LegDigits{LegID: "CA1-leg1", Digits: "1"})
	st := roundTrip(t, c.st)
	if st.Leg.Level.String() != "L1" || st.Leg.Layer.String() != "primary" || !st.Leg.accepted() ||
		st.Phase != PhaseConnected || st.Lang != "en" {
		t.Errorf("after JSON: %+v", st)
	}
}
