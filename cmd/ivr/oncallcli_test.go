package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/demo"
)

// runOncall runs `ivr oncall args…` in-process against server with token,
// and returns the exit status main would give, stdout and the error message
// main would print.
func runOncall(t *testing.T, server, token string, args ...string) (int, string, string) {
	t.Helper()
	vars := map[string]string{"IVR_SERVER": server}
	if token != "" {
		vars["IVR_TOKEN"] = token
	}
	env, out, _ := testEnv(vars)
	err := run(context.Background(), append([]string{"oncall"}, args...), env)
	if err == nil {
		return 0, out.String(), ""
	}
	return exitCode(err), out.String(), err.Error()
}

// demoNames is the demo team's names by level.
func demoNames() map[string][]string {
	names := map[string][]string{}
	for _, e := range demo.Team {
		names[e.Level.String()] = append(names[e.Level.String()], e.Name)
	}
	return names
}

// TestOncallNow: `ivr oncall now` shows every level's two layers with a demo
// engineer of that level, in the zone asked for; --json is the API's answer.
func TestOncallNow(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "ivr.db"), "--demo")
	names := demoNames()

	code, out, msg := runOncall(t, base, testAdminToken, "now", "--tz", "Europe/Moscow")
	if code != 0 {
		t.Fatalf("now: exit %d: %s", code, msg)
	}
	if !strings.Contains(out, "Times in Europe/Moscow.") || !strings.Contains(out, " MSK") {
		t.Errorf("now does not show the zone:\n%s", out)
	}
	for _, level := range []string{"L1", "L2", "L3"} {
		for _, layer := range []string{"primary", "secondary"} {
			line := lineStarting(out, level, layer)
			if line == "" || !slices.ContainsFunc(names[level], func(n string) bool { return strings.Contains(line, n) }) {
				t.Errorf("now: %s %s: line %q, want one of %v:\n%s", level, layer, line, names[level], out)
			}
		}
	}

	code, out, msg = runOncall(t, base, testAdminToken, "now", "--level", "L2", "--json")
	if code != 0 {
		t.Fatalf("now --json: exit %d: %s", code, msg)
	}
	var ans struct {
		OnCall []struct {
			Level    string `json:"level"`
			Layer    string `json:"layer"`
			Engineer *struct {
				Name string `json:"name"`
			} `json:"engineer"`
		} `json:"oncall"`
	}
	if err := json.Unmarshal([]byte(out), &ans); err != nil || len(ans.OnCall) != 2 {
		t.Fatalf("now --level L2 --json: %v, %d entries, want 2:\n%s", err, len(ans.OnCall), out)
	}
	for _, e := range ans.OnCall {
		if e.Level != "L2" || e.Engineer == nil || !slices.Contains(names["L2"], e.Engineer.Name) {
			t.Errorf("now --level L2 --json: %+v, want an L2 demo engineer", e)
		}
	}
}

