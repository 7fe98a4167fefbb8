package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/admin"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testClock is a clock a test sets by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// apiServer is the admin API served on 127.0.0.1:0 over one store, with an
// admin token and a clock the test controls.
type apiServer struct {
	t      *testing.T
	url    string
	db     *store.DB
	svc    *oncall.Service
	clock  *testClock
	admin  string // admin token secret
	client *http.Client
}

// startAPI serves the admin API over db with the clock at now.
func startAPI(t *testing.T, db *store.DB, now time.Time) *apiServer {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{now: now}
	log := zaptest.NewLogger(t)
	svc := oncall.NewService(db, log, oncall.ServiceOptions{Now: clock.Now, History: 400 * 24 * time.Hour,
		ServiceNumbers: map[string]string{testLine: "the Washington line"}})
	if err := svc.Refresh(ctx); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	_, secret, err := access.Issue(ctx, db, "test", "test admin", "admin", 0)
	if err != nil {
		t.Fatalf("issue admin token: %v", err)
	}
	pages, err := pager.New(pager.Config{Store: db, Roster: pagerRoster{svc}, Policies: svc, Log: log})
	if err != nil {
		t.Fatalf("pager: %v", err)
	}
	api := admin.New(admin.Config{
		OnCall: svc, Tokens: db, Audit: db, Ready: db.Ready,
		Registry: prometheus.NewRegistry(), Log: log, TokenCacheTTL: time.Minute,
		Tickets: db, Calls: db, Recordings: db, Pages: pages,
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &apiServer{t: t, url: srv.URL, db: db, svc: svc, clock: clock, admin: secret, client: srv.Client()}
}

// testLine is a line of the service's own, which no engineer may give as
// theirs.
const testLine = "+12025952118"

// pagerRoster is who the pager pages: the schedule's engineers.
type pagerRoster struct{ svc *oncall.Service }

func (r pagerRoster) OnCall(level oncall.Level, layer oncall.Layer, t time.Time) (oncall.Engineer, bool) {
	a, ok := r.svc.OnCall(level, layer, t)
	return a.Engineer, ok
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is the API's error shape.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// wantError checks status, code and field of an error response.
func (r response) wantError(t *testing.T, status int, code, field string) errorBody {
	t.Helper()
	var e errorBody
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	r.decode(t, &e)
	if e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q field %q and a message", e.Error, code, field)
	}
	return e
}

// do sends a request with token as bearer ("" for none) and body as JSON
// (a string is sent as is).
func (s *apiServer) do(method, path, token string, body any) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			s.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("read body: %v", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// mustDo is do for requests that must succeed with want; it decodes into out.
func (s *apiServer) mustDo(method, path string, body any, want int, out any) {
	s.t.Helper()
	r := s.do(method, path, s.admin, body)
	if r.status != want {
		s.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	if out != nil {
		r.decode(s.t, out)
	}
}

type engineerJSON struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Level     string   `json:"level"`
	Languages []string `json:"languages"`
	TimeZone  string   `json:"time_zone"`
	Contacts  []struct {
		Phone string `json:"phone"`
		SMS   bool   `json:"sms"`
	} `json:"contacts"`
}

// engineer creates an engineer and returns its id.
func (s *apiServer) engineer(name, level, phone string) int64 {
	s.t.Helper()
	var e engineerJSON
	s.mustDo("POST", "/api/v1/engineers", map[string]any{
		"name": name, "level": level, "languages": []string{"ru", "en"}, "time_zone": "Europe/Moscow",
		"contacts": []map[string]any{{"phone": phone, "sms": true}},
	}, http.StatusCreated, &e)
	return e.ID
}

type onCallJSON struct {
	At     time.Time `json:"at"`
	OnCall []struct {
		Level    string        `json:"level"`
		Layer    string        `json:"layer"`
		Engineer *engineerJSON `json:"engineer"`
		Start    time.Time     `json:"start"`
		End      time.Time     `json:"end"`
		Override int64         `json:"override_id"`
	} `json:"oncall"`
}

// onCall asks who is on call at level's primary layer at t; id 0 = nobody.
func (s *apiServer) onCall(level string, t time.Time) (id int64, start, end time.Time) {
	s.t.Helper()
	var out onCallJSON
	s.mustDo("GET", "/api/v1/oncall?level="+level+"&at="+t.Format(time.RFC3339), nil, http.StatusOK, &out)
	for _, e := range out.OnCall {
		if e.Layer == "primary" && e.Engineer != nil {
			return e.Engineer.ID, e.Start, e.End
		}
	}
	return 0, time.Time{}, time.Time{}
}

// auditCount is the number of audit entries.
func (s *apiServer) auditCount() int {
	s.t.Helper()
	var out struct {
		Entries []json.RawMessage `json:"entries"`
	}
	s.mustDo("GET", "/api/v1/audit?limit=1000", nil, http.StatusOK, &out)
	return len(out.Entries)
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
