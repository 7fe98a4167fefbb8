package webhooks_test

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/webhooks"
)

// toTicket dials the Washington line, keeps English and keys ticket id.
func (e *env) toTicket(id string) (*faketwilio.CallHandle, *faketwilio.TwiML) {
	e.t.Helper()
	call := e.tw.Phone(client).Dial(washington)
	doc := call.Answer()
	if g := doc.Gather(); g == nil || !hasPlay(doc, "greeting_washington") || !hasPlay(doc, "language_offer") {
		e.t.Fatalf("first answer is not the language offer: %s", doc)
	}
	doc = call.Silence()
	if !hasPlay(doc, "ticket_enter") || doc.Gather().Attr("finishOnKey") != "#" {
		e.t.Fatalf("no ticket prompt after the language offer: %s", doc)
	}
	return call, call.Press(id + "#")
}

// (1) A critical ticket at L2 reaches the L2 on-call engineer, who sees the
// line's number, accepts and talks with the caller.
func TestCriticalTicketReachesL2(t *testing.T) {
	e := newEnv(t)
	call, doc := e.toTicket(critical)
	// The caller is in the call's queue at once (an engineer can dial it
	// from then on) and hears the readback there, then music.
	if doc.First("Enqueue") == nil || len(doc.Plays()) != 0 || !call.Queued() {
		t.Fatalf("the caller is not put in the queue at once: %s", doc)
	}
	if w := call.WaitTwiML(); w == nil || !hasPlay(w, "priority_critical") || !hasPlay(w, "searching") ||
		!strings.Contains(w.Plays()[len(w.Plays())-1], "/hold/") {
		t.Fatalf("no readback, then hold music, in the queue: %v", w)
	}
	leg := e.tw.Phone(phoneOf(21)).ExpectCall()
	if leg.From() != washington {
		t.Fatalf("engineer sees %s, want the line %s", leg.From(), washington)
	}
	screen := leg.Answer()
	if screen.Gather() == nil || !hasPlay(screen, "screen_line_washington") || !hasPlay(screen, "screen_accept") {
		t.Fatalf("no screening: %s", screen)
	}
	connect := leg.Press("1")
	if connect.First("Queue") == nil || !leg.Bridged() || !call.Bridged() {
		t.Fatalf("engineer not bridged to the caller: %s", connect)
	}
	if !hasPlay(call.TwiML(), "connecting") {
		t.Fatalf("caller did not hear 'connecting': %s", call.TwiML())
	}
	leg.Hangup()
	if !call.TwiML().HangsUp() || !hasPlay(call.TwiML(), "goodbye") {
		t.Fatalf("caller not told goodbye after the engineer left: %s", call.TwiML())
	}
	call.Hangup()
	_, calls := e.deps.snapshot()
	if len(calls) != 1 || calls[0].Outcome != ivr.OutcomeConnected || calls[0].EngineerID != 21 {
		t.Fatalf("call log = %+v, want one connected call with engineer 21", calls)
	}
}

// (2) The L2 engineer does not press 1: the next rung is called. (5) The
// caller then hangs up while that phone rings: the leg is cancelled.
func TestNoAcceptRingsNextThenHangUpCancels(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	clara.Answer()
	var doc *faketwilio.TwiML
	for range 3 {
		doc = clara.Silence()
	}
	if !doc.HangsUp() || !hasPlay(doc, "screen_no_accept") {
		t.Fatalf("engineer who did not accept is not released: %s", doc)
	}
	dmitri := e.tw.Phone(phoneOf(22)).ExpectCall()
	if dmitri.From() != washington {
		t.Fatalf("next engineer sees %s", dmitri.From())
	}
	clara.Hangup()
	call.Hangup()
	waitClosed(t, dmitri.Canceled(), "cancelling the ringing leg")
	if dmitri.Status() != "canceled" {
		t.Fatalf("leg status %s, want canceled", dmitri.Status())
	}
	e.closeTwilio() // the fake's callbacks after the cancel have been answered
	pages, calls := e.deps.snapshot()
	if len(calls) != 1 || calls[0].Outcome != ivr.OutcomeAbandoned || len(pages) != 1 {
		t.Fatalf("calls %+v pages %+v, want one abandoned call and a page", calls, pages)
	}
}

