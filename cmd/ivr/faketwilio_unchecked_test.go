package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
)

// TestFakeTwilioWithoutSpecRunsUnchecked: in a clone without ../shared/,
// `ivr fake-twilio` starts anyway, warning that nothing is checked and
// naming what to set.
func TestFakeTwilioWithoutSpecRunsUnchecked(t *testing.T) {
	t.Setenv(faketwilio.SpecEnv, "")
	clone := filepath.Join(t.TempDir(), "clone")
	if err := os.MkdirAll(clone, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(clone, "go.mod"), []byte("module github.com/supportdesk/ivr\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(clone)
	env, _, errOut := testEnv(map[string]string{})
	env.stdin = strings.NewReader("quit\n")
	if err := run(context.Background(), []string{"fake-twilio", "--console", "--addr", "127.0.0.1:0"}, env); err != nil {
		t.Fatalf("fake-twilio without a spec: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"running unchecked", "--spec", "IVR_TWILIO_SPEC"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("fake-twilio's log lacks %q:\n%s", want, errOut.String())
		}
	}
}
