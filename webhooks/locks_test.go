package webhooks_test

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
)

// othersWait bounds how long the other calls' webhooks may take while one
// call's request to Twilio hangs: well inside the REST client's 5 s
// timeout, so that a webhook that waited for the hanging request (as one
// sharing its lock stripe did) cannot pass.
const othersWait = 3 * time.Second

// TestSlowCallStallsNoOther: Twilio's API hangs on the request one call's
// webhook makes (cancelling its engineer's leg when the caller hangs up).
// That webhook answers all the same, and 50 new calls' webhooks answer
// meanwhile, among them calls that the old 64 lock stripes put on the
// slow call's stripe.
func TestSlowCallStallsNoOther(t *testing.T) {
	e := newEnv(t)
	slow, _ := e.toTicket(critical)
	e.tw.Phone(phoneOf(21)).ExpectCall() // ringing
	release := make(chan struct{})
	holding := make(chan struct{}, 1)
	e.tw.Inject(faketwilio.Fault{Endpoint: "Calls.update", Until: release, Holding: holding})
	defer close(release)

	hungUp := make(chan struct{})
	go func() { slow.Hangup(); close(hungUp) }()
	deadline := time.NewTimer(othersWait)
	defer deadline.Stop()
	for held, answered := false, false; !held || !answered; {
		select {
		case <-holding:
			held = true
		case <-hungUp:
			answered, hungUp = true, nil
		case <-deadline.C:
			t.Fatalf("the hang-up's webhook answered: %v; Twilio holds the leg's cancel: %v", answered, held)
		}
	}

	sids := sidsSharingStripe(slow.SID(), 50)
	var wg sync.WaitGroup
	codes := make([]int, len(sids))
	for i, sid := range sids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = e.post("/webhooks/twilio/voice", map[string]string{"CallSid": sid, "From": client, "To": washington,
				"AccountSid": e.tw.AccountSID(), "CallStatus": "ringing", "Direction": "inbound"}, e.signer())
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-deadline.C:
		t.Fatalf("50 other calls' greetings did not all answer within %s of the slow call's hang-up", othersWait)
	}
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("call %s answered %d", sids[i], c)
		}
	}
}

// sidsSharingStripe returns n call SIDs of which a third fall on the lock
// stripe of sid under the old scheme (FNV-1a of the SID, modulo 64).
func sidsSharingStripe(sid string, n int) []string {
	stripe := func(s string) uint32 {
		h := fnv.New32a()
		_, _ = h.Write([]byte(s))
		return h.Sum32() % 64
	}
	var out []string
	for i := 0; len(out) < n; i++ {
		s := fmt.Sprintf("CA%032x", 0xbeef0000+i)
		if len(out) < n/3 && stripe(s) != stripe(sid) {
			continue
		}
		out = append(out, s)
	}
	return out
}
