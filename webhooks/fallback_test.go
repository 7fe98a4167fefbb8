package webhooks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/webhooks"
)

// The Fallback URL needs no call state: it apologises (the line's language
// first), records, and pages once with the service's copy of the message.
func TestFallbackRecordsAndPagesOnce(t *testing.T) {
	e := newEnv(t)
	const sid = "CAfa11bac4000000000000000000000001"
	code, body := e.post("/webhooks/twilio/fallback", map[string]string{"CallSid": sid, "From": client, "To": moscow,
		"ErrorCode": "11200"}, e.signer())
	ru, en := strings.Index(body, "/ru/nobody_available"), strings.Index(body, "/en/nobody_available")
	if code != 200 || !strings.Contains(body, "<Record") || ru < 0 || en < ru {
		t.Fatalf("fallback answered %d: %s", code, body)
	}
	rec, media := e.tw.AddRecording(sid, testWAV(2))
	form := map[string]string{"CallSid": sid, "From": client, "To": moscow, "RecordingSid": rec,
		"RecordingUrl": media, "RecordingStatus": "completed", "RecordingDuration": "2"}
	for range 2 { // Twilio repeats the callback: one page
		if code, body := e.post("/webhooks/twilio/fallback/recording", form, e.signer()); code >= 300 {
			t.Fatalf("recording callback: %d %s", code, body)
		}
	}
	pages, _ := e.deps.snapshot()
	if len(pages) != 1 || pages[0].Priority != oncall.Critical || pages[0].Line != moscow ||
		!strings.HasPrefix(pages[0].VoicemailURL, "https://ivr.example/") {
		t.Fatalf("pages = %+v, want one critical page with the service's recording", pages)
	}
	// Paged: the sweep has nothing left to do for it.
	e.clock.Add(webhooks.SweepIdle + time.Second)
	if n, err := e.driver.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweep looked at %d calls (%v) after the fallback voicemail was paged; want none", n, err)
	}
}

// A Fallback voicemail whose page fails (the store is unreachable) is
// paged by the sweep once the store is back, with the copy kept at the
// first try (Twilio's is deleted by then).
func TestFallbackPageRetriedBySweep(t *testing.T) {
	e := newEnv(t)
	const sid = "CAfa11bac4000000000000000000000002"
	rec, media := e.tw.AddRecording(sid, testWAV(4))
	form := map[string]string{"CallSid": sid, "From": client, "To": washington, "RecordingSid": rec,
		"RecordingUrl": media, "RecordingStatus": "completed", "RecordingDuration": "4"}
	e.deps.setStoreDown(true)
	if code, _ := e.post("/webhooks/twilio/fallback/recording", form, e.signer()); code < 500 {
		t.Fatalf("recording callback with the page failing: %d, want a server error", code)
	}
	e.deps.setStoreDown(false)
	e.clock.Add(webhooks.SweepIdle + time.Second)
	if n, err := e.driver.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep looked at %d calls, %v; want the fallback voicemail", n, err)
	}
	pages, _ := e.deps.snapshot()
	if len(pages) != 1 || pages[0].CallID != sid || pages[0].Line != washington || pages[0].VoicemailSeconds != 4 ||
		!strings.HasPrefix(pages[0].VoicemailURL, "https://ivr.example/") {
		t.Fatalf("pages = %+v, want one with the service's copy", pages)
	}
	e.clock.Add(webhooks.SweepIdle + time.Second)
	if n, _ := e.driver.Sweep(context.Background()); n != 0 {
		t.Fatalf("sweep looked at %d calls after paging; want none", n)
	}
}
