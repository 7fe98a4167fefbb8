package conf_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/sounds"
)

// TestInstalledPromptsPlay installs the prompts as `ivr asterisk sounds`
// does (sounds.Install) and has a real Asterisk play an English and a
// Russian one, and the hold music, to a caller's channel in Stasis by the
// media URI the driver uses (sound:<folder>/<lang>/<name>, no extension):
// each playback finishes "done". A file that is not there finishes
// "failed", so that "done" means Asterisk found and played ours.
func TestInstalledPromptsPlay(t *testing.T) {
	ast := asterisktest.Start(t)
	dir := filepath.Join(t.TempDir(), "ivr-sounds")
	if _, err := sounds.Install(dir); err != nil {
		t.Fatal(err)
	}
	app := asterisktest.Apps[0]
	ch := asterisktest.WatchEvents(t, ast.EventsURL, ast.User, ast.Password, app, func() bool {
		return ast.ARI(t, http.MethodGet, "/applications/"+app, nil) == http.StatusOK
	})
	caller := ast.Call(t, "sounds-caller", asterisktest.Washington)
	start := asterisktest.NextEvent(t, ch, "StasisStart")
	id := start.Channel.ID
	if code := ast.ARI(t, http.MethodPost, "/channels/"+id+"/answer", nil); code != http.StatusNoContent {
		t.Fatalf("answer: %d", code)
	}

	play := func(media string) string {
		t.Helper()
		var pb struct {
			ID string `json:"id"`
		}
		if code := ast.ARI(t, http.MethodPost, "/channels/"+id+"/play?"+url.Values{"media": {media}}.Encode(), &pb); code != http.StatusCreated {
			t.Fatalf("play %s: %d", media, code)
		}
		for {
			e := asterisktest.NextEvent(t, ch, "PlaybackFinished")
			if e.Playback.ID == pb.ID {
				if e.Playback.MediaURI != media {
					t.Errorf("playback of %s finished as %s", media, e.Playback.MediaURI)
				}
				return e.Playback.State
			}
		}
	}
	for _, f := range [][2]string{{"en", "goodbye"}, {"ru", "goodbye"}, {"", sounds.Hold}} {
		p, ok := sounds.InstallPath(f[0], f[1])
		if !ok {
			t.Fatalf("no install path for %q %q", f[0], f[1])
		}
		media := "sound:" + filepath.Join(dir, p)
		if f[1] == sounds.Hold {
			// The loop lasts about half a minute: started is enough, then
			// stopped.
			var pb struct {
				ID string `json:"id"`
			}
			if code := ast.ARI(t, http.MethodPost, "/channels/"+id+"/play?"+url.Values{"media": {media}}.Encode(), &pb); code != http.StatusCreated {
				t.Fatalf("play %s: %d", media, code)
			}
			if e := asterisktest.NextEvent(t, ch, "PlaybackStarted"); e.Playback.ID != pb.ID || e.Playback.State != "playing" {
				t.Errorf("the hold music: PlaybackStarted of %s in state %q, want %s playing", e.Playback.ID, e.Playback.State, pb.ID)
			}
			ast.ARI(t, http.MethodDelete, "/playbacks/"+pb.ID, nil)
			if e := asterisktest.NextEvent(t, ch, "PlaybackFinished"); e.Playback.ID != pb.ID || e.Playback.State == "failed" {
				t.Errorf("the hold music: PlaybackFinished of %s in state %q after a stop", e.Playback.ID, e.Playback.State)
			}
			continue
		}
		if state := play(media); state != "done" {
			t.Errorf("%s: playback %s, want done\nAsterisk's log:\n%s", media, state, lastLines(ast.LogTail(), 30))
		}
	}
	if state := play("sound:" + filepath.Join(dir, "en", "no_such_prompt")); state != "failed" {
		t.Errorf("a prompt not installed: playback %s, want failed", state)
	}

	ast.ARI(t, http.MethodDelete, "/channels/"+id, nil)
	if end := asterisktest.NextEvent(t, ch, "StasisEnd"); end.Channel.ID != id {
		t.Errorf("StasisEnd of %s, want %s", end.Channel.ID, id)
	}
	if err := caller.Wait(); err != nil {
		t.Error(err)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
