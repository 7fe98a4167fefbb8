package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/pager/pagerprom"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/webhooks"
)

// pagerConfig is the pager's settings, from flags and the environment.
type pagerConfig struct {
	callerID    string
	smsFrom     string
	lastResort  string
	overdueWait time.Duration
	lease       time.Duration
	stormGap    time.Duration
	wakingHours string
	textOnly    string
	// pauseAt is a test hook (IVR_TEST_PAUSE_AT=phase): the pager stops
	// for good at the first time it reaches that phase, after logging
	// pauseMarker, so that a crash test can kill the process exactly there.
	pauseAt string
	// clockSpeed is a test hook (IVR_TEST_CLOCK_SPEED=k): the pager's
	// clock runs k times faster than real time, so that a test of a real
	// process sees a 7½-minute wait pass in seconds.
	clockSpeed float64
}

// fastClock runs k times faster than real time from its start.
type fastClock struct {
	start time.Time
	k     float64
}

func (c fastClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.k))
}

func (c fastClock) After(d time.Duration) <-chan time.Time {
	return time.After(time.Duration(float64(d) / c.k))
}

// pauseMarker is the log message of a pause at IVR_TEST_PAUSE_AT.
const pauseMarker = "test pause: kill me now"

// pauseHook returns the engine's hook for IVR_TEST_PAUSE_AT; nil without
// it.
func (c *pagerConfig) pauseHook(log *zap.Logger) func(context.Context, pager.Phase, int64, int64) {
	if c.pauseAt == "" {
		return nil
	}
	var once sync.Once
	return func(ctx context.Context, phase pager.Phase, pageID, attemptID int64) {
		if string(phase) != c.pauseAt {
			return
		}
		paused := false
		once.Do(func() { paused = true })
		if !paused {
			return
		}
		log.Warn(pauseMarker, zap.String("phase", string(phase)), zap.Int64("page_id", pageID), zap.Int64("attempt_id", attemptID))
		<-ctx.Done()
	}
}

func (c *pagerConfig) register(fs *flag.FlagSet, env environ) {
	fs.StringVar(&c.callerID, "pager-caller-id", env.getenv("IVR_PAGER_CALLER_ID"),
		"the number page calls come from, a Twilio number or verified caller id; default: the first line's (env IVR_PAGER_CALLER_ID)")
	fs.StringVar(&c.smsFrom, "pager-sms-from", env.getenv("IVR_PAGER_SMS_FROM"),
		"the Twilio number or Messaging Service (MG…) page texts come from; default: the first +1 line's (env IVR_PAGER_SMS_FROM)")
	fs.StringVar(&c.lastResort, "pager-last-resort", env.getenv("IVR_PAGER_LAST_RESORT"),
		"a phone number (E.164) texted when a page finds nobody on call (env IVR_PAGER_LAST_RESORT)")
	fs.DurationVar(&c.overdueWait, "pager-overdue-wait", 5*time.Minute,
		"each escalation step's wait once a page is past its guaranteed response time")
	fs.StringVar(&c.wakingHours, "pager-waking-hours", orDefault(env.getenv("IVR_PAGER_WAKING_HOURS"), "08:00-22:00"),
		"the hours, in each engineer's own time zone, when pages of the --pager-text-only-at-night priorities may ring (env IVR_PAGER_WAKING_HOURS)")
	fs.StringVar(&c.textOnly, "pager-text-only-at-night", orDefault(env.getenv("IVR_PAGER_TEXT_ONLY_AT_NIGHT"), "normal,low"),
		"priorities paged by text only outside waking hours; \"none\" rings for every page at any hour (env IVR_PAGER_TEXT_ONLY_AT_NIGHT)")
	fs.DurationVar(&c.stormGap, "pager-storm-gap", time.Minute,
		"the least time between two page calls to one engineer for pages that are not critical; pages arriving meanwhile are announced together by the next call (0: calls follow each other at once)")
	fs.DurationVar(&c.lease, "pager-lease", 30*time.Second,
		"how long an instance holds a page call or text it is sending; longer than --twilio-timeout, since another instance takes it over after")
	c.pauseAt = env.getenv("IVR_TEST_PAUSE_AT")
	if v := env.getenv("IVR_TEST_CLOCK_SPEED"); v != "" {
		c.clockSpeed, _ = strconv.ParseFloat(v, 64)
	}
}

