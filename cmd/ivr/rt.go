package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets/rt"
)

// The ticket systems --tickets names.
const (
	ticketsBuiltin = "builtin"
	ticketsHTTP    = "http"
	ticketsRT      = "rt"
)

// rtConfig holds the settings of Request Tracker as the ticket system.
type rtConfig struct {
	url, token     string
	user, password string
	queues         string // "queue=level,…"
	priorities     string // "critical,urgent,normal" thresholds
	inactive       string // statuses read as closed
	newQueue       string
	watchEvery     time.Duration
	envErr         error // IVR_RT_WATCH_EVERY unreadable (and no flag over it)
}

func (c *rtConfig) register(fs *flag.FlagSet, env environ) {
	t := rt.DefaultThresholds
	fs.StringVar(&c.url, "rt-url", env.getenv("IVR_RT_URL"), "Request Tracker's web address, e.g. https://rt.example.com, with --tickets rt (env IVR_RT_URL)")
	fs.StringVar(&c.token, "rt-token", env.getenv("IVR_RT_TOKEN"), "an RT auth token of the service's RT user (env IVR_RT_TOKEN: give it there, as flags show in ps)")
	fs.StringVar(&c.user, "rt-user", orDefault(env.getenv("IVR_RT_USER"), "ivr"), "the Name of the service's RT user: its own changes page nobody; with --rt-password, basic auth instead of a token (env IVR_RT_USER)")
	fs.StringVar(&c.password, "rt-password", env.getenv("IVR_RT_PASSWORD"), "the RT user's password, for basic auth when there is no token (env IVR_RT_PASSWORD)")
	fs.StringVar(&c.queues, "rt-queues", orDefault(env.getenv("IVR_RT_QUEUES"), "L1=L1,L2=L2,L3=L3"),
		"RT queues and the support level each stands for, as queue=level,…; other queues are L1 (env IVR_RT_QUEUES)")
	fs.StringVar(&c.priorities, "rt-priorities", orDefault(env.getenv("IVR_RT_PRIORITIES"), fmt.Sprintf("%d,%d,%d", t.Critical, t.Urgent, t.Normal)),
		"the lowest RT priority numbers of critical, urgent and normal tickets; below them, low (env IVR_RT_PRIORITIES)")
	fs.StringVar(&c.inactive, "rt-inactive", orDefault(env.getenv("IVR_RT_INACTIVE"), strings.Join(rt.DefaultInactive, ",")),
		"RT statuses read as closed: the caller is told so and a new ticket opened (env IVR_RT_INACTIVE)")
	fs.StringVar(&c.newQueue, "rt-new-queue", orDefault(env.getenv("IVR_RT_NEW_QUEUE"), "L1"), "the RT queue of tickets opened for callers (env IVR_RT_NEW_QUEUE)")
	fs.Func("rt-watch-every", fmt.Sprintf("how often serve reads RT's changed tickets for openings and escalations to page; 0 turns the watcher off (default %v; env IVR_RT_WATCH_EVERY)", rt.DefaultEvery),
		func(v string) error { return c.setWatchEvery(v) })
	c.watchEvery = rt.DefaultEvery
	if v := env.getenv("IVR_RT_WATCH_EVERY"); v != "" {
		c.envErr = c.setWatchEvery(v)
	}
}

func (c *rtConfig) setWatchEvery(v string) error {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration such as 5s, or 0 for off", v)
	}
	c.watchEvery, c.envErr = d, nil
	return nil
}

// rtQueue is a queue of --rt-queues and the level it stands for.
type rtQueue struct {
	name  string
	level oncall.Level
}

// client returns the RT client of the settings; errors name the flag.
func (c rtConfig) client(timeout time.Duration) (*rt.Client, error) {
	if c.url == "" {
		return nil, fmt.Errorf("--tickets rt: set --rt-url (IVR_RT_URL) to RT's web address")
	}
	if c.envErr != nil {
		return nil, fmt.Errorf("IVR_RT_WATCH_EVERY: %w", c.envErr)
	}
	cfg, _, err := c.parse(timeout)
	if err != nil {
		return nil, err
	}
	return newRTClient(cfg)
}

