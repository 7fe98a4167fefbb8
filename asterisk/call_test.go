package asterisk_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/asterisk"
	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// criticalL1Washington is the demo ticket the tests key (demo.Tickets,
// numbered from 1001): critical, at L1, from a Washington caller.
const criticalL1Washington = "1001"

// TestCallerReachesEngineer: a caller hears the greeting of the line
// dialled in its language, keys a ticket during it (a critical one at L1
// in Washington; in Moscow a critical one at L2, which the test opens),
// holds while the engineer on call at the ticket's level is rung, and
// once the engineer presses 1 the two are bridged with audio both ways;
// the caller hangs up (Washington) or both hang up at once (Moscow), the
// engineer is hung up too, and the call is recorded as connected to that
// engineer.
func TestCallerReachesEngineer(t *testing.T) {
	for _, tc := range []struct {
		name, line, ticket string
		level              oncall.Level
		lang               oncall.Language
		greeting, holding  string
		bothHangUp         bool
	}{
		{"washington", asterisktest.Washington, criticalL1Washington, oncall.L1, oncall.English, "en/greeting_washington", "en/searching", false},
		{"moscow", asterisktest.Moscow, "", oncall.L2, oncall.Russian, "ru/greeting_moscow", "ru/searching", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if tc.ticket == "" {
				tc.ticket = r.ticket(t, oncall.Critical, tc.level, tc.line, tc.lang)
			}
			eng, phone := r.onCall(t, tc.level)
			name := "engineer-" + tc.name
			engineer, dial := r.engineer(t, name, "engineer_accepts.xml", "-rtp_echo")
			r.serve(t, asterisk.Config{Endpoints: map[string]string{phone: dial}})

			caller := r.caller(t, "caller-"+tc.name, tc.line, "caller_waits.xml", tc.ticket+"#")
			callID := r.events.channel(t, "caller-"+tc.name)
			legID := r.events.channel(t, name)
			if want := callID + "-leg1"; legID != want {
				t.Errorf("the engineer's channel is %s, want the leg id %s", legID, want)
			}
			r.bridgeOf(t, 30*time.Second, callID, legID)

			// Audio both ways: Asterisk keeps receiving RTP from the
			// caller, and from the engineer's side, which only echoes
			// what reaches it.
			c0, e0 := r.rxcount(t, callID), r.rxcount(t, legID)
			waitFor(t, 10*time.Second, "50 more RTP packets from each side in the bridge", func() bool {
				return r.rxcount(t, callID) >= c0+50 && r.rxcount(t, legID) >= e0+50
			})

			played := r.events.played(callID)
			if len(played) == 0 || played[0] != tc.greeting {
				t.Errorf("the caller heard %v, want %s first", played, tc.greeting)
			}
			if !slices.Contains(played, tc.holding) {
				t.Errorf("the caller heard %v, want %s (put on hold)", played, tc.holding)
			}
			if heard := r.events.played(legID); len(heard) == 0 {
				t.Errorf("the engineer heard nothing, want the screening")
			}

			hangUp := []string{callID}
			if tc.bothHangUp {
				hangUp = append(hangUp, legID)
			}
			for _, id := range hangUp {
				if code := r.ast.ARI(t, http.MethodDelete, "/channels/"+id, nil); code != http.StatusNoContent {
					t.Fatalf("hang up %s: %d", id, code)
				}
			}
			waitUA(t, caller)
			waitUA(t, engineer)

			rec := r.callRecord(t, callID)
			if rec.Outcome != ivr.OutcomeConnected || rec.EngineerID != eng.ID || rec.TicketID != tc.ticket || rec.Language != tc.lang ||
				rec.Priority != oncall.Critical || rec.Level != tc.level {
				t.Errorf("call record: outcome %s, engineer %d, ticket %s (%s, %s), language %s; want connected, %d (%s), %s (critical, %s), %s",
					rec.Outcome, rec.EngineerID, rec.TicketID, rec.Priority, rec.Level, rec.Language, eng.ID, eng.Name, tc.ticket, tc.level, tc.lang)
			}
			r.nothingLeft(t)
		})
	}
}

