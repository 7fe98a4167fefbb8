package oncall

import (
	"fmt"
	"time"

	"github.com/supportdesk/ivr/errs"
)

// Channel is a way a page reaches an engineer.
type Channel string

const (
	Voice Channel = "voice" // a phone call; pressing 1 acknowledges
	SMS   Channel = "sms"   // a text message with a code to reply
)

// Valid reports whether c is voice or sms.
func (c Channel) Valid() bool { return c == Voice || c == SMS }

// Duration is a time.Duration written as Go writes it ("15m", "1h30m").
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 15m or 1h30m", string(b))
	}
	*d = Duration(v)
	return nil
}

// Step is one rung of an escalation: page the on-call engineer of Level on
// Channels (in order: the next is the fallback), then wait Delay for an
// acknowledgement before the next step.
type Step struct {
	Level    Level     `json:"level"`
	Channels []Channel `json:"channels"`
	Delay    Duration  `json:"delay"`
}

// Policy is how a page of one priority escalates. Its steps end within the
// priority's guaranteed response time.
type Policy struct {
	Priority  Priority  `json:"priority"`
	Steps     []Step    `json:"steps"`
	Deadline  Duration  `json:"deadline"`            // the guaranteed response time, for reading
	UpdatedAt time.Time `json:"updated_at,omitzero"` // zero for a default never edited
}

// MinStepDelay is the shortest wait a step may give an engineer to answer.
const MinStepDelay = 5 * time.Minute

// DefaultPolicy derives p's escalation from its guaranteed response time T:
// L1, then L2, then L3, each waited on for T/4, voice first with SMS as the
// fallback. L3 is paged by T/2 and the whole escalation ends by 3T/4,
// leaving a quarter of the promise as margin: critical pages reach L3 within
// 30 minutes, low ones within 12 hours.
func DefaultPolicy(p Priority) Policy {
	t := p.ResponseTime()
	step := Duration(t / 4)
	ch := []Channel{Voice, SMS}
	return Policy{
		Priority: p,
		Deadline: Duration(t),
		Steps: []Step{
			{Level: L1, Channels: ch, Delay: step},
			{Level: L2, Channels: ch, Delay: step},
			{Level: L3, Channels: ch, Delay: step},
		},
	}
}

// Normalize validates p and fills Deadline. A policy is rejected when its
// steps cannot finish before the guaranteed response time: the sum of the
// step delays (each step's wait for an acknowledgement) must not exceed it.
func (p Policy) Normalize() (Policy, error) {
	if !p.Priority.Valid() {
		return p, errs.InvalidField("priority", "%q is not a priority (critical, urgent, normal or low)", p.Priority)
	}
	deadline := p.Priority.ResponseTime()
	p.Deadline = Duration(deadline)
	if len(p.Steps) == 0 {
		return p, errs.InvalidField("steps", "needs at least one step")
	}
	if len(p.Steps) > 10 {
		return p, errs.InvalidField("steps", "has more than 10 steps")
	}
	var total time.Duration
	for i, s := range p.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		if !s.Level.Valid() {
			return p, errs.InvalidField(f+".level", "must be L1, L2 or L3")
		}
		if len(s.Channels) == 0 {
			return p, errs.InvalidField(f+".channels", "needs voice, sms or both")
		}
		for j, c := range s.Channels {
			if !c.Valid() {
				return p, errs.InvalidField(fmt.Sprintf("%s.channels[%d]", f, j), "%q is not a channel (voice or sms)", c)
			}
			for _, prev := range s.Channels[:j] {
				if prev == c {
					return p, errs.InvalidField(fmt.Sprintf("%s.channels[%d]", f, j), "%s is listed twice", c)
				}
			}
		}
		if time.Duration(s.Delay) < MinStepDelay {
			return p, errs.InvalidField(f+".delay", "must be at least %s so that an engineer can answer", MinStepDelay)
		}
		total += time.Duration(s.Delay)
	}
	if total > deadline {
		return p, errs.InvalidField("steps", "take %s in all, longer than the %s guaranteed for %s tickets", total, deadline, p.Priority)
	}
	return p, nil
}
