package admin_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func id(n int64) string { return strconv.FormatInt(n, 10) }

// TestDSTHandoffs puts a daily rotation on New York time with hand-offs at
// wall times that do not exist (02:30 on spring-forward day) or exist twice
// (01:30 on fall-back day) and asks who is on call around them.
func TestDSTHandoffs(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-03-01T00:00:00Z"))
		a := s.engineer("Anna", "L1", "+12025550101")
		b := s.engineer("Bill", "L1", "+12025550102")
		s.mustDo("POST", "/api/v1/rotations", map[string]any{
			"name": "NY nights", "level": "L1", "time_zone": "America/New_York", "handoff": "02:30",
			"shift_length": map[string]int{"days": 1}, "start": "2026-03-01", "participants": []int64{a, b},
		}, http.StatusCreated, nil)
		s.mustDo("POST", "/api/v1/rotations", map[string]any{
			"name": "NY fall", "level": "L2", "time_zone": "America/New_York", "handoff": "01:30",
			"shift_length": map[string]int{"days": 1}, "start": "2026-10-30", "participants": []int64{a, b},
		}, http.StatusCreated, nil)

		// 2026-03-07 02:30 EST (07:30Z) starts shift 6 (Anna, even index);
		// 02:30 on 03-08 does not exist: the hand-off is at 03:00 EDT
		// (07:00Z), so Anna's shift lasts 23.5 hours.
		who, start, end := s.onCall("L1", mustTime(t, "2026-03-08T06:59:59Z"))
		if who != a || !start.Equal(mustTime(t, "2026-03-07T07:30:00Z")) || !end.Equal(mustTime(t, "2026-03-08T07:00:00Z")) {
			t.Errorf("before the gap: engineer %d %s–%s, want Anna 07:30Z–07:00Z", who, start, end)
		}
		who, start, end = s.onCall("L1", mustTime(t, "2026-03-08T07:00:00Z"))
		if who != b || !start.Equal(mustTime(t, "2026-03-08T07:00:00Z")) || !end.Equal(mustTime(t, "2026-03-09T06:30:00Z")) {
			t.Errorf("after the gap: engineer %d %s–%s, want Bill 07:00Z–06:30Z next day", who, start, end)
		}
		// 01:30 on 2026-11-01 happens twice; the hand-off takes the first
		// (EDT, 05:30Z), so Bill's shift before it is 24 hours and Anna's
		// after it 25.
		who, _, end = s.onCall("L2", mustTime(t, "2026-11-01T05:29:00Z"))
		if who != b || !end.Equal(mustTime(t, "2026-11-01T05:30:00Z")) {
			t.Errorf("fall-back: engineer %d until %s, want Bill until 05:30Z", who, end)
		}
		who, start, end = s.onCall("L2", mustTime(t, "2026-11-01T06:00:00Z"))
		if who != a || !start.Equal(mustTime(t, "2026-11-01T05:30:00Z")) || !end.Equal(mustTime(t, "2026-11-02T06:30:00Z")) {
			t.Errorf("fall-back: engineer %d %s–%s, want Anna 05:30Z–06:30Z next day (25h)", who, start, end)
		}
	})
}

