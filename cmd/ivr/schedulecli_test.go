package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/internal/pgtest"
)

// runSchedule runs `ivr schedule args…` in-process against server with
// token, and returns the exit status main would give, stdout and the error
// message main would print.
func runSchedule(t *testing.T, server, token string, args ...string) (int, string, string) {
	t.Helper()
	vars := map[string]string{"IVR_SERVER": server}
	if token != "" {
		vars["IVR_TOKEN"] = token
	}
	env, out, _ := testEnv(vars)
	err := run(context.Background(), append([]string{"schedule"}, args...), env)
	if err == nil {
		return 0, out.String(), ""
	}
	return exitCode(err), out.String(), err.Error()
}

// exportTeam runs `ivr schedule export` and writes what it prints to a
// file of dir.
func exportTeam(t *testing.T, base, dir string) (string, string) {
	t.Helper()
	code, out, msg := runSchedule(t, base, testAdminToken, "export")
	if code != 0 || !strings.Contains(out, "engineers:\n") {
		t.Fatalf("export: exit %d %s:\n%s", code, msg, out)
	}
	path := filepath.Join(dir, "team.yaml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, out
}

// auditEntries counts the service's audit log.
func auditEntries(t *testing.T, base string) int {
	t.Helper()
	var log struct {
		Entries []struct {
			Entity string `json:"entity"`
		} `json:"entries"`
	}
	if c := get(t, base+"/api/v1/audit?limit=1000", testAdminToken, &log); c != http.StatusOK {
		t.Fatalf("audit: %d", c)
	}
	return len(log.Entries)
}

// TestScheduleRoundTrip: export → import is a no-op: the dry run shows no
// change, the import reports nothing changed, and the audit log gains no
// entry.
func TestScheduleRoundTrip(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "ivr.db"), "--demo")
	path, doc := exportTeam(t, base, t.TempDir())
	if !strings.Contains(doc, "ivr schedule import --dry-run team.yaml") || !strings.Contains(doc, "rotations:\n") || !strings.Contains(doc, "policies:\n") {
		t.Errorf("the export lacks its header or a section:\n%s", doc)
	}
	logged := auditEntries(t, base)
	for _, args := range [][]string{{"import", "--dry-run", path}, {"import", path}, {"import", path, "--json"}} {
		code, out, msg := runSchedule(t, base, testAdminToken, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, msg)
		}
		if args[len(args)-1] == "--json" {
			var ans struct {
				Applied bool              `json:"applied"`
				Changes []json.RawMessage `json:"changes"`
			}
			if json.Unmarshal([]byte(out), &ans) != nil || ans.Applied || len(ans.Changes) != 0 {
				t.Errorf("%v: %s, want the API's answer with no change", args, out)
			}
		} else if !strings.Contains(out, "No change: the service already matches "+path) {
			t.Errorf("%v:\n%s", args, out)
		}
	}
	// - reads the document from stdin.
	env, out, _ := testEnv(map[string]string{"IVR_SERVER": base, "IVR_TOKEN": testAdminToken})
	env.stdin = strings.NewReader(doc)
	if err := run(context.Background(), []string{"schedule", "import", "--dry-run", "-"}, env); err != nil || !strings.Contains(out.String(), "No change: the service already matches stdin.") {
		t.Errorf("import - from stdin: %v:\n%s", err, out)
	}
	if n := auditEntries(t, base); n != logged {
		t.Errorf("the round trip wrote %d audit entries, want none", n-logged)
	}
	if _, again := exportTeam(t, base, t.TempDir()); stripExported(again) != stripExported(doc) {
		t.Errorf("the export changed after importing it:\n%s\nwas\n%s", again, doc)
	}
}

var exportedLine = regexp.MustCompile(`(?m)^# Exported from .*$`)

// stripExported leaves out the line that says when the file was exported.
func stripExported(doc string) string { return exportedLine.ReplaceAllString(doc, "") }

// lineNumber is the line (from 1) of the first occurrence of s in doc.
func lineNumber(t *testing.T, doc, s string) int {
	t.Helper()
	i := strings.Index(doc, s)
	if i < 0 {
		t.Fatalf("%q is not in the document", s)
	}
	return strings.Count(doc[:i], "\n") + 1
}

