package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/admin"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// startTeamAPI serves the admin API with the team routes over db.
func startTeamAPI(t *testing.T, db *store.DB, now time.Time) *apiServer {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{now: now}
	log := zaptest.NewLogger(t)
	db.Now = clock.Now
	svc := oncall.NewService(db, log, oncall.ServiceOptions{Now: clock.Now, History: 400 * 24 * time.Hour,
		ServiceNumbers: map[string]string{testLine: "the Washington line"}})
	if err := svc.Refresh(ctx); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	_, secret, err := access.Issue(ctx, db, "test", "test admin", "admin", 0)
	if err != nil {
		t.Fatalf("issue admin token: %v", err)
	}
	api := admin.New(admin.Config{OnCall: svc, Tokens: db, Audit: db, Ready: db.Ready,
		Registry: prometheus.NewRegistry(), Log: log, TokenCacheTTL: time.Minute, Team: db})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &apiServer{t: t, url: srv.URL, db: db, svc: svc, clock: clock, admin: secret, client: srv.Client()}
}

type teamImportJSON struct {
	DryRun  bool `json:"dry_run"`
	Applied bool `json:"applied"`
	Changes []struct {
		Entity  string          `json:"entity"`
		ID      string          `json:"id"`
		Name    string          `json:"name"`
		Action  string          `json:"action"`
		Summary string          `json:"summary"`
		Before  json.RawMessage `json:"before"`
		After   json.RawMessage `json:"after"`
	} `json:"changes"`
}

