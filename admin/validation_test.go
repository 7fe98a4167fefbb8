package admin_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// TestBadInput sends every kind of bad input and checks that the answer is
// a 400 naming the field, and that nothing was written.
func TestBadInput(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
		a := s.engineer("Anna", "L1", "+12025550101")
		b := s.engineer("Boris", "L1", "+12025550102")

		engineer := func(mod func(m map[string]any)) map[string]any {
			m := map[string]any{"name": "Eve", "level": "L2", "languages": []string{"en"}, "time_zone": "America/New_York",
				"contacts": []map[string]any{{"phone": "+12025550111"}}}
			mod(m)
			return m
		}
		rotation := func(mod func(m map[string]any)) map[string]any {
			m := map[string]any{"name": "L1 day", "level": "L1", "time_zone": "Europe/Moscow", "handoff": "09:00",
				"shift_length": map[string]int{"days": 1}, "start": "2026-06-01", "participants": []int64{a, b}}
			mod(m)
			return m
		}
		cases := []struct {
			name, method, path string
			body               any
			field              string
		}{
			{"EngineerUnknownZone", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["time_zone"] = "Mars/Olympus" }), "time_zone"},
			{"EngineerPhoneNotANumber", "POST", "/api/v1/engineers", engineer(func(m map[string]any) {
				m["contacts"] = []map[string]any{{"phone": "+12025550111"}, {"phone": "call me maybe"}}
			}), "contacts[1].phone"},
			{"EngineerPhoneNotInternational", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["contacts"] = []map[string]any{{"phone": "202 555 0111"}} }), "contacts[0].phone"},
			{"EngineerNoName", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["name"] = "  " }), "name"},
			{"EngineerNameNUL", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["name"] = "Eve\x00" }), "name"},
			{"EngineerNameESC", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["name"] = "Eve \x1b[2J" }), "name"},
			{"EngineerNameBidiOverride", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["name"] = "Eve \u202egnp.exe" }), "name"},
			{"RotationNameLineBreak", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["name"] = "L1\nday" }), "name"},
			{"TokenNameControl", "POST", "/api/v1/tokens", map[string]any{"name": "ops\x07", "role": "admin"}, "name"},
			{"TokenNameBootstrap", "POST", "/api/v1/tokens", map[string]any{"name": "bootstrap (IVR_ADMIN_TOKEN …a1b2c3)", "role": "admin"}, "name"},
			{"EngineerBadLevel", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["level"] = "L4" }), "level"},
			{"EngineerLevelWrongType", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["level"] = 2 }), "level"},
			{"EngineerBadLanguage", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["languages"] = []string{"en", "de"} }), "languages[1]"},
			{"EngineerUnknownField", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["email"] = "x@y" }), "email"},
			{"EngineerPhoneWrongType", "POST", "/api/v1/engineers", engineer(func(m map[string]any) {
				m["contacts"] = []map[string]any{{"phone": "+12025550111"}, {"phone": 12025550112}}
			}), "contacts[1].phone"},
			{"EngineerContactUnknownField", "POST", "/api/v1/engineers", engineer(func(m map[string]any) {
				m["contacts"] = []map[string]any{{"phone": "+12025550111"}, {"phone": "+12025550112", "whatsapp": true}}
			}), "contacts[1].whatsapp"},
			{"EngineerLanguageWrongType", "POST", "/api/v1/engineers", engineer(func(m map[string]any) { m["languages"] = []any{"en", 7} }), "languages[1]"},
			{"ContactsWrongType", "PUT", "/api/v1/engineers/1/contacts", map[string]any{"contacts": []any{map[string]any{"phone": "+12025550111", "sms": "yes"}}}, "contacts[0].sms"},
			{"RotationRestrictionUnknownField", "POST", "/api/v1/rotations", rotation(func(m map[string]any) {
				m["restrictions"] = []map[string]any{{"start": "09:00", "end": "21:00", "zzz": 1}}
			}), "restrictions[0].zzz"},
			{"RotationShiftDaysWrongType", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["shift_length"] = map[string]any{"days": "1"} }), "shift_length.days"},
			{"RotationParticipantWrongType", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["participants"] = []any{a, "Boris"} }), "participants[1]"},
			{"RotationParticipantFraction", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["participants"] = []any{a, 1.5} }), "participants[1]"},
			{"PolicyChannelWrongType", "PUT", "/api/v1/policies/urgent", map[string]any{"steps": []map[string]any{
				{"level": "L1", "channels": []any{"voice", 2}, "delay": "30m"},
			}}, "steps[0].channels[1]"},
			{"OverrideStartWrongType", "POST", "/api/v1/overrides", map[string]any{"level": "L1", "engineer_id": a,
				"start": 1780000000, "end": "2026-06-02T08:00:00Z"}, "start"},
			{"RotationUnknownZone", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["time_zone"] = "Europe/Atlantis" }), "time_zone"},
			{"RotationMalformedHandoff", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["handoff"] = "25:00" }), "handoff"},
			{"RotationHandoffNotClock", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["handoff"] = "9am" }), "handoff"},
			{"RotationUnknownEngineer", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["participants"] = []int64{a, 4242} }), "participants[1]"},
			{"RotationNoParticipants", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["participants"] = []int64{} }), "participants"},
			{"RotationDaysAndHours", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["shift_length"] = map[string]int{"days": 1, "hours": 12} }), "shift_length"},
			{"RotationBadStart", "POST", "/api/v1/rotations", rotation(func(m map[string]any) { m["start"] = "2026-02-30" }), "start"},
			{"RotationBadRestriction", "POST", "/api/v1/rotations", rotation(func(m map[string]any) {
				m["restrictions"] = []map[string]any{{"start": "09:00", "end": "21:00"}, {"start": "21:00", "end": "9"}}
			}), "restrictions[1].end"},
			{"RotationBadWeekday", "POST", "/api/v1/rotations", rotation(func(m map[string]any) {
				m["restrictions"] = []map[string]any{{"weekdays": []string{"mon", "funday"}, "start": "09:00", "end": "21:00"}}
			}), "restrictions[0].weekdays[1]"},
			{"OverrideUnknownEngineer", "POST", "/api/v1/overrides", map[string]any{"level": "L1", "engineer_id": 4242,
				"start": "2026-06-02T09:00:00Z", "end": "2026-06-02T18:00:00Z"}, "engineer_id"},
			{"OverrideEndBeforeStart", "POST", "/api/v1/overrides", map[string]any{"level": "L1", "engineer_id": a,
				"start": "2026-06-02T09:00:00Z", "end": "2026-06-02T08:00:00Z"}, "end"},
			{"OverrideBadTime", "POST", "/api/v1/overrides", map[string]any{"level": "L1", "engineer_id": a,
				"start": "tomorrow", "end": "2026-06-02T08:00:00Z"}, "start"},
			{"OverrideInThePast", "POST", "/api/v1/overrides", map[string]any{"level": "L1", "engineer_id": a,
				"start": "2026-05-01T09:00:00Z", "end": "2026-05-02T08:00:00Z"}, "end"},
			{"PolicyTooSlow", "PUT", "/api/v1/policies/critical", map[string]any{"steps": []map[string]any{
				{"level": "L1", "channels": []string{"voice", "sms"}, "delay": "30m"},
				{"level": "L2", "channels": []string{"voice"}, "delay": "45m"},
			}}, "steps"},
			{"PolicyBadChannel", "PUT", "/api/v1/policies/urgent", map[string]any{"steps": []map[string]any{
				{"level": "L1", "channels": []string{"pigeon"}, "delay": "30m"},
			}}, "steps[0].channels[0]"},
			{"PolicyBadDelay", "PUT", "/api/v1/policies/urgent", map[string]any{"steps": []map[string]any{
				{"level": "L1", "channels": []string{"voice"}, "delay": "soon"},
			}}, "steps[0].delay"},
			{"PolicyUnknownPriority", "PUT", "/api/v1/policies/whenever", map[string]any{"steps": []map[string]any{}}, "priority"},
			{"OnCallBadLevel", "GET", "/api/v1/oncall?level=L9", nil, "level"},
			{"OnCallBadTime", "GET", "/api/v1/oncall?at=yesterday", nil, "at"},
			{"ShiftsWindowTooLong", "GET", "/api/v1/shifts?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z", nil, "to"},
			{"GapsReversedWindow", "GET", "/api/v1/gaps?from=2026-07-01T00:00:00Z&to=2026-06-01T00:00:00Z", nil, "to"},
			{"NotJSON", "POST", "/api/v1/engineers", `{"name": "Eve",`, ""},
			{"EmptyBody", "POST", "/api/v1/engineers", "", ""},
			{"TwoValues", "POST", "/api/v1/engineers", `{} {}`, ""},
			{"BadID", "GET", "/api/v1/engineers/abc", nil, "id"},
		}
		before := s.auditCount()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := s.do(c.method, c.path, s.admin, c.body)
				e := r.wantError(t, http.StatusBadRequest, "invalid", c.field)
				if strings.Contains(strings.ToLower(e.Error.Message), "internal") {
					t.Errorf("message %q looks internal", e.Error.Message)
				}
			})
		}
		t.Run("NothingWritten", func(t *testing.T) {
			if got := s.auditCount(); got != before {
				t.Errorf("audit entries %d → %d after refused requests", before, got)
			}
			var list struct {
				Engineers []engineerJSON `json:"engineers"`
			}
			s.mustDo("GET", "/api/v1/engineers", nil, http.StatusOK, &list)
			if len(list.Engineers) != 2 {
				t.Errorf("%d engineers, want the 2 created", len(list.Engineers))
			}
			var rots struct {
				Rotations []any `json:"rotations"`
			}
			s.mustDo("GET", "/api/v1/rotations", nil, http.StatusOK, &rots)
			if len(rots.Rotations) != 0 {
				t.Errorf("%d rotations after refused creates", len(rots.Rotations))
			}
		})
		t.Run("ErrOversizedBody", func(t *testing.T) {
			huge := `{"name": "` + strings.Repeat("x", 2<<20) + `"}`
			s.do("POST", "/api/v1/engineers", s.admin, huge).wantError(t, http.StatusBadRequest, "invalid", "")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s.do("GET", "/api/v1/engineers/999", s.admin, nil).wantError(t, http.StatusNotFound, "not_found", "")
			s.do("GET", "/api/v1/rotations/999", s.admin, nil).wantError(t, http.StatusNotFound, "not_found", "")
			s.do("DELETE", "/api/v1/overrides/999", s.admin, nil).wantError(t, http.StatusNotFound, "not_found", "")
			s.do("GET", "/api/v1/nothing", s.admin, nil).wantError(t, http.StatusNotFound, "not_found", "")
		})
		t.Run("ErrMethod", func(t *testing.T) {
			s.do("PATCH", "/api/v1/engineers", s.admin, nil).wantError(t, http.StatusMethodNotAllowed, "invalid", "")
		})
	})
}

