package arilink_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/CyCoreSystems/ari/v5"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/internal/asterisktest"
)

// specEvents are the event types of Asterisk 22's ARI description
// (../shared/specs/ari/events.json beside the clone): the sub-types of
// Message and of Event.
func specEvents(t *testing.T) []string {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "specs", "ari", "events.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && os.Getenv(asterisktest.EnvRequire) != "require" {
		t.Skipf("no %s (the project's shared folder beside the clone); %s=require fails instead", path, asterisktest.EnvRequire)
	}
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Models map[string]struct {
			SubTypes []string `json:"subTypes"`
		} `json:"models"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var types []string
	for _, model := range []string{"Message", "Event"} {
		for _, typ := range spec.Models[model].SubTypes {
			if typ != "Event" {
				types = append(types, typ)
			}
		}
	}
	if len(types) < 40 {
		t.Fatalf("%s lists %d event types: %v", path, len(types), types)
	}
	slices.Sort(types)
	return types
}

// TestKnownEvents compares the event types ari/v5 v5.3.1 decodes with
// those Asterisk 22 sends: the ones it lacks are those the relay must
// keep from it, since each would panic the process.
func TestKnownEvents(t *testing.T) {
	var lacking []string
	for _, typ := range specEvents(t) {
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
