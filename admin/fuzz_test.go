package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/admin"
	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store/storetest"
)

// fuzzPaths are the POST endpoints whose bodies FuzzBodies sends.
var fuzzPaths = []string{"/api/v1/engineers", "/api/v1/rotations", "/api/v1/overrides", "/api/v1/pages"}

// FuzzBodies posts any body to the endpoints that create engineers,
// rotations, overrides and pages, through the real handler over SQLite (one
// store per fuzzing process, with engineers 1 and 2 in it): no body gets a
// 5xx, every 4xx is the API's error shape with a code and a message, and a
// refused body writes nothing (the audit log's newest entry is the same).
func FuzzBodies(f *testing.F) {
	f.Add(uint8(0), []byte(`{"name":"Clara","level":"L2","languages":["ru","en"],"time_zone":"Europe/Moscow","contacts":[{"phone":"+12025550103","sms":true}]}`))
	f.Add(uint8(0), []byte(`{"name":"Da\u0000n","level":"L1","languages":["en"],"time_zone":"UTC","contacts":[{"phone":"+12025952118"}]}`))
	f.Add(uint8(0), []byte(`{"name":"E","level":"L9","languages":["fr"],"time_zone":"Mars/Olympus","contacts":[{"phone":"+1900555010"},{"phone":7}]}`))
	f.Add(uint8(0), []byte(`{"name":"F","level":"L1","languages":["ru"],"time_zone":"UTC","contacts":[{"phone":"+12025550104;ext=12"}],"zzz":1}`))
	f.Add(uint8(1), []byte(`{"name":"nights","level":"L1","time_zone":"America/New_York","handoff":"02:30","shift_length":{"days":1},"start":"2026-03-01","participants":[1,2]}`))
	f.Add(uint8(1), []byte(`{"name":"bad","level":"L1","time_zone":"UTC","handoff":"25:61","shift_length":{"days":-1},"start":"0001-01-01","participants":[99]}`))
	f.Add(uint8(1), []byte(`{"name":"r","level":"L1","time_zone":"UTC","handoff":"09:00","shift_length":{"hours":1e400},"start":"2026-03-01","participants":[]}`))
	f.Add(uint8(2), []byte(`{"level":"L1","engineer_id":1,"start":"2026-06-01T08:00:00Z","end":"2026-06-02T08:00:00Z"}`))
	f.Add(uint8(2), []byte(`{"level":"L1","engineer_id":2,"start":"0001-01-01T00:00:00Z","end":"2026-06-02T08:00:00Z"}`))
	f.Add(uint8(2), []byte(`{"level":"L3","engineer_id":-1,"start":"2026-06-02T08:00:00Z","end":"2026-06-01T08:00:00Z"}`))
	f.Add(uint8(3), []byte(`{"level":"L1","priority":"low","summary":"check the disk"}`))
	f.Add(uint8(3), []byte(`{"priority":"urgent","summary":""}`))
	f.Add(uint8(3), []byte(`{"priority":"critical","summary":"x","restrictions":[{"zzz":1}]}`))
	f.Add(uint8(0), []byte(`[]`))
	f.Add(uint8(1), []byte(`null`))
	f.Add(uint8(2), []byte(`{"level":`))
	f.Add(uint8(3), []byte(``))
	f.Add(uint8(3), []byte("\xff{}"))

	ctx := context.Background()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	db := storetest.OpenSQLite(f)
	log := zap.NewNop()
	svc := oncall.NewService(db, log, oncall.ServiceOptions{Now: func() time.Time { return now }, History: 400 * 24 * time.Hour,
		ServiceNumbers: map[string]string{testLine: "the Washington line"}})
	if err := svc.Refresh(ctx); err != nil {
		f.Fatalf("refresh: %v", err)
	}
	_, secret, err := access.Issue(ctx, db, "test", "test admin", "admin", 0)
	if err != nil {
		f.Fatalf("issue admin token: %v", err)
	}
	pages, err := pager.New(pager.Config{Store: db, Roster: pagerRoster{svc}, Policies: svc, Log: log})
	if err != nil {
		f.Fatalf("pager: %v", err)
	}
	api := admin.New(admin.Config{
		OnCall: svc, Tokens: db, Audit: db, Ready: db.Ready,
		Registry: prometheus.NewRegistry(), Log: log, TokenCacheTTL: time.Minute,
		Tickets: db, Calls: db, Recordings: db, Pages: pages,
	})
	post := func(path string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec
	}
	for i, phone := range []string{"+12025550101", "+12025550102"} {
		b, _ := json.Marshal(map[string]any{"name": []string{"Anna", "Bill"}[i], "level": "L1", "languages": []string{"ru", "en"},
			"time_zone": "Europe/Moscow", "contacts": []map[string]any{{"phone": phone, "sms": true}}})
		if rec := post("/api/v1/engineers", b); rec.Code != http.StatusCreated {
			f.Fatalf("create engineer: %d %s", rec.Code, rec.Body)
		}
	}
	newest := func(t *testing.T) int64 {
		es, err := db.AuditLog(ctx, audit.Filter{Limit: 1})
		if err != nil {
			t.Fatalf("audit log: %v", err)
		}
		if len(es) == 0 {
			return 0
		}
		return es[0].ID
	}

	f.Fuzz(func(t *testing.T, ep uint8, body []byte) {
		path := fuzzPaths[int(ep)%len(fuzzPaths)]
		before := newest(t)
		rec := post(path, body)
		t.Logf("POST %s: %d %.200s", path, rec.Code, rec.Body)
		switch {
		case rec.Code >= 500:
			t.Fatalf("POST %s %q: status %d: %s", path, body, rec.Code, rec.Body)
		case rec.Code >= 400:
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("POST %s %q: status %d without the error shape (code and message): %s", path, body, rec.Code, rec.Body)
			}
			if after := newest(t); after != before {
				t.Fatalf("POST %s %q was refused (%d %s) but wrote audit entry %d", path, body, rec.Code, rec.Body, after)
			}
		case rec.Code < 200 || rec.Code > 299:
			t.Fatalf("POST %s %q: status %d: %s", path, body, rec.Code, rec.Body)
		}
	})
}
