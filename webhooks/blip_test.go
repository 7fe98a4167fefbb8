package webhooks_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/supportdesk/ivr/webhooks"
)

// flakyStates fails every state write while down is set, and the one write
// failAt counts down to (1: the next), as a store that is briefly
// unreachable would.
type flakyStates struct {
	webhooks.CallStates
	down   atomic.Bool
	failAt atomic.Int32
}

func (f *flakyStates) UpdateCallState(ctx context.Context, id string, v int64, data []byte) (int64, error) {
	if f.down.Load() || f.failAt.Add(-1) == 0 {
		return 0, errors.New("store unreachable")
	}
	return f.CallStates.UpdateCallState(ctx, id, v, data)
}

// A store blip while the caller holds does not cost them their place: the
// wait URL answers music (an error would make Twilio play the Fallback
// URL). Only an outage that outlasts a few wait requests gets the error.
func TestWaitSurvivesStoreBlip(t *testing.T) {
	states := &flakyStates{CallStates: newMemStates()}
	e := newEnvWith(t, states)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	wait := func() (int, string) {
		return e.post("/webhooks/twilio/voice/wait", map[string]string{"CallSid": call.SID(), "QueueTime": "8"}, e.signer())
	}
	states.down.Store(true)
	for i := range 4 {
		if code, body := wait(); code != 200 || !strings.Contains(body, "/hold/") {
			t.Fatalf("wait %d with the store down: %d %s; want hold music", i+1, code, body)
		}
	}
	if code, _ := wait(); code < 500 {
		t.Fatalf("fifth wait with the store down: %d; want the error, for Twilio's Fallback", code)
	}
	states.down.Store(false)
	if code, body := wait(); code != 200 || !strings.Contains(body, "/hold/") {
		t.Fatalf("wait with the store back: %d %s", code, body)
	}
	call.Hangup()
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
	e.closeTwilio()
}
