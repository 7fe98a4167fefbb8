package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds"
)

// An operator installs the prompts for Asterisk, runs the command again
// (nothing to do), and a deploy script's --check passes until a file goes
// missing or changes, naming it and exiting 1; the install puts it back.
func TestAsteriskSounds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ivr-sounds")
	n := 2*len(ivr.Catalogue()) + 1 // both languages, and the hold music
	ivrSounds := func(args ...string) (string, error) {
		t.Helper()
		env, out, errOut := testEnv(nil)
		err := run(t.Context(), append([]string{"asterisk", "sounds", "--dir", dir}, args...), env)
		if errOut.String() != "" {
			t.Errorf("stderr: %s", errOut)
		}
		return out.String(), err
	}

	out, err := ivrSounds("--check")
	if code := exitCode(err); code != 1 || !strings.Contains(out, "en/greeting_washington.wav: missing\n") {
		t.Errorf("--check before the install: exit %d (%v), output:\n%s\nwant exit 1 naming the missing files", code, err, out)
	}

	out, err = ivrSounds()
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	for _, want := range []string{
		"en/greeting_washington.wav: added\n",
		"ru/greeting_moscow.wav: added\n",
		"hold.wav: added\n",
		fmt.Sprintf("%s: %d added, 0 replaced, 0 removed, 0 unchanged\n", dir, n),
		"Asterisk plays them as sound:" + dir + "/<lang>/<name>, e.g. sound:" + dir + "/en/greeting_washington\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	assertInstalled(t, dir, "en", "greeting_washington")
	assertInstalled(t, dir, "ru", "greeting_moscow")

	if out, err := ivrSounds(); err != nil || out != fmt.Sprintf("%s: 0 added, 0 replaced, 0 removed, %d unchanged\n", dir, n)+
		"Asterisk plays them as sound:"+dir+"/<lang>/<name>, e.g. sound:"+dir+"/en/greeting_washington\n" {
		t.Errorf("second install: %v, output:\n%s\nwant nothing done", err, out)
	}
	if out, err := ivrSounds("--check"); err != nil || out != dir+": every file of the catalogue is installed\n" {
		t.Errorf("--check after the install: %v, output:\n%s", err, out)
	}

	if err := os.WriteFile(filepath.Join(dir, "ru", "goodbye.wav"), []byte("truncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = ivrSounds("--check")
	if want := "ru/goodbye.wav: stale\n" + dir + ": 1 file differs from the catalogue; install with: ivr asterisk sounds --dir " + dir + "\n"; exitCode(err) != 1 || out != want {
		t.Errorf("--check of a changed file: exit %d (%v), output:\n%s\nwant exit 1 and:\n%s", exitCode(err), err, out, want)
	}
	if out, err := ivrSounds(); err != nil || !strings.HasPrefix(out, fmt.Sprintf("ru/goodbye.wav: replaced\n%s: 0 added, 1 replaced, 0 removed, %d unchanged\n", dir, n-1)) {
		t.Errorf("install over a changed file: %v, output:\n%s", err, out)
	}
	assertInstalled(t, dir, "ru", "goodbye")
}

func TestAsteriskSoundsUsage(t *testing.T) {
	for _, args := range [][]string{{"asterisk"}, {"asterisk", "sounds"}, {"asterisk", "tones"}, {"asterisk", "sounds", "--dir", t.TempDir(), "extra"}} {
		env, out, errOut := testEnv(nil)
		err := run(t.Context(), args, env)
		if !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "ivr asterisk sounds --dir DIR") {
			t.Errorf("%q: %v, stderr:\n%s\nwant the usage", args, err, errOut)
		}
		if out.String() != "" {
			t.Errorf("%q wrote %q to stdout", args, out)
		}
	}
}

func assertInstalled(t *testing.T, dir, lang, name string) {
	t.Helper()
	want, _ := sounds.Bytes(lang, name)
	got, err := os.ReadFile(filepath.Join(dir, lang, name+".wav"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s/%s.wav: %v, content equal to the catalogue's: %v", lang, name, err, bytes.Equal(got, want))
	}
}
