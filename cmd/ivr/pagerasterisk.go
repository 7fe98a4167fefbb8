package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/asterisk/pagecall"
	"github.com/supportdesk/ivr/pager"
)

// Page calls through Asterisk (package asterisk/pagecall), beside or
// instead of Twilio's, chosen by --pager-voice:
//
//	twilio           Twilio only (the default)
//	asterisk         Asterisk only
//	twilio,asterisk  Twilio, and Asterisk when Twilio certainly made no call
//	                 (unreachable, 429, no account): paging goes on when
//	                 Twilio cannot be reached
//	asterisk,twilio  the other way round
//
// Asterisk's page calls use the ARI settings of the driver (--ari-url,
// --ari-user, ARI_PASSWORD, --ari-sounds-dir, --ari-dial) with an
// application of their own (--pager-ari-app), so a connection of their
// own: one websocket holds one application.

// pagerVoiceConfig is the choice of page-call channels.
type pagerVoiceConfig struct {
	via string // --pager-voice
	app string // --pager-ari-app
}

func (c *pagerVoiceConfig) register(fs *flag.FlagSet, env environ) {
	fs.StringVar(&c.via, "pager-voice", orDefault(env.getenv("IVR_PAGER_VOICE"), "twilio"),
		"how page calls are placed: twilio, asterisk, or both in the order tried, twilio,asterisk (Asterisk when Twilio cannot be reached) or asterisk,twilio; asterisk needs --ari-url (env IVR_PAGER_VOICE)")
	fs.StringVar(&c.app, "pager-ari-app", orDefault(env.getenv("IVR_PAGER_ARI_APP"), pagecall.DefaultApp),
		"the Stasis application of page calls through Asterisk, not the lines' --ari-app (env IVR_PAGER_ARI_APP)")
}

// order is the channels named by --pager-voice, in the order tried.
func (c pagerVoiceConfig) order() ([]string, error) {
	switch v := strings.ReplaceAll(c.via, " ", ""); v {
	case "", "twilio":
		return []string{"twilio"}, nil
	case "asterisk", "twilio,asterisk", "asterisk,twilio":
		return strings.Split(v, ","), nil
	}
	return nil, fmt.Errorf("--pager-voice: %q is none of twilio, asterisk, twilio,asterisk, asterisk,twilio", c.via)
}

// pagerAsterisk is the page calls through Asterisk over their own ARI
// connection.
type pagerAsterisk struct {
	order []string
	cfg   pagecall.Config // but the pager's rules and caller id
	link  *arilink.Link
	ch    *pagecall.Channel // made by voice, before run
	log   *zap.Logger
}

// newPagerAsterisk prepares page calls through Asterisk, or nil when
// --pager-voice does not name it; errors name the flag.
func newPagerAsterisk(c pagerVoiceConfig, a ariConfig, log *zap.Logger) (*pagerAsterisk, error) {
	order, err := c.order()
	if err != nil || len(order) == 1 && order[0] == "twilio" {
		return nil, err
	}
	switch {
	case a.url == "":
		return nil, fmt.Errorf("--pager-voice %s: set --ari-url (ARI_URL), the Asterisk that places page calls", c.via)
	case a.soundsDir == "":
		return nil, fmt.Errorf("--pager-voice %s: set --ari-sounds-dir to the folder ivr asterisk sounds installed the prompts into, as Asterisk sees it", c.via)
	case c.app == a.app:
		return nil, fmt.Errorf("--pager-ari-app: %q is the lines' application (--ari-app); page calls need one of their own", c.app)
	}
	log = log.Named("pager-asterisk")
	p := &pagerAsterisk{order: order, log: log,
		cfg: pagecall.Config{App: c.app, DialString: a.dial, SoundsDir: a.soundsDir, Log: log}}
	// OnConnect runs within run, after voice made the channel.
	p.link, err = arilink.New(arilink.Config{URL: a.url, Username: a.user, Password: a.password, Application: c.app, Log: log,
		OnConnect: func(_ context.Context, conn arilink.Connection) {
			p.ch.SetClient(conn.Client)
			if conn.Seq > 1 {
				p.ch.Reconcile() // the events of the gap are lost
			}
		}})
	if err != nil {
		return nil, fmt.Errorf("--ari-url: %w", err)
	}
	p.cfg.Ready = p.link.Ready
	return p, nil
}

// voice returns the pager's voice channel, Twilio's being twilio (nil
// when Twilio places no page calls); page calls through Asterisk show
// callerID and read the lines' names in rules.
func (p *pagerAsterisk) voice(twilio pager.Channel, rules pager.Rules, callerID string) (pager.Channel, error) {
	if p == nil {
		return twilio, nil
	}
	cfg := p.cfg
	cfg.Rules, cfg.CallerID = rules, callerID
	ch, err := pagecall.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("--pager-voice %s: %w", strings.Join(p.order, ","), err)
	}
	p.ch = ch
	if len(p.order) == 1 {
		return p.ch, nil
	}
	if twilio == nil {
		return nil, errors.New("--pager-voice " + strings.Join(p.order, ",") + ": Twilio places no page calls here (no --pager-caller-id or line number)")
	}
	if p.order[0] == "asterisk" {
		return pagecall.Fallback{Primary: p.ch, Secondary: twilio, Log: p.log}, nil
	}
	return pagecall.Fallback{Primary: twilio, Secondary: p.ch, Log: p.log}, nil
}

// setPages gives page calls the pager's engine.
func (p *pagerAsterisk) setPages(eng *pager.Engine) {
	if p != nil {
		p.ch.SetPages(eng)
	}
}

// Ready is the connection's readiness, for /readyz; nil without it.
func (p *pagerAsterisk) Ready() error {
	if p == nil {
		return nil
	}
	if err := p.link.Ready(); err != nil {
		return fmt.Errorf("page calls through Asterisk: %w", err)
	}
	return nil
}

// run connects in the background and serves page calls until ctx ends;
// the calls end before the connection does.
func (p *pagerAsterisk) run(ctx context.Context) {
	if p.ch == nil {
		p.log.Error("page calls through Asterisk were not wired into the pager")
		return
	}
	linkCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	linked := make(chan error, 1)
	go func() { linked <- p.link.Run(linkCtx) }()
	if err := p.ch.Run(ctx); err != nil {
		p.log.Error("page calls through Asterisk stopped", zap.Error(err))
	}
	stop()
	if err := <-linked; err != nil {
		p.log.Error("the ARI connection of page calls failed", zap.Error(err))
	}
}
