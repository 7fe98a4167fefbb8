package conf_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/internal/loopback"
)

// TestLocalScript follows the README's steps for a newcomer: local.sh
// writes a loopback Asterisk with the samples into a folder, Asterisk
// starts as it prints, and a softphone registers with the password it
// wrote and dials +12025952118, which enters the Stasis application ivr
// with the Washington line, the application connected with the ARI_*
// credentials of local.env.
func TestLocalScript(t *testing.T) {
	rig := asterisktest.Start(t) // finds the Asterisk install, or skips
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	bin := filepath.Join(t.TempDir(), "ivr")
	build(t, bin)
	sip, err := asterisktest.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	ari, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := asterisktest.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pbx")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "local.sh", dir) //nolint:gosec // G204: the script under test
	cmd.Env = append(os.Environ(), "IVR_ASTERISK_PREFIX="+rig.Prefix, "IVR_BIN="+bin,
		"SIP_PORT="+strconv.Itoa(sip), "ARI_PORT="+strconv.Itoa(ari), "RTP_START="+strconv.Itoa(min(rtp&^1, 65000)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("local.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"asterisk -f -C " + dir + "/etc/asterisk.conf", "baresip -f " + dir + "/baresip", "/dial +12025952118"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("local.sh's instructions lack %q:\n%s", want, out)
		}
	}
	env := readEnv(t, filepath.Join(dir, "local.env"))
	if env["ARI_URL"] != "http://127.0.0.1:"+strconv.Itoa(ari)+"/ari" || env["ARI_USERNAME"] != "ivr" || env["ARI_APPLICATION"] != "ivr" {
		t.Errorf("local.env: %v", env)
	}
	accounts, err := os.ReadFile(filepath.Join(dir, "baresip", "accounts"))
	if err != nil || !strings.Contains(string(accounts), "<sip:softphone@127.0.0.1:"+strconv.Itoa(sip)+">;auth_pass="+env["SOFTPHONE_PASSWORD"]) {
		t.Errorf("baresip's accounts: %q, %v", accounts, err)
	}

	p := &pbx{binary: env["ASTERISK"], dir: dir, httpPort: ari, sipPort: sip,
		ariPassword: env["ARI_PASSWORD"], softphoneSecret: env["SOFTPHONE_PASSWORD"], sounds: filepath.Join(dir, "ivr-sounds")}
	p.start(t)
	ch := asterisktest.WatchEvents(t, env["ARI_WSURL"], env["ARI_USERNAME"], env["ARI_PASSWORD"], env["ARI_APPLICATION"], func() bool {
		return p.mustARI(t, "GET", "/applications/ivr", nil) == 200
	})
	p.sipp(t, "register.xml", "softphone", "-au", "softphone", "-ap", p.softphoneSecret).wait(t)
	caller := p.sipp(t, "softphone-call.xml", "softphone", "-s", "+12025952118", "-au", "softphone", "-ap", p.softphoneSecret)
	start := asterisktest.NextEvent(t, ch, "StasisStart")
	if strings.Join(start.Args, ",") != "line,+12025952118" || !strings.HasPrefix(start.Channel.Name, "PJSIP/softphone-") {
		t.Errorf("StasisStart of %s with %q, want PJSIP/softphone-… with [line +12025952118]", start.Channel.Name, start.Args)
	}
	p.mustARI(t, "POST", "/channels/"+start.Channel.ID+"/answer", nil)
	p.mustARI(t, "DELETE", "/channels/"+start.Channel.ID, nil)
	caller.wait(t)
}

// build builds the ivr binary into bin.
func build(t *testing.T, bin string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/supportdesk/ivr/cmd/ivr").CombinedOutput() //nolint:gosec // G204: go build of this module
	if err != nil {
		t.Fatalf("go build ./cmd/ivr: %v\n%s", err, out)
	}
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path) //nolint:gosec // G304: the test's own folder
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}
