package admin_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func TestAuth(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
		alice := s.engineer("Alice", "L1", "+12025550101")
		bob := s.engineer("Bob", "L1", "+12025550102")
		_, engSecret, err := access.Issue(context.Background(), db, "test", "alice's phone", "engineer", alice)
		if err != nil {
			t.Fatal(err)
		}

		t.Run("ErrNoToken", func(t *testing.T) {
			r := s.do("GET", "/api/v1/oncall", "", nil)
			r.wantError(t, http.StatusUnauthorized, "unauthorized", "")
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
		t.Run("ErrWrongScheme", func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.url+"/api/v1/oncall", nil)
			req.SetBasicAuth("admin", s.admin)
			res, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("basic auth: status %d, want 401", res.StatusCode)
			}
		})
		t.Run("ErrUnknownToken", func(t *testing.T) {
			s.do("GET", "/api/v1/oncall", "ivr_not-a-real-token", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		})
		t.Run("EngineerReadsSchedules", func(t *testing.T) {
			for _, path := range []string{"/api/v1/oncall", "/api/v1/engineers", "/api/v1/rotations", "/api/v1/shifts", "/api/v1/gaps", "/api/v1/policies", "/api/v1/overrides"} {
				if r := s.do("GET", path, engSecret, nil); r.status != http.StatusOK {
					t.Errorf("engineer GET %s: %d %s", path, r.status, r.body)
				}
			}
		})
		t.Run("ErrEngineerWrites", func(t *testing.T) {
			before := s.auditCount()
			r := s.do("POST", "/api/v1/engineers", engSecret, map[string]any{"name": "Mallory"})
			r.wantError(t, http.StatusForbidden, "forbidden", "")
			s.do("GET", "/api/v1/audit", engSecret, nil).wantError(t, http.StatusForbidden, "forbidden", "")
			s.do("GET", "/api/v1/tokens", engSecret, nil).wantError(t, http.StatusForbidden, "forbidden", "")
			if got := s.auditCount(); got != before {
				t.Errorf("audit entries %d → %d after a refused write", before, got)
			}
		})
		t.Run("EngineerEditsOwnContacts", func(t *testing.T) {
			body := map[string]any{"contacts": []map[string]any{{"phone": "+1 (202) 555-0199", "sms": false}}}
			var e engineerJSON
			r := s.do("PUT", "/api/v1/engineers/"+strconv.FormatInt(alice, 10)+"/contacts", engSecret, body)
			if r.status != http.StatusOK {
				t.Fatalf("own contacts: %d %s", r.status, r.body)
			}
			r.decode(t, &e)
			if len(e.Contacts) != 1 || e.Contacts[0].Phone != "+12025550199" {
				t.Errorf("contacts %+v, want +12025550199 in E.164", e.Contacts)
			}
			s.do("PUT", "/api/v1/engineers/"+strconv.FormatInt(bob, 10)+"/contacts", engSecret, body).
				wantError(t, http.StatusForbidden, "forbidden", "")
		})
		t.Run("RevokedTokenRefused", func(t *testing.T) {
			var created struct {
				Token  access.Token `json:"token"`
				Secret string       `json:"secret"`
			}
			s.mustDo("POST", "/api/v1/tokens", map[string]any{"name": "temp", "role": "admin"}, http.StatusCreated, &created)
			if r := s.do("GET", "/api/v1/engineers", created.Secret, nil); r.status != http.StatusOK {
				t.Fatalf("new token: %d %s", r.status, r.body)
			}
			s.mustDo("DELETE", "/api/v1/tokens/"+strconv.FormatInt(created.Token.ID, 10), nil, http.StatusNoContent, nil)
			s.do("GET", "/api/v1/engineers", created.Secret, nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
			s.do("DELETE", "/api/v1/tokens/"+strconv.FormatInt(created.Token.ID, 10), s.admin, nil).wantError(t, http.StatusConflict, "conflict", "")
		})
		t.Run("ErrTokenInput", func(t *testing.T) {
			s.do("POST", "/api/v1/tokens", s.admin, map[string]any{"name": "x", "role": "root"}).wantError(t, http.StatusBadRequest, "invalid", "role")
			s.do("POST", "/api/v1/tokens", s.admin, map[string]any{"name": "x", "role": "engineer"}).wantError(t, http.StatusBadRequest, "invalid", "engineer_id")
			s.do("POST", "/api/v1/tokens", s.admin, map[string]any{"name": "x", "role": "engineer", "engineer_id": 999}).wantError(t, http.StatusBadRequest, "invalid", "engineer_id")
		})
		t.Run("HealthNeedsNoToken", func(t *testing.T) {
			for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
				if r := s.do("GET", path, "", nil); r.status != http.StatusOK {
					t.Errorf("GET %s: %d %s", path, r.status, r.body)
				}
			}
		})
	})
}

func TestTokenCacheHonoursRevocationElsewhere(t *testing.T) {
	// A token revoked by another instance stops working once the cache
	// entry expires (TokenCacheTTL, a minute in these tests).
	db := storetest.OpenSQLite(t)
	s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
	tok, secret, err := access.Issue(context.Background(), db, "test", "ops", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.do("GET", "/api/v1/engineers", secret, nil); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if err := db.RevokeToken(context.Background(), "other instance", tok.ID, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	s.clock.Set(s.clock.Now().Add(2 * time.Minute))
	s.do("GET", "/api/v1/engineers", secret, nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
}

// TestTokenCacheForgetsDeletedEngineer: deleting an engineer revokes their
// tokens, and on this instance they stop working at once, as an explicit
// revocation does, not when the cache entry expires.
func TestTokenCacheForgetsDeletedEngineer(t *testing.T) {
	db := storetest.OpenSQLite(t)
	s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
	leaver := s.engineer("Leaver", "L1", "+12025550101")
	_, secret, err := access.Issue(context.Background(), db, "test", "leaver's phone", "engineer", leaver)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.do("GET", "/api/v1/oncall", secret, nil); r.status != http.StatusOK {
		t.Fatalf("engineer token before: %d %s", r.status, r.body)
	}
	s.mustDo("DELETE", "/api/v1/engineers/"+strconv.FormatInt(leaver, 10), nil, http.StatusNoContent, nil)
	s.do("GET", "/api/v1/oncall", secret, nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
}