type gapsJSON struct {
	Gaps []struct {
		Level string    `json:"level"`
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"gaps"`
	Overlaps []struct {
		Level string    `json:"level"`
		Layer string    `json:"layer"`
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"overlaps"`
}

// TestFollowTheSunCoverage: a Moscow day rotation plus a Washington night
// written in New York time tiles the day in winter but, with US daylight
// saving, leaves a one-hour gap and a one-hour overlap each summer day; the
// same night written as the complement in Moscow time never does.
func TestFollowTheSunCoverage(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-01-01T00:00:00Z"))
		m := s.engineer("Masha", "L1", "+12025550101")
		w := s.engineer("Walt", "L1", "+12025550102")
		day := func(level string) map[string]any {
			return map[string]any{"name": "Moscow day", "level": level, "time_zone": "Europe/Moscow", "handoff": "09:00",
				"shift_length": map[string]int{"days": 1}, "start": "2026-01-01", "participants": []int64{m},
				"restrictions": []map[string]string{{"start": "09:00", "end": "21:00"}}}
		}
		s.mustDo("POST", "/api/v1/rotations", day("L1"), http.StatusCreated, nil)
		s.mustDo("POST", "/api/v1/rotations", map[string]any{"name": "Washington night (NY time)", "level": "L1",
			"time_zone": "America/New_York", "handoff": "13:00", "shift_length": map[string]int{"days": 1},
			"start": "2026-01-01", "participants": []int64{w},
			"restrictions": []map[string]string{{"start": "13:00", "end": "01:00"}}}, http.StatusCreated, nil)
		s.mustDo("POST", "/api/v1/rotations", day("L2"), http.StatusCreated, nil)
		s.mustDo("POST", "/api/v1/rotations", map[string]any{"name": "Washington night (Moscow time)", "level": "L2",
			"time_zone": "Europe/Moscow", "handoff": "21:00", "shift_length": map[string]int{"days": 1},
			"start": "2026-01-01", "participants": []int64{w},
			"restrictions": []map[string]string{{"start": "21:00", "end": "09:00"}}}, http.StatusCreated, nil)

		var winter, summer, summerL2 gapsJSON
		s.mustDo("GET", "/api/v1/gaps?level=L1&from=2026-01-10T00:00:00Z&to=2026-01-12T00:00:00Z", nil, http.StatusOK, &winter)
		if len(winter.Gaps) != 0 || len(winter.Overlaps) != 0 {
			t.Errorf("winter: gaps %+v overlaps %+v, want none", winter.Gaps, winter.Overlaps)
		}
		s.mustDo("GET", "/api/v1/gaps?level=L2&from=2026-07-01T00:00:00Z&to=2026-07-02T00:00:00Z", nil, http.StatusOK, &summerL2)
		if len(summerL2.Gaps) != 0 || len(summerL2.Overlaps) != 0 {
			t.Errorf("complement in Moscow time, summer: gaps %+v overlaps %+v, want none", summerL2.Gaps, summerL2.Overlaps)
		}
		s.mustDo("GET", "/api/v1/gaps?level=L1&from=2026-07-01T00:00:00Z&to=2026-07-02T00:00:00Z", nil, http.StatusOK, &summer)
		// 01:00 EDT is 05:00Z (08:00 Moscow): nobody until 09:00 Moscow.
		// 13:00 EDT is 17:00Z (20:00 Moscow): both until 21:00 Moscow.
		if len(summer.Gaps) != 1 || summer.Gaps[0].Level != "L1" ||
			!summer.Gaps[0].Start.Equal(mustTime(t, "2026-07-01T05:00:00Z")) || !summer.Gaps[0].End.Equal(mustTime(t, "2026-07-01T06:00:00Z")) {
			t.Errorf("summer gaps %+v, want L1 05:00Z–06:00Z only", summer.Gaps)
		}
		if len(summer.Overlaps) != 1 || summer.Overlaps[0].Level != "L1" ||
			!summer.Overlaps[0].Start.Equal(mustTime(t, "2026-07-01T17:00:00Z")) || !summer.Overlaps[0].End.Equal(mustTime(t, "2026-07-01T18:00:00Z")) {
			t.Errorf("summer overlaps %+v, want L1 17:00Z–18:00Z only", summer.Overlaps)
		}
		// In the overlap the older rotation (Moscow day) wins.
		if who, _, _ := s.onCall("L1", mustTime(t, "2026-07-01T17:30:00Z")); who != m {
			t.Errorf("in the overlap engineer %d is on call, want Masha (%d)", who, m)
		}
		if who, _, _ := s.onCall("L1", mustTime(t, "2026-07-01T05:30:00Z")); who != 0 {
			t.Errorf("in the gap engineer %d is on call, want nobody", who)
		}
	})
}

