package pager

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

func describePlan(plan []Rung) []string {
	var out []string
	for _, r := range plan {
		out = append(out, fmt.Sprintf("%s %s %s %v", r.Level, r.Layer, r.Wait, r.Channels))
	}
	return out
}

func sumWaits(plan []Rung) time.Duration {
	var d time.Duration
	for _, r := range plan {
		d += r.Wait
	}
	return d
}

func TestPlanFor(t *testing.T) {
	vs := []oncall.Channel{oncall.Voice, oncall.SMS}
	policy := func(steps ...oncall.Step) oncall.Policy {
		return oncall.Policy{Priority: oncall.Critical, Steps: steps}
	}
	step := func(l oncall.Level, d time.Duration, ch ...oncall.Channel) oncall.Step {
		return oncall.Step{Level: l, Channels: ch, Delay: oncall.Duration(d)}
	}
	const ow = 5 * time.Minute
	for _, c := range []struct {
		name       string
		policy     oncall.Policy
		level      oncall.Level
		left       time.Duration // deadline - now
		want       []string
		compressed bool
	}{
		{name: "critical: six rungs of 7m30s", policy: oncall.DefaultPolicy(oncall.Critical), level: oncall.L1, left: time.Hour,
			want: []string{
				"L1 primary 7m30s [voice sms]", "L1 secondary 7m30s [voice sms]",
				"L2 primary 7m30s [voice sms]", "L2 secondary 7m30s [voice sms]",
				"L3 primary 7m30s [voice sms]", "L3 secondary 7m30s [voice sms]",
			}},
		{name: "urgent: 15m a rung", policy: oncall.DefaultPolicy(oncall.Urgent), level: oncall.L1, left: 2 * time.Hour,
			want: []string{
				"L1 primary 15m0s [voice sms]", "L1 secondary 15m0s [voice sms]",
				"L2 primary 15m0s [voice sms]", "L2 secondary 15m0s [voice sms]",
				"L3 primary 15m0s [voice sms]", "L3 secondary 15m0s [voice sms]",
			}},
		{name: "normal: 1h a rung", policy: oncall.DefaultPolicy(oncall.Normal), level: oncall.L3, left: 8 * time.Hour,
			want: []string{"L3 primary 1h0m0s [voice sms]", "L3 secondary 1h0m0s [voice sms]"}},
		{name: "low: 3h a rung, from L2", policy: oncall.DefaultPolicy(oncall.Low), level: oncall.L2, left: 24 * time.Hour,
			want: []string{
				"L2 primary 3h0m0s [voice sms]", "L2 secondary 3h0m0s [voice sms]",
				"L3 primary 3h0m0s [voice sms]", "L3 secondary 3h0m0s [voice sms]",
			}},
		{name: "level 0 is L1", policy: policy(step(oncall.L1, 10*time.Minute, oncall.SMS)), level: 0, left: time.Hour,
			want: []string{"L1 primary 5m0s [sms]", "L1 secondary 5m0s [sms]"}},
		{name: "level above every step: the last step's channels and delay",
			policy: policy(step(oncall.L1, 10*time.Minute, oncall.Voice), step(oncall.L2, 20*time.Minute, oncall.SMS, oncall.Voice)),
			level:  oncall.L3, left: time.Hour,
			want: []string{"L3 primary 10m0s [sms voice]", "L3 secondary 10m0s [sms voice]"}},
		{name: "a policy without steps: a quarter of the response time at the level",
			policy: oncall.Policy{Priority: oncall.Urgent}, level: oncall.L2, left: 2 * time.Hour,
			want: []string{"L2 primary 15m0s [voice sms]", "L2 secondary 15m0s [voice sms]"}},
		{name: "just enough time: not compressed", policy: oncall.DefaultPolicy(oncall.Critical), level: oncall.L2, left: 30 * time.Minute,
			want: []string{
				"L2 primary 7m30s [voice sms]", "L2 secondary 7m30s [voice sms]",
				"L3 primary 7m30s [voice sms]", "L3 secondary 7m30s [voice sms]",
			}},
		{name: "10 min left: waits shrink in proportion", policy: oncall.DefaultPolicy(oncall.Critical), level: oncall.L1, left: 10 * time.Minute,
			compressed: true,
			want: []string{
				"L1 primary 1m40s [voice sms]", "L1 secondary 1m40s [voice sms]",
				"L2 primary 1m40s [voice sms]", "L2 secondary 1m40s [voice sms]",
				"L3 primary 1m40s [voice sms]", "L3 secondary 1m40s [voice sms]",
			}},
		{name: "uneven steps keep their proportions",
			policy: policy(step(oncall.L1, 5*time.Minute, vs...), step(oncall.L2, 5*time.Minute, vs...), step(oncall.L3, 50*time.Minute, vs...)),
			level:  oncall.L1, left: 30 * time.Minute, compressed: true,
			want: []string{
				"L1 primary 1m15s [voice sms]", "L1 secondary 1m15s [voice sms]",
				"L2 primary 1m15s [voice sms]", "L2 secondary 1m15s [voice sms]",
				"L3 primary 12m30s [voice sms]", "L3 secondary 12m30s [voice sms]",
			}},
		{name: "1 min left: MinRungWait at the least", policy: oncall.DefaultPolicy(oncall.Critical), level: oncall.L2, left: time.Minute,
			compressed: true,
			want: []string{
				"L2 primary 1m0s [voice sms]", "L2 secondary 1m0s [voice sms]",
				"L3 primary 1m0s [voice sms]", "L3 secondary 1m0s [voice sms]",
			}},
		{name: "a policy of seconds: the floor never lengthens a wait",
			policy: policy(step(oncall.L1, 40*time.Second, vs...), step(oncall.L2, 10*time.Minute, vs...)),
			level:  oncall.L1, left: 5 * time.Minute, compressed: true,
			want: []string{
				"L1 primary 20s [voice sms]", "L1 secondary 20s [voice sms]",
				"L2 primary 2m20s [voice sms]", "L2 secondary 2m20s [voice sms]",
			}},
		{name: "past the deadline: OverdueWait everywhere", policy: oncall.DefaultPolicy(oncall.Critical), level: oncall.L3, left: -time.Minute,
			compressed: true,
			want:       []string{"L3 primary 5m0s [voice sms]", "L3 secondary 5m0s [voice sms]"}},
		{name: "at the deadline: overdue", policy: oncall.DefaultPolicy(oncall.Urgent), level: oncall.L3, left: 0,
			compressed: true,
			want:       []string{"L3 primary 5m0s [voice sms]", "L3 secondary 5m0s [voice sms]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan, compressed := PlanFor(c.policy, c.level, t0, t0.Add(c.left), ow)
			if got := describePlan(plan); !slices.Equal(got, c.want) || compressed != c.compressed {
				t.Errorf("PlanFor = %q (compressed %v)\nwant %q (compressed %v)", got, compressed, c.want, c.compressed)
			}
		})
	}
}

