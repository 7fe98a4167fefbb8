package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/admin"
	"github.com/supportdesk/ivr/calendar"
	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/sounds"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/tickets/rt"
	"github.com/supportdesk/ivr/verify"
	"github.com/supportdesk/ivr/web"
	"github.com/supportdesk/ivr/webhooks"
)

type serveConfig struct {
	common
	flow               flowConfig
	pager              pagerConfig
	twilio             webhooks.Settings
	addr               string
	adminToken         string
	demo               bool
	refreshInterval    time.Duration
	shutdownTimeout    time.Duration
	recordingRetention time.Duration
	spoolDir           string
	ari                ariConfig
}

func serve(ctx context.Context, args []string, env environ) error {
	cfg, err := parseServeConfig(args, env)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.logLevel, env)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	defer func() { _ = ln.Close() }() // the HTTP server closes it too; this covers returning before it serves
	if cfg.twilio.PublicURL == "" {
		cfg.twilio.PublicURL = "http://" + ln.Addr().String()
		log.Warn("IVR_PUBLIC_URL is not set: Twilio webhooks are checked against the listening address, which only suits local tests",
			zap.String(keyPublicURL, cfg.twilio.PublicURL))
	}

	db, err := openStore(ctx, cfg.db, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Warn("could not close the store", zap.Error(err))
		}
	}()
	sp, err := openSpool(cfg.spoolDir, cfg.db, cfg.addr, env, log)
	if err != nil {
		return err
	}
	defer func() {
		// Every record was synced before it was acknowledged: a failed
		// Close loses nothing, but is worth a line.
		if err := sp.Close(); err != nil {
			log.Warn("could not close the spool", zap.Error(err))
		}
	}()

	own, err := serviceNumbers(cfg)
	if err != nil {
		return err
	}
	svc := oncall.NewService(db, log.Named("oncall"), oncall.ServiceOptions{ServiceNumbers: own})
	if err := access.ApplyBootstrap(ctx, db, cfg.adminToken, time.Now(), log); err != nil {
		return err
	}
	if cfg.demo {
		if err := demo.SeedAll(ctx, svc, db, log); err != nil {
			return err
		}
	}
	if err := svc.Refresh(ctx); err != nil {
		return fmt.Errorf("load schedules: %w", err)
	}
	acks, err := cfg.pager.ackLinks(ctx, db, cfg.twilio.PublicURL)
	if err != nil {
		return err
	}
	if err := cfg.pager.codeKeys(ctx, db); err != nil {
		return err
	}
	if cfg.pager.asterisk, err = newPagerAsterisk(cfg.pager.voice, cfg.ari, log); err != nil { // --pager-voice
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	tel, err := newTelephony(ctx, cfg, db, sp, svc, env.clock, reg, log)
	if err != nil {
		return err
	}
	pbx, err := newARI(cfg.ari, tel.flow, db, cfg.twilio.PublicURL, tel.lines, log)
	if err != nil {
		return err
	}
	if pbx != nil {
		pbx.register(reg)
	}
	ready := func(ctx context.Context) error {
		return errors.Join(db.Ready(ctx), pbx.Ready(), cfg.pager.asterisk.Ready())
	}
	api := admin.New(admin.Config{OnCall: svc, Tokens: db, Audit: db, Ready: ready, Registry: reg, Log: log,
		Tickets: db, Calls: db, Recordings: db, Pages: tel.pages, OptOuts: db, Team: db,
		CalendarFeeds: db, PublicURL: cfg.twilio.PublicURL, Verification: tel.verify})
	tel.mount(api)
	api.Router().PathPrefix("/calendar/").Handler(&calendar.Handler{Feeds: db, Schedule: svc,
		Host: calendar.HostOf(cfg.twilio.PublicURL), Log: log.Named("calendar")})
	page, err := web.New(web.Config{OnCall: svc, Tokens: db, Sessions: db, Audit: db, Calls: db, Recordings: db, Pages: tel.pages,
		Verifier: tel.verify, Lines: tel.lines, SecureCookies: strings.HasPrefix(cfg.twilio.PublicURL, "https://"), Log: log})
	if err != nil {
		return err
	}
	page.Register(api.Router())
	rtClient, watched := tel.tickets.(*rt.Client)
	watched = watched && cfg.flow.rt.watchEvery > 0
	events, err := cfg.pager.mountHooks(api.Router(), acks, tel.pages, svc, env.clock, watched, log)
	if err != nil {
		return err
	}
	var rtWatcher *rt.Watcher
	if rtClient != nil {
		if rtWatcher, err = cfg.flow.rt.watcher(rtClient, events, db, log); err != nil {
			return err
		}
		if rtWatcher != nil {
			registerWatcherMetrics(reg, rtWatcher)
		}
	}
	registerDriverMetrics(reg, tel.driver)
	registerSpoolMetrics(reg, sp)
	defer tel.driver.Close() // before the store closes (deferred earlier)
	loops := startLoops(ctx)
	defer loops.stop() // the owners' loops end before the driver, the spool and the store close
	loops.run(tel.driver.Run)
	if pbx != nil {
		loops.run(pbx.run) // the Asterisk driver, with --ari-url
	}
	if cfg.pager.asterisk != nil {
		loops.run(cfg.pager.asterisk.run) // page calls through Asterisk, with --pager-voice
	}
	if n, err := tel.pages.TakeOver(ctx, db); err != nil {
		return err
	} else if n > 0 {
		log.Info("page requests recorded before the pager were taken over", zap.Int(keyCount, n))
	}
	loops.run(func(ctx context.Context) { _ = tel.pages.Run(ctx) })
	loops.run(runWatcher(rtWatcher))

	log.Info("serving", zap.String(keyAddr, ln.Addr().String()), zap.String(keyDB, redact(cfg.db)), zap.String(keyBackend, db.Backend()))
	if env.onListen != nil {
		env.onListen(ln.Addr().String())
	}

	if cfg.refreshInterval > 0 {
		refresh := time.NewTicker(cfg.refreshInterval)
		defer refresh.Stop()
		loops.run(func(ctx context.Context) { svc.RunRefresh(ctx, refresh.C) })
	}
	loops.run(func(ctx context.Context) { db.RunRetention(ctx, store.Retention{Keep: cfg.recordingRetention}) })
	return serveHTTP(ctx, ln, api, cfg.shutdownTimeout, log)
}