// TestScheduleImportRejects: a broken file (unknown engineer, bad zone,
// overlapping override) is refused with its line and field, exit 2, and
// nothing is applied.
func TestScheduleImportRejects(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "ivr.db"), "--demo")
	dir := t.TempDir()
	_, doc := exportTeam(t, base, dir)
	logged := auditEntries(t, base)
	first := regexp.MustCompile(`participants:\n      - (.+)\n`).FindStringSubmatch(doc) // a rotation's first participant
	zone := regexp.MustCompile(`(?m)^    time_zone: (.+)$`).FindStringSubmatch(doc)
	name := regexp.MustCompile(`(?m)^    name: (.+)$`).FindStringSubmatch(doc)
	if first == nil || zone == nil || name == nil {
		t.Fatalf("no participant, zone or engineer name in the export:\n%s", doc)
	}
	overlap := "  - level: L1\n    engineer: " + name[1] + "\n    start: 2030-01-01T09:00:00Z\n    end: 2030-01-01T21:00:00Z\n" +
		"  - level: L1\n    engineer: " + name[1] + "\n    start: 2030-01-01T20:00:00Z\n    end: 2030-01-02T09:00:00Z\n"
	for _, tc := range []struct {
		name, doc, at, field, msg string
	}{
		{"UnknownEngineer", strings.Replace(doc, "participants:\n      - "+first[1]+"\n", "participants:\n      - Nobody Atall\n", 1), "- Nobody Atall", "rotations[0].participants[0]",
			`there is no engineer named "Nobody Atall" in this file's engineers`},
		{"BadZone", strings.Replace(doc, "    time_zone: "+zone[1]+"\n", "    time_zone: Mars/Olympus\n", 1), "Mars/Olympus", "engineers[0].time_zone",
			`"Mars/Olympus" is not a known IANA time zone`},
		{"OverlappingOverride", strings.Replace(doc, "overrides: []\n", "overrides:\n"+overlap, 1), "start: 2030-01-01T20:00:00Z", "overrides[1].start",
			"overlaps overrides[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".yaml")
			if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			want := path + ": " + tc.field + ": line " + strconv.Itoa(lineNumber(t, tc.doc, tc.at)) + ": "
			for _, args := range [][]string{{"import", "--dry-run", path}, {"import", path}} {
				code, out, msg := runSchedule(t, base, testAdminToken, args...)
				if code != 2 || !strings.HasPrefix(msg, want) || !strings.Contains(msg, tc.msg) {
					t.Errorf("%v: exit %d, message %q; want 2 and %q… holding %q (stdout %q)", args, code, msg, want, tc.msg, out)
				}
			}
			if n := auditEntries(t, base); n != logged {
				t.Errorf("a refused file wrote %d audit entries", n-logged)
			}
		})
	}
	if _, now := exportTeam(t, base, t.TempDir()); stripExported(now) != stripExported(doc) {
		t.Errorf("refused files changed the team")
	}
}

// TestScheduleImportApplies: a real change is shown by the dry run, which
// applies nothing, and applied once by the import with one audit entry; the
// file then matches the service.
func TestScheduleImportApplies(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "ivr.db"), "--demo")
	dir := t.TempDir()
	_, doc := exportTeam(t, base, dir)
	name := regexp.MustCompile(`(?m)^    name: (.+)$`).FindStringSubmatch(doc)[1]
	edited := strings.Replace(doc, "overrides: []\n", "overrides:\n  - level: L2\n    engineer: "+name+"\n    start: 2030-01-01T09:00:00+03:00\n    end: 2030-01-01T21:00:00+03:00\n    reason: cover\n", 1)
	edited = strings.Replace(edited, "engineers:\n", "engineers:\n  - name: New Person\n    level: L3\n    languages: [en]\n    time_zone: America/New_York\n    contacts:\n      - {phone: \"+12025550188\", sms: true}\n", 1)
	path := filepath.Join(dir, "edited.yaml")
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	logged := auditEntries(t, base)

	code, out, msg := runSchedule(t, base, testAdminToken, "import", path, "--dry-run")
	if code != 0 || !strings.Contains(out, "Dry run: "+path+" would make 2 change(s); nothing is applied.") ||
		lineStarting(out, "create", "engineer", "(new)", "New", "Person") == "" || lineStarting(out, "create", "override", "(new)", "L2", "primary,") == "" ||
		!strings.Contains(out, "Run without --dry-run to apply them.") {
		t.Fatalf("dry run: exit %d %s:\n%s", code, msg, out)
	}
	if n := auditEntries(t, base); n != logged {
		t.Fatalf("the dry run wrote %d audit entries", n-logged)
	}

	code, out, msg = runSchedule(t, base, testAdminToken, "import", path)
	if code != 0 || !strings.Contains(out, "Applied 2 change(s) from "+path+" in one transaction") ||
		!strings.Contains(out, "2030-01-01T06:00:00Z to 2030-01-01T18:00:00Z") {
		t.Fatalf("import: exit %d %s:\n%s", code, msg, out)
	}
	var log struct {
		Entries []struct {
			Entity string `json:"entity"`
			Actor  string `json:"actor"`
		} `json:"entries"`
	}
	if c := get(t, base+"/api/v1/audit?limit=1000", testAdminToken, &log); c != http.StatusOK || len(log.Entries) != logged+1 || log.Entries[0].Entity != "team" {
		t.Fatalf("audit after the import: %d entries (newest %+v), want one more, entity team", len(log.Entries)-logged, log.Entries[0])
	}
	if code, out, _ := runSchedule(t, base, testAdminToken, "import", path); code != 0 || !strings.Contains(out, "No change") {
		t.Errorf("the same file again: exit %d:\n%s", code, out)
	}
	if _, now := exportTeam(t, base, t.TempDir()); !strings.Contains(now, "name: New Person") || !strings.Contains(now, "reason: cover") {
		t.Errorf("the export after the import lacks the new engineer or the override:\n%s", now)
	}
}

