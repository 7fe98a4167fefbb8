package asterisk_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets"
)

// l1Ticket is the first demo ticket: critical, at L1, a Washington client.
var l1Ticket = tickets.FirstID

// TestWashingtonCallerReachesEngineer: a caller of the Washington line
// hears the English greeting, keys an L1 ticket during it, holds while the
// L1 engineer on call is rung, and once the engineer presses 1 the two are
// bridged with audio both ways; the caller hangs up, the engineer is hung
// up too, and the call is recorded as connected to that engineer.
func TestWashingtonCallerReachesEngineer(t *testing.T) {
	r := newRig(t)
	eng, phone := r.onCall(t, oncall.L1)
	engineer, dial := r.engineer(t, "wash-engineer", "engineer_accepts.xml", "-rtp_echo")
	r.serve(t, map[string]string{phone: dial})

	caller := r.caller(t, "wash-caller", asterisktest.Washington, "caller_waits.xml", itoa(l1Ticket)+"#")
	callID := r.events.channel(t, "wash-caller")
	legID := r.events.channel(t, "wash-engineer")
	if want := callID + "-leg1"; legID != want {
		t.Errorf("the engineer's channel is %s, want the leg id %s", legID, want)
	}
	r.bridgeOf(t, 30*time.Second, callID, legID)

	// Audio both ways: Asterisk keeps receiving RTP from the caller, and
	// from the engineer's side, which only echoes what reaches it.
	c0, e0 := r.rxcount(t, callID), r.rxcount(t, legID)
	waitFor(t, 10*time.Second, "50 more RTP packets from each side in the bridge", func() bool {
		return r.rxcount(t, callID) >= c0+50 && r.rxcount(t, legID) >= e0+50
	})

	played := r.events.played(callID)
	if len(played) == 0 || played[0] != "en/greeting_washington" {
		t.Errorf("the caller heard %v, want en/greeting_washington first", played)
	}
	if !slices.Contains(played, "en/searching") {
		t.Errorf("the caller heard %v, want en/searching (put on hold)", played)
	}
	if heard := r.events.played(legID); len(heard) == 0 {
		t.Errorf("the engineer heard nothing, want the screening")
	}

	// The caller hangs up.
	if code := r.ast.ARI(t, http.MethodDelete, "/channels/"+callID, nil); code != http.StatusNoContent {
		t.Fatalf("hang up the caller: %d", code)
	}
	waitUA(t, caller)
	waitUA(t, engineer)

	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeConnected || rec.EngineerID != eng.ID || rec.TicketID != itoa(l1Ticket) || rec.Language != oncall.English {
		t.Errorf("call record: outcome %s, engineer %d, ticket %s, language %s; want connected, %d (%s), %d, en",
			rec.Outcome, rec.EngineerID, rec.TicketID, rec.Language, eng.ID, eng.Name, l1Ticket)
	}
	r.nothingLeft(t)
}

// TestCallerHangsUpWhileEngineerRings: the caller gives up on hold while
// the engineer's phone rings; the leg is cancelled (the engineer's phone
// gets a CANCEL), the call is recorded as abandoned, and nothing is left
// in Asterisk.
func TestCallerHangsUpWhileEngineerRings(t *testing.T) {
	r := newRig(t)
	eng, phone := r.onCall(t, oncall.L1)
	engineer, dial := r.engineer(t, "ringing-engineer", "engineer_rings.xml")
	r.serve(t, map[string]string{phone: dial})

	caller := r.caller(t, "gone-caller", asterisktest.Washington, "caller_hangs_up.xml", itoa(l1Ticket)+"#")
	callID := r.events.channel(t, "gone-caller")
	waitUA(t, caller)
	waitUA(t, engineer) // exits 0 only once the CANCEL came

	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeAbandoned || !slices.Equal(rec.Rang, []int64{eng.ID}) {
		t.Errorf("call record: outcome %s, rang %v; want abandoned, [%d]", rec.Outcome, rec.Rang, eng.ID)
	}
	r.nothingLeft(t)
}

func itoa(n int) string { return strconv.Itoa(n) }