func (s *apiServer) exportTeam() string {
	s.t.Helper()
	r := s.do("GET", "/api/v1/team", s.admin, nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/yaml; charset=utf-8" {
		s.t.Fatalf("GET /api/v1/team: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	return string(r.body)
}

func (s *apiServer) importTeam(doc string, dry bool, want int) (teamImportJSON, response) {
	s.t.Helper()
	r := s.do("POST", "/api/v1/team/import?dry_run="+strconv.FormatBool(dry), s.admin, doc)
	if r.status != want {
		s.t.Fatalf("import (dry run %v): %d %s, want %d", dry, r.status, r.body, want)
	}
	var out teamImportJSON
	if want == http.StatusOK {
		r.decode(s.t, &out)
	}
	return out, r
}

// TestTeamYAML: GET /api/v1/team is the team as YAML; importing it back
// changes nothing; a dry run shows a change and writes nothing; the import
// applies it with one audit entry, and the schedule answers from it at
// once; a broken document is refused naming the field and the line.
func TestTeamYAML(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		now := mustTime(t, "2026-06-01T12:00:00Z")
		s := startTeamAPI(t, db, now)
		alice := s.engineer("Alice", "L1", "+12025550101")
		bob := s.engineer("Bob", "L1", "+12025550102")
		s.mustDo("POST", "/api/v1/rotations", map[string]any{"name": "L1 weekly", "level": "L1", "time_zone": "Europe/Moscow",
			"handoff": "09:00", "shift_length": map[string]any{"days": 7}, "start": "2026-05-25", "participants": []int64{alice, bob},
			"effective_from": "2026-05-25T00:00:00Z"}, http.StatusCreated, nil)

		doc := s.exportTeam()
		if !strings.Contains(doc, "ivr schedule import --dry-run team.yaml") || !strings.Contains(doc, "      - Alice\n      - Bob\n") {
			t.Fatalf("the export lacks its header or the participants by name:\n%s", doc)
		}
		logged := s.auditCount()

		for _, dry := range []bool{true, false} {
			out, _ := s.importTeam(doc, dry, http.StatusOK)
			if out.DryRun != dry || out.Applied || len(out.Changes) != 0 {
				t.Errorf("import of the export (dry run %v): %+v, want no change", dry, out)
			}
		}
		if n := s.auditCount(); n != logged {
			t.Fatalf("importing the export wrote %d audit entries", n-logged)
		}

		// Alice covers the next day of Bob's week; the dry run shows it and
		// writes nothing.
		cover := strings.Replace(doc, "overrides: []", "overrides:\n  - level: L1\n    engineer: Alice\n    start: 2026-06-02T00:00:00Z\n    end: 2026-06-03T00:00:00Z\n", 1)
		out, _ := s.importTeam(cover, true, http.StatusOK)
		if out.Applied || len(out.Changes) != 1 || out.Changes[0].Entity != "override" || out.Changes[0].Action != "create" ||
			out.Changes[0].Name != "L1 primary, Alice" || string(out.Changes[0].Before) != "null" {
			t.Fatalf("dry run: %+v, want one override to create", out)
		}
		at := mustTime(t, "2026-06-02T06:00:00Z")
		if id, _, _ := s.onCall("L1", at); id != bob || s.auditCount() != logged {
			t.Fatalf("the dry run changed the schedule or the audit log")
		}
		out, _ = s.importTeam(cover, false, http.StatusOK)
		if !out.Applied || len(out.Changes) != 1 || out.Changes[0].ID == "" {
			t.Fatalf("import: %+v, want one override created, with its id", out)
		}
		if id, _, _ := s.onCall("L1", at); id != alice {
			t.Errorf("on call after the import: engineer %d, want Alice (%d) at once", id, alice)
		}
		var log struct {
			Entries []struct {
				Entity string          `json:"entity"`
				Before json.RawMessage `json:"before"`
				After  json.RawMessage `json:"after"`
			} `json:"entries"`
		}
		s.mustDo("GET", "/api/v1/audit?limit=1", nil, http.StatusOK, &log)
		if s.auditCount() != logged+1 || log.Entries[0].Entity != "team" || !strings.Contains(string(log.Entries[0].After), `"engineer_id":`+strconv.FormatInt(alice, 10)) {
			t.Errorf("audit after the import: %d entries, newest %+v; want one more, entity team, with the override after", s.auditCount()-logged, log.Entries)
		}
		if out, _ := s.importTeam(s.exportTeam(), false, http.StatusOK); len(out.Changes) != 0 {
			t.Errorf("the export after the import changes %+v", out.Changes)
		}

		// Broken documents: nothing applied, the field and the line named.
		ghost := strings.Replace(doc, "      - Bob\n", "      - Bobby\n", 1)
		_, r := s.importTeam(ghost, false, http.StatusBadRequest)
		line := strings.Count(ghost[:strings.Index(ghost, "- Bobby")], "\n") + 1
		e := r.wantError(t, http.StatusBadRequest, "invalid", "rotations[0].participants[1]")
		if !strings.HasPrefix(e.Error.Message, "line "+strconv.Itoa(line)+": ") || !strings.Contains(e.Error.Message, `"Bobby"`) {
			t.Errorf("unknown engineer: %q, want line %d and the name", e.Error.Message, line)
		}
		_, r = s.importTeam("engineers: [}", false, http.StatusBadRequest)
		r.wantError(t, http.StatusBadRequest, "invalid", "")
		r = s.do("POST", "/api/v1/team/import?dry_run=maybe", s.admin, doc)
		r.wantError(t, http.StatusBadRequest, "invalid", "dry_run")
		if s.auditCount() != logged+1 {
			t.Errorf("a refused import wrote to the audit log")
		}

		// Admins only.
		eng := s.teamEngineerToken(alice)
		s.do("GET", "/api/v1/team", eng, nil).wantError(t, http.StatusForbidden, "forbidden", "")
		s.do("POST", "/api/v1/team/import", eng, doc).wantError(t, http.StatusForbidden, "forbidden", "")
	})
}

// teamEngineerToken issues an engineer token for engineer id.
func (s *apiServer) teamEngineerToken(id int64) string {
	s.t.Helper()
	_, secret, err := access.Issue(context.Background(), s.db, "test", "engineer", "engineer", id)
	if err != nil {
		s.t.Fatal(err)
	}
	return secret
}

// An import that gives an engineer one of the service's own numbers is
// refused as the API's edits are (a page would call the IVR), naming the
// line and the field; nothing is applied.
func TestTeamImportRefusesServiceNumber(t *testing.T) {
	db := storetest.OpenSQLite(t)
	s := startTeamAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
	s.engineer("Alice", "L1", "+12025550101")
	doc := s.exportTeam()
	bad := strings.Replace(doc, "+12025550101", testLine, 1)
	if bad == doc {
		t.Fatalf("no number to replace in:\n%s", doc)
	}
	logged := s.auditCount()
	_, res := s.importTeam(bad, false, http.StatusBadRequest)
	body := res.wantError(t, http.StatusBadRequest, "invalid", "engineers[0].contacts[0].phone")
	if !strings.Contains(body.Error.Message, "line ") || !strings.Contains(body.Error.Message, "a number of this service") {
		t.Errorf("message %q, want the line and why", body.Error.Message)
	}
	if s.auditCount() != logged {
		t.Errorf("the refused import wrote to the audit log")
	}
}
