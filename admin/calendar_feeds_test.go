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
	"github.com/supportdesk/ivr/calendar"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

const feedPublicURL = "https://ivr.example.com"

// startCalendarAPI serves the admin API with calendar feeds, and the feeds
// themselves beside it as serve mounts them.
func startCalendarAPI(t *testing.T, db *store.DB, now time.Time) *apiServer {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{now: now}
	log := zaptest.NewLogger(t)
	svc := oncall.NewService(db, log, oncall.ServiceOptions{Now: clock.Now, History: 400 * 24 * time.Hour})
	if err := svc.Refresh(ctx); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	_, secret, err := access.Issue(ctx, db, "test", "test admin", "admin", 0)
	if err != nil {
		t.Fatalf("issue admin token: %v", err)
	}
	api := admin.New(admin.Config{OnCall: svc, Tokens: db, Audit: db, Ready: db.Ready,
		Registry: prometheus.NewRegistry(), Log: log, TokenCacheTTL: time.Minute,
		CalendarFeeds: db, PublicURL: feedPublicURL + "/"})
	api.Router().PathPrefix("/calendar/").Handler(&calendar.Handler{Feeds: db, Schedule: svc, Host: "ivr.example.com", Log: log})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &apiServer{t: t, url: srv.URL, db: db, svc: svc, clock: clock, admin: secret, client: srv.Client()}
}

type feedJSON struct {
	Feed struct {
		ID         int64  `json:"id"`
		Kind       string `json:"kind"`
		EngineerID int64  `json:"engineer_id"`
		Level      string `json:"level"`
	} `json:"feed"`
	URL string `json:"url"`
}

// subscribe fetches a subscription URL from the test server; it returns
// the status.
func (s *apiServer) subscribe(url string) int {
	s.t.Helper()
	path, ok := strings.CutPrefix(url, feedPublicURL)
	if !ok {
		s.t.Fatalf("subscription URL %q does not start with the public URL %s", url, feedPublicURL)
	}
	r := s.do("GET", path, "", nil)
	if r.status == http.StatusOK {
		if ct := r.header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" || !strings.HasPrefix(string(r.body), "BEGIN:VCALENDAR\r\n") {
			s.t.Fatalf("GET %s: Content-Type %q, body %.40q", path, ct, r.body)
		}
	}
	return r.status
}