// TestOverridesAndEdits: overrides win and cannot overlap; an edit takes
// effect from its instant and never rewrites the past; ending a rotation
// keeps its history; an engineer in use cannot be deleted.
func TestOverridesAndEdits(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-10T12:00:00Z"))
		a := s.engineer("Anna", "L1", "+12025550101")
		b := s.engineer("Bill", "L1", "+12025550102")
		c := s.engineer("Cleo", "L2", "+12025550103")
		var rot struct {
			ID      int64 `json:"id"`
			Version int   `json:"version"`
		}
		body := map[string]any{"name": "L1 weekly", "level": "L1", "time_zone": "Europe/Moscow", "handoff": "10:00",
			"shift_length": map[string]int{"days": 7}, "start": "2026-06-01", "participants": []int64{a, b},
			"effective_from": "2026-06-01T00:00:00Z"}
		s.mustDo("POST", "/api/v1/rotations", body, http.StatusCreated, &rot)

		if who, _, _ := s.onCall("L1", mustTime(t, "2026-06-10T12:00:00Z")); who != b {
			t.Fatalf("week 2: engineer %d, want Bill", who)
		}
		var ov struct {
			ID int64 `json:"id"`
		}
		s.mustDo("POST", "/api/v1/overrides", map[string]any{"level": "L1", "engineer_id": c,
			"start": "2026-06-11T09:00:00+03:00", "end": "2026-06-11T18:00:00+03:00", "reason": "Bill at the dentist"}, http.StatusCreated, &ov)
		who, start, end := s.onCall("L1", mustTime(t, "2026-06-11T10:00:00Z"))
		if who != c || !start.Equal(mustTime(t, "2026-06-11T06:00:00Z")) || !end.Equal(mustTime(t, "2026-06-11T15:00:00Z")) {
			t.Errorf("during override: engineer %d %s–%s, want Cleo 06:00Z–15:00Z", who, start, end)
		}
		if who, _, _ := s.onCall("L1", mustTime(t, "2026-06-11T15:00:00Z")); who != b {
			t.Errorf("after override: engineer %d, want Bill back", who)
		}
		t.Run("ErrOverlappingOverride", func(t *testing.T) {
			s.do("POST", "/api/v1/overrides", s.admin, map[string]any{"level": "L1", "engineer_id": a,
				"start": "2026-06-11T17:00:00+03:00", "end": "2026-06-11T20:00:00+03:00"}).
				wantError(t, http.StatusBadRequest, "invalid", "start")
			// Another layer is another matter.
			s.mustDo("POST", "/api/v1/overrides", map[string]any{"level": "L1", "layer": "secondary", "engineer_id": a,
				"start": "2026-06-11T17:00:00+03:00", "end": "2026-06-11T20:00:00+03:00"}, http.StatusCreated, nil)
		})

		t.Run("EditNeverRewritesThePast", func(t *testing.T) {
			body["participants"] = []int64{c, a}
			body["effective_from"] = "2026-06-20T00:00:00Z"
			var v2 struct {
				Version int `json:"version"`
			}
			s.mustDo("PUT", "/api/v1/rotations/"+id(rot.ID), body, http.StatusOK, &v2)
			if v2.Version != 2 {
				t.Errorf("version %d, want 2", v2.Version)
			}
			if who, _, _ := s.onCall("L1", mustTime(t, "2026-06-10T12:00:00Z")); who != b {
				t.Errorf("before the edit: engineer %d, want Bill still", who)
			}
			if who, _, _ := s.onCall("L1", mustTime(t, "2026-06-20T12:00:00Z")); who != c {
				t.Errorf("after the edit: engineer %d, want Cleo", who)
			}
			body["effective_from"] = "2026-06-01T00:00:00Z"
			s.do("PUT", "/api/v1/rotations/"+id(rot.ID), s.admin, body).wantError(t, http.StatusBadRequest, "invalid", "effective_from")
		})

		t.Run("ErrDeleteEngineerInUse", func(t *testing.T) {
			s.do("DELETE", "/api/v1/engineers/"+id(b), s.admin, nil).wantError(t, http.StatusConflict, "conflict", "")
		})

		t.Run("EndRotationKeepsHistory", func(t *testing.T) {
			s.mustDo("DELETE", "/api/v1/rotations/"+id(rot.ID)+"?at=2026-07-01T00:00:00Z", nil, http.StatusNoContent, nil)
			if who, _, _ := s.onCall("L1", mustTime(t, "2026-07-02T12:00:00Z")); who != 0 {
				t.Errorf("after the end: engineer %d, want nobody", who)
			}
			if who, _, _ := s.onCall("L1", mustTime(t, "2026-06-10T12:00:00Z")); who != b {
				t.Errorf("history: engineer %d, want Bill", who)
			}
		})

		t.Run("StartedOverrideIsHistory", func(t *testing.T) {
			s.clock.Set(mustTime(t, "2026-06-11T10:00:00Z"))
			s.do("DELETE", "/api/v1/overrides/"+id(ov.ID), s.admin, nil).wantError(t, http.StatusConflict, "conflict", "")
		})

		t.Run("AuditSaysWhoWhenWhat", func(t *testing.T) {
			var out struct {
				Entries []struct {
					Actor    string          `json:"actor"`
					Action   string          `json:"action"`
					Entity   string          `json:"entity"`
					EntityID string          `json:"entity_id"`
					At       time.Time       `json:"at"`
					Before   json.RawMessage `json:"before"`
					After    json.RawMessage `json:"after"`
				} `json:"entries"`
			}
			s.mustDo("GET", "/api/v1/audit?entity=rotation&entity_id="+id(rot.ID), nil, http.StatusOK, &out)
			if len(out.Entries) != 3 {
				t.Fatalf("%d rotation entries, want create, update, end: %+v", len(out.Entries), out.Entries)
			}
			upd := out.Entries[1]
			if upd.Action != "update" || upd.Actor != "token:1 (test admin)" || len(upd.Before) == 0 || len(upd.After) == 0 || upd.At.IsZero() {
				t.Errorf("update entry %+v, want actor, time, before and after", upd)
			}
			if out.Entries[2].Action != "create" {
				t.Errorf("oldest entry %q, want create", out.Entries[2].Action)
			}
		})
	})
}