// An engineer's voicemail box picks up. Twilio's answering-machine
// detection, asked for on every engineer leg and asynchronous (a person
// hears the screening at once), says so a moment later; since a person
// with a long greeting gets the same verdict, it is acted on once a whole
// screening got no key: the leg is hung up then and the next engineer
// rung, not after three screenings nobody hears.
func TestMachineAnswerRingsNextAfterOneScreening(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	if doc := clara.AnswerByMachine(); doc.Gather() == nil {
		t.Fatalf("the pick-up did not get the screening: %s", doc)
	}
	if doc := clara.Silence(); !doc.HangsUp() {
		t.Fatalf("a machine's unanswered screening got %s, want a hang-up", doc)
	}
	clara.Hangup()                                 // as Twilio does at <Hangup/>
	dmitri := e.tw.Phone(phoneOf(22)).ExpectCall() // no clock moved: at once
	if st := flowState(t, e.states, call.SID()); st.Leg.ID != call.SID()+"-leg2" || len(st.Tried) != 2 {
		t.Fatalf("after the machine: leg %q, tried %v; want the second leg ringing", st.Leg.ID, st.Tried)
	}
	call.Hangup()
	waitClosed(t, dmitri.Canceled(), "cancelling the ringing leg")
	e.closeTwilio()
}

// (3) An unknown ticket three times leads to the priority menu.
func TestUnknownTicketThriceGivesPriorityMenu(t *testing.T) {
	e := newEnv(t)
	call, doc := e.toTicket("999")
	for i := 2; i <= 3; i++ {
		if !hasPlay(doc, "ticket_unknown") || !hasPlay(doc, "ticket_retry") {
			t.Fatalf("try %d: no retry prompt: %s", i, doc)
		}
		doc = call.Press("999#")
	}
	if !hasPlay(doc, "priority_menu") || doc.Gather().Attr("numDigits") != "1" {
		t.Fatalf("no priority menu after three unknown tickets: %s", doc)
	}
	doc = call.Press("2")
	if doc.First("Enqueue") == nil || !hasPlay(call.WaitTwiML(), "ticket_opened") {
		t.Fatalf("no new ticket and hold: %s then %v", doc, call.WaitTwiML())
	}
	anna := e.tw.Phone(phoneOf(11)).ExpectCall()
	call.Hangup()
	waitClosed(t, anna.Canceled(), "cancelling the ringing leg")
}

// (4) Nobody answers within the maximum hold: voicemail, the recording is
// fetched, kept and deleted at Twilio, and a page is requested with the
// service's copy.
func TestMaxHoldGoesToVoicemailAndPages(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	e.clock.Add(ivr.DefaultConfig().MaxHold)
	doc := call.NextWait()
	if doc.First("Record") == nil || !hasPlay(doc, "leave_message") || call.Queued() {
		t.Fatalf("no voicemail after the maximum hold: %s", doc)
	}
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
	wav := testWAV(3)
	after := call.Record(wav)
	if after.First("Enqueue") == nil && !after.HangsUp() {
		t.Fatalf("after recording the caller neither waits nor hears goodbye: %s", after)
	}
	bye := call.WaitRedirect()
	if !bye.HangsUp() || !hasPlay(bye, "message_recorded") || !hasPlay(bye, "response_1h") {
		t.Fatalf("no goodbye with the response time: %s", bye)
	}
	call.Hangup()
	pages, calls := e.deps.snapshot()
	if len(pages) != 1 || pages[0].VoicemailSeconds != 3 || pages[0].Level != 2 ||
		pages[0].VoicemailURL == "" || pages[0].VoicemailURL[:20] != "https://ivr.example/" {
		t.Fatalf("pages = %+v, want one with the service's recording URL", pages)
	}
	if len(calls) != 1 || calls[0].Outcome != ivr.OutcomeVoicemail {
		t.Fatalf("calls = %+v", calls)
	}
	e.deps.mu.Lock()
	var sid string
	for k, v := range e.deps.saved {
		sid = k
		if len(v) != len(wav) {
			t.Errorf("saved %d bytes, want %d", len(v), len(wav))
		}
	}
	e.deps.mu.Unlock()
	if sid == "" {
		t.Fatal("recording not saved")
	}
	e.driver.Flush(t.Context()) // Twilio's copy is deleted off the webhook path
	if _, err := faketwilio.RESTClient(e.tw).Api.FetchRecording(sid, nil); err == nil {
		t.Fatalf("recording %s still at Twilio", sid)
	}
}

