//go:build linux

package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/store"
)

// TestServeInstancesShareAsterisk: two `ivr serve` processes on one
// PostgreSQL database, each holding an ARI application of its own (ivr
// and ivr-2; only one websocket can hold an application), behind a
// dialplan that tries ivr, then ivr-2, as asterisk/conf's does. Calls go
// to the first; once it is killed (SIGKILL) the next caller is answered
// by the second; once the first is back, calls go to it again. Every
// call's record is in the shared store, and each instance's API shows
// the others'.
func TestServeInstancesShareAsterisk(t *testing.T) {
	ast := asterisktest.Start(t)
	bin := ivrBinary(t)
	dsn := pgtest.URL(t)
	dir := t.TempDir()
	soundsDir := installSounds(t, bin, dir)
	env := []string{"IVR_DB=" + dsn, "IVR_ADMIN_TOKEN=" + testAdminToken, "XDG_STATE_HOME=" + dir,
		"ARI_URL=" + ast.ARIURL, "ARI_USERNAME=" + ast.User, "ARI_PASSWORD=" + ast.Password}
	instance := func(name, app string) (*ivrProc, string) {
		addr := freeAddr(t)
		p := startIVR(t, bin, name, dir, []string{"--demo", "--addr", addr, "--ari-app", app,
			"--ari-sounds-dir", soundsDir, "--ari-dial", "PJSIP/nobody-{phone}"}, env)
		waitReady(t, p)
		pollUntil(t, 20*time.Second, "application "+app+" registered", func() bool {
			return ast.ARI(t, http.MethodGet, "/applications/"+app, nil) == http.StatusOK
		})
		return p, "http://" + addr
	}
	first, _ := instance("first", asterisktest.Apps[0])
	second, secondAPI := instance("second", asterisktest.Apps[1])

	// call places a call that hangs up after the greeting and returns its
	// channel id once it is over.
	calls := 0
	call := func() string {
		calls++
		name := fmt.Sprintf("instances-caller-%d", calls)
		port, err := asterisktest.FreeUDPPort()
		if err != nil {
			t.Fatal(err)
		}
		ast.AddEndpoint(t, name, port)
		ua := ast.StartUA(t, name, "-sf", ariScenario(t, "caller_hangs_up_at_once.xml", ""), "-s", asterisktest.Washington)
		var id string
		pollUntil(t, 20*time.Second, "the call of "+name, func() bool {
			id = findChannel(t, ast, "PJSIP/"+name+"-")
			return id != ""
		})
		if err := ua.Wait(); err != nil {
			t.Errorf("%s: %v, want exit status 0", name, err)
		}
		return id
	}
	answered := func(p *ivrProc) int { return p.count("call answered") }

	st, err := store.Open(context.Background(), dsn, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	record := func(id string) ivr.CallRecord {
		var rec ivr.CallRecord
		pollUntil(t, 10*time.Second, "the record of call "+id, func() bool {
			rec, err = st.Call(context.Background(), id)
			return err == nil
		})
		return rec
	}

	one := call()
	pollUntil(t, 10*time.Second, "the first instance answering", func() bool { return answered(first) == 1 })
	// Killed once the call is recorded: a record still owed when an
	// instance dies is the sweep's, a minute later (TestSweepEndsCalls…
	// in ./asterisk/).
	record(one)
	first.kill()
	pollUntil(t, 10*time.Second, "application "+asterisktest.Apps[0]+" gone with its websocket", func() bool {
		return ast.ARI(t, http.MethodGet, "/applications/"+asterisktest.Apps[0], nil) == http.StatusNotFound
	})
	two := call()
	pollUntil(t, 10*time.Second, "the second instance answering", func() bool { return answered(second) == 1 })

	again, _ := instance("first-again", asterisktest.Apps[0])
	three := call()
	pollUntil(t, 10*time.Second, "the first instance, back, answering", func() bool { return answered(again) == 1 })
	if n := answered(second); n != 1 {
		t.Errorf("the second instance answered %d calls, want only the one while the first was down", n)
	}

	for _, id := range []string{one, two, three} {
		if rec := record(id); rec.Outcome != ivr.OutcomeHungUp {
			t.Errorf("call %s: outcome %s, want hung-up", id, rec.Outcome)
		}
		var api struct {
			Outcome string `json:"outcome"`
		}
		if code := get(t, secondAPI+"/api/v1/calls/"+id, testAdminToken, &api); code != http.StatusOK || api.Outcome != string(ivr.OutcomeHungUp) {
			t.Errorf("GET /api/v1/calls/%s at the second instance: %d, outcome %q", id, code, api.Outcome)
		}
	}
	second.stop(t)
	again.stop(t)
	if t.Failed() {
		t.Logf("first:\n%s\nsecond:\n%s\nfirst again:\n%s\nAsterisk:\n%s", first.tail(), second.tail(), again.tail(), ast.LogTail())
	}
}

// installSounds installs the prompts for Asterisk with bin into dir's
// sounds folder and returns it.
func installSounds(t *testing.T, bin, dir string) string {
	t.Helper()
	soundsDir := filepath.Join(dir, "sounds")
	if out, err := exec.Command(bin, "asterisk", "sounds", "--dir", soundsDir).CombinedOutput(); err != nil { //nolint:gosec // G204: the binary the test built
		t.Fatalf("ivr asterisk sounds: %v\n%s", err, out)
	}
	return soundsDir
}
