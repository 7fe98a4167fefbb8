package main

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
)

// twilioWebhookLimit is how long Twilio waits for a webhook's answer
// before it gives up and plays the Fallback URL.
const twilioWebhookLimit = 15 * time.Second

// callsTo counts the calls the service asked Twilio to place to phone.
func callsTo(fake *faketwilio.Server, phone string) int {
	n := 0
	for _, rq := range fake.Requests() {
		if rq.Kind == faketwilio.RequestCall && rq.To == phone {
			n++
		}
	}
	return n
}

// holdWithTicket dials the Washington line, keeps English and keys the
// critical ticket 1001: the caller is put on hold while engineers are rung.
func (r *pagerRig) holdWithTicket() *faketwilio.CallHandle {
	r.t.Helper()
	return r.holdWithTicketFrom(clientPhone)
}

// holdWithTicketFrom is holdWithTicket from another phone.
func (r *pagerRig) holdWithTicketFrom(phone string) *faketwilio.CallHandle {
	r.t.Helper()
	in := r.fake.Phone(phone).Dial(washingtonLine)
	in.Answer()
	in.Silence()
	if hold := in.Press("1001#"); hold.First("Enqueue") == nil {
		r.t.Fatalf("the critical ticket: %s, want the caller on hold", hold)
	}
	return in
}

// talk has the engineer's leg answer and accept, and checks that the
// caller and the engineer are talking.
func talk(t *testing.T, in, leg *faketwilio.CallHandle) {
	t.Helper()
	leg.Answer()
	leg.Press("1")
	if !in.ConnectedTo(leg) {
		t.Fatal("the caller and the engineer are not talking")
	}
}

// TestEngineerLegPlacedOffTheWebhookPath: Twilio's Calls API hangs when
// the caller's ticket makes the service ring an engineer. The caller's
// webhooks answer at once all the same (the leg is written into the
// outbox, not placed inside the webhook), the caller holds, and once the
// API answers the engineer's phone rings, once, and they take the call.
func TestEngineerLegPlacedOffTheWebhookPath(t *testing.T) {
	r := startVoicemailRig(t)
	_, first := r.onCall("L1", "primary")
	release := make(chan struct{})
	holding := make(chan struct{}, 1)
	r.fake.Inject(faketwilio.Fault{Endpoint: "Calls.create", Until: release, Holding: holding})

	in := r.fake.Phone(clientPhone).Dial(washingtonLine)
	in.Answer()
	in.Silence() // keep English
	answered := make(chan *faketwilio.TwiML, 1)
	go func() { answered <- in.Press("1001#") }() // the critical ticket
	var hold *faketwilio.TwiML
	deadline := time.NewTimer(twilioWebhookLimit)
	defer deadline.Stop()
	for held := false; hold == nil || !held; {
		select {
		case hold = <-answered:
		case <-holding:
			held = true
		case <-deadline.C:
			t.Fatalf("after %s the ticket's webhook has not answered (answered: %v) while Twilio holds Calls.create (held: %v): Twilio would play the Fallback",
				twilioWebhookLimit, hold != nil, held)
		}
	}
	if hold.First("Enqueue") == nil {
		t.Fatalf("the ticket's webhook answered %s while the engineer's call was being placed; want the caller on hold", hold)
	}
	if n := callsTo(r.fake, first); n != 0 {
		t.Fatalf("Twilio has %d calls to %s while Calls.create hangs", n, first)
	}

	close(release) // the API is back: the held request is answered
	leg := r.fake.Phone(first).ExpectCall()
	if leg.From() != washingtonLine {
		t.Errorf("the engineer's phone shows %s, want the line %s", leg.From(), washingtonLine)
	}
	if doc := leg.Answer(); doc.Gather() == nil {
		t.Fatalf("the engineer hears no screening: %s", doc)
	}
	leg.Press("1")
	if !in.ConnectedTo(leg) {
		t.Fatal("the caller and the engineer are not talking")
	}
	if n := callsTo(r.fake, first); n != 1 {
		t.Errorf("Twilio was asked for %d calls to the engineer, want 1", n)
	}
	leg.Hangup()
	in.Hangup()
}

// TestEngineerBeingPagedIsNotRungForACaller: one voice call in flight per
// engineer, for pages and live calls together. While the L1 engineer's
// phone rings with a page, a caller's ticket that would ring them rings
// the next engineer instead; the paged engineer gets no second call.
func TestEngineerBeingPagedIsNotRungForACaller(t *testing.T) {
	r := startVoicemailRig(t)
	_, paged := r.onCall("L1", "primary")
	_, next := r.onCall("L1", "secondary")
	r.raise("critical", "payments API down")
	page := r.fake.Phone(paged).ExpectCall() // ringing, not answered yet

	in := r.holdWithTicket()
	leg := r.fake.Phone(next).ExpectCall()
	talk(t, in, leg)
	if n := callsTo(r.fake, paged); n != 1 {
		t.Errorf("Twilio was asked for %d calls to the engineer being paged, want 1 (the page)", n)
	}
	page.NoAnswer()
	r.fake.Phone(paged).ExpectSMS() // the page goes on by text
	leg.Hangup()
	in.Hangup()
}

