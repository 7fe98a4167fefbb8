package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeCalendarFeed: serve mounts the calendar feeds; a feed URL the API
// hands out answers with the level's shifts, without a bearer token.
func TestServeCalendarFeed(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "ivr.db"), "--demo")
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/calendar-feeds", strings.NewReader(`{"kind":"level","level":"L1"}`))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		URL string `json:"url"`
	}
	err = json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusCreated || !strings.HasPrefix(created.URL, base+"/calendar/") {
		t.Fatalf("create a feed: %d %+v %v", res.StatusCode, created, err)
	}
	res, err = http.Get(created.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" ||
		!strings.Contains(string(body), "SUMMARY:L1 primary: ") {
		t.Fatalf("GET the feed: %d %q %.200s %v", res.StatusCode, res.Header.Get("Content-Type"), body, err)
	}
	if code := get(t, base+"/calendar/cal_unknown.ics", "", nil); code != http.StatusNotFound {
		t.Errorf("an unknown feed: %d, want 404", code)
	}
}
