//go:build linux

package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/store"
)

// TestServeKilledMidCall: `ivr serve` with --ari-url answers a real SIP
// call through a real Asterisk; it is killed (SIGKILL) while the caller
// holds, at two moments: while the engineer's phone rings, and once the
// engineer has answered and hears the screening. It is started again: the
// new process finds the caller in its application and takes the call up
// from the store (the ringing leg rings on; the screened engineer hears
// the screening again), and when the engineer presses 1 the two are
// bridged. The call is recorded as connected to that engineer, and
// nothing is left in Asterisk.
func TestServeKilledMidCall(t *testing.T) {
	ast := asterisktest.Start(t)
	bin := ivrBinary(t)
	for _, tc := range []struct {
		name, engineer string
		// killAt holds once the moment has come for callID.
		killAt func(first *ivrProc, callID string) bool
	}{
		{"while the engineer's phone rings", "engineer_accepts_late.xml", func(first *ivrProc, _ string) bool {
			return first.count("ringing an engineer") == 1
		}},
		{"while the engineer hears the screening", "engineer_screens_slowly.xml", func(_ *ivrProc, callID string) bool {
			var leg struct {
				State string `json:"state"`
			}
			return ast.ARI(t, http.MethodGet, "/channels/"+callID+"-leg1", &leg) == http.StatusOK && leg.State == "Up"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { killedMidCall(t, ast, bin, tc.engineer, tc.killAt) })
	}
}

func killedMidCall(t *testing.T, ast *asterisktest.Asterisk, bin, engineerScenario string, killAt func(*ivrProc, string) bool) {
	dir := t.TempDir()
	soundsDir := installSounds(t, bin, dir)

	engineer := ast.StartUA(t, "kill-engineer", "-sf", ariScenario(t, engineerScenario, ""), "-rtp_echo")
	ast.AddEndpoint(t, "kill-engineer", engineer.Port)
	// Every engineer's number reaches the one user agent.
	dial := fmt.Sprintf("PJSIP/kill-engineer/sip:{phone}@127.0.0.1:%d", engineer.Port)
	db := filepath.Join(dir, "ivr.db")
	env := []string{"IVR_DB=" + db, "IVR_ADMIN_TOKEN=" + testAdminToken, "XDG_STATE_HOME=" + dir,
		"ARI_URL=" + ast.ARIURL, "ARI_USERNAME=" + ast.User, "ARI_PASSWORD=" + ast.Password}
	args := []string{"--demo", "--addr", freeAddr(t), "--ari-sounds-dir", soundsDir, "--ari-dial", dial}
	first := startIVR(t, bin, "first", dir, args, env)
	waitReady(t, first)
	appUp := func() bool {
		return ast.ARI(t, http.MethodGet, "/applications/"+asterisktest.Apps[0], nil) == http.StatusOK
	}
	pollUntil(t, 20*time.Second, "the driver's application registered", appUp)

	port, err := asterisktest.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	ast.AddEndpoint(t, "kill-caller", port) // matched by its From user
	caller := ast.StartUA(t, "kill-caller", "-sf", ariScenario(t, "caller_waits.xml", "1001#"), "-s", asterisktest.Washington)
	pollUntil(t, 30*time.Second, "the engineer rung", func() bool { return first.count("ringing an engineer") == 1 })
	callID := channelOf(t, ast, "PJSIP/kill-caller-")
	pollUntil(t, 30*time.Second, "the moment to kill", func() bool { return killAt(first, callID) })
	first.kill()
	killed := time.Now()

	second := startIVR(t, bin, "second", dir, args, env)
	waitReady(t, second)
	pollUntil(t, 20*time.Second, "the call taken up", func() bool {
		return second.count("resuming a call left in the application") == 1
	})
	t.Logf("the call was taken up %v after the kill", time.Since(killed).Round(10*time.Millisecond))
	pollUntil(t, 40*time.Second, "the caller bridged with the engineer", func() bool {
		var bridges []struct {
			Channels []string `json:"channels"`
		}
		ast.ARI(t, http.MethodGet, "/bridges", &bridges)
		return len(bridges) == 1 && slices.Contains(bridges[0].Channels, callID) && len(bridges[0].Channels) == 2
	})
	if code := ast.ARI(t, http.MethodDelete, "/channels/"+callID, nil); code != http.StatusNoContent {
		t.Fatalf("hang up the caller: %d", code)
	}
	for _, ua := range []*asterisktest.UA{caller, engineer} {
		if err := ua.Wait(); err != nil {
			t.Errorf("%v, want exit status 0", err)
		}
	}
	pollUntil(t, 10*time.Second, "no channel or bridge left", func() bool {
		var channels, bridges []struct{}
		ast.ARI(t, http.MethodGet, "/channels", &channels)
		ast.ARI(t, http.MethodGet, "/bridges", &bridges)
		return len(channels) == 0 && len(bridges) == 0
	})
	second.stop(t)

	st, err := store.Open(context.Background(), db, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	rec, err := st.Call(context.Background(), callID)
	if err != nil {
		t.Fatalf("the call's record: %v; the second process's log:\n%s", err, second.tail())
	}
	if rec.Outcome != ivr.OutcomeConnected || rec.EngineerID == 0 || rec.TicketID != "1001" || len(rec.Rang) != 1 {
		t.Errorf("call record: outcome %s, engineer %d, ticket %s, rang %v; want connected to the one engineer rung, 1001",
			rec.Outcome, rec.EngineerID, rec.TicketID, rec.Rang)
	}
	if t.Failed() {
		t.Logf("first process:\n%s\nsecond process:\n%s\nAsterisk:\n%s", first.tail(), second.tail(), ast.LogTail())
	}
}

func waitReady(t *testing.T, p *ivrProc) {
	t.Helper()
	select {
	case <-p.ready:
	case <-p.exited:
		t.Fatalf("%s ended before serving: %v\n%s", p.name, p.exitErr, p.tail())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not serving within 30 s:\n%s", p.name, p.tail())
	}
}

// pollUntil checks cond every 50 ms until it holds, failing the test after
// within.
func pollUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("no %s within %v", what, within)
		case <-tick.C:
		}
	}
}

// channelOf is the id of the channel whose name starts with prefix.
func channelOf(t *testing.T, ast *asterisktest.Asterisk, prefix string) string {
	t.Helper()
	id := findChannel(t, ast, prefix)
	if id == "" {
		t.Fatalf("no channel %s… in Asterisk", prefix)
	}
	return id
}

// findChannel is the id of a channel whose name starts with prefix, or
// "" if Asterisk has none.
func findChannel(t *testing.T, ast *asterisktest.Asterisk, prefix string) string {
	t.Helper()
	var channels []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	ast.ARI(t, http.MethodGet, "/channels", &channels)
	for _, c := range channels {
		if strings.HasPrefix(c.Name, prefix) {
			return c.ID
		}
	}
	return ""
}

// ariScenario is the ARI driver's sipp scenario asterisk/testdata/name
// with keys written in (asterisktest.Scenario).
func ariScenario(t *testing.T, name, keys string) string {
	t.Helper()
	return asterisktest.Scenario(t, filepath.Join("..", "..", "asterisk", "testdata", name), keys)
}
