package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
)

// OtherCalls tells the flow which engineers are on another call, from the
// calls' states in states: an engineer is busy while their leg of an open
// call has been answered (screening or talking) and has not ended. The
// states are the store's, so every instance sharing it (PostgreSQL) sees
// every instance's calls, and a restart forgets nothing. Its limits: a
// call whose end was never reported stays open, and its engineer busy,
// until the sweep finishes it; engineers are known by their id, so a
// number shared by two engineers is not seen as one; each look-up reads
// every open call's state (at most maxOpenCalls of them, oldest first),
// which suits a support desk's tens of calls, not thousands.
func OtherCalls(states CallStates) ivr.OtherCalls { return otherCalls{states: states} }

// maxOpenCalls bounds the open calls one look-up reads.
const maxOpenCalls = 1000

// everOpen is an idleSince no open call's last change is after.
var everOpen = time.Date(9999, time.January, 1, 0, 0, 0, 0, time.UTC)

type otherCalls struct{ states CallStates }

func (o otherCalls) Busy(ctx context.Context, engineerID int64) (bool, error) {
	ids, err := o.states.OpenCallStates(ctx, everOpen, maxOpenCalls)
	if err != nil {
		return false, fmt.Errorf("list open calls: %w", err)
	}
	for _, id := range ids {
		data, _, err := o.states.CallState(ctx, id)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("load state of call %s: %w", id, err)
		}
		var e envelope
		if err := json.Unmarshal(data, &e); err != nil {
			continue // not ours to judge; the driver reports it on its own webhooks
		}
		if engaged(e, engineerID) {
			return true, nil
		}
	}
	return false, nil
}

// engaged reports whether engineer id is on call e's current leg: it was
// answered, has not ended, and the call is still routing or connected.
func engaged(e envelope, id int64) bool {
	leg := e.Flow.Leg
	if leg.ID == "" || leg.EngineerID != id || leg.AnsweredAt.IsZero() {
		return false
	}
	if e.Flow.Phase != ivr.PhaseRouting && e.Flow.Phase != ivr.PhaseConnected {
		return false
	}
	l := e.Legs[leg.ID]
	return l == nil || !l.Ended
}