func TestPolicies(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-10T12:00:00Z"))
		type policyJSON struct {
			Priority string `json:"priority"`
			Deadline string `json:"deadline"`
			Steps    []struct {
				Level    string   `json:"level"`
				Channels []string `json:"channels"`
				Delay    string   `json:"delay"`
			} `json:"steps"`
		}
		var crit policyJSON
		s.mustDo("GET", "/api/v1/policies/critical", nil, http.StatusOK, &crit)
		if crit.Deadline != "1h0m0s" || len(crit.Steps) != 3 || crit.Steps[2].Level != "L3" || crit.Steps[0].Delay != "15m0s" {
			t.Errorf("default critical policy %+v, want L1→L2→L3 every 15m within 1h", crit)
		}
		var low policyJSON
		s.mustDo("GET", "/api/v1/policies/low", nil, http.StatusOK, &low)
		if low.Deadline != "24h0m0s" || low.Steps[0].Delay != "6h0m0s" {
			t.Errorf("default low policy %+v, want 6h steps within 24h", low)
		}
		var put policyJSON
		s.mustDo("PUT", "/api/v1/policies/critical", map[string]any{"steps": []map[string]any{
			{"level": "L2", "channels": []string{"voice", "sms"}, "delay": "10m"},
			{"level": "L3", "channels": []string{"voice"}, "delay": "20m"},
		}}, http.StatusOK, &put)
		s.mustDo("GET", "/api/v1/policies/critical", nil, http.StatusOK, &crit)
		if len(crit.Steps) != 2 || crit.Steps[0].Level != "L2" || crit.Steps[1].Delay != "20m0s" {
			t.Errorf("stored policy %+v, want the two steps put", crit)
		}
	})
}