// TestEngineerContactNumbers: a contact number the pager cannot use as
// given is refused, saying why: the service's own line (a page would call
// the service), a premium-rate number (every page costs by the minute: the
// toll-fraud route), and a number with an extension (a page cannot dial
// it, and it used to be dropped without a word).
func TestEngineerContactNumbers(t *testing.T) {
	db := storetest.OpenSQLite(t)
	s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
	anna := s.engineer("Anna", "L1", "+12025550101")
	for _, c := range []struct {
		name, phone string
		want        []string
	}{
		{"ServiceLine", "+1 (202) 595-2118", []string{"+12025952118", "the Washington line", "would call the service"}},
		{"PremiumRate", "+1 900 555 1234", []string{"premium-rate"}},
		{"PremiumRateRussia", "+7 809 123 45 67", []string{"premium-rate"}},
		{"Extension", "+1 202 555 0101 ext. 12", []string{"extension 12", "cannot dial"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			contacts := []map[string]any{{"phone": "+12025550102"}, {"phone": c.phone}}
			body := map[string]any{"name": "Eve", "level": "L2", "languages": []string{"en"}, "time_zone": "America/New_York", "contacts": contacts}
			for _, r := range []response{
				s.do("POST", "/api/v1/engineers", s.admin, body),
				s.do("PUT", "/api/v1/engineers/"+strconv.FormatInt(anna, 10)+"/contacts", s.admin, map[string]any{"contacts": contacts}),
			} {
				e := r.wantError(t, http.StatusBadRequest, "invalid", "contacts[1].phone")
				for _, w := range c.want {
					if !strings.Contains(e.Error.Message, w) {
						t.Errorf("message %q does not say %q", e.Error.Message, w)
					}
				}
			}
		})
	}
}
