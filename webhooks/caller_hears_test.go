package webhooks_test

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds"
)

// What callers hear, through Twilio: a ticket keyed during the greeting,
// silence at a menu, the pause after a number, and the key that leaves a
// message instead of waiting.

// plays returns the prompt names doc plays, in order ("hold" for music).
func plays(doc *faketwilio.TwiML) []string {
	var names []string
	for _, u := range doc.Plays() {
		if strings.Contains(u, "/hold/") {
			names = append(names, "hold")
			continue
		}
		u, _, _ = strings.Cut(u, "?")
		u = u[strings.LastIndex(u, "/")+1:]
		names = append(names, strings.TrimSuffix(u, ".wav"))
	}
	return names
}

// The README suggests typing 1001# at once: the greeting's <Gather> takes a
// whole ticket id, which is looked up without the ticket prompt.
func TestTicketKeyedDuringGreeting(t *testing.T) {
	e := newEnv(t)
	call := e.tw.Phone(client).Dial(washington)
	g := call.Answer().Gather()
	if g == nil || g.Attr("finishOnKey") != "#" || g.Attr("numDigits") != "11" {
		t.Fatalf("the greeting does not gather a ticket id: %v", g)
	}
	doc := call.Press(critical + "#")
	if doc.First("Enqueue") == nil || !call.Queued() {
		t.Fatalf("a ticket keyed during the greeting did not route the call: %s", doc)
	}
	if w := call.WaitTwiML(); !hasPlay(w, "word_ticket") || !hasPlay(w, "priority_critical") || hasPlay(w, "ticket_enter") {
		t.Fatalf("no readback of the ticket keyed during the greeting: %s", w)
	}
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	call.Hangup()
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
}

// Silence at the ticket prompt is not "an invalid ticket number".
func TestSilenceAtTheTicketPrompt(t *testing.T) {
	e := newEnv(t)
	call := e.tw.Phone(client).Dial(washington)
	call.Answer()
	call.Silence() // the greeting: English kept
	doc := call.Silence()
	if got := plays(doc); len(got) != 2 || got[0] != "nothing_heard" || got[1] != "ticket_enter" || doc.Gather() == nil {
		t.Fatalf("silence at the ticket prompt plays %v, want nothing_heard ticket_enter: %s", got, doc)
	}
	// The pound sign alone is keyed (Twilio posts empty Digits with
	// FinishedOnKey): a wrong entry, not silence.
	doc = call.Press("#")
	if got := plays(doc); len(got) != 2 || got[0] != "ticket_invalid" {
		t.Fatalf("pound alone at the ticket prompt plays %v, want ticket_invalid ticket_retry: %s", got, doc)
	}
	call.Hangup()
}

// Star and pound during the greeting: no ticket, straight to the priority
// menu (Twilio reports the pound as FinishedOnKey, not in Digits).
func TestNoTicketKeyedDuringGreeting(t *testing.T) {
	e := newEnv(t)
	call := e.tw.Phone(client).Dial(washington)
	call.Answer()
	if doc := call.Press("*#"); !hasPlay(doc, "priority_menu") || hasPlay(doc, "ticket_enter") {
		t.Fatalf("*# during the greeting did not lead to the priority menu: %s", doc)
	}
	call.Hangup()
}

// The readback pauses between the ticket's number and "priority": the
// pause is a prompt of its own, played from its (silent) audio.
func TestReadbackPausesAfterTheNumber(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	got := strings.Join(plays(call.WaitTwiML()), " ")
	if want := "word_ticket digit_4 digit_2 digit_4 digit_2 pause word_priority priority_critical searching hold_offer_message hold"; got != want {
		t.Fatalf("the caller hears %s, want %s", got, want)
	}
	for _, lang := range []string{"en", "ru"} {
		b, ok := sounds.Bytes(lang, ivr.PromptPause)
		if !ok || len(b) <= 44 {
			t.Fatalf("no %s audio for the pause", lang)
		}
		for i := 44; i+1 < len(b); i += 2 {
			if s := int16(binary.LittleEndian.Uint16(b[i:])); s != 0 {
				t.Fatalf("%s/%s.wav is not silent at byte %d", lang, ivr.PromptPause, i)
			}
		}
		if d := sounds.Duration(lang, ivr.PromptPause); d <= 0 || d > 500*time.Millisecond {
			t.Fatalf("%s pause lasts %v, want a short one", lang, d)
		}
	}
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	call.Hangup()
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
}

// A caller on hold presses 1 to leave a message instead of waiting: the
// wait URL's music takes a key (Twilio allows <Gather> in wait TwiML), the
// engineer being rung is let go of, and the caller records a voicemail that
// pages as any other.
func TestHoldKeyLeavesAMessage(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	w := call.NextWait()
	g := w.Gather()
	if g == nil || g.Attr("numDigits") != "1" || !strings.Contains(g.Attr("action"), "/voice/holdkey") ||
		!strings.Contains(w.Plays()[len(w.Plays())-1], "/hold/") {
		t.Fatalf("the hold music takes no key: %s", w)
	}
	if doc := call.Press("5"); doc.Gather() == nil || !call.Queued() {
		t.Fatalf("another key took the caller off hold: %s", doc)
	}
	doc := call.Press("1")
	if doc.First("Record") == nil || !hasPlay(doc, "leave_message") || hasPlay(doc, "nobody_available") || call.Queued() {
		t.Fatalf("the hold key did not lead to the voicemail: %s", doc)
	}
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
	call.Record(testWAV(2))
	if bye := call.WaitRedirect(); !bye.HangsUp() || !hasPlay(bye, "message_recorded") {
		t.Fatalf("no goodbye after the message: %s", bye)
	}
	call.Hangup()
	pages, calls := e.deps.snapshot()
	if len(pages) != 1 || pages[0].TicketID != critical || pages[0].VoicemailSeconds != 2 {
		t.Fatalf("pages %+v, want one for the critical ticket with the message", pages)
	}
	if len(calls) != 1 || calls[0].Outcome != ivr.OutcomeVoicemail {
		t.Fatalf("calls %+v, want one voicemail", calls)
	}
}

// Once the caller is no longer waiting for an engineer, the music takes no
// key, and a key that crossed the change is only answered.
func TestHoldKeyAfterVoicemailStarted(t *testing.T) {
	e := newEnv(t)
	call, _ := e.toTicket(critical)
	clara := e.tw.Phone(phoneOf(21)).ExpectCall()
	e.clock.Add(ivr.DefaultConfig().MaxHold)
	call.NextWait() // the maximum hold: to voicemail
	waitClosed(t, clara.Canceled(), "cancelling the ringing leg")
	code, body := e.post("/webhooks/twilio/voice/holdkey", map[string]string{"CallSid": call.SID(), "Digits": "1"}, e.signer())
	if code != 200 || !strings.Contains(body, "<Leave") {
		t.Fatalf("a late hold key answered %d %s; want the caller sent on (<Leave/>)", code, body)
	}
	if st := flowState(t, e.states, call.SID()); st.Phase != ivr.PhaseVoicemail {
		t.Fatalf("phase %s after a late hold key, want voicemail", st.Phase)
	}
	call.Hangup()
}