// TestEngineerLegRefusedRingsTheNext: Twilio refuses the call to the
// first engineer for good (an invalid number): the outbox gives that leg
// up at once and the caller's flow rings the next engineer.
func TestEngineerLegRefusedRingsTheNext(t *testing.T) {
	r := startVoicemailRig(t)
	_, first := r.onCall("L1", "primary")
	_, next := r.onCall("L1", "secondary")
	r.fake.Inject(faketwilio.Fault{Endpoint: "Calls.create", Status: 400, Code: 21217, Message: "Phone number is not a valid phone number"})

	in := r.holdWithTicket()
	leg := r.fake.Phone(next).ExpectCall()
	talk(t, in, leg)
	if n := callsTo(r.fake, first); n != 0 {
		t.Errorf("Twilio placed %d calls to the refused number, want none", n)
	}
	leg.Hangup()
	in.Hangup()
}

// TestEngineerLegInDoubtRungOnce: Calls.create fails with a 500, so the
// service cannot know whether Twilio placed the engineer's call. It looks
// for the call at Twilio before trying again: when Twilio did place it
// (committed), that call is the leg and none is placed again; when it did
// not, the leg is placed once on the next try. Either way the engineer's
// phone rings once and the caller is connected.
func TestEngineerLegInDoubtRungOnce(t *testing.T) {
	for _, committed := range []bool{true, false} {
		t.Run(map[bool]string{true: "placed", false: "not placed"}[committed], func(t *testing.T) {
			r := startVoicemailRig(t)
			_, first := r.onCall("L1", "primary")
			r.fake.Inject(faketwilio.Fault{Endpoint: "Calls.create", Status: 500, Committed: committed})

			in := r.holdWithTicket()
			if !committed {
				if n := callsTo(r.fake, first); n != 0 {
					t.Fatalf("%d calls to the engineer before the retry", n)
				}
				r.advanceUntil(time.Second, 8*time.Second, "the engineer rung on a second try", func() bool { return callsTo(r.fake, first) == 1 })
			}
			leg := r.fake.Phone(first).ExpectCall()
			talk(t, in, leg)
			// Time for the look-up at Twilio and any retry it would plan.
			for range 8 {
				r.clock.Advance(time.Second)
				if waitUntil(50*time.Millisecond, func() bool { return callsTo(r.fake, first) > 1 }) {
					break
				}
			}
			if n := callsTo(r.fake, first); n != 1 {
				t.Errorf("Twilio placed %d calls to the engineer, want 1", n)
			}
			leg.Hangup()
			in.Hangup()
		})
	}
}

// TestPageWaitsWhileTheEngineerTalks: one voice call per engineer the
// other way round. A critical page raised while its engineer talks with
// a caller texts them at once and does not ring through the call; when the
// caller hangs up, the engineer's phone rings with the page.
func TestPageWaitsWhileTheEngineerTalks(t *testing.T) {
	r := startVoicemailRig(t)
	_, anna := r.onCall("L1", "primary")
	in := r.holdWithTicket()
	leg := r.fake.Phone(anna).ExpectCall()
	talk(t, in, leg)

	r.raise("critical", "mail server rejects all mail")
	r.fake.Phone(anna).ExpectSMS() // at once, while she talks
	if n := callsTo(r.fake, anna); n != 1 {
		t.Fatalf("Twilio was asked for %d calls to the engineer while she talks, want 1 (the caller's)", n)
	}
	in.Hangup() // her leg's <Dial> ends, and so does her call
	page := r.fake.Phone(anna).ExpectCall()
	if doc := page.Answer(); !plays(doc, "page_press_ack") {
		t.Fatalf("the page call once the line is free: %s", doc)
	}
	page.Press("1")
}

// TestEngineerTalkingIsNotRungForTheNextCaller: the first caller talks
// with the L1 engineer; the next caller's ring plan passes over her (her
// phone has a call in flight in the outbox) and rings the secondary, and
// she is asked for no second call.
func TestEngineerTalkingIsNotRungForTheNextCaller(t *testing.T) {
	r := startVoicemailRig(t)
	_, anna := r.onCall("L1", "primary")
	_, next := r.onCall("L1", "secondary")
	first := r.holdWithTicket()
	leg := r.fake.Phone(anna).ExpectCall()
	talk(t, first, leg)

	second := r.holdWithTicketFrom("+12025550177")
	other := r.fake.Phone(next).ExpectCall()
	if n := callsTo(r.fake, anna); n != 1 {
		t.Errorf("Twilio was asked for %d calls to the engineer talking, want 1", n)
	}
	talk(t, second, other)
	other.Hangup()
	second.Hangup()
	leg.Hangup()
	first.Hangup()
}
