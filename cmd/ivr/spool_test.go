package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/spool"
)

// The spool lives where it was put, else beside the SQLite file, else (with
// PostgreSQL) in the user's state directory, one per address served (two
// instances on one host must not share one).
func TestSpoolDir(t *testing.T) {
	env, _, _ := testEnv(map[string]string{"XDG_STATE_HOME": "/var/lib/me"})
	for _, c := range []struct{ dir, db, want string }{
		{"/srv/spool", "/data/ivr.db", "/srv/spool"},
		{"", "/data/ivr.db", "/data/ivr.db.spool"},
		{"", "ivr.db", "ivr.db.spool"},
		{"", "postgres://ivr@db/ivr", "/var/lib/me/ivr/spool-127.0.0.1_8080"},
	} {
		if got, err := spoolDir(c.dir, c.db, "127.0.0.1:8080", env); err != nil || got != c.want {
			t.Errorf("spoolDir(%q, %q) = %q, %v; want %q", c.dir, c.db, got, err, c.want)
		}
	}
}

// serve creates the spool readable by its user only (it keeps callers'
// numbers and voicemails), and a second serve given the same spool
// directory refuses to start, saying why: the two would lose each other's
// records.
func TestServeSpoolPrivateAndOwn(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ivr.db")
	startServe(t, db)
	st, err := os.Stat(filepath.Join(db+".spool", spool.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("spool file mode %v; want 0600", st.Mode().Perm())
	}
	env, _, _ := testEnv(map[string]string{"IVR_DB": filepath.Join(dir, "other.db"), "IVR_SPOOL_DIR": db + ".spool"})
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, env)
	if err == nil || !strings.Contains(err.Error(), "its own spool directory") {
		t.Fatalf("second serve on one spool: %v; want refused", err)
	}
}

// An instance whose store failed during a Fallback call and which was
// restarted before the store came back still has the call in its spool:
// serve replays it at start into the store, the voicemail is fetched from
// Twilio and kept, and the L1 engineer is paged once, about the caller who
// rang that line.
func TestServeReplaysSpoolAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	fake := faketwilio.Start(t, faketwilio.Options{SMSWebhookURL: "http://" + addr + "/webhooks/twilio/sms",
		ServiceNumber: washingtonLine})
	const sid = "CAfa11bac4000000000000000000000021"
	rec, media := fake.AddRecording(sid, voicemailWAV())
	db := filepath.Join(t.TempDir(), "ivr.db")

	// What the Fallback request and the recording callback spooled (their
	// format is the Twilio driver's).
	sp, err := spool.Open(db+".spool", nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Format(time.RFC3339Nano)
	for key, data := range map[string]string{
		sid + "/call":      fmt.Sprintf(`{"claim":{"call_sid":%q,"from":%q,"to":%q,"at":%q}}`, sid, clientPhone, washingtonLine, at),
		sid + "/recording": fmt.Sprintf(`{"claim":{"call_sid":%q,"at":%q,"recorded":true,"recording_sid":%q,"twilio_url":%q,"seconds":2}}`, sid, at, rec, media),
	} {
		if err := sp.Append(key, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}

	clock := newTestClock()
	env, _, errOut := testEnv(map[string]string{"IVR_DB": db, "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": fake.URL(), "TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none"})
	env.clock = clock
	r := &pagerRig{t: t, base: startWithEnv(t, env, errOut, "--demo", "--addr", addr), fake: fake, clock: clock}

	_, phone := r.onCall("L1", "primary")
	call := r.fake.Phone(phone).ExpectCall()
	call.Answer()
	call.Press("1")
	call.Hangup()
	p := r.onlyPage()
	var full struct {
		Page struct {
			Caller           string `json:"caller"`
			Line             string `json:"line"`
			Priority         string `json:"priority"`
			Recording        string `json:"recording"`
			RecordingSeconds int    `json:"recording_seconds"`
		} `json:"page"`
	}
	if code := get(t, fmt.Sprintf("%s/api/v1/pages/%d", r.base, p.ID), testAdminToken, &full); code != http.StatusOK {
		t.Fatalf("GET page: %d", code)
	}
	if got := full.Page; got.Caller != clientPhone || got.Priority != "critical" || got.RecordingSeconds != 2 ||
		got.Recording == "" || strings.HasPrefix(got.Recording, fake.URL()) {
		t.Fatalf("page %+v; want a critical page about %s with the service's copy of the voicemail", got, clientPhone)
	}
	awaitEmpty(t, filepath.Join(db+".spool", spool.FileName), 5*time.Second)
	if m := r.metrics(); !strings.Contains(m, "\nivr_fallback_spool_records 0\n") {
		t.Errorf("/metrics does not say the spool is empty:\n%s", m)
	}
}

// awaitEmpty waits until the file at path is empty (compacted).
func awaitEmpty(t *testing.T, path string, within time.Duration) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := os.Stat(path)
		if err == nil && st.Size() == 0 {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%s is not empty within %v: %v %v", path, within, st, err)
		case <-tick.C:
		}
	}
}
