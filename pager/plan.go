package pager

import (
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// layers are paged in this order within a level.
var layers = [...]oncall.Layer{oncall.Primary, oncall.Secondary}

// MinRungWait is the shortest wait a compressed plan gives a rung: long
// enough for a page call to ring out and its text to arrive.
const MinRungWait = time.Minute

// PlanFor turns policy into the rungs of a page that starts at level and
// must be acknowledged by deadline, as seen at now:
//
//   - the policy's steps below level are skipped (a ticket escalated to L2
//     starts at L2); a level above every step gets the last step's
//     channels and delay;
//   - each step becomes one rung per layer (primary, then secondary), the
//     step's delay split evenly between them, so that each level takes
//     the time the policy gives it;
//   - when less time is left than the plan needs, every wait is shortened
//     in proportion (to MinRungWait at the least, or the policy's wait if
//     that is shorter), so that the last rung still starts before the
//     deadline;
//   - a page already past its deadline waits overdueWait on every rung.
//
// compressed reports whether the waits were changed.
func PlanFor(policy oncall.Policy, level oncall.Level, now, deadline time.Time, overdueWait time.Duration) (plan []Rung, compressed bool) {
	if !level.Valid() {
		level = oncall.L1
	}
	var steps []oncall.Step
	for _, s := range policy.Steps {
		if s.Level >= level {
			steps = append(steps, s)
		}
	}
	if len(steps) == 0 {
		last := oncall.Step{Level: level, Channels: []oncall.Channel{oncall.Voice, oncall.SMS}, Delay: oncall.Duration(policy.Priority.ResponseTime() / 4)}
		if n := len(policy.Steps); n > 0 {
			last.Channels, last.Delay = policy.Steps[n-1].Channels, policy.Steps[n-1].Delay
		}
		last.Level = level
		steps = []oncall.Step{last}
	}
	var need time.Duration
	for _, s := range steps {
		wait := time.Duration(s.Delay) / time.Duration(len(layers))
		for _, l := range layers {
			plan = append(plan, Rung{Level: s.Level, Layer: l, Channels: append([]oncall.Channel(nil), s.Channels...), Wait: wait})
			need += wait
		}
	}
	left := deadline.Sub(now)
	switch {
	case left <= 0:
		for i := range plan {
			plan[i].Wait = overdueWait
		}
		return plan, true
	case left < need:
		// The last rung must start before the deadline: the whole plan
		// shrinks into what is left, so the waits before the last rung
		// take less than that. MinRungWait bounds a wait from below, never
		// making it longer than the policy's own (a test policy of
		// seconds).
		for i := range plan {
			scaled := time.Duration(float64(plan[i].Wait) * float64(left) / float64(need)).Truncate(time.Second)
			plan[i].Wait = min(plan[i].Wait, max(MinRungWait, scaled))
		}
		return plan, true
	}
	return plan, false
}

// rungAt returns rung i of the plan; past the plan's end, the last
// level's rungs again, waiting repeatWait each, for as long as nobody
// acknowledges.
func rungAt(plan []Rung, i int, repeatWait time.Duration) (r Rung, repeat bool) {
	if i < len(plan) {
		return plan[i], false
	}
	last := plan[len(plan)-1].Level
	first := len(plan) - 1
	for first > 0 && plan[first-1].Level == last {
		first--
	}
	n := len(plan) - first
	r = plan[first+(i-len(plan))%n]
	r.Wait = repeatWait
	return r, true
}
