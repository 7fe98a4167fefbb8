package webhooks_test

import (
	"strings"
	"testing"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds"
	"github.com/supportdesk/ivr/webhooks"
)

// A prompt without a recording would be spoken by <Say> with no voice
// Twilio accepts for ru-RU: the driver refuses to start instead, naming
// the prompt and how to make its audio.
func TestStartRefusedWhenAPromptLacksAudio(t *testing.T) {
	has := func(lang, name string) bool {
		_, ok := sounds.URLPath(lang, name)
		return ok && !(lang == "ru" && name == "goodbye")
	}
	err := webhooks.MissingAudio(ivr.Catalogue(), has)
	if err == nil || !errs.Is(err, errs.Invalid) {
		t.Fatalf("a catalogue with ru/goodbye unrecorded: err = %v, want errs.Invalid", err)
	}
	for _, want := range []string{"goodbye", "ru", "go generate ./sounds/"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := webhooks.MissingAudio(ivr.Catalogue(), func(lang, name string) bool {
		_, ok := sounds.URLPath(lang, name)
		return ok
	}); err != nil {
		t.Fatalf("the embedded audio covers the catalogue, yet: %v", err)
	}
}
