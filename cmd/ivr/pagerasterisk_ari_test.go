//go:build linux

package main

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/asterisk/pagecall"
	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/sounds"
)

// TestServePageThroughAsteriskWhenTwilioIsDown: the real ivr serve with
// --pager-voice twilio,asterisk and Twilio's API on a port nobody listens
// on: a page raised through the API rings the L1 engineer's SIP phone
// through the real Asterisk; the engineer presses 1 and the page is
// theirs, acknowledged by voice. Nothing is left in Asterisk.
func TestServePageThroughAsteriskWhenTwilioIsDown(t *testing.T) {
	ast := asterisktest.Start(t)
	soundsDir := filepath.Join(ast.SoundsDir, "serve-pager")
	if _, err := sounds.Install(soundsDir); err != nil {
		t.Fatal(err)
	}
	scenario, err := filepath.Abs(filepath.Join("..", "..", "asterisk", "pagecall", "testdata", "engineer_acks.xml"))
	if err != nil {
		t.Fatal(err)
	}
	engineer := ast.StartUA(t, "serve-pager-engineer", "-sf", scenario)
	ast.AddEndpoint(t, "serve-pager-engineer", engineer.Port)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Asterisk's log (the end):\n%s", ast.LogTail())
		}
	})
	// Every engineer's number reaches the one user agent.
	dial := fmt.Sprintf("PJSIP/serve-pager-engineer/sip:{phone}@127.0.0.1:%d", engineer.Port)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	twilioDown := "http://" + ln.Addr().String()
	_ = ln.Close()
	vars := map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": twilioDown, "TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("0", 32), "TWILIO_AUTH_TOKEN": "token0123456789",
		"IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none",
		"ARI_URL":                      ast.ARIURL, "ARI_USERNAME": ast.User, "ARI_PASSWORD": ast.Password}
	env, _, errOut := testEnv(vars)
	base := startWithEnv(t, env, errOut, "--demo", "--addr", "127.0.0.1:0", "--ari-sounds-dir", soundsDir, "--ari-dial", dial,
		"--pager-voice", "twilio,asterisk")
	r := &pagerRig{t: t, base: base, clock: newTestClock()}
	pollUntil(t, 20*time.Second, "page calls' application registered", func() bool {
		return ast.ARI(t, http.MethodGet, "/applications/"+pagecall.DefaultApp, nil) == http.StatusOK
	})
	name, _ := r.onCall("L1", "primary")
	p := r.raise("critical", "the database is down")
	pollUntil(t, 30*time.Second, "the page acknowledged", func() bool { return r.page(p.ID).Status == "acknowledged" })
	if got := r.page(p.ID); got.AckedByName != name || got.AckVia != "voice" {
		t.Errorf("acknowledged by %q via %q, want %q (L1) via voice; log %+v", got.AckedByName, got.AckVia, name, got.Log)
	}
	if err := engineer.Wait(); err != nil { // thanked, then hung up
		t.Fatalf("%v\n%s", err, engineer.Output())
	}
	pollUntil(t, 10*time.Second, "no channel left", func() bool {
		var left []struct{}
		ast.ARI(t, http.MethodGet, "/channels", &left)
		return len(left) == 0
	})
}
