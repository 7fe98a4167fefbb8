package admin

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestAdminFieldPaths: the walk names the same first misfit as encoding/json,
// with its whole path, for every shape of input type the API decodes.
func TestAdminFieldPaths(t *testing.T) {
	type inner struct {
		Phone string `json:"phone"`
		SMS   bool   `json:"sms"`
	}
	type Embedded struct {
		Note string `json:"note"`
	}
	type outer struct {
		Embedded
		Name     string           `json:"name"`
		ID       *int64           `json:"id"`
		Ratio    float64          `json:"ratio"`
		Contacts []inner          `json:"contacts"`
		Grid     [][]int          `json:"grid"`
		ByName   map[string]inner `json:"by_name"`
		Raw      json.RawMessage  `json:"raw"`
		Any      any              `json:"any"`
		Skipped  string           `json:"-"`
		Untagged int
	}
	for _, c := range []struct {
		body, path, msg string
	}{
		{`{"contacts": [{"phone": "+1"}, {"phone": 12}]}`, "contacts[1].phone", "must be a JSON string, not number"},
		{`{"contacts": [{"phone": "+1", "zzz": 1}]}`, "contacts[0].zzz", "is not a known field"},
		{`{"grid": [[1, 2], [3, "x"]]}`, "grid[1][1]", "must be a JSON whole number, not string"},
		{`{"grid": [[1, 2.5]]}`, "grid[0][1]", "must be a JSON whole number, not number 2.5"},
		{`{"id": 99999999999999999999}`, "id", "must be a JSON whole number, not number 99999999999999999999"},
		{`{"by_name": {"anna": {"sms": "yes"}}}`, "by_name.anna.sms", "must be a JSON boolean, not string"},
		{`{"Contacts": [{"PHONE": true}]}`, "contacts[0].phone", "must be a JSON string, not boolean"},
		{`{"note": 1}`, "note", "must be a JSON string, not number"},
		{`{"Untagged": "x"}`, "Untagged", "must be a JSON whole number, not string"},
		{`{"Skipped": "x"}`, "Skipped", "is not a known field"},
		{`{"name": {"first": "Anna"}}`, "name", "must be a JSON string, not object"},
		{`{"contacts": {"phone": "+1"}}`, "contacts", "must be a JSON array, not object"},
		{`{"raw": {"zzz": [1]}, "any": {"zzz": 1}, "ratio": 1.5, "contacts": null, "name": "x", "zzz": 1}`, "zzz", "is not a known field"},
		{`{"contacts": [{"phone": 1}], "zzz": 1}`, "contacts[0].phone", "must be a JSON string, not number"}, // the first in document order
		{`[]`, "", "must be a JSON object, not array"},
	} {
		t.Run(c.body, func(t *testing.T) {
			var v outer
			dec := json.NewDecoder(strings.NewReader(c.body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err == nil {
				t.Fatalf("encoding/json accepts %s", c.body)
			}
			m, ok := findMisfit([]byte(c.body), reflect.TypeOf(&v))
			if !ok {
				t.Fatalf("no misfit found in %s", c.body)
			}
			if m.path != c.path || !strings.Contains(m.err().Error(), c.msg) {
				t.Errorf("misfit %q: %v; want %q: %s", m.path, m.err(), c.path, c.msg)
			}
		})
	}
	t.Run("Fits", func(t *testing.T) {
		body := `{"name": "x", "id": 3, "ratio": 2, "contacts": [{"phone": "+1", "sms": true}], "grid": [[1]], "by_name": {"a": {}}, "raw": [1, {"a": 2}], "any": "x", "note": "n", "Untagged": 1}`
		var v outer
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if m, ok := findMisfit([]byte(body), reflect.TypeOf(&v)); ok {
			t.Errorf("misfit %+v in a body that fits", m)
		}
	})
}
