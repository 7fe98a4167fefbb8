package webhooks

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// recordedLegs is an outbox that only records what it is asked.
type recordedLegs struct {
	mu     sync.Mutex
	placed []pager.LegRequest
}

func (l *recordedLegs) PlaceLeg(_ context.Context, r pager.LegRequest) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.placed = append(l.placed, r)
	return nil
}
func (*recordedLegs) CancelLeg(context.Context, string, string) (bool, error) { return false, nil }
func (*recordedLegs) LegEnded(context.Context, string, string, pager.Outcome, string) error {
	return nil
}
func (*recordedLegs) AttemptByProviderID(context.Context, string) (pager.Attempt, error) {
	return pager.Attempt{}, nil
}

// A leg's outbox request is saved with the call's state that rang it, and
// the wait URL writes it into the outbox again while Twilio has no call for
// it: a crash between the state and the outbox row leaves no engineer
// unrung. A leg Twilio has, or that ended, is not written again.
func TestRingingLegWrittenAgainUntilPlaced(t *testing.T) {
	const call = "CA00000000000000000000000000000001"
	legs := &recordedLegs{}
	d := &Driver{cfg: Config{Legs: legs}, log: zap.NewNop()}
	ring := ivr.Ring{LegID: call + "-leg1", EngineerID: 21, Phone: "+12025550101", CallerID: "+12025952118", Timeout: 25 * time.Second}
	var e envelope
	d.record(&e, ivr.State{CallID: call, Phase: ivr.PhaseRouting,
		Leg: ivr.Leg{ID: ring.LegID, EngineerID: 21, Phone: ring.Phone, Level: oncall.L1, Layer: oncall.Primary, RangAt: time.Now()}, Priority: oncall.Urgent, Level: oncall.L1}, ivr.Result{Actions: []ivr.Action{ring}})
	want := pager.LegRequest{CallID: call, LegID: ring.LegID, EngineerID: 21, To: ring.Phone, From: ring.CallerID, RingFor: ring.Timeout}
	if got := e.Legs[ring.LegID].Ring; got == nil || *got != want {
		t.Fatalf("the leg's saved request: %+v, want %+v", got, want)
	}
	round, err := encodeEnvelope(e) // as the store keeps it
	if err != nil {
		t.Fatal(err)
	}
	e = decodeEnvelope(t, round)

	d.keepLegPlaced(t.Context(), call, e)
	if len(legs.placed) != 1 || legs.placed[0] != want {
		t.Fatalf("written again: %+v, want the saved request", legs.placed)
	}
	for name, change := range map[string]func(*envelope){
		"placed":   func(e *envelope) { e.Legs[ring.LegID].SID = "CA00000000000000000000000000000002" },
		"ended":    func(e *envelope) { e.Legs[ring.LegID].Ended = true },
		"canceled": func(e *envelope) { e.Legs[ring.LegID].Cancel = true },
		"answered": func(e *envelope) { e.Flow.Leg.AnsweredAt = time.Now() },
		"over":     func(e *envelope) { e.Flow.Phase = ivr.PhaseDone },
	} {
		c := e.clone()
		change(&c)
		d.keepLegPlaced(t.Context(), call, c)
		if len(legs.placed) != 1 {
			t.Fatalf("a leg %s was written again", name)
		}
	}
}

func decodeEnvelope(t *testing.T, data []byte) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e
}
