package webhooks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/webhooks"
)

// fallbackCall is Twilio requesting the Fallback URL for call sid: the
// apology for technical difficulties in both languages (the line's first)
// and a recording.
func fallbackCall(t *testing.T, e *env, sid, to string) {
	t.Helper()
	code, body := e.post("/webhooks/twilio/fallback", map[string]string{"CallSid": sid, "From": client, "To": to,
		"ErrorCode": "11200"}, e.signer())
	first, second := "/ru/technical_difficulties", "/en/technical_difficulties"
	if to == washington {
		first, second = second, first
	}
	i, j := strings.Index(body, first), strings.Index(body, second)
	if code != 200 || !strings.Contains(body, "<Record") || !strings.Contains(body, "completed absent") || i < 0 || j < i ||
		strings.Contains(body, "nobody_available") || !strings.Contains(body, "/leave_message") {
		t.Fatalf("fallback answered %d: %s", code, body)
	}
}

// recordingCallback is the Fallback recording's status callback as Twilio
// sends it: no From, no To.
func recordingCallback(e *env, sid, rec, media, status, secs string) (int, string) {
	return e.post("/webhooks/twilio/fallback/recording", map[string]string{"CallSid": sid, "RecordingSid": rec,
		"RecordingUrl": media, "RecordingStatus": status, "RecordingDuration": secs}, e.signer())
}

func sweepAfter(t *testing.T, e *env, d time.Duration) int {
	t.Helper()
	e.clock.Add(d)
	n, err := e.driver.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The Fallback URL needs no call state to answer: it apologises, records,
// and pages once with the service's copy of the message, naming the caller
// and the line from the Fallback request.
func TestFallbackRecordsAndPagesOnce(t *testing.T) {
	e := newEnv(t)
	const sid = "CAfa11bac4000000000000000000000001"
	fallbackCall(t, e, sid, moscow)
	rec, media := e.tw.AddRecording(sid, testWAV(2))
	for range 2 { // Twilio repeats the callback: one page
		if code, body := recordingCallback(e, sid, rec, media, "completed", "2"); code >= 300 {
			t.Fatalf("recording callback: %d %s", code, body)
		}
	}
	pages, _ := e.deps.snapshot()
	if len(pages) != 1 || pages[0].Priority != oncall.Critical || pages[0].Line != moscow || pages[0].Caller != client ||
		pages[0].CallID != sid+"-fallback" || !strings.HasPrefix(pages[0].VoicemailURL, "https://ivr.example/") {
		t.Fatalf("pages = %+v, want one critical page with the service's recording", pages)
	}
	// Paged: the sweep has nothing left to do for it.
	if n := sweepAfter(t, e, webhooks.SweepIdle+time.Second); n != 0 {
		t.Fatalf("sweep looked at %d calls after the fallback voicemail was paged; want none", n)
	}
}

// A Fallback voicemail whose page fails (the store is unreachable) is
// paged by the sweep once the store is back, with the copy kept at the
// first try (Twilio's is deleted by then).
func TestFallbackPageRetriedBySweep(t *testing.T) {
	e := newEnv(t)
	const sid = "CAfa11bac4000000000000000000000002"
	fallbackCall(t, e, sid, washington)
	rec, media := e.tw.AddRecording(sid, testWAV(4))
	e.deps.setStoreDown(true)
	if code, _ := recordingCallback(e, sid, rec, media, "completed", "4"); code < 500 {
		t.Fatalf("recording callback with the page failing: %d, want a server error", code)
	}
	e.deps.setStoreDown(false)
	if n := sweepAfter(t, e, webhooks.SweepIdle+time.Second); n != 1 {
		t.Fatalf("sweep looked at %d calls; want the fallback voicemail", n)
	}
	pages, _ := e.deps.snapshot()
	if len(pages) != 1 || pages[0].Line != washington || pages[0].VoicemailSeconds != 4 ||
		!strings.HasPrefix(pages[0].VoicemailURL, "https://ivr.example/") {
		t.Fatalf("pages = %+v, want one with the service's copy", pages)
	}
	if n := sweepAfter(t, e, webhooks.SweepIdle+time.Second); n != 0 {
		t.Fatalf("sweep looked at %d calls after paging; want none", n)
	}
}

// A Fallback caller who leaves no message is paged all the same: at once
// when Twilio says no recording was made, or by the sweep when no recording
// callback comes at all (the caller hung up before the tone).
func TestFallbackWithoutMessagePages(t *testing.T) {
	e := newEnv(t)
	fallbackCall(t, e, "CAfa11bac4000000000000000000000003", moscow)
	if code, body := recordingCallback(e, "CAfa11bac4000000000000000000000003", "", "", "absent", "0"); code >= 300 {
		t.Fatalf("absent recording callback: %d %s", code, body)
	}
	fallbackCall(t, e, "CAfa11bac4000000000000000000000004", washington)
	if n := sweepAfter(t, e, webhooks.SweepIdle+time.Second); n != 1 {
		t.Fatalf("sweep looked at %d calls; want the one without a callback", n)
	}
	if pages, _ := e.deps.snapshot(); len(pages) != 1 {
		t.Fatalf("pages %+v before the recording could have come; want only the absent one", pages)
	}
	sweepAfter(t, e, 4*time.Minute)
	pages, _ := e.deps.snapshot()
	if len(pages) != 2 || pages[0].VoicemailURL != "" || pages[1].VoicemailURL != "" ||
		pages[0].Line != moscow || pages[1].Line != washington || pages[1].Caller != client {
		t.Fatalf("pages %+v, want one for each caller, without a message", pages)
	}
}

// The store fails just after the Fallback voicemail was copied: Twilio's
// recording is not deleted until the claim points at the copy, so the
// sweep's retry still finds it and the page links to the service's copy.
func TestFallbackCopyKeptWhenClaimWriteFails(t *testing.T) {
	mem := newMemStates()
	states := &flakyStates{CallStates: mem}
	e := newEnvWith(t, states)
	mem.now = e.clock.Now
	const sid = "CAfa11bac4000000000000000000000005"
	fallbackCall(t, e, sid, moscow)
	rec, media := e.tw.AddRecording(sid, testWAV(3))
	states.failAt.Store(2) // the recording is noted; saving the copy's URL fails
	if code, _ := recordingCallback(e, sid, rec, media, "completed", "3"); code < 500 {
		t.Fatalf("recording callback with the store failing: %d, want a server error", code)
	}
	if n := sweepAfter(t, e, webhooks.SweepIdle+time.Second); n != 1 {
		t.Fatalf("sweep looked at %d calls; want the fallback voicemail", n)
	}
	pages, _ := e.deps.snapshot()
	if len(pages) != 1 || !strings.HasPrefix(pages[0].VoicemailURL, "https://ivr.example/") {
		t.Fatalf("pages = %+v, want one linking to the service's copy", pages)
	}
}
