package calls_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
)

func TestValidRecordingID(t *testing.T) {
	for id, want := range map[string]bool{
		"RE0123456789abcdef0123456789abcdef": true, "a": true, "re_1-2": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "RE.wav": false, "../x": false, "RE 1": false, "RÉ1": false,
	} {
		if got := calls.ValidRecordingID(id); got != want {
			t.Errorf("ValidRecordingID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestRecordingValidate(t *testing.T) {
	ok := calls.Recording{ID: "RE1", CallID: "CA1", ContentType: "audio/mpeg", Data: []byte{1}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		mod   func(*calls.Recording)
		field string
	}{
		"HTML":       {func(r *calls.Recording) { r.ContentType = "text/html; charset=utf-8" }, "content_type"},
		"Malformed":  {func(r *calls.Recording) { r.ContentType = "audio" }, "content_type"},
		"TooLarge":   {func(r *calls.Recording) { r.Data = make([]byte, calls.MaxRecordingBytes+1) }, "data"},
		"NoCall":     {func(r *calls.Recording) { r.CallID = " " }, "call_id"},
		"BadID":      {func(r *calls.Recording) { r.ID = "RE/1" }, "id"},
		"NegSeconds": {func(r *calls.Recording) { r.Seconds = -5 }, "seconds"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := ok
			c.mod(&bad)
			err := bad.Validate()
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.Invalid || e.Field != c.field {
				t.Fatalf("Validate: %v, want invalid %s", err, c.field)
			}
		})
	}
	withParams := ok
	withParams.ContentType = "audio/wav; codecs=1"
	if err := withParams.Validate(); err != nil {
		t.Errorf("audio with parameters: %v", err)
	}
}
