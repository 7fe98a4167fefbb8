package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// TestEmptyLists: on an empty store every list comes back as [], never
// null, so that a client can iterate without a check.
func TestEmptyLists(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
		for _, c := range []struct {
			path  string
			lists []string
		}{
			{"/api/v1/engineers", []string{"engineers"}},
			{"/api/v1/rotations", []string{"rotations"}},
			{"/api/v1/overrides", []string{"overrides"}},
			{"/api/v1/shifts", []string{"shifts"}},
			{"/api/v1/gaps?level=L1", []string{"gaps", "overlaps"}},
			{"/api/v1/policies", []string{"policies"}},
			{"/api/v1/tokens", []string{"tokens"}},
			{"/api/v1/audit?entity=engineer", []string{"entries"}},
			{"/api/v1/tickets", []string{"tickets"}},
			{"/api/v1/calls", []string{"calls"}},
			{"/api/v1/pages", []string{"pages"}},
		} {
			t.Run(c.path, func(t *testing.T) {
				var body map[string]json.RawMessage
				s.mustDo("GET", c.path, nil, http.StatusOK, &body)
				for _, key := range c.lists {
					if v, ok := body[key]; !ok || v[0] != '[' {
						t.Errorf("%q: %s, want a list", key, v)
					}
				}
				for _, p := range nulls("", body) {
					t.Errorf("%s is null", p)
				}
			})
		}
		// A new ticket (no notes yet) and a new page (nobody on call).
		var tk struct {
			ID string `json:"id"`
		}
		s.mustDo("POST", "/api/v1/tickets", map[string]any{"subject": "disk full", "priority": "low"}, http.StatusCreated, &tk)
		var pg struct {
			ID int64 `json:"id"`
		}
		s.mustDo("POST", "/api/v1/pages", map[string]any{"level": "L1", "priority": "low", "summary": "check the disk"}, http.StatusCreated, &pg)
		for _, path := range []string{"/api/v1/tickets/" + tk.ID, fmt.Sprintf("/api/v1/pages/%d", pg.ID)} {
			var body map[string]json.RawMessage
			s.mustDo("GET", path, nil, http.StatusOK, &body)
			for _, p := range nulls("", body) {
				t.Errorf("%s: %s is null", path, p)
			}
		}
	})
}

// nulls lists the paths of the null lists in a JSON object: members that
// are null and hold lists when they are not empty.
func nulls(path string, obj map[string]json.RawMessage) []string {
	var out []string
	for k, v := range obj {
		p := path + "." + k
		switch {
		case string(v) == "null" && listKeys[k]:
			out = append(out, p)
		case len(v) > 0 && v[0] == '{':
			var inner map[string]json.RawMessage
			if json.Unmarshal(v, &inner) == nil {
				out = append(out, nulls(p, inner)...)
			}
		case len(v) > 0 && v[0] == '[':
			var items []json.RawMessage
			if json.Unmarshal(v, &items) == nil {
				for i, it := range items {
					var inner map[string]json.RawMessage
					if json.Unmarshal(it, &inner) == nil {
						out = append(out, nulls(fmt.Sprintf("%s[%d]", p, i), inner)...)
					}
				}
			}
		}
	}
	return out
}

// listKeys are the members the API's types hold lists in.
var listKeys = map[string]bool{
	"attempts": true, "calls": true, "channels": true, "contacts": true, "digests": true,
	"engineers": true, "entries": true, "gaps": true, "grid": true, "languages": true, "log": true,
	"notes": true, "oncall": true, "overlaps": true, "overrides": true, "paged": true, "pages": true,
	"participants": true, "phones": true, "plan": true, "policies": true, "rang": true,
	"restrictions": true, "rotation_ids": true, "rotations": true, "shifts": true,
	"sms_opted_out": true, "steps": true, "tickets": true, "tokens": true, "tried": true,
	"versions": true, "weekdays": true,
}
