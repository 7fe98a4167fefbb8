package webhooks_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/webhooks"
	"github.com/supportdesk/ivr/webhooks/callstatetest"
)

// TestMemStatesContract: the in-memory store these tests run on keeps
// webhooks.CallStates' contract as the real store does (store's
// TestCallStatesContract), so that no test here passes on a promise the
// store does not keep.
func TestMemStatesContract(t *testing.T) {
	callstatetest.Run(t, func(t *testing.T) (webhooks.CallStates, func(time.Time)) {
		m := newMemStates()
		return m, func(now time.Time) { m.now = func() time.Time { return now } }
	})
}