// TestCallerHangsUpWhileEngineerRings: the caller gives up on hold while
// the engineer's phone rings; the leg is cancelled (the engineer's phone
// gets a CANCEL), the call is recorded as abandoned, and nothing is left
// in Asterisk.
func TestCallerHangsUpWhileEngineerRings(t *testing.T) {
	r := newRig(t)
	eng, phone := r.onCall(t, oncall.L1)
	engineer, dial := r.engineer(t, "ringing-engineer", "engineer_rings.xml")
	r.serve(t, asterisk.Config{Endpoints: map[string]string{phone: dial}})

	caller := r.caller(t, "gone-caller", asterisktest.Washington, "caller_hangs_up.xml", criticalL1Washington+"#")
	callID := r.events.channel(t, "gone-caller")
	waitUA(t, caller)
	waitUA(t, engineer) // exits 0 only once the CANCEL came

	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeAbandoned || !slices.Equal(rec.Rang, []int64{eng.ID}) {
		t.Errorf("call record: outcome %s, rang %v; want abandoned, [%d]", rec.Outcome, rec.Rang, eng.ID)
	}
	r.nothingLeft(t)
}

// TestCallerHangsUpDuringGreeting: a caller who hangs up while the
// greeting plays is recorded as hung up in the menus.
func TestCallerHangsUpDuringGreeting(t *testing.T) {
	r := newRig(t)
	r.serve(t, asterisk.Config{DialString: "PJSIP/{phone}"})

	caller := r.caller(t, "quick-caller", asterisktest.Washington, "caller_hangs_up_at_once.xml", "")
	callID := r.events.channel(t, "quick-caller")
	waitUA(t, caller)

	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeHungUp || rec.Line != asterisktest.Washington {
		t.Errorf("call record: outcome %s, line %s; want hung-up, %s", rec.Outcome, rec.Line, asterisktest.Washington)
	}
	if played := r.events.played(callID); !slices.Equal(played, []string{"en/greeting_washington"}) {
		t.Errorf("the caller heard %v, want the greeting only", played)
	}
	r.nothingLeft(t)
}

