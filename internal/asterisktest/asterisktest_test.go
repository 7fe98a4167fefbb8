package asterisktest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/asterisktest"
)

func TestMain(m *testing.M) { os.Exit(asterisktest.Main(m)) }

// events connects to ARI's event websocket as application app, waits until
// ARI lists the application, and returns the events as they come; the
// connection closes when the test ends.
func events(t *testing.T, ast *asterisktest.Asterisk, app string) <-chan asterisktest.Event {
	t.Helper()
	return asterisktest.WatchEvents(t, ast.EventsURL, ast.User, ast.Password, app, func() bool {
		return ast.ARI(t, http.MethodGet, "/applications/"+app, nil) == http.StatusOK
	})
}

// TestAsterisk is the smoke test of the rig: Asterisk starts, ARI says its
// version, and a real SIP call from sipp to the Moscow line enters the
// Stasis application with the line, is answered through ARI, sends RTP,
// and is hung up through ARI, sipp seeing the BYE.
func TestAsterisk(t *testing.T) {
	began := time.Now()
	ast := asterisktest.Start(t)
	t.Logf("Asterisk %s started in %v from %s, ARI at %s, SIP on 127.0.0.1:%d",
		ast.Version, time.Since(began).Round(time.Millisecond), ast.Prefix, ast.ARIURL, ast.SIPPort)

	t.Run("version", func(t *testing.T) {
		var info struct {
			System struct {
				Version string `json:"version"`
			} `json:"system"`
		}
		if code := ast.ARI(t, http.MethodGet, "/asterisk/info", &info); code != http.StatusOK {
			t.Fatalf("GET /asterisk/info = %d", code)
		}
		if ast.Cached() && info.System.Version != asterisktest.BuildVersion {
			t.Errorf("version %q, want %s (the build of .ci/build-asterisk)", info.System.Version, asterisktest.BuildVersion)
		}
		if !strings.HasPrefix(info.System.Version, "22.") {
			t.Errorf("version %q, want Asterisk 22", info.System.Version)
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ast.ARIURL+"/asterisk/info", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(ast.User, "wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a wrong password: %d, want 401", resp.StatusCode)
		}
	})

	t.Run("hold music", func(t *testing.T) {
		out, err := ast.CLI("moh show files")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "Class: default") || !strings.Contains(out, "/moh/hold") {
			t.Errorf("moh show files:\n%s\nwant class default playing the project's hold music", out)
		}
	})

	t.Run("sip call into Stasis", func(t *testing.T) {
		ch := events(t, ast, asterisktest.Apps[0])
		caller := ast.Call(t, "smoke-caller", asterisktest.Moscow)
		start := asterisktest.NextEvent(t, ch, "StasisStart")
		if start.Application != asterisktest.Apps[0] || strings.Join(start.Args, ",") != asterisktest.LineArg+","+asterisktest.Moscow {
			t.Errorf("StasisStart of %s with args %q, want %s with [%s %s]", start.Application, start.Args, asterisktest.Apps[0], asterisktest.LineArg, asterisktest.Moscow)
		}
		if !strings.HasPrefix(start.Channel.Name, "PJSIP/smoke-caller-") || start.Channel.Dialplan.Exten != asterisktest.Moscow {
			t.Errorf("channel %s at extension %s, want PJSIP/smoke-caller-… at %s", start.Channel.Name, start.Channel.Dialplan.Exten, asterisktest.Moscow)
		}
		id := start.Channel.ID
		if code := ast.ARI(t, http.MethodPost, "/channels/"+id+"/answer", nil); code != http.StatusNoContent {
			t.Fatalf("answer: %d", code)
		}
		// RTP from sipp reaches Asterisk: the channel's receive count rises.
		rxcount := "/channels/" + id + "/variable?" + url.Values{"variable": {"CHANNEL(rtcp,rxcount,audio)"}}.Encode()
		var got string
		waitFor(t, 10*time.Second, "10 RTP packets from sipp", func() bool {
			var v struct {
				Value string `json:"value"`
			}
			ast.ARI(t, http.MethodGet, rxcount, &v)
			got = v.Value
			n, _ := strconv.Atoi(v.Value)
			return n >= 10
		})
		t.Logf("Asterisk received %s RTP packets from sipp", got)
		if code := ast.ARI(t, http.MethodDelete, "/channels/"+id, nil); code != http.StatusNoContent {
			t.Fatalf("hang up: %d", code)
		}
		if end := asterisktest.NextEvent(t, ch, "StasisEnd"); end.Channel.ID != id {
			t.Errorf("StasisEnd of %s, want %s", end.Channel.ID, id)
		}
		waitUA(t, caller)
		noChannels(t, ast)
	})

	t.Run("next application when the first is not connected", func(t *testing.T) {
		waitGone(t, ast, asterisktest.Apps[0])
		ch := events(t, ast, asterisktest.Apps[1])
		caller := ast.Call(t, "second-caller", strings.TrimPrefix(asterisktest.Washington, "+"))
		start := asterisktest.NextEvent(t, ch, "StasisStart")
		if start.Application != asterisktest.Apps[1] || strings.Join(start.Args, ",") != asterisktest.LineArg+","+asterisktest.Washington {
			t.Errorf("StasisStart of %s with args %q, want %s with [%s %s]", start.Application, start.Args, asterisktest.Apps[1], asterisktest.LineArg, asterisktest.Washington)
		}
		ast.ARI(t, http.MethodPost, "/channels/"+start.Channel.ID+"/answer", nil)
		ast.ARI(t, http.MethodDelete, "/channels/"+start.Channel.ID, nil)
		waitUA(t, caller)
		noChannels(t, ast)
	})

	t.Run("fallback when no application is connected", func(t *testing.T) {
		for _, app := range asterisktest.Apps {
			waitGone(t, ast, app)
		}
		// The emergency number: sipp's built-in answering scenario.
		uas := ast.StartUA(t, "fallback-engineer", "-sn", "uas")
		ast.AddEndpoint(t, "fallback-engineer", uas.Port)
		if code := ast.ARI(t, http.MethodPost, "/asterisk/variable?"+url.Values{"variable": {"FALLBACK"}, "value": {"PJSIP/fallback-engineer"}}.Encode(), nil); code != http.StatusNoContent {
			t.Fatalf("set FALLBACK: %d", code)
		}
		t.Cleanup(func() {
			ast.ARI(t, http.MethodPost, "/asterisk/variable?variable=FALLBACK&value=", nil)
		})
		caller := ast.Call(t, "fallback-caller", asterisktest.Moscow)
		// Both legs up: the caller's (PJSIP/fallback-caller-…) and the
		// one Dial made to the fallback.
		var channels []struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			State string `json:"state"`
		}
		waitFor(t, 15*time.Second, "the caller bridged with the fallback", func() bool {
			ast.ARI(t, http.MethodGet, "/channels", &channels)
			up := 0
			for _, c := range channels {
				if c.State == "Up" && (strings.HasPrefix(c.Name, "PJSIP/fallback-caller-") || strings.HasPrefix(c.Name, "PJSIP/fallback-engineer-")) {
					up++
				}
			}
			return up == 2
		})
		for _, c := range channels {
			if strings.HasPrefix(c.Name, "PJSIP/fallback-caller-") {
				ast.ARI(t, http.MethodDelete, "/channels/"+c.ID, nil)
			}
		}
		waitUA(t, caller)
		waitUA(t, uas)
		noChannels(t, ast)
	})
	t.Run("restart", func(t *testing.T) {
		before := ast.ARI(t, http.MethodGet, "/endpoints/PJSIP/smoke-caller", nil)
		stopped := time.Now()
		ast.Restart(t)
		t.Logf("restarted in %v", time.Since(stopped).Round(time.Millisecond))
		var info struct {
			Status struct {
				StartupTime string `json:"startup_time"`
			} `json:"status"`
		}
		if code := ast.ARI(t, http.MethodGet, "/asterisk/info", &info); code != http.StatusOK {
			t.Fatalf("GET /asterisk/info after the restart: %d", code)
		}
		if started, err := time.Parse("2006-01-02T15:04:05.000-0700", info.Status.StartupTime); err != nil || started.Before(stopped.Add(-time.Second)) {
			t.Errorf("startup time %q (%v), want after the restart at %v", info.Status.StartupTime, err, stopped)
		}
		if after := ast.ARI(t, http.MethodGet, "/endpoints/PJSIP/smoke-caller", nil); before != http.StatusOK || after != http.StatusOK {
			t.Errorf("endpoint smoke-caller: %d before the restart, %d after, want 200 both", before, after)
		}
	})
	t.Logf("whole cycle %v", time.Since(began).Round(time.Millisecond))
}

// waitUA waits for a user agent's scenario to end and fails the test
// unless it ran to the end.
func waitUA(t *testing.T, u *asterisktest.UA) {
	t.Helper()
	if err := u.Wait(); err != nil {
		t.Errorf("%v, want exit status 0", err)
	}
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
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

// waitGone waits until ARI no longer lists app (its websocket closed).
func waitGone(t *testing.T, ast *asterisktest.Asterisk, app string) {
	t.Helper()
	waitFor(t, 10*time.Second, "end of application "+app, func() bool {
		return ast.ARI(t, http.MethodGet, "/applications/"+app, nil) == http.StatusNotFound
	})
}

// noChannels checks that Asterisk has no channel left.
func noChannels(t *testing.T, ast *asterisktest.Asterisk) {
	t.Helper()
	var channels []json.RawMessage
	waitFor(t, 10*time.Second, "end of every channel", func() bool {
		ast.ARI(t, http.MethodGet, "/channels", &channels)
		return len(channels) == 0
	})
}
