package asterisktest

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/supportdesk/ivr/sounds"
)

var (
	promptsOnce sync.Once
	promptsDir  string
	promptsErr  error
)

// Prompts installs the service's prompt catalogue (sounds.Install, as
// `ivr asterisk sounds` does) into the folder ivr of SoundsDir, once per
// test binary, and returns that folder: what a driver's SoundsDir names.
func (a *Asterisk) Prompts(tb testing.TB) string {
	tb.Helper()
	promptsOnce.Do(func() {
		dir := filepath.Join(a.SoundsDir, "ivr")
		_, promptsErr = sounds.Install(dir)
		promptsDir = dir
	})
	if promptsErr != nil {
		tb.Fatal(promptsErr)
	}
	return promptsDir
}

// SpecEvents returns the event types Asterisk 22 sends over ARI, as
// ../shared/specs/ari/events.json beside the clone lists them: the
// subtypes of Message and of Event, sorted. It skips without the file unless
// EnvRequire is "require".
func SpecEvents(tb testing.TB) []string {
	tb.Helper()
	root, err := moduleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(root, "..", "shared", "specs", "ari", "events.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && os.Getenv(EnvRequire) != "require" {
		tb.Skipf("no %s (the project's shared folder beside the clone); %s=require fails instead", path, EnvRequire)
	}
	if err != nil {
		tb.Fatal(err)
	}
	var spec struct {
		Models map[string]struct {
			SubTypes []string `json:"subTypes"`
		} `json:"models"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		tb.Fatalf("%s: %v", path, err)
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
		tb.Fatalf("%s lists %d event types: %v", path, len(types), types)
	}
	slices.Sort(types)
	return types
}
