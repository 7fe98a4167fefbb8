package webhooks_test

import (
	"strings"
	"testing"

	"github.com/supportdesk/ivr/oncall"
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
}