// parseServeConfig reads serve's settings: flags, whose defaults come
// from the environment.
func parseServeConfig(args []string, env environ) (serveConfig, error) {
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.register(fs, env)
	fs.StringVar(&cfg.addr, "addr", envOr(env, "IVR_ADDR", "127.0.0.1:8080"), "address to listen on (env IVR_ADDR)")
	fs.StringVar(&cfg.adminToken, "admin-token", env.getenv("IVR_ADMIN_TOKEN"), "an admin bearer token to accept from start, replacing the previous one (env IVR_ADMIN_TOKEN: give it there, as flags show in ps)")
	fs.BoolVar(&cfg.demo, "demo", false, "seed the demo team into an empty store")
	fs.DurationVar(&cfg.refreshInterval, "refresh", 15*time.Second, "how often to reload schedules changed by other instances")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to let requests finish on shutdown")
	fs.DurationVar(&cfg.recordingRetention, "recording-retention", 30*24*time.Hour, "how long voicemails, call states and their ended engineer legs are kept")
	fs.StringVar(&cfg.spoolDir, "spool-dir", env.getenv("IVR_SPOOL_DIR"), "local directory keeping what the Fallback URL learns while the store is down, this host's only (env IVR_SPOOL_DIR; default <SQLite file>.spool, or $XDG_STATE_HOME/ivr/spool-<addr> with PostgreSQL)")
	cfg.flow.register(fs, env)
	cfg.pager.register(fs, env)
	cfg.ari.register(fs, env)
	var err error
	if cfg.twilio, err = twilioFromEnv(env); err != nil {
		return cfg, err
	}
	registerTwilioFlags(fs, &cfg.twilio)
	err = parse(fs, args, env) // before cfg is returned: it fills cfg
	return cfg, err
}

// serveHTTP serves handler on ln until ctx is done, then lets the requests
// in progress finish for up to shutdownTimeout.
func serveHTTP(ctx context.Context, ln net.Listener, handler http.Handler, shutdownTimeout time.Duration, log *zap.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// openStore opens and migrates the store.
func openStore(ctx context.Context, dsn string, log *zap.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, dsn, log.Named("store"))
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close() // the migration's failure is the error to report
		return nil, fmt.Errorf("migrate %s: %w", redact(dsn), err)
	}
	return db, nil
}

// telephony is what answers the phone and pages engineers: the Twilio
// voice driver, the pager's engine and its Twilio side.
type telephony struct {
	driver     *webhooks.Driver
	pages      *pager.Engine
	pagerHooks *webhooks.Pager
	tickets    ivr.Tickets     // the call flow's ticket system
	lines      []ivr.Line      // the lines answered, as the flow has them
	verify     *verify.Service // codes that confirm engineers' numbers, through the pager
	flow       *ivr.Flow       // the call flow, which the Asterisk driver runs too
}

