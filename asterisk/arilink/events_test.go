package arilink_test

import (
	"slices"
	"testing"

	"github.com/CyCoreSystems/ari/v5"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/internal/asterisktest"
)

// TestKnownEvents compares the event types ari/v5 v5.3.1 decodes with
// those Asterisk 22 sends: the ones it lacks are those the relay must
// keep from it, since each would panic the process.
func TestKnownEvents(t *testing.T) {
	var lacking []string
	for _, typ := range asterisktest.SpecEvents(t) {
		if !arilink.Known(typ) {
			lacking = append(lacking, typ)
		}
	}
	want := []string{
		"ApplicationRegistered", "ApplicationUnregistered", "CallBroadcast", "CallClaimed",
		"ChannelToneDetected", "ChannelTransfer", "RESTResponse",
	}
	if !slices.Equal(lacking, want) {
		t.Errorf("types of events.json ari/v5 cannot decode: %q, want %q", lacking, want)
	}
	for _, typ := range lacking {
		// The trap: the native client sends what DecodeEvent returns (nil)
		// to its bus, and drops the websocket on the error.
		if e, err := ari.DecodeEvent([]byte(`{"type":"` + typ + `"}`)); e != nil || err == nil {
			t.Errorf("DecodeEvent(%s) = %v, %v; want nil and an error", typ, e, err)
		}
	}
	// Issue 10 counts ChannelCallerId among the missing: v5.3.1 has it
	// (ari.Events.ChannelCallerID).
	if !arilink.Known("ChannelCallerId") {
		t.Error("ChannelCallerId unknown")
	}
	for _, typ := range []string{"StasisStart", "StasisEnd", "ChannelDtmfReceived", "ApplicationReplaced", "PlaybackFinished"} {
		if !arilink.Known(typ) {
			t.Errorf("%s unknown", typ)
		}
	}
	if arilink.Known("all") || arilink.Known("") {
		t.Error(`"all" or "" counted as an event type`)
	}
	t.Logf("ari/v5 decodes %d types: %v", len(arilink.KnownEvents()), arilink.KnownEvents())
}
