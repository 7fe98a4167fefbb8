package webhooks

import (
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// The renderer is pure: a step and the public URL in, TwiML out, with no
// driver, store or Twilio behind it.
func TestDocumentsArePure(t *testing.T) {
	docs := documents{base: "https://ivr.example", holdSegments: 3}
	prompt := ivr.Prompt{Lang: oncall.English, Name: "ticket_enter"}
	for _, tc := range []struct {
		name string
		got  doc
		want []string
	}{
		{"caller gather", mustDoc(t, docs, ivr.Gather{Prompts: []ivr.Prompt{prompt}, MaxDigits: 6, Terminator: "#", Timeout: 7 * time.Second}, 4),
			[]string{`<Gather`, `action="https://ivr.example/webhooks/twilio/voice/gather?seq=4"`, `numDigits="6"`, `finishOnKey="#"`, `timeout="7"`,
				`/ticket_enter.wav`, `<Redirect method="POST">https://ivr.example/webhooks/twilio/voice/gather?seq=4</Redirect>`}},
		{"caller on hold", mustDoc(t, docs, ivr.Hold{}, 5),
			[]string{`<Enqueue`, `>q-CA1</Enqueue>`, `waitUrl="https://ivr.example/webhooks/twilio/voice/wait"`, `action="https://ivr.example/webhooks/twilio/voice/dequeued?seq=5"`}},
		{"leg bridged", docs.legDoc("CA1", "CA1-leg2", ivr.Connect{}, 9, 8),
			// twilio-go writes attributes in map order: each is looked for
			// on its own.
			[]string{`<Dial timeout="10"><Queue `, `url="https://ivr.example/webhooks/twilio/voice/connect?seq=8"`, `method="POST"`,
				`>q-CA1</Queue></Dial>`, `<Hangup`}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.got.TwiML, w) {
				t.Errorf("%s: %s lacks %s", tc.name, tc.got.TwiML, w)
			}
		}
	}
	if w := docs.wait(nil, 4, false); !strings.Contains(w, "/webhooks/twilio/hold/1.wav") {
		t.Errorf("the fifth turn of hold music plays %s, want segment 1 of 3", w)
	}
}

func mustDoc(t *testing.T, docs documents, s ivr.Step, seq int) doc {
	t.Helper()
	d, ok := docs.callerDoc("CA1", s, seq, ivr.PhaseTicket)
	if !ok {
		t.Fatalf("%T renders no caller document", s)
	}
	return d
}