// TestVoicemailWhenNoEngineerCanBeRung: every originate fails (no such
// endpoint), so the caller is offered voicemail at once; the message the
// caller leaves before hanging up is fetched from Asterisk into the store
// and deleted there, and the page carries it.
func TestVoicemailWhenNoEngineerCanBeRung(t *testing.T) {
	r := newRig(t)
	// A real install has its recording folder; the test's Asterisk starts
	// without one.
	if err := os.MkdirAll(r.ast.RecordingsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	r.serve(t, asterisk.Config{DialString: "PJSIP/nobody-{phone}"})

	caller := r.caller(t, "vm-caller", asterisktest.Washington, "caller_leaves_message.xml", criticalL1Washington+"#")
	callID := r.events.channel(t, "vm-caller")
	waitUA(t, caller)

	played := r.events.played(callID)
	if i := slices.Index(played, "en/leave_message"); i < 0 || i+1 >= len(played) || !strings.HasPrefix(played[i+1], "tone:") {
		t.Errorf("the caller heard %v, want en/leave_message and then a tone", played)
	}
	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeVoicemail || rec.VoicemailURL == "" || rec.VoicemailSeconds < 3 || !rec.Paged {
		t.Fatalf("call record: outcome %s, voicemail %q (%d s), paged %v; want voicemail with a message of a few seconds, paged",
			rec.Outcome, rec.VoicemailURL, rec.VoicemailSeconds, rec.Paged)
	}
	saved, err := r.db.Recording(t.Context(), path.Base(rec.VoicemailURL))
	if err != nil {
		t.Fatalf("the voicemail in the store: %v", err)
	}
	if len(saved.Data) < 8000 || saved.CallID != callID {
		t.Errorf("stored voicemail: %d bytes of call %s, want seconds of audio of %s", len(saved.Data), saved.CallID, callID)
	}
	pages, err := r.db.PageRequests(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 || pages[0].CallID != callID || pages[0].VoicemailURL != rec.VoicemailURL {
		t.Errorf("page requests %+v, want one for %s with the voicemail %s", pages, callID, rec.VoicemailURL)
	}
	var stored []json.RawMessage
	r.ast.ARI(t, http.MethodGet, "/recordings/stored", &stored)
	if len(stored) != 0 {
		t.Errorf("Asterisk still stores %d recordings, want the voicemail deleted there", len(stored))
	}
	r.nothingLeft(t)
}

// TestNextEngineerWhenFirstDoesNotTake: the engineer on call first is
// busy, or answers and hangs up without pressing 1; the next one of the
// ring plan is rung, accepts, and is bridged with the caller.
func TestNextEngineerWhenFirstDoesNotTake(t *testing.T) {
	for _, tc := range []struct{ name, scenario string }{
		{"busy", "engineer_busy.xml"},
		{"refuses", "engineer_refuses.xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			first, phone := r.onCall(t, oncall.L1)
			declining, declines := r.engineer(t, "first-"+tc.name, tc.scenario)
			accepting, accepts := r.engineer(t, "next-"+tc.name, "engineer_accepts.xml", "-rtp_echo")
			// Whoever the plan rings next takes the call.
			endpoints := map[string]string{}
			for _, e := range demo.Team {
				endpoints[e.Phone] = accepts
			}
			endpoints[phone] = declines
			r.serve(t, asterisk.Config{Endpoints: endpoints})

			caller := r.caller(t, "caller-"+tc.name, asterisktest.Washington, "caller_waits.xml", criticalL1Washington+"#")
			callID := r.events.channel(t, "caller-"+tc.name)
			legID := r.events.channel(t, "next-"+tc.name)
			r.bridgeOf(t, 40*time.Second, callID, legID)
			waitUA(t, declining)
			if code := r.ast.ARI(t, http.MethodDelete, "/channels/"+callID, nil); code != http.StatusNoContent {
				t.Fatalf("hang up the caller: %d", code)
			}
			waitUA(t, caller)
			waitUA(t, accepting)

			rec := r.callRecord(t, callID)
			if rec.Outcome != ivr.OutcomeConnected || len(rec.Rang) != 2 || rec.Rang[0] != first.ID || rec.EngineerID != rec.Rang[1] {
				t.Errorf("call record: outcome %s, rang %v, engineer %d; want connected to the second rung after %d",
					rec.Outcome, rec.Rang, rec.EngineerID, first.ID)
			}
			r.nothingLeft(t)
		})
	}
}

// TestAsteriskRestartsMidCall: Asterisk restarts while the caller holds
// and the engineer rings. Whatever of the shutdown reaches the driver
// (the caller's hang-up, or first the engineer's leg failing, the flow
// going on to voicemail and the caller hanging up at its prompt) or not
// (the websocket cut first, the channels found gone on reconnecting), the
// call is recorded as ended without a message (abandoned, or voicemail
// with nothing recorded), the engineer is paged, and nothing is left.
func TestAsteriskRestartsMidCall(t *testing.T) {
	r := newRig(t)
	_, phone := r.onCall(t, oncall.L1)
	_, dial := r.engineer(t, "restart-engineer", "engineer_rings.xml")
	r.serve(t, asterisk.Config{Endpoints: map[string]string{phone: dial}})

	r.caller(t, "restart-caller", asterisktest.Washington, "caller_waits.xml", criticalL1Washington+"#")
	callID := r.events.channel(t, "restart-caller")
	waitFor(t, 30*time.Second, "the caller on hold, the engineer's leg ringing", func() bool {
		return slices.Contains(r.events.played(callID), "en/hold_offer_message") &&
			r.ast.ARI(t, http.MethodGet, "/channels/"+callID+"-leg1", nil) == http.StatusOK
	})
	r.ast.Restart(t)

	rec := r.callRecord(t, callID)
	ended := rec.Outcome == ivr.OutcomeAbandoned || rec.Outcome == ivr.OutcomeVoicemail && rec.VoicemailURL == ""
	if !ended || !rec.Paged {
		t.Errorf("call record: outcome %s, voicemail %q, paged %v; want abandoned or an empty voicemail, paged",
			rec.Outcome, rec.VoicemailURL, rec.Paged)
	}
	r.nothingLeft(t)
}

// TestDriverRestartResumesCall: the driver's process stops while the
// caller holds and the engineer rings (its connection gone, the call left
// in Asterisk); a new one finds the call in the application, takes it up
// from the store, and when the engineer answers and presses 1 the two are
// bridged: the call is recorded as connected, nothing is left.
func TestDriverRestartResumesCall(t *testing.T) {
	r := newRig(t)
	eng, phone := r.onCall(t, oncall.L1)
	engineer, dial := r.engineer(t, "resume-engineer", "engineer_accepts.xml", "-rtp_echo") // rings 8 s
	cfg := asterisk.Config{Endpoints: map[string]string{phone: dial}}
	stop := r.serve(t, cfg)

	caller := r.caller(t, "resume-caller", asterisktest.Washington, "caller_waits.xml", criticalL1Washington+"#")
	callID := r.events.channel(t, "resume-caller")
	waitFor(t, 15*time.Second, "the caller on hold", func() bool {
		return slices.Contains(r.events.played(callID), "en/searching")
	})
	stop() // the driver and its connection are gone; Asterisk keeps the call
	if r.driver.Calls() != 0 {
		t.Errorf("the stopped driver still serves %d calls", r.driver.Calls())
	}

	r.serve(t, cfg)
	legID := r.events.channel(t, "resume-engineer")
	r.bridgeOf(t, 30*time.Second, callID, legID)
	if played := r.events.played(callID); !slices.Contains(played, "en/connecting") {
		t.Errorf("after the restart the caller heard %v, want en/connecting", played)
	}
	if code := r.ast.ARI(t, http.MethodDelete, "/channels/"+callID, nil); code != http.StatusNoContent {
		t.Fatalf("hang up the caller: %d", code)
	}
	waitUA(t, caller)
	waitUA(t, engineer)

	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeConnected || rec.EngineerID != eng.ID {
		t.Errorf("call record: outcome %s, engineer %d; want connected, %d", rec.Outcome, rec.EngineerID, eng.ID)
	}
	r.nothingLeft(t)
}

// TestWebsocketCutMidCall: the events websocket is cut while the caller
// hears the first hold message, and stays cut until that message has
// ended (its PlaybackFinished lost). Once the connection is back, the
// driver itself finds the message over and goes on: the caller hears the
// next one, and the engineer who answers and presses 1 is bridged.
func TestWebsocketCutMidCall(t *testing.T) {
	r := newRig(t)
	eng, phone := r.onCall(t, oncall.L1)
	engineer, dial := r.engineer(t, "cut-engineer", "engineer_accepts_late.xml", "-rtp_echo")
	cut := r.cutEvents(t)
	r.serve(t, asterisk.Config{Endpoints: map[string]string{phone: dial}})

	caller := r.caller(t, "cut-caller", asterisktest.Washington, "caller_waits.xml", criticalL1Washington+"#")
	callID := r.events.channel(t, "cut-caller")
	var searching string
	waitFor(t, 15*time.Second, "the first hold message playing", func() bool {
		searching = r.events.playback(callID, "en/searching")
		return searching != ""
	})
	cut.cut()
	waitFor(t, 10*time.Second, "the connection seen lost", func() bool { return r.link.Ready() != nil })
	waitFor(t, 15*time.Second, "the first hold message over, unheard by the driver", func() bool {
		return r.ast.ARI(t, http.MethodGet, "/playbacks/"+searching, nil) == http.StatusNotFound
	})
	if slices.Contains(r.events.played(callID), "en/hold_offer_message") {
		t.Fatalf("the next message started while the websocket was cut")
	}
	cut.restore()
	waitFor(t, 15*time.Second, "the next hold message after the reconnection", func() bool {
		return slices.Contains(r.events.played(callID), "en/hold_offer_message")
	})

	legID := r.events.channel(t, "cut-engineer")
	r.bridgeOf(t, 30*time.Second, callID, legID)
	if code := r.ast.ARI(t, http.MethodDelete, "/channels/"+callID, nil); code != http.StatusNoContent {
		t.Fatalf("hang up the caller: %d", code)
	}
	waitUA(t, caller)
	waitUA(t, engineer)
	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeConnected || rec.EngineerID != eng.ID {
		t.Errorf("call record: outcome %s, engineer %d; want connected, %d", rec.Outcome, rec.EngineerID, eng.ID)
	}
	r.nothingLeft(t)
}

// TestEveryEventTypeMidCall: every event type Asterisk 22 describes is
// delivered on the events websocket while the greeting plays (the types
// ari/v5 cannot decode, which would panic the process, meet arilink's
// relay; the others reach the driver, naming no channel of the call). The
// keys the caller presses next are still taken: the ticket is found and
// the caller holds while the engineer rings, until the caller hangs up.
func TestEveryEventTypeMidCall(t *testing.T) {
	types := asterisktest.SpecEvents(t)
	r := newRig(t)
	_, phone := r.onCall(t, oncall.L1)
	engineer, dial := r.engineer(t, "inject-engineer", "engineer_rings.xml")
	cut := r.cutEvents(t)
	r.serve(t, asterisk.Config{Endpoints: map[string]string{phone: dial}})

	caller := r.caller(t, "inject-caller", asterisktest.Washington, "caller_hangs_up.xml", criticalL1Washington+"#")
	callID := r.events.channel(t, "inject-caller")
	var messages [][]byte
	for _, typ := range types {
		if typ == "ApplicationReplaced" {
			continue // another websocket took the application: a test of its own
		}
		messages = append(messages, fmt.Appendf(nil, `{"type":%q,"application":%q,"timestamp":"2026-12-01T12:00:00.000+0000"}`, typ, app))
	}
	cut.inject(t, messages...)
	if played := r.events.played(callID); slices.Contains(played, "en/word_ticket") {
		t.Fatalf("the caller had keyed the ticket before the events were injected (heard %v)", played)
	}
	waitFor(t, 20*time.Second, "the caller on hold after keying the ticket", func() bool {
		return slices.Contains(r.events.played(callID), "en/searching")
	})
	waitUA(t, caller)
	waitUA(t, engineer)

	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeAbandoned || rec.TicketID != criticalL1Washington {
		t.Errorf("call record: outcome %s, ticket %s; want abandoned, %s", rec.Outcome, rec.TicketID, criticalL1Washington)
	}
	if r.link.Dropped() == 0 {
		t.Errorf("arilink dropped none of the %d injected events, want those ari/v5 cannot decode", len(messages))
	}
	r.nothingLeft(t)
}

// TestNextInstanceWhenFirstIsDown: two instances of the driver, each with
// an application of its own (one websocket holds an application), the
// dialplan trying ivr, then ivr-2. Calls go to the first; once it is down,
// the next caller is answered by the second.
func TestNextInstanceWhenFirstIsDown(t *testing.T) {
	r := newRig(t)
	noEngineers := "PJSIP/nobody-{phone}"
	stopFirst := r.serve(t, asterisk.Config{App: asterisktest.Apps[0], DialString: noEngineers})
	first, firstEvents := r.driver, r.events
	r.serve(t, asterisk.Config{App: asterisktest.Apps[1], DialString: noEngineers})
	secondEvents := r.events

	caller := r.caller(t, "to-first", asterisktest.Washington, "caller_hangs_up_at_once.xml", "")
	firstEvents.channel(t, "to-first")
	waitUA(t, caller)
	waitFor(t, 10*time.Second, "the first instance's call over", func() bool { return first.Calls() == 0 })

	stopFirst()
	waitFor(t, 10*time.Second, "application "+asterisktest.Apps[0]+" gone", func() bool {
		return r.ast.ARI(t, http.MethodGet, "/applications/"+asterisktest.Apps[0], nil) == http.StatusNotFound
	})
	caller = r.caller(t, "to-second", asterisktest.Washington, "caller_hangs_up_at_once.xml", "")
	callID := secondEvents.channel(t, "to-second")
	waitUA(t, caller)
	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeHungUp || !slices.Equal(secondEvents.played(callID), []string{"en/greeting_washington"}) {
		t.Errorf("the second instance's call: outcome %s, heard %v; want hung-up after the greeting", rec.Outcome, secondEvents.played(callID))
	}
	r.nothingLeft(t)
}

// TestVoicemailWhenNobodyAnswers: the engineer on call lets the phone
// ring out (the flow's ring time, shortened here to 4 s, ends the leg:
// the engineer's phone gets a CANCEL); nobody else can be rung, so the
// caller leaves a message, which the page carries.
func TestVoicemailWhenNobodyAnswers(t *testing.T) {
	r := newRig(t, func(c *ivr.Config) { c.RingTime = 4 * time.Second })
	if err := os.MkdirAll(r.ast.RecordingsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	eng, phone := r.onCall(t, oncall.L1)
	engineer, dial := r.engineer(t, "ringout-engineer", "engineer_rings.xml")
	r.serve(t, asterisk.Config{Endpoints: map[string]string{phone: dial}})

	caller := r.caller(t, "ringout-caller", asterisktest.Washington, "caller_leaves_message.xml", criticalL1Washington+"#")
	callID := r.events.channel(t, "ringout-caller")
	waitUA(t, engineer) // exits 0 only once the CANCEL came
	waitUA(t, caller)

	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeVoicemail || len(rec.Rang) == 0 || rec.Rang[0] != eng.ID || rec.VoicemailSeconds < 3 || !rec.Paged {
		t.Errorf("call record: outcome %s, rang %v, voicemail %d s, paged %v; want voicemail after ringing %d, a message of seconds, paged",
			rec.Outcome, rec.Rang, rec.VoicemailSeconds, rec.Paged, eng.ID)
	}
	r.nothingLeft(t)
}

// TestCallerHangsUpBeforeTheTone: nobody can be rung, so the caller is
// offered voicemail, and hangs up (2 s after keying the ticket, during its prompts) before
// their recording started: the call is recorded and paged at once, not a
// RecordingGrace (a minute) later, as nothing will be recorded.
func TestCallerHangsUpBeforeTheTone(t *testing.T) {
	r := newRig(t)
	if err := os.MkdirAll(r.ast.RecordingsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	r.serve(t, asterisk.Config{DialString: "PJSIP/nobody-{phone}"})

	caller := r.caller(t, "early-caller", asterisktest.Washington, "caller_hangs_up_soon.xml", criticalL1Washington+"#")
	callID := r.events.channel(t, "early-caller")
	waitUA(t, caller)

	rec := r.callRecord(t, callID) // within 15 s of the hang-up
	if !rec.Paged || rec.VoicemailURL != "" {
		t.Errorf("call record: outcome %s, voicemail %q, paged %v; want no voicemail, paged", rec.Outcome, rec.VoicemailURL, rec.Paged)
	}
	r.nothingLeft(t)
}

// TestSweepEndsOrTakesOverLeftCalls: the driver stops while a caller
// holds and the engineer rings; the caller hangs up while no driver runs,
// so nothing in Asterisk is left to find. Another instance (application
// ivr-2; every driver here with a SweepIdle of 2 s) starts and sweeps:
// the gone caller's call is recorded as abandoned and paged, and the leg
// still ringing is hung up. It serves a caller of its own; a driver
// started again on ivr sweeps too and leaves that live call, whose state
// its instance keeps fresh, alone. Then the other instance stops, its
// caller still on the line, in silence: once the call's state has been
// unchanged for SweepIdle the sweep takes the caller over, moving them
// into its own application, where the menu asks again.
func TestSweepEndsOrTakesOverLeftCalls(t *testing.T) {
	r := newRig(t)
	eng, phone := r.onCall(t, oncall.L1)
	engineer, dial := r.engineer(t, "sweep-engineer", "engineer_rings.xml")
	const idle = 2 * time.Second
	cfg := asterisk.Config{Endpoints: map[string]string{phone: dial}, SweepIdle: idle}
	stop := r.serve(t, cfg)
	caller := r.caller(t, "sweep-caller", asterisktest.Washington, "caller_hangs_up.xml", criticalL1Washington+"#")
	callID := r.events.channel(t, "sweep-caller")
	waitFor(t, 30*time.Second, "the engineer's leg ringing", func() bool {
		return r.ast.ARI(t, http.MethodGet, "/channels/"+callID+"-leg1", nil) == http.StatusOK
	})
	stop()
	waitUA(t, caller) // hangs up on hold, unserved
	r.idle(t, callID, idle)

	stopOther := r.serve(t, asterisk.Config{App: asterisktest.Apps[1], DialString: "PJSIP/nobody-{phone}", SweepIdle: idle})
	otherDriver, otherEvents := r.driver, r.events
	rec := r.callRecord(t, callID)
	if rec.Outcome != ivr.OutcomeAbandoned || !rec.Paged || !slices.Equal(rec.Rang, []int64{eng.ID}) {
		t.Errorf("the gone caller's record: outcome %s, paged %v, rang %v; want abandoned, paged, [%d]", rec.Outcome, rec.Paged, rec.Rang, eng.ID)
	}
	waitUA(t, engineer) // exits 0 only once the CANCEL came
	// The leg's own end goes to the stopped application: the call waits
	// LegGrace for it.
	waitFor(t, 20*time.Second, "the gone caller's call over", func() bool { return otherDriver.Calls() == 0 })
	live := r.caller(t, "sweep-live", asterisktest.Washington, "caller_waits.xml", "")
	liveID := otherEvents.channel(t, "sweep-live")

	cfg.SweepEvery = time.Hour // the sweep at its start, then the test's
	r.serve(t, cfg)
	if n := r.driver.SweepNow(t.Context()); n != 0 {
		t.Errorf("a sweep took up %d calls, want none: the live call is the other instance's", n)
	}
	if otherDriver.Calls() != 1 || r.ast.ARI(t, http.MethodGet, "/channels/"+liveID, nil) != http.StatusOK {
		t.Fatalf("the other instance's live call was ended: it serves %d calls", otherDriver.Calls())
	}

	waitFor(t, 30*time.Second, "the live caller past the greeting (its user agent then takes a BYE)", func() bool {
		return len(otherEvents.played(liveID)) >= 2
	})
	stopOther() // the caller stays, in silence
	r.idle(t, liveID, idle)
	if n := r.driver.SweepNow(t.Context()); n != 1 {
		t.Fatalf("the sweep took over %d calls, want the silent caller", n)
	}
	var heard []string
	waitFor(t, 15*time.Second, "the taken-over caller asked again", func() bool {
		heard = r.events.played(liveID)
		return len(heard) > 0
	})
	if r.driver.Calls() != 1 {
		t.Errorf("after the takeover the driver serves %d calls, want the caller's", r.driver.Calls())
	}
	if code := r.ast.ARI(t, http.MethodDelete, "/channels/"+liveID, nil); code != http.StatusNoContent {
		t.Fatalf("hang up the live caller: %d", code)
	}
	waitUA(t, live)
	if rec := r.callRecord(t, liveID); rec.Outcome != ivr.OutcomeHungUp {
		t.Errorf("the taken-over call's record: outcome %s, want hung-up (in the menu); heard after the takeover %v", rec.Outcome, heard)
	}
	r.nothingLeft(t)
}

// TestVoicemailWhileNoDriverRuns: the driver stops while the caller
// records a message, and starts again, with the caller still speaking
// (the recording under way is waited for), or once the caller has hung
// up (the sweep takes the call up once its state has been unchanged for
// SweepIdle, and finds the message in Asterisk's stored recordings).
// Either way the message is kept in the store and deleted in Asterisk,
// and the page carries it.
func TestVoicemailWhileNoDriverRuns(t *testing.T) {
	for _, tc := range []struct {
		name       string
		callerGone bool
	}{{"caller still recording", false}, {"caller gone", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if err := os.MkdirAll(r.ast.RecordingsDir, 0o750); err != nil {
				t.Fatal(err)
			}
			cfg := asterisk.Config{DialString: "PJSIP/nobody-{phone}", SweepIdle: 2 * time.Second}
			stop := r.serve(t, cfg)
			caller := r.caller(t, "vm-restart-caller", asterisktest.Washington, "caller_leaves_message.xml", criticalL1Washington+"#")
			callID := r.events.channel(t, "vm-restart-caller")
			var recording string
			waitFor(t, 30*time.Second, "the voicemail being recorded", func() bool {
				data, _, err := r.db.CallState(t.Context(), callID)
				var env struct {
					Recording string `json:"recording"`
				}
				if err == nil && json.Unmarshal(data, &env) == nil && env.Recording != "" {
					recording = env.Recording
				}
				return recording != "" && r.ast.ARI(t, http.MethodGet, "/recordings/live/"+recording, nil) == http.StatusOK
			})
			stop()
			if tc.callerGone {
				waitUA(t, caller) // speaks, then hangs up, unserved
				r.idle(t, callID, cfg.SweepIdle)
			}
			r.serve(t, cfg)
			if !tc.callerGone {
				waitUA(t, caller)
			}

			rec := r.callRecord(t, callID)
			if rec.Outcome != ivr.OutcomeVoicemail || rec.VoicemailURL == "" || rec.VoicemailSeconds < 3 || !rec.Paged {
				t.Fatalf("call record: outcome %s, voicemail %q (%d s), paged %v; want voicemail with a message of seconds, paged",
					rec.Outcome, rec.VoicemailURL, rec.VoicemailSeconds, rec.Paged)
			}
			saved, err := r.db.Recording(t.Context(), path.Base(rec.VoicemailURL))
			if err != nil || len(saved.Data) < 8000 || saved.CallID != callID {
				t.Errorf("the voicemail in the store: %v, %d bytes, want seconds of audio of %s", err, len(saved.Data), callID)
			}
			if code := r.ast.ARI(t, http.MethodGet, "/recordings/stored/"+recording, nil); code != http.StatusNotFound {
				t.Errorf("GET /recordings/stored/%s: %d, want 404 (deleted once kept)", recording, code)
			}
			r.nothingLeft(t)
		})
	}
}
