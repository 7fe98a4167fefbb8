package webhooks_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/errs"
)

// downStates is a store whose call states are unavailable (the database
// lacks a migration, say): every write fails with errs.Unavailable.
type downStates struct{ *memStates }

var errStatesDown = errs.E(errs.Unavailable, "", "the call-state store is unavailable")

func (downStates) CreateCallState(context.Context, string, []byte) error { return errStatesDown }

// movingStates is a store where another instance always got there first:
// every compare-and-swap loses.
type movingStates struct{ *memStates }

func (movingStates) UpdateCallState(context.Context, string, int64, []byte) (int64, error) {
	return 0, errs.E(errs.Conflict, "", "version moved")
}

// A webhook's failure gets the status its code maps to, as in the API,
// naming the failure: a store that is down is 503 (try again later), a
// call other writers keep moving is 409, neither an "internal error" 500.
func TestWebhookFailureStatusFollowsTheErrorCode(t *testing.T) {
	t.Run("Unavailable", func(t *testing.T) {
		e := newEnvWith(t, downStates{newMemStates()})
		code, body := e.post("/webhooks/twilio/voice", map[string]string{"CallSid": "CA00000000000000000000000000000071",
			"From": client, "To": washington, "AccountSid": e.tw.AccountSID(), "CallStatus": "ringing", "Direction": "inbound"}, e.signer())
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") {
			t.Fatalf("got %d %q, want 503 saying the store is unavailable", code, body)
		}
	})
	t.Run("Conflict", func(t *testing.T) {
		mem := newMemStates()
		e := newEnvWith(t, movingStates{mem})
		const sid = "CA00000000000000000000000000000072"
		e.startCall(sid)
		code, body := e.post("/webhooks/twilio/voice/gather?seq=1", map[string]string{"CallSid": sid, "Digits": "9"}, e.signer())
		if code != http.StatusConflict || !strings.Contains(body, "conflict") {
			t.Fatalf("got %d %q, want 409 naming the conflict", code, body)
		}
	})
}
