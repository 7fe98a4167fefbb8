package admin_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/store/storetest"
)

// TestAdminGivenTime: a time that is given is read as given, even the zero
// instant 0001-01-01T00:00:00Z, which Go's time.Time also uses for "none":
// it is refused as a time no schedule has, never taken for "now" or
// "missing".
func TestAdminGivenTime(t *testing.T) {
	db := storetest.OpenSQLite(t)
	s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
	a := s.engineer("Anna", "L1", "+12025550101")
	rotation := map[string]any{"name": "L1 day", "level": "L1", "time_zone": "Europe/Moscow", "handoff": "09:00",
		"shift_length": map[string]int{"days": 1}, "start": "2026-06-01", "participants": []int64{a}}
	var rot struct {
		ID int64 `json:"id"`
	}
	s.mustDo("POST", "/api/v1/rotations", rotation, http.StatusCreated, &rot)
	const zero = "0001-01-01T00:00:00Z"

	for _, c := range []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"EndRotationAt", "DELETE", "/api/v1/rotations/" + strconv.FormatInt(rot.ID, 10) + "?at=" + zero, nil, "at"},
		{"EndRotationAtEmpty", "DELETE", "/api/v1/rotations/" + strconv.FormatInt(rot.ID, 10) + "?at=", nil, "at"},
		{"OverrideStart", "POST", "/api/v1/overrides", map[string]any{"level": "L1", "engineer_id": a,
			"start": zero, "end": "2026-06-02T08:00:00Z"}, "start"},
		{"OverrideEnd", "POST", "/api/v1/overrides", map[string]any{"level": "L1", "engineer_id": a,
			"start": "2026-06-02T08:00:00Z", "end": zero}, "end"},
		{"RotationEffectiveFrom", "POST", "/api/v1/rotations", func() map[string]any {
			m := map[string]any{}
			for k, v := range rotation {
				m[k] = v
			}
			m["effective_from"] = zero
			return m
		}(), "effective_from"},
		{"OnCallAt", "GET", "/api/v1/oncall?at=" + zero, nil, "at"},
		{"CallsBefore", "GET", "/api/v1/calls?before=" + zero, nil, "before"},
		{"ShiftsFrom", "GET", "/api/v1/shifts?from=" + zero, nil, "from"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := s.auditCount()
			e := s.do(c.method, c.path, s.admin, c.body).wantError(t, http.StatusBadRequest, "invalid", c.field)
			if strings.Contains(e.Error.Message, "required") {
				t.Errorf("message %q: the time was given", e.Error.Message)
			}
			if got := s.auditCount(); got != before {
				t.Errorf("audit entries %d → %d: the request changed something", before, got)
			}
		})
	}
	// The rotation is still running: ?at=0001-… did not end it now.
	var got struct {
		EffectiveTo *string `json:"effective_to"`
	}
	s.mustDo("GET", "/api/v1/rotations/"+strconv.FormatInt(rot.ID, 10), nil, http.StatusOK, &got)
	if got.EffectiveTo != nil {
		t.Errorf("rotation ends at %s after refused requests", *got.EffectiveTo)
	}
}