func TestCalendarFeedsAPI(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startCalendarAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
		alice := s.engineer("Alice", "L1", "+12025550101")
		bob := s.engineer("Bob", "L1", "+12025550102")
		_, aliceToken, err := access.Issue(context.Background(), db, "test", "alice's phone", "engineer", alice)
		if err != nil {
			t.Fatal(err)
		}
		const path = "/api/v1/calendar-feeds"

		var level feedJSON
		s.mustDo("POST", path, map[string]any{"kind": "level", "level": "L2"}, http.StatusCreated, &level)
		if level.Feed.Kind != "level" || level.Feed.Level != "L2" || !strings.HasPrefix(level.URL, feedPublicURL+"/calendar/cal_") ||
			!strings.HasSuffix(level.URL, ".ics") {
			t.Fatalf("created %+v", level)
		}
		if got := s.subscribe(level.URL); got != http.StatusOK {
			t.Fatalf("the new feed: status %d", got)
		}

		t.Run("ErrFields", func(t *testing.T) {
			for _, c := range []struct {
				body   any
				status int
				code   string
				field  string
			}{
				{map[string]any{"level": "L2"}, 400, "invalid", "kind"},
				{map[string]any{"kind": "team"}, 400, "invalid", "kind"},
				{map[string]any{"kind": "level"}, 400, "invalid", "level"},
				{map[string]any{"kind": "level", "level": "L9"}, 400, "invalid", "level"},
				{map[string]any{"kind": "engineer"}, 400, "invalid", "engineer_id"},
				{map[string]any{"kind": "engineer", "engineer_id": 999}, 400, "invalid", "engineer_id"},
				{map[string]any{"kind": "engineer", "engineer_id": alice, "level": "L1"}, 400, "invalid", "level"},
				{map[string]any{"kind": "level", "level": "L1", "token": "x"}, 400, "invalid", "token"},
			} {
				s.do("POST", path, s.admin, c.body).wantError(t, c.status, c.code, c.field)
			}
			s.do("POST", path, "", map[string]any{"kind": "level", "level": "L1"}).wantError(t, 401, "unauthorized", "")
		})

		t.Run("Engineer", func(t *testing.T) {
			r := s.do("POST", path, aliceToken, map[string]any{})
			var own feedJSON
			if r.status != http.StatusCreated {
				t.Fatalf("an engineer's own feed: %d %s", r.status, r.body)
			}
			r.decode(t, &own)
			if own.Feed.Kind != "engineer" || own.Feed.EngineerID != alice || s.subscribe(own.URL) != http.StatusOK {
				t.Fatalf("an engineer's own feed: %+v", own)
			}
			s.do("POST", path, aliceToken, map[string]any{"kind": "engineer", "engineer_id": bob}).wantError(t, 403, "forbidden", "engineer_id")
			s.do("POST", path, aliceToken, map[string]any{"kind": "level", "level": "L1"}).wantError(t, 403, "forbidden", "kind")

			var list struct {
				Feeds []map[string]any `json:"feeds"`
			}
			r = s.do("GET", path, aliceToken, nil)
			r.decode(t, &list)
			if r.status != 200 || len(list.Feeds) != 1 || list.Feeds[0]["id"] != float64(own.Feed.ID) {
				t.Fatalf("an engineer's list: %d %s", r.status, r.body)
			}
			s.do("DELETE", path+"/"+strconv.FormatInt(level.Feed.ID, 10), aliceToken, nil).wantError(t, 403, "forbidden", "")
			if r := s.do("DELETE", path+"/"+strconv.FormatInt(own.Feed.ID, 10), aliceToken, nil); r.status != http.StatusNoContent {
				t.Fatalf("revoke own feed: %d %s", r.status, r.body)
			}
			if got := s.subscribe(own.URL); got != http.StatusNotFound {
				t.Fatalf("a revoked feed: status %d, want 404", got)
			}
		})

		t.Run("ListHasNoSecrets", func(t *testing.T) {
			r := s.do("GET", path, s.admin, nil)
			var list struct {
				Feeds []map[string]any `json:"feeds"`
			}
			r.decode(t, &list)
			if r.status != 200 || len(list.Feeds) != 2 {
				t.Fatalf("the admin's list: %d %s", r.status, r.body)
			}
			token := strings.TrimSuffix(strings.TrimPrefix(level.URL, feedPublicURL+"/calendar/"), ".ics")
			if strings.Contains(string(r.body), token) || strings.Contains(string(r.body), calendar.HashToken(token)) {
				t.Fatalf("the list shows a token or its hash: %s", r.body)
			}
		})

		t.Run("Revoke", func(t *testing.T) {
			id := strconv.FormatInt(level.Feed.ID, 10)
			if r := s.do("DELETE", path+"/"+id, s.admin, nil); r.status != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			if got := s.subscribe(level.URL); got != http.StatusNotFound {
				t.Fatalf("a revoked feed: status %d, want 404", got)
			}
			s.do("DELETE", path+"/"+id, s.admin, nil).wantError(t, 409, "conflict", "")
			s.do("DELETE", path+"/999", s.admin, nil).wantError(t, 404, "not_found", "")
			s.do("DELETE", path+"/x", s.admin, nil).wantError(t, 400, "invalid", "id")
		})

		t.Run("Audit", func(t *testing.T) {
			var out struct {
				Entries []struct {
					Action   string          `json:"action"`
					Actor    string          `json:"actor"`
					EntityID string          `json:"entity_id"`
					After    json.RawMessage `json:"after"`
				} `json:"entries"`
			}
			s.mustDo("GET", "/api/v1/audit?entity="+calendar.AuditEntity, nil, http.StatusOK, &out)
			var actions []string
			for _, e := range out.Entries {
				actions = append(actions, e.Action+" "+e.EntityID)
				if strings.Contains(string(e.After), "cal_") {
					t.Errorf("the audit log shows a token: %s", e.After)
				}
			}
			l, own := strconv.FormatInt(level.Feed.ID, 10), strconv.FormatInt(level.Feed.ID+1, 10)
			want := []string{"delete " + l, "delete " + own, "create " + own, "create " + l}
			if strings.Join(actions, ",") != strings.Join(want, ",") {
				t.Fatalf("audit %v, want %v", actions, want)
			}
		})
	})
}