// testWAV is secs seconds of 8 kHz 16-bit mono silence.
func testWAV(secs int) []byte {
	data := make([]byte, 16000*secs)
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00")
	h = binary.LittleEndian.AppendUint32(h, 8000)
	h = binary.LittleEndian.AppendUint32(h, 16000)
	h = append(h, 2, 0, 16, 0)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(data)))
	binary.LittleEndian.PutUint32(h[4:8], uint32(36+len(data)))
	return append(h, data...)
}

var _ = time.Second

// TestSweepFinishesCallsTwilioEndedSilently: the caller hangs up while an
// engineer's phone rings, and the status callback is lost. The sweep asks
// Twilio, learns the call is over, and finishes it: the ringing leg is
// cancelled, the call logged and paged, and the call no longer swept.
func TestSweepFinishesCallsTwilioEndedSilently(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	call.HangupUnreported()

	e.clock.Add(30 * time.Second)
	if n, err := e.driver.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweep before the call is idle: looked at %d, %v; want none", n, err)
	}
	e.clock.Add(webhooks.SweepIdle)
	if n, err := e.driver.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: looked at %d, %v; want the one call", n, err)
	}
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
	if got := e.driver.Stats().SweptCalls; got != 1 {
		t.Errorf("Stats().SweptCalls = %d, want 1 (the call whose end was never reported)", got)
	}
	e.closeTwilio()
	pages, calls := e.deps.snapshot()
	if len(calls) != 1 || calls[0].Outcome != ivr.OutcomeAbandoned || len(pages) != 1 {
		t.Fatalf("calls %+v pages %+v, want one abandoned call and a page", calls, pages)
	}
	// Done calls are marked finished on the next sweep, then left alone.
	e.clock.Add(webhooks.SweepIdle * 2)
	if n, _ := e.driver.Sweep(context.Background()); n != 1 {
		t.Fatalf("second sweep looked at %d calls, want the done one, once", n)
	}
	if n, _ := e.driver.Sweep(context.Background()); n != 0 {
		t.Fatalf("third sweep looked at %d calls, want none", n)
	}
}

// TestSweepRetriesOwedPage: the store is unreachable when a caller gives up
// waiting. The caller's hang-up is taken all the same; the page and the call
// record are owed, retried by every sweep until the store is back, and the
// record then says the engineer was paged.
func TestSweepRetriesOwedPage(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	e.deps.setStoreDown(true)
	call.Hangup()
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
	if st := flowState(t, e.states, call.SID()); st.Phase != ivr.PhaseDone || !st.Owed.Page || !st.Owed.Record {
		t.Fatalf("after the hang-up: phase %s, owed %+v; want done, owing the page and the record", st.Phase, st.Owed)
	}

	e.clock.Add(webhooks.SweepIdle + time.Second)
	if n, err := e.driver.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep with the store down: looked at %d, %v", n, err)
	}
	if pages, calls := e.deps.snapshot(); len(pages) != 0 || len(calls) != 0 {
		t.Fatalf("pages %+v calls %+v while the store is down", pages, calls)
	}

	e.deps.setStoreDown(false)
	e.clock.Add(webhooks.SweepIdle + time.Second) // the next try is two minutes after the failed one
	if n, err := e.driver.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep with the store back: looked at %d, %v", n, err)
	}
	if pages, _ := e.deps.snapshot(); len(pages) != 0 {
		t.Fatalf("pages %+v before the retry was due", pages)
	}
	e.clock.Add(webhooks.SweepIdle + time.Second)
	if n, err := e.driver.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep when the retry is due: looked at %d, %v", n, err)
	}
	pages, calls := e.deps.snapshot()
	if len(pages) != 1 || pages[0].TicketID != critical || pages[0].Level != oncall.L2 {
		t.Fatalf("pages %+v, want one for the critical ticket at L2", pages)
	}
	if len(calls) != 1 || !calls[0].Paged || calls[0].Outcome != ivr.OutcomeAbandoned {
		t.Fatalf("calls %+v, want one abandoned call, paged", calls)
	}
	// Settled and finished: not looked at again.
	e.clock.Add(webhooks.SweepIdle + time.Second)
	if n, _ := e.driver.Sweep(context.Background()); n != 0 {
		t.Fatalf("a settled call was swept again (%d)", n)
	}
}