// TestScheduleErrors: flags and tokens are named as such.
func TestScheduleErrors(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "ivr.db"), "--demo")
	path, _ := exportTeam(t, base, t.TempDir())
	var tok struct {
		Secret string `json:"secret"`
	}
	if c := schedulePost(t, base+"/api/v1/tokens", testAdminToken, map[string]any{"name": "eng", "role": "engineer", "engineer_id": 1}, &tok); c != http.StatusCreated {
		t.Fatalf("engineer token: %d", c)
	}
	for _, tc := range []struct {
		name, token string
		args        []string
		want        string
	}{
		{"no file", testAdminToken, []string{"import", "--dry-run"}, "name the file to import"},
		{"missing file", testAdminToken, []string{"import", filepath.Join(t.TempDir(), "none.yaml")}, "read "},
		{"no token", "", []string{"export"}, "IVR_TOKEN is not set"},
		{"engineer token", tok.Secret, []string{"import", path}, "IVR_TOKEN may not use /api/v1/team/import"},
		{"engineer export", tok.Secret, []string{"export"}, "use an admin token"},
		{"extra argument", testAdminToken, []string{"export", "team.yaml"}, "the document goes to stdout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, msg := runSchedule(t, base, tc.token, tc.args...)
			if code != 2 || !strings.Contains(msg, tc.want) {
				t.Errorf("exit %d, message %q; want 2 and %q", code, msg, tc.want)
			}
		})
	}
	if code, _, _ := runSchedule(t, base, testAdminToken, "import", "--dry-run=maybe", path); code != 2 {
		t.Errorf("a bad --dry-run: exit %d, want 2", code)
	}
}

// schedulePost posts body as JSON with token and decodes the answer into out.
func schedulePost(t *testing.T, url, token string, body, out any) int {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
	return res.StatusCode
}

// TestScheduleImportPostgres: with serve on PostgreSQL, two instances, a
// file imported through one is what the other exports, and importing it
// through the other changes nothing.
func TestScheduleImportPostgres(t *testing.T) {
	dsn := pgtest.URL(t)
	a := startServe(t, dsn, "--demo", "--spool-dir", t.TempDir())
	b := startServe(t, dsn, "--spool-dir", t.TempDir())
	dir := t.TempDir()
	_, doc := exportTeam(t, a, dir)
	name := regexp.MustCompile(`(?m)^    name: (.+)$`).FindStringSubmatch(doc)[1]
	edited := strings.Replace(doc, "overrides: []\n", "overrides:\n  - level: L3\n    layer: secondary\n    engineer: "+name+"\n    start: 2031-05-01T00:00:00Z\n    end: 2031-05-02T00:00:00Z\n", 1)
	path := filepath.Join(dir, "edited.yaml")
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, msg := runSchedule(t, b, testAdminToken, "import", path); code != 0 || !strings.Contains(out, "Applied 1 change(s)") {
		t.Fatalf("import through the second instance: exit %d %s:\n%s", code, msg, out)
	}
	if code, out, msg := runSchedule(t, a, testAdminToken, "import", "--dry-run", path); code != 0 || !strings.Contains(out, "No change") {
		t.Errorf("the same file through the first instance: exit %d %s:\n%s", code, msg, out)
	}
	_, fromA := exportTeam(t, a, t.TempDir())
	if !strings.Contains(fromA, "start: 2031-05-01T") {
		t.Errorf("the first instance does not export the override imported through the second:\n%s", fromA)
	}
}
