package pager

import (
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// ParseWakingHours reads a range of hours of the day such as
// "08:00-22:00" (it may span midnight: "22:00-06:00").
func ParseWakingHours(s string) (WakingHours, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return WakingHours{}, fmt.Errorf("%q is not a range of hours such as 08:00-22:00", s)
	}
	clock := func(v string) (time.Duration, error) {
		t, err := time.Parse("15:04", strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not a time of day such as 08:00", v)
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
	}
	a, err := clock(from)
	if err != nil {
		return WakingHours{}, err
	}
	b, err := clock(to)
	if err != nil {
		return WakingHours{}, err
	}
	if a == b {
		return WakingHours{}, fmt.Errorf("%q is empty: the start and the end are the same", s)
	}
	return WakingHours{Start: a, End: b}, nil
}

// ParseQuiet reads which priorities page by text only outside the waking
// hours w: a comma-separated list of priorities, or "none" (or nothing).
// Critical and urgent pages must always be able to wake an engineer, so
// naming them is an error.
func ParseQuiet(list string, w WakingHours) (map[oncall.Priority]WakingHours, error) {
	if list == "none" || list == "" {
		return nil, nil
	}
	out := map[oncall.Priority]WakingHours{}
	for _, s := range strings.Split(list, ",") {
		p, err := oncall.ParsePriority(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a priority (critical, urgent, normal, low) or none", s)
		}
		if p == oncall.Critical || p == oncall.Urgent {
			return nil, fmt.Errorf("%s pages must be able to wake an engineer", p)
		}
		out[p] = w
	}
	return out, nil
}