// parse reads the settings into the client's configuration, and the
// queues of --rt-queues in the order given; errors name the flag.
func (c rtConfig) parse(timeout time.Duration) (rt.Config, []rtQueue, error) {
	cfg := rt.Config{URL: c.url, Token: c.token, Timeout: timeout, NewQueue: strings.TrimSpace(c.newQueue),
		Queues: map[string]oncall.Level{}}
	if c.token == "" {
		cfg.User, cfg.Password = c.user, c.password
	}
	var queues []rtQueue
	for _, part := range strings.Split(c.queues, ",") {
		queue, level, ok := strings.Cut(part, "=")
		l, err := oncall.ParseLevel(strings.TrimSpace(level))
		if !ok || strings.TrimSpace(queue) == "" || err != nil {
			return cfg, nil, fmt.Errorf("--rt-queues: %q is not queue=level such as L2=L2", part)
		}
		cfg.Queues[strings.TrimSpace(queue)] = l
		queues = append(queues, rtQueue{name: strings.TrimSpace(queue), level: l})
	}
	nums := strings.Split(c.priorities, ",")
	var n [3]int
	for i := range n {
		var err error
		if len(nums) != 3 {
			err = fmt.Errorf("three numbers")
		} else {
			n[i], err = strconv.Atoi(strings.TrimSpace(nums[i]))
		}
		if err != nil {
			return cfg, nil, fmt.Errorf("--rt-priorities: %q is not three numbers, critical,urgent,normal, such as 90,70,30", c.priorities)
		}
	}
	cfg.Thresholds = rt.Thresholds{Critical: n[0], Urgent: n[1], Normal: n[2]}
	for _, s := range strings.Split(c.inactive, ",") {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			cfg.Inactive = append(cfg.Inactive, s)
		}
	}
	return cfg, queues, nil
}

// newRTClient is rt.New with its errors naming the flags.
func newRTClient(cfg rt.Config) (*rt.Client, error) {
	client, err := rt.New(cfg)
	var e *errs.Error
	if errors.As(err, &e) && e.Field != "" {
		return nil, fmt.Errorf("--rt-%s: %s", e.Field, e.Message) // the fields are the flags' names
	}
	if err != nil {
		return nil, fmt.Errorf("rt: %w", err)
	}
	return client, nil
}

// watcher returns serve's watcher of RT's changes, nil when turned off.
func (c rtConfig) watcher(client *rt.Client, events rt.Events, cursors rt.Cursors, log *zap.Logger) (*rt.Watcher, error) {
	if c.watchEvery <= 0 {
		log.Warn("the RT watcher is off (--rt-watch-every 0): tickets opened or escalated in RT page nobody")
		return nil, nil
	}
	return rt.NewWatcher(rt.WatcherConfig{Client: client, Events: events, Cursors: cursors, User: c.user,
		Every: c.watchEvery, Log: log})
}

// runWatcher runs w until ctx ends; nil does nothing.
func runWatcher(w *rt.Watcher) func(context.Context) {
	return func(ctx context.Context) {
		if w != nil {
			w.Run(ctx)
		}
	}
}

// registerWatcherMetrics exports the RT watcher's counts: a watcher that
// stopped succeeding (RT unreachable, its token revoked) means tickets
// opened in RT page nobody, which an alert on the last look's age catches.
func registerWatcherMetrics(reg prometheus.Registerer, w *rt.Watcher) {
	counter := func(name, help string, read func(rt.WatchStats) int64) prometheus.Collector {
		return statsCounter(w.Stats, name, help, read)
	}
	reg.MustRegister(
		counter("ivr_rt_watch_looks_total", "Looks at RT's changed tickets that succeeded.",
			func(s rt.WatchStats) int64 { return s.Looks }),
		counter("ivr_rt_watch_failures_total", "Looks at RT's changed tickets that failed (RT down or refusing, the store failing).",
			func(s rt.WatchStats) int64 { return s.Failures }),
		counter("ivr_rt_watch_events_total", "Ticket openings and escalations read from RT and delivered to the ticket-event path.",
			func(s rt.WatchStats) int64 { return s.Events }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ivr_rt_watch_last_success_timestamp_seconds",
			Help: "When the last successful look at RT ended, in Unix seconds; 0 before the first."},
			func() float64 {
				if at := w.Stats().LastLook; !at.IsZero() {
					return float64(at.Unix())
				}
				return 0
			}),
	)
}
