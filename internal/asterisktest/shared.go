package asterisktest

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

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

// GoroutinesBack records how many goroutines run now and registers a
// cleanup that, once every cleanup registered after it has run (the
// driver, the link, the store and the phones stopped), waits up to 10 s
// for no more than that many, closing the default HTTP client's idle
// connections meanwhile (the test's own ARI requests keep some); the test
// fails with every goroutine's stack if more are left. Call it after
// Start, whose Asterisk outlives the test, and before the rest.
func GoroutinesBack(tb testing.TB) {
	tb.Helper()
	baseline := runtime.NumGoroutine()
	tb.Cleanup(func() {
		deadline := time.NewTimer(10 * time.Second)
		defer deadline.Stop()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		now := runtime.NumGoroutine()
		for waiting := true; waiting && now > baseline; now = runtime.NumGoroutine() {
			http.DefaultClient.CloseIdleConnections()
			select {
			case <-deadline.C:
				waiting = false
			case <-tick.C:
			}
		}
		if now > baseline {
			buf := make([]byte, 1<<20)
			tb.Errorf("%d goroutines left 10 s after the test, %d before it:\n%s", now, baseline, buf[:runtime.Stack(buf, true)])
		}
	})
}