// lineStarting is the first line of out whose first columns are cols, or "".
func lineStarting(out string, cols ...string) string {
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) >= len(cols) && slices.Equal(f[:len(cols)], cols) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// TestOncallShifts: a window's shifts, each with its engineer, times shown in
// the zone asked for.
func TestOncallShifts(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "ivr.db"), "--demo")
	// The demo's L1 primary hands off at 09:00 and 21:00 Moscow time; its
	// secondary weekly, on Mondays at 10:00.
	code, out, msg := runOncall(t, base, testAdminToken, "shifts", "--level", "L1",
		"--from", "2027-03-03T00:00:00+03:00", "--to", "2027-03-04T00:00:00+03:00", "--tz", "UTC")
	if code != 0 {
		t.Fatalf("shifts: exit %d: %s", code, msg)
	}
	if !strings.Contains(out, "Shifts from Tue 2027-03-02 21:00 UTC to Wed 2027-03-03 21:00 UTC. Times in UTC.") {
		t.Errorf("shifts: no window line:\n%s", out)
	}
	var rows []string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "L1 ") {
			rows = append(rows, line)
		}
	}
	// Primary: the night shift from the evening before, the day shift, the
	// night shift; secondary: the week's one shift.
	if len(rows) != 4 || lineStarting(out, "L1", "primary") == "" {
		t.Fatalf("shifts: %d rows, want 4:\n%s", len(rows), out)
	}
	if !strings.Contains(out, "Wed 2027-03-03 06:00 UTC  Wed 2027-03-03 18:00 UTC") {
		t.Errorf("shifts: no day shift 09:00–21:00 Moscow (06:00–18:00 UTC):\n%s", out)
	}
	for _, r := range rows {
		if !slices.ContainsFunc(demoNames()["L1"], func(n string) bool { return strings.Contains(r, n) }) {
			t.Errorf("shifts: row without an L1 demo engineer: %q", r)
		}
	}

	code, out, msg = runOncall(t, base, testAdminToken, "shifts", "--level", "L1", "--json")
	var ans struct {
		Shifts []struct {
			EngineerName string `json:"engineer_name"`
		} `json:"shifts"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &ans) != nil || len(ans.Shifts) == 0 {
		t.Fatalf("shifts --json: exit %d %s:\n%s", code, msg, out)
	}
}

// TestOncallGaps: the demo team is covered at every moment (exit 0); once
// every L1 rotation ends, `gaps` names the gap's exact times and exits 1,
// for cron and CI to alert on.
func TestOncallGaps(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "ivr.db"), "--demo")

	code, out, msg := runOncall(t, base, testAdminToken, "gaps", "--days", "14")
	if code != 0 || !strings.Contains(out, "No gap") {
		t.Fatalf("gaps on the demo: exit %d %s, want 0:\n%s", code, msg, out)
	}

	var list struct {
		Rotations []struct {
			ID    int64  `json:"id"`
			Level string `json:"level"`
		} `json:"rotations"`
	}
	if c := get(t, base+"/api/v1/rotations", testAdminToken, &list); c != http.StatusOK {
		t.Fatalf("list rotations: %d", c)
	}
	end := time.Now().UTC().Truncate(time.Hour).Add(3 * time.Hour)
	for _, r := range list.Rotations {
		if r.Level != "L1" {
			continue
		}
		req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/api/v1/rotations/%d?at=%s", base, r.ID, end.Format(time.RFC3339)), nil)
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("end rotation %d: %d", r.ID, res.StatusCode)
		}
	}

	from := end.Add(-time.Hour)
	code, out, msg = runOncall(t, base, testAdminToken, "gaps", "--level", "L1", "--from", from.Format(time.RFC3339), "--days", "1", "--tz", "UTC")
	if code != 1 {
		t.Fatalf("gaps with L1's rotations ended: exit %d %s, want 1:\n%s", code, msg, out)
	}
	want := fmt.Sprintf("L1     %s  %s  23h 00m", end.Format("Mon 2006-01-02 15:04 UTC"), from.AddDate(0, 0, 1).Format("Mon 2006-01-02 15:04 UTC"))
	if !strings.Contains(out, want) {
		t.Errorf("gaps: no line %q:\n%s", want, out)
	}
	// Other levels are still covered: a gap of L1 is still a gap of "every level".
	if code, _, msg = runOncall(t, base, testAdminToken, "gaps", "--level", "L2"); code != 0 {
		t.Errorf("gaps --level L2: exit %d %s, want 0", code, msg)
	}
	code, out, _ = runOncall(t, base, testAdminToken, "gaps", "--from", from.Format(time.RFC3339), "--days", "1", "--json")
	var ans struct {
		Gaps []struct {
			Level      string
			Start, End time.Time
		} `json:"gaps"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &ans) != nil || len(ans.Gaps) != 1 ||
		ans.Gaps[0].Level != "L1" || !ans.Gaps[0].Start.Equal(end) || !ans.Gaps[0].End.Equal(from.AddDate(0, 0, 1)) {
		t.Errorf("gaps --json: exit %d, %+v, want one L1 gap from %s:\n%s", code, ans.Gaps, end, out)
	}
}

// TestOncallErrors: an unreachable server, a refused or missing token and
// bad flags exit 2 with a message that names the flag or says what to do.
func TestOncallErrors(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "ivr.db"), "--demo")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()

	for _, tc := range []struct {
		name, server, token string
		args                []string
		want                string
	}{
		{"unreachable", closed, testAdminToken, []string{"gaps", "--days", "14"}, "cannot reach the service at " + closed},
		{"unreachable now", closed, testAdminToken, []string{"now"}, "is `ivr serve` running there?"},
		{"bad token", base, "not-a-token", []string{"gaps"}, "IVR_TOKEN was refused: create a token with `ivr token create` or POST /api/v1/tokens"},
		{"no token", base, "", []string{"now"}, "IVR_TOKEN is not set"},
		{"bad level", base, testAdminToken, []string{"now", "--level", "L9"}, "--level: "},
		{"bad level gaps", base, testAdminToken, []string{"gaps", "--level", "L9"}, "--level: "},
		{"bad from", base, testAdminToken, []string{"shifts", "--from", "yesterday"}, `--from: "yesterday" is not an RFC 3339 time`},
		{"to before from", base, testAdminToken, []string{"shifts", "--from", "2027-03-10", "--to", "2027-03-01"}, "--to: must be after from"},
		{"bad days", base, testAdminToken, []string{"gaps", "--days", "0"}, "--days: 0 is not between 1 and 400"},
		{"bad tz", base, testAdminToken, []string{"now", "--tz", "Mars/Olympus"}, `--tz: "Mars/Olympus" is not a known IANA time zone`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, msg := runOncall(t, tc.server, tc.token, tc.args...)
			if code != 2 || !strings.HasPrefix(msg, tc.want) && !strings.Contains(msg, tc.want) {
				t.Errorf("exit %d, message %q; want 2 and %q (stdout %q)", code, msg, tc.want, out)
			}
			if strings.Contains(msg, `"level"`) || strings.Contains(msg, "field") {
				t.Errorf("message %q names an API field, not a flag", msg)
			}
		})
	}
	if code, _, msg := runOncall(t, base, testAdminToken, "now", "--level", "L9"); !strings.HasPrefix(msg, "--level: ") || code != 2 {
		t.Errorf("bad --level: exit %d %q, want the message to start with the flag", code, msg)
	}
}