// rules turns the settings into the pager's rules for the lines served.
func (c *pagerConfig) rules(lines []ivr.Line) (pager.Rules, error) {
	r := pager.Rules{OverdueWait: c.overdueWait, LineNames: map[string]string{}}
	if c.overdueWait < time.Minute {
		return r, fmt.Errorf("--pager-overdue-wait: %s is shorter than a minute: an engineer needs time to answer", c.overdueWait)
	}
	for _, l := range lines {
		r.LineNames[l.Number] = l.Name
	}
	if c.lastResort != "" {
		n, err := oncall.NormalizePhone(c.lastResort)
		if err != nil {
			return r, fmt.Errorf("--pager-last-resort: %w", err)
		}
		r.LastResort = n
	}
	w, err := parseWakingHours(c.wakingHours)
	if err != nil {
		return r, fmt.Errorf("--pager-waking-hours: %w", err)
	}
	if c.textOnly != "none" && c.textOnly != "" {
		r.Quiet = map[oncall.Priority]pager.WakingHours{}
		for _, s := range strings.Split(c.textOnly, ",") {
			p, err := oncall.ParsePriority(s)
			if err != nil {
				return r, fmt.Errorf("--pager-text-only-at-night: %q is not a priority (critical, urgent, normal, low) or none", s)
			}
			if p == oncall.Critical || p == oncall.Urgent {
				return r, fmt.Errorf("--pager-text-only-at-night: %s pages must be able to wake an engineer", p)
			}
			r.Quiet[p] = w
		}
	}
	return r, nil
}

// parseWakingHours reads "08:00-22:00".
func parseWakingHours(s string) (pager.WakingHours, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return pager.WakingHours{}, fmt.Errorf("%q is not a range of hours such as 08:00-22:00", s)
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
		return pager.WakingHours{}, err
	}
	b, err := clock(to)
	if err != nil {
		return pager.WakingHours{}, err
	}
	if a == b {
		return pager.WakingHours{}, fmt.Errorf("%q is empty: the start and the end are the same", s)
	}
	return pager.WakingHours{Start: a, End: b}, nil
}

// senders fills the caller id and the texting number from the lines when
// they are not set: the first line's number calls, the first North
// American line's texts (+1 local numbers take texts; many others, such as
// Moscow's landlines, cannot).
func (c *pagerConfig) senders(lines []ivr.Line) (callerID, smsFrom string) {
	callerID, smsFrom = c.callerID, c.smsFrom
	if callerID == "" && len(lines) > 0 {
		callerID = lines[0].Number
	}
	if smsFrom == "" {
		for _, l := range lines {
			if strings.HasPrefix(l.Number, "+1") {
				smsFrom = l.Number
				break
			}
		}
	}
	return callerID, smsFrom
}

// pagerRoster answers the pager's on-call questions from the schedule
// snapshot.
type pagerRoster struct{ svc *oncall.Service }

func (r pagerRoster) OnCall(level oncall.Level, layer oncall.Layer, t time.Time) (oncall.Engineer, bool) {
	a, ok := r.svc.OnCall(level, layer, t)
	return a.Engineer, ok
}

// newPager builds the pager engine and its Twilio side.
func newPager(c pagerConfig, tw webhooks.Settings, rest webhooks.Client, db *store.DB, svc *oncall.Service,
	tix ivr.Tickets, lines []ivr.Line, clock pager.Clock, reg prometheus.Registerer, log *zap.Logger) (*pager.Engine, *webhooks.Pager, error) {
	rules, err := c.rules(lines)
	if err != nil {
		return nil, nil, err
	}
	if c.lease <= tw.RESTTimeout {
		return nil, nil, fmt.Errorf("--pager-lease: %s is not longer than --twilio-timeout (%s): another instance could send a request again while the first is still waiting for Twilio", c.lease, tw.RESTTimeout)
	}
	callerID, smsFrom := c.senders(lines)
	twp, err := webhooks.NewPager(webhooks.PagerConfig{
		PublicURL: tw.PublicURL, AuthToken: tw.AuthToken, REST: rest, CallerID: callerID, SMSFrom: smsFrom,
		Engineers: svc, OptOuts: db, Rules: rules, Log: log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pager: %w", err)
	}
	if clock == nil && c.clockSpeed > 1 {
		clock = fastClock{start: time.Now(), k: c.clockSpeed}
		log.Warn("IVR_TEST_CLOCK_SPEED is set: the pager's clock runs fast; for tests only", zap.Float64("speed", c.clockSpeed))
	}
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	metrics := pagerprom.Register(reg, db, now, log.Named("pager"))
	channels := twp.Channels()
	channels[pager.KindNote] = pager.NoteChannel{Tickets: tix}
	if smsFrom == "" {
		log.Warn("no number to send page texts from: set IVR_PAGER_SMS_FROM (a Twilio number or Messaging Service); pages go by voice only")
	}
	eng, err := pager.New(pager.Config{Store: db, Channels: channels, Roster: pagerRoster{svc}, Policies: svc, OptOuts: db,
		Rules: rules, Clock: clock, Log: log.Named("pager"), Hook: c.pauseHook(log), Lease: c.lease, Observer: metrics, StormGap: c.stormGap,
		DoubtGrace: min(3*time.Second, c.lease/4)})
	if err != nil {
		return nil, nil, err
	}
	twp.SetPages(eng)
	return eng, twp, nil
}