// TestPlanForCompressed: whatever time is left, the last rung starts
// before the deadline unless MinRungWait makes that impossible, and no
// wait is ever longer than the policy's.
func TestPlanForCompressed(t *testing.T) {
	for _, p := range oncall.Priorities {
		policy := oncall.DefaultPolicy(p)
		full, _ := PlanFor(policy, oncall.L1, t0, t0.Add(p.ResponseTime()), 5*time.Minute)
		for left := time.Second; left <= p.ResponseTime(); left += p.ResponseTime() / 97 {
			plan, compressed := PlanFor(policy, oncall.L1, t0, t0.Add(left), 5*time.Minute)
			before := sumWaits(plan[:len(plan)-1])
			if floor := time.Duration(len(plan)-1) * MinRungWait; before >= left && before > floor {
				t.Errorf("%s, %s left: the last rung starts after %s", p, left, before)
			}
			if compressed != (left < sumWaits(full)) {
				t.Errorf("%s, %s left: compressed %v", p, left, compressed)
			}
			for i, r := range plan {
				if r.Wait > full[i].Wait || r.Wait < MinRungWait {
					t.Errorf("%s, %s left: rung %d waits %s (policy %s)", p, left, i, r.Wait, full[i].Wait)
				}
			}
		}
	}
}

// TestPlanForKeepsPolicy: the plan does not share the policy's channel
// slices, so that a change to one is no change to the other.
func TestPlanForKeepsPolicy(t *testing.T) {
	policy := oncall.DefaultPolicy(oncall.Critical)
	plan, _ := PlanFor(policy, oncall.L1, t0, t0.Add(time.Hour), 5*time.Minute)
	plan[0].Channels[0] = oncall.SMS
	if policy.Steps[0].Channels[0] != oncall.Voice || plan[1].Channels[0] != oncall.Voice {
		t.Errorf("the plan's rungs share channel slices: %v, %v", policy.Steps[0].Channels, plan[1].Channels)
	}
}

func TestRungAt(t *testing.T) {
	plan, _ := PlanFor(oncall.DefaultPolicy(oncall.Critical), oncall.L1, t0, t0.Add(time.Hour), 5*time.Minute)
	var got []string
	for i := range 11 {
		r, repeat := rungAt(plan, i, 5*time.Minute)
		got = append(got, fmt.Sprintf("%s %s %s %v", r.Level, r.Layer, r.Wait, repeat))
	}
	want := []string{
		"L1 primary 7m30s false", "L1 secondary 7m30s false", "L2 primary 7m30s false", "L2 secondary 7m30s false",
		"L3 primary 7m30s false", "L3 secondary 7m30s false",
		"L3 primary 5m0s true", "L3 secondary 5m0s true", "L3 primary 5m0s true", "L3 secondary 5m0s true", "L3 primary 5m0s true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rungAt:\n got %q\nwant %q", got, want)
	}
	one, _ := PlanFor(oncall.Policy{Priority: oncall.Low, Steps: []oncall.Step{
		{Level: oncall.L1, Channels: []oncall.Channel{oncall.SMS}, Delay: oncall.Duration(time.Hour)},
	}}, oncall.L1, t0, t0.Add(24*time.Hour), 5*time.Minute)
	if r, _ := rungAt(one, 3, time.Minute); r.Level != oncall.L1 || r.Layer != oncall.Secondary || r.Wait != time.Minute {
		t.Errorf("rungAt(L1-only plan, 3) = %+v", r)
	}
}
