package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk"
	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/store"
)

// ariConfig holds serve's Asterisk settings: the ARI driver runs, beside
// the Twilio webhooks, only when an ARI URL is given. The connection's
// settings default to the ARI library's own variables (ARI_URL,
// ARI_USERNAME, ARI_PASSWORD, ARI_APPLICATION).
type ariConfig struct {
	url, user, password, app string
	soundsDir                string // where Asterisk reads the prompts (ivr asterisk sounds --dir)
	dial                     string // the engineers' dial string, with {phone}
}

func (c *ariConfig) register(fs *flag.FlagSet, env environ) {
	link := arilink.Config{URL: env.getenv(arilink.EnvURL), Username: env.getenv(arilink.EnvUsername),
		Password: env.getenv(arilink.EnvPassword), Application: env.getenv(arilink.EnvApplication)}
	fs.StringVar(&c.url, "ari-url", link.URL, "Asterisk's ARI, such as http://127.0.0.1:8088/ari; empty: no Asterisk driver (env "+arilink.EnvURL+")")
	fs.StringVar(&c.user, "ari-user", link.Username, "ARI user (env "+arilink.EnvUsername+")")
	c.password = link.Password // env ARI_PASSWORD only: flags show in ps
	fs.StringVar(&c.app, "ari-app", orDefault(link.Application, "ivr"), "the Stasis application the dialplan sends the lines to (env "+arilink.EnvApplication+")")
	fs.StringVar(&c.soundsDir, "ari-sounds-dir", env.getenv("IVR_ARI_SOUNDS_DIR"),
		"the folder, as Asterisk sees it, where ivr asterisk sounds installed the prompts (env IVR_ARI_SOUNDS_DIR)")
	fs.StringVar(&c.dial, "ari-dial", orDefault(env.getenv("IVR_ARI_DIAL"), "PJSIP/{phone}@trunk"),
		"how Asterisk dials an engineer, {phone} being the number (env IVR_ARI_DIAL)")
}

// ariService is the Asterisk driver over its ARI connection.
type ariService struct {
	link  *arilink.Link
	cfg   asterisk.Config                 // the driver's, but the client the link gives
	ready atomic.Pointer[asterisk.Driver] // set once the driver runs, for OnConnect
	first chan asterisk.Client            // the client, at the first connection
	log   *zap.Logger
}

// newARI prepares the Asterisk driver for the flow over the store, or nil
// when no ARI URL is set; errors name the flag.
func newARI(c ariConfig, flow *ivr.Flow, db *store.DB, publicURL string, lines []ivr.Line, log *zap.Logger) (*ariService, error) {
	if c.url == "" {
		return nil, nil
	}
	if c.soundsDir == "" {
		return nil, errors.New("--ari-sounds-dir: set it to the folder ivr asterisk sounds installed the prompts into, as Asterisk sees it")
	}
	if !strings.Contains(c.dial, "{phone}") {
		return nil, fmt.Errorf("--ari-dial: %q has no {phone} for the engineer's number, as in PJSIP/{phone}@trunk", c.dial)
	}
	s := &ariService{first: make(chan asterisk.Client, 1), log: log}
	link, err := arilink.New(arilink.Config{URL: c.url, Username: c.user, Password: c.password, Application: c.app,
		Log: log, OnConnect: s.connected})
	if err != nil {
		return nil, fmt.Errorf("--ari-url: %w", err)
	}
	s.link = link
	raw := asterisk.NewRawARI(c.url, c.user, c.password, 30*time.Second)
	s.cfg = asterisk.Config{App: c.app, Flow: flow, States: db, SoundsDir: c.soundsDir, Lines: lines,
		DialString: c.dial, Recordings: voicemails{db: db, publicURL: publicURL},
		Files: raw, Mover: raw, Log: log}
	return s, nil
}

// connected is the link's OnConnect: the first connection lets the
// driver start; later ones have it look for the channels lost meanwhile.
func (s *ariService) connected(_ context.Context, c arilink.Connection) {
	if d := s.ready.Load(); d != nil && c.Seq > 1 {
		d.Reconcile()
	}
	select {
	case s.first <- c.Client:
	default:
	}
}

// register exports the calls the driver serves and the events the link
// kept from the ARI library.
func (s *ariService) register(reg prometheus.Registerer) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ivr_asterisk_calls",
			Help: "Calls the Asterisk driver serves now (one goroutine each)."},
			func() float64 {
				if d := s.ready.Load(); d != nil {
					return float64(d.Calls())
				}
				return 0
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ivr_asterisk_events_dropped_total",
			Help: "Messages from Asterisk kept from the ARI library: event types it cannot decode."},
			func() float64 { return float64(s.link.Dropped()) }),
	)
}

// Ready is the link's readiness, for /readyz; nil without Asterisk.
func (s *ariService) Ready() error {
	if s == nil {
		return nil
	}
	return s.link.Ready()
}

// run connects in the background and, once connected, serves the calls
// until ctx ends; the driver stops using the client before the link ends.
func (s *ariService) run(ctx context.Context) {
	linkCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	linked := make(chan error, 1)
	go func() { linked <- s.link.Run(linkCtx) }()
	defer func() {
		stop()
		if err := <-linked; err != nil {
			s.log.Error("the ARI connection failed", zap.Error(err))
		}
	}()
	var client asterisk.Client
	select {
	case <-ctx.Done():
		return
	case client = <-s.first:
	}
	cfg := s.cfg
	cfg.Client = client
	d, err := asterisk.New(cfg)
	if err != nil {
		s.log.Error("the Asterisk driver cannot start", zap.Error(err))
		return
	}
	s.ready.Store(d)
	if err := d.Run(ctx); err != nil {
		s.log.Error("the Asterisk driver stopped", zap.Error(err))
	}
}
