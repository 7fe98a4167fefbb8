package pager

import (
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

func TestParseWakingHours(t *testing.T) {
	for in, want := range map[string]WakingHours{
		"08:00-22:00":   {Start: 8 * time.Hour, End: 22 * time.Hour},
		" 22:30 - 6:15": {Start: 22*time.Hour + 30*time.Minute, End: 6*time.Hour + 15*time.Minute},
	} {
		if got, err := ParseWakingHours(in); err != nil || got != want {
			t.Errorf("ParseWakingHours(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, says := range map[string]string{"8-22": "not a time of day", "08:00": "not a range", "09:00-09:00": "empty", "25:00-06:00": "not a time of day"} {
		if _, err := ParseWakingHours(in); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseWakingHours(%q): %v, want it to say %q", in, err, says)
		}
	}
}

func TestParseQuiet(t *testing.T) {
	w := WakingHours{Start: 8 * time.Hour, End: 22 * time.Hour}
	got, err := ParseQuiet("normal,low", w)
	if err != nil || len(got) != 2 || got[oncall.Normal] != w || got[oncall.Low] != w {
		t.Fatalf("ParseQuiet(normal,low) = %v, %v", got, err)
	}
	if got, err := ParseQuiet("none", w); err != nil || got != nil {
		t.Fatalf("ParseQuiet(none) = %v, %v; want nothing quiet", got, err)
	}
	for in, says := range map[string]string{"urgent": "must be able to wake", "critical,low": "must be able to wake", "soon": "not a priority"} {
		if _, err := ParseQuiet(in, w); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseQuiet(%q): %v, want it to say %q", in, err, says)
		}
	}
}
