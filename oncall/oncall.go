// Package oncall owns who is reached when support is needed: engineers and
// their support levels, rotations, overrides, escalation policies, and the
// schedule computed from them ("who is on call at level L at time T").
// It is a domain package: it imports no transport, provider or database
// package; stores and the admin API depend on it, never the other way round.
package oncall

import (
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
)

// Level is a support level. L1 solves common problems with known recipes, L2
// takes what L1 could not, L3 are the senior engineers.
type Level int

const (
	L1 Level = 1
	L2 Level = 2
	L3 Level = 3
)

// Levels lists every level, lowest first.
var Levels = [...]Level{L1, L2, L3}

// Valid reports whether l is L1, L2 or L3.
func (l Level) Valid() bool { return l >= L1 && l <= L3 }

var levelNames = [...]string{L1: "L1", L2: "L2", L3: "L3"}

func (l Level) String() string {
	if !l.Valid() {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return levelNames[l]
}

// ParseLevel accepts "L1", "l2", "3".
func ParseLevel(s string) (Level, error) {
	t := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "L")
	if len(t) == 1 && t[0] >= '1' && t[0] <= '3' {
		return Level(t[0] - '0'), nil
	}
	return 0, fmt.Errorf("%q is not a support level (L1, L2 or L3)", s)
}

func (l Level) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, fmt.Errorf("invalid level %d", int(l))
	}
	return []byte(l.String()), nil
}

func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Layer orders the engineers on call at one level: the primary is rung first,
// the secondary when the primary does not answer.
type Layer int

const (
	Primary   Layer = 1
	Secondary Layer = 2
)

// Layers lists every layer, primary first.
var Layers = [...]Layer{Primary, Secondary}

// Valid reports whether l is Primary or Secondary.
func (l Layer) Valid() bool { return l == Primary || l == Secondary }

func (l Layer) String() string {
	switch l {
	case Primary:
		return "primary"
	case Secondary:
		return "secondary"
	}
	return fmt.Sprintf("Layer(%d)", int(l))
}

// ParseLayer accepts "primary", "secondary", "1", "2".
func ParseLayer(s string) (Layer, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "primary", "1":
		return Primary, nil
	case "secondary", "2":
		return Secondary, nil
	}
	return 0, fmt.Errorf("%q is not a layer (primary or secondary)", s)
}

func (l Layer) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, fmt.Errorf("invalid layer %d", int(l))
	}
	return []byte(l.String()), nil
}

func (l *Layer) UnmarshalText(b []byte) error {
	v, err := ParseLayer(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Priority is a ticket's priority; it sets the guaranteed response time.
type Priority string

const (
	Critical Priority = "critical" // systems down or being damaged, data being lost
	Urgent   Priority = "urgent"   // systems work but badly; business seriously hurt
	Normal   Priority = "normal"   // partial, non-critical loss of function
	Low      Priority = "low"      // questions, recommendations
)

// Priorities lists every priority, most pressing first.
var Priorities = [...]Priority{Critical, Urgent, Normal, Low}

// ResponseTime is the response time the support page guarantees for p, or 0
// for an unknown priority.
func (p Priority) ResponseTime() time.Duration {
	switch p {
	case Critical:
		return time.Hour
	case Urgent:
		return 2 * time.Hour
	case Normal:
		return 8 * time.Hour
	case Low:
		return 24 * time.Hour
	}
	return 0
}

// Valid reports whether p is one of the four priorities.
func (p Priority) Valid() bool { return p.ResponseTime() > 0 }

// ParsePriority accepts a priority's name in any case.
func ParsePriority(s string) (Priority, error) {
	p := Priority(strings.ToLower(strings.TrimSpace(s)))
	if !p.Valid() {
		return "", errs.InvalidField("priority", "%q is not a priority (critical, urgent, normal or low)", s)
	}
	return p, nil
}
