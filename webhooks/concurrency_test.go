package webhooks_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/webhooks"
)

// Two instances share the store; the caller's wait requests and an engineer
// leg's status callback arrive at both at once. Compare-and-swap keeps
// every event: none is lost, none applied twice.
func TestConcurrentWebhooksOnTwoInstances(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	sid := call.SID()
	before := flowState(t, e.states, sid)

	r2 := mux.NewRouter()
	srv2 := httptest.NewServer(r2)
	var d2 *webhooks.Driver
	t.Cleanup(func() {
		e.driver.Close() // both instances' changes at Twilio made first
		d2.Close()
		e.tw.Close() // let the fake's callbacks to this instance land first
		srv2.Close()
	})
	e2 := *e
	e2.srv = srv2
	d2 = e2.newDriver(r2, e.tw.AuthToken())

	const waits = 10
	var wg sync.WaitGroup
	codes := make(chan int, 2*waits+1)
	for i := range 2 * waits {
		inst := e
		if i%2 == 1 {
			inst = &e2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := inst.post("/webhooks/twilio/voice/wait", map[string]string{"CallSid": sid, "QueueTime": "5"}, inst.signer())
			if !strings.Contains(body, "<Play") {
				t.Errorf("wait answered %q", body)
			}
			codes <- code
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		code, _ := e2.post("/webhooks/twilio/legs/"+sid+"-leg1/status",
			map[string]string{"CallSid": clara.SID(), "CallStatus": "no-answer"}, e2.signer())
		codes <- code
	}()
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK && c != http.StatusNoContent {
			t.Fatalf("a request got %d", c)
		}
	}
	after := flowState(t, e.states, sid)
	if after.Seq != before.Seq+2*waits+1 {
		t.Fatalf("seq %d → %d, want %d events applied exactly once", before.Seq, after.Seq, 2*waits+1)
	}
	if after.Leg.ID != sid+"-leg2" || after.Phase != ivr.PhaseRouting {
		t.Fatalf("after the no-answer the next leg should ring: %+v", after.Leg)
	}
	dmitri := e.tw.Phone(phoneOf(22)).ExpectCall()
	call.Hangup()
	waitClosed(t, dmitri.Canceled(), "cancelling the ringing leg")
	_ = faketwilio.DefaultAuthToken
}
