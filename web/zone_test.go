package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/supportdesk/ivr/oncall"
)

// Times are shown in the zone chosen on the page, else the browser's (its
// script's cookie), else the engineer's own, else UTC; a zone that does
// not load is passed over.
func TestZoneOf(t *testing.T) {
	s := &Server{}
	moscow := viewer{Engineer: oncall.Engineer{TimeZone: "Europe/Moscow"}}
	for _, tc := range []struct {
		name    string
		cookies map[string]string
		v       viewer
		want    string
		chosen  bool
	}{
		{"chosen", map[string]string{zoneCookie: "America/New_York", browserZoneCookie: "Asia/Tokyo"}, moscow, "America/New_York", true},
		{"browser", map[string]string{browserZoneCookie: "Asia%2FTokyo"}, moscow, "Asia/Tokyo", false},
		{"engineer", nil, moscow, "Europe/Moscow", false},
		{"bad cookies", map[string]string{zoneCookie: "Mars/Base", browserZoneCookie: "Local"}, moscow, "Europe/Moscow", false},
		{"admin", nil, viewer{}, "UTC", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for k, v := range tc.cookies {
			r.AddCookie(&http.Cookie{Name: k, Value: v, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		loc, chosen := s.zoneOf(r, tc.v)
		if loc.String() != tc.want || chosen != tc.chosen {
			t.Errorf("%s: %s (chosen %v), want %s (%v)", tc.name, loc, chosen, tc.want, tc.chosen)
		}
	}
}