// newTelephony builds the call flow, the pager and the Twilio driver over
// the store and the on-call service.
func newTelephony(ctx context.Context, cfg serveConfig, db *store.DB, sp webhooks.Spool, svc *oncall.Service, clock pager.Clock, reg prometheus.Registerer, log *zap.Logger) (*telephony, error) {
	var rest webhooks.Client
	switch tw := cfg.twilio; {
	case tw.AccountSID == "" && tw.AuthToken == "":
		// Twilio not set up (a demo, or Asterisk only): the webhooks say
		// so to anyone who calls them.
		rest = webhooks.Unconfigured()
	case tw.AccountSID == "" || tw.AuthToken == "":
		return nil, fmt.Errorf("set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither")
	default:
		var err error
		if rest, err = webhooks.NewREST(tw); err != nil {
			return nil, fmt.Errorf("twilio: %w", err)
		}
	}
	settings, err := cfg.flow.flowSettings()
	if err != nil {
		return nil, err
	}
	tix, err := newTickets(cfg.flow, db)
	if err != nil {
		return nil, err
	}
	eng, hooks, err := newPager(cfg.pager, cfg.twilio, rest, db, svc, tix, settings.Lines, clock, reg, log)
	if err != nil {
		return nil, err
	}
	// Are the lines' and the pager's numbers, their shape checked, the
	// account's? (Unconfigured: nothing to check.)
	if err := checkSenders(ctx, rest, cfg.pager, settings.Lines, log); err != nil {
		return nil, err
	}
	flow, settings, err := newFlow(cfg.flow, db, svc, tix, eng, eng, log)
	if err != nil {
		return nil, err
	}
	driver, err := webhooks.New(webhooks.Config{
		PublicURL: cfg.twilio.PublicURL, AuthToken: cfg.twilio.AuthToken, AccountSID: cfg.twilio.AccountSID,
		Flow: flow, States: db, Recordings: voicemails{db: db, publicURL: cfg.twilio.PublicURL}, Pages: eng, Spool: sp,
		REST: rest, Legs: eng, Lines: settings.Lines, Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("twilio webhooks: %w", err)
	}
	eng.SetLegs(driver.LegChannel()) // engineer legs go through the pager's outbox
	ver, err := cfg.pager.verification(db, svc, eng, settings.Lines, clock, log)
	if err != nil {
		return nil, err
	}
	return &telephony{driver: driver, pages: eng, pagerHooks: hooks, tickets: tix, verify: ver, lines: settings.Lines, flow: flow}, nil
}

// mount adds the Twilio webhooks and the prompt audio to the server's
// routes.
func (t *telephony) mount(api *admin.Server) {
	t.driver.Register(api.Router())
	t.pagerHooks.Register(api.Router())
	api.Router().PathPrefix(sounds.MountPath).Handler(sounds.Handler())
}

// statsCounter is a Prometheus counter read, at each scrape, from one
// field of an owner's Stats.
func statsCounter[S any](stats func() S, name, help string, read func(S) int64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
		func() float64 { return float64(read(stats())) })
}

// registerDriverMetrics exports the Twilio driver's counts.
func registerDriverMetrics(reg *prometheus.Registry, driver *webhooks.Driver) {
	counter := func(name, help string, read func(webhooks.Stats) int64) prometheus.Collector {
		return statsCounter(driver.Stats, name, help, read)
	}
	reg.MustRegister(
		counter("ivr_twilio_webhook_replays_total",
			"Twilio webhooks received again (retries, replays) and answered with the stored document.",
			func(s webhooks.Stats) int64 { return s.Replays }),
		counter("ivr_twilio_state_conflicts_total",
			"Call-state writes that lost a compare-and-swap to another instance and were redone.",
			func(s webhooks.Stats) int64 { return s.Conflicts }),
		counter("ivr_twilio_swept_calls_total",
			"Calls that ended at Twilio with no status callback received, finished by the sweep: callbacks are being lost.",
			func(s webhooks.Stats) int64 { return s.SweptCalls }),
	)
}

// loops runs the owners' loops (their Run methods) under one context.
type loops struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startLoops(ctx context.Context) *loops {
	l := &loops{}
	l.ctx, l.cancel = context.WithCancel(ctx)
	return l
}

// run starts loop, which must return once its context is done.
func (l *loops) run(loop func(context.Context)) { l.wg.Go(func() { loop(l.ctx) }) }

// stop ends the loops and waits for them: also when serve returns for
// another reason than its context ending.
func (l *loops) stop() {
	l.cancel()
	l.wg.Wait()
}

// serviceNumbers are the service's own numbers, which no engineer may give
// as theirs (a page would call the IVR): the lines' and the pager's, each
// described by its setting.
func serviceNumbers(cfg serveConfig) (map[string]string, error) {
	settings, err := cfg.flow.flowSettings()
	if err != nil {
		return nil, err
	}
	callers, sms := cfg.pager.senderSettings(settings.Lines)
	own := map[string]string{}
	for _, set := range []map[string]string{callers, sms} {
		names := slices.Sorted(maps.Keys(set))
		for _, name := range names {
			if _, ok := own[set[name]]; !ok {
				own[set[name]] = "the number of " + name
			}
		}
	}
	return own, nil
}
