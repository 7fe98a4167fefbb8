package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesServiceNumbersForEngineers: serve tells the on-call
// service its own numbers (the lines, the pager's caller id), and an
// engineer given one is refused: a page to them would call the IVR.
func TestServeRefusesServiceNumbersForEngineers(t *testing.T) {
	base := startServeEnv(t, map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_PAGER_CALLER_ID": "+12025550199"})
	rig := &pagerRig{t: t, base: base}
	for _, phone := range []string{"+12025952118", "+74996383867", "+12025550199"} {
		var out struct {
			Error struct {
				Field, Message string
			} `json:"error"`
		}
		code := rig.post("/api/v1/engineers", map[string]any{"name": "Eve", "level": "L1", "languages": []string{"en"},
			"time_zone": "America/New_York", "contacts": []map[string]any{{"phone": phone}}}, &out)
		if code != 400 || out.Error.Field != "contacts[0].phone" || !strings.Contains(out.Error.Message, "number of this service") {
			t.Errorf("engineer on %s: %d %+v, want 400 naming contacts[0].phone as the service's own", phone, code, out.Error)
		}
	}
}
