package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// TestCallsShowDurationInSeconds: a 3 min 20.5 s call reads as
// "duration_seconds": 200.5 in the list and in the call; "duration" stays
// nanoseconds, as stored and as earlier clients read it.
func TestCallsShowDurationInSeconds(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
		eng := s.engineerToken()
		rec := callRecord("CA01", "1001", mustTime(t, "2026-06-01T09:00:00Z"))
		rec.EndedAt = rec.StartedAt.Add(200500 * time.Millisecond)
		rec.Duration = rec.EndedAt.Sub(rec.StartedAt)
		if err := db.SaveCall(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		type shown struct {
			Duration        int64   `json:"duration"`
			DurationSeconds float64 `json:"duration_seconds"`
		}
		check := func(what string, got shown) {
			t.Helper()
			if got.DurationSeconds != 200.5 || got.Duration != int64(rec.Duration) {
				t.Errorf("%s: duration_seconds %v, duration %v; want 200.5 and %d", what, got.DurationSeconds, got.Duration, int64(rec.Duration))
			}
		}
		r := s.do("GET", "/api/v1/calls", eng, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET /calls: %d %s", r.status, r.body)
		}
		var list struct {
			Calls []shown `json:"calls"`
		}
		if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list.Calls) != 1 {
			t.Fatalf("GET /calls: %v %s", err, r.body)
		}
		check("GET /calls", list.Calls[0])
		r = s.do("GET", "/api/v1/calls/CA01", eng, nil)
		var one shown
		if err := json.Unmarshal([]byte(r.body), &one); err != nil {
			t.Fatalf("GET /calls/CA01: %v %s", err, r.body)
		}
		check("GET /calls/CA01", one)
	})
}
