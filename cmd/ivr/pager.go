package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ackpage"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/links"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/pager/pagerprom"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/tickethooks"
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
	// linkKey (IVR_LINK_KEY) signs acknowledgement links; ackLink makes
	// them (set by ackLinks).
	linkKey string
	ackLink func(pageID, engineerID int64, deadline time.Time) string
	// linkSigner signs under the same key the links Twilio plays a page's
	// voicemail from (set by ackLinks).
	linkSigner *links.Signer
	// codeSealer and codeHashKey seal the messages and key the hashes of
	// the codes that confirm engineers' numbers (set by codeKeys).
	codeSealer  *pager.Sealer
	codeHashKey []byte
	// The ticket system's webhook: its shared secret and the priorities
	// that page.
	ticketSecret, ticketPriorities string
	// voice chooses the page-call channels (--pager-voice); asterisk is
	// the one through Asterisk when it names it (set by serve from it and
	// the ARI settings, pagerasterisk.go).
	voice    pagerVoiceConfig
	asterisk *pagerAsterisk
	// pauseAt is a test hook (IVR_TEST_PAUSE_AT=phase): the pager stops
	// for good at the first time it reaches that phase, after logging
	// pauseMarker, so that a crash test can kill the process exactly there.
	pauseAt string
	// clockSpeed is a test hook (IVR_TEST_CLOCK_SPEED=k): the pager's
	// clock runs k times faster than real time, so that a test of a real
	// process sees a 7½-minute wait pass in seconds.
	clockSpeed float64
	// clockStart is a test hook (IVR_TEST_CLOCK_START, RFC 3339): the
	// instant the fast clock counts from, default the process's start.
	// Processes given the same one share one fast time line, so that an
	// instance restarted after a crash, or one beside it, goes on from the
	// times the others stored instead of going back to real time.
	clockStart time.Time
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
	if v := env.getenv("IVR_TEST_CLOCK_START"); v != "" {
		c.clockStart, _ = time.Parse(time.RFC3339Nano, v)
	}
	fs.StringVar(&c.ticketPriorities, "tickets-webhook-priorities", orDefault(env.getenv("IVR_TICKETS_WEBHOOK_PRIORITIES"), tickethooks.DefaultPriorities),
		"the ticket priorities whose events at POST /webhooks/tickets page, or none (env IVR_TICKETS_WEBHOOK_PRIORITIES)")
	c.ticketSecret = env.getenv(tickethooks.SecretEnv)
	c.linkKey = env.getenv("IVR_LINK_KEY")
	c.voice.register(fs, env)
}

// rules turns the settings into the pager's rules for the lines served.
func (c *pagerConfig) rules(lines []ivr.Line) (pager.Rules, error) {
	r := pager.Rules{OverdueWait: c.overdueWait, LineNames: map[string]string{}, AckLink: c.ackLink}
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
	w, err := pager.ParseWakingHours(c.wakingHours)
	if err != nil {
		return r, fmt.Errorf("--pager-waking-hours: %w", err)
	}
	if r.Quiet, err = pager.ParseQuiet(c.textOnly, w); err != nil {
		return r, fmt.Errorf("--pager-text-only-at-night: %w", err)
	}
	return r, nil
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

// senderSettings names, by the setting each comes from, the numbers calls
// leave from (each line's, for engineer calls; the pager's caller id) and
// texts (the pager's), for the check at start.
func (c *pagerConfig) senderSettings(lines []ivr.Line) (callerIDs, smsFrom map[string]string) {
	callerIDs, smsFrom = map[string]string{}, map[string]string{}
	for _, l := range lines {
		name := "--lines (" + l.Name + ")"
		if _, dup := callerIDs[name]; dup {
			name = "--lines (" + l.Name + ", " + l.Number + ")"
		}
		callerIDs[name] = l.Number
	}
	callerID, sms := c.senders(lines)
	if c.callerID != "" { // else the first line's, checked as such
		callerIDs["--pager-caller-id"] = callerID
	}
	switch {
	case c.smsFrom != "":
		smsFrom["--pager-sms-from"] = sms
	case sms != "":
		smsFrom["--pager-sms-from (by default the first +1 line's number)"] = sms
	}
	return callerIDs, smsFrom
}

// senderCheckBudget bounds the check at start of the numbers calls and
// texts leave from.
const senderCheckBudget = 10 * time.Second

// checkSenders refuses to serve when Twilio would refuse calls or texts
// from a line's or the pager's number (webhooks.CheckSenders). When Twilio
// cannot answer within senderCheckBudget it only warns, naming what was
// not checked: a Twilio outage at start must not keep the lines down.
func checkSenders(ctx context.Context, rest webhooks.SenderLister, c pagerConfig, lines []ivr.Line, log *zap.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, senderCheckBudget)
	defer cancel()
	callerIDs, smsFrom := c.senderSettings(lines)
	err := webhooks.CheckSenders(ctx, rest, callerIDs, smsFrom)
	var unchecked *webhooks.SendersUncheckedError
	if errors.As(err, &unchecked) {
		log.Warn("could not check with Twilio the numbers calls and texts leave from; serving anyway: Twilio refuses calls (21210) and texts (21606) from numbers that are not the account's",
			zap.Strings(keyUnchecked, unchecked.Settings), zap.Error(unchecked.Err))
		return nil
	}
	return err
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
		PublicURL: tw.PublicURL, AuthToken: tw.AuthToken, AccountSID: tw.AccountSID, REST: rest, CallerID: callerID, SMSFrom: smsFrom,
		Engineers: svc, OptOuts: db, Rules: rules, Log: log, Links: c.linkSigner, Voicemails: db,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pager: %w", err)
	}
	for _, l := range lines {
		if l.Number == callerID {
			log.Info("page calls come from a support line: an engineer who calls it back reaches the line, not their pages; "+
				"give the pager a Twilio number of its own (IVR_PAGER_CALLER_ID) whose Voice URL is "+webhooks.PagerVoicePath,
				zap.String(keyCallerID, callerID))
		}
	}
	if clock == nil && c.clockSpeed > 1 {
		start := time.Now()
		if !c.clockStart.IsZero() && c.clockStart.Before(start) {
			start = c.clockStart
		}
		clock = fastClock{start: start, k: c.clockSpeed}
		log.Warn("IVR_TEST_CLOCK_SPEED is set: the pager's clock runs fast; for tests only", zap.Float64(keySpeed, c.clockSpeed))
	}
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	metrics := pagerprom.Register(reg, db, now, log.Named("pager"))
	channels := twp.Channels()
	channels[pager.KindNote] = pager.NoteChannel{Tickets: tix}
	voice, err := c.asterisk.voice(channels[pager.KindVoice], rules, callerID) // --pager-voice
	if err != nil {
		return nil, nil, err
	}
	if voice != nil {
		channels[pager.KindVoice] = voice
	}
	if smsFrom == "" {
		log.Warn("no number to send page texts from: set IVR_PAGER_SMS_FROM (a Twilio number or Messaging Service); pages go by voice only")
	}
	eng, err := pager.New(pager.Config{Store: db, Channels: channels, Roster: pagerRoster{svc}, Policies: svc, OptOuts: db,
		Rules: rules, Clock: clock, Log: log.Named("pager"), Hook: c.pauseHook(log), Lease: c.lease, Observer: metrics, StormGap: c.stormGap,
		DoubtGrace: min(3*time.Second, c.lease/4), Sealer: c.codeSealer})
	if err != nil {
		return nil, nil, err
	}
	twp.SetPages(eng)
	c.asterisk.setPages(eng)
	return eng, twp, nil
}

// ackLinks returns the maker of acknowledgement links at publicURL, under
// IVR_LINK_KEY or, without it, a key made once and kept in the store (so
// that links outlive restarts and every instance accepts them), and has
// page texts carry them.
func (c *pagerConfig) ackLinks(ctx context.Context, db *store.DB, publicURL string) (ackpage.Links, error) {
	key, err := links.ParseKey(c.linkKey)
	if err == nil && key == nil {
		key, err = db.Secret(ctx, "link-key", links.KeySize)
	}
	if err != nil {
		return ackpage.Links{}, err
	}
	signer, err := links.New(key)
	if err != nil {
		return ackpage.Links{}, fmt.Errorf("IVR_LINK_KEY: %w", err)
	}
	l := ackpage.NewLinks(signer, publicURL)
	c.ackLink = l.URL
	c.linkSigner = signer
	return l, nil
}

// mountHooks adds the ticket system's webhook and the acknowledgement
// links' page to r.
// It returns the ticket-event path, which a watcher of the ticket system
// (RT) delivers to as well; watched says there is one.
func (c *pagerConfig) mountHooks(r *mux.Router, acks ackpage.Links, pages *pager.Engine, svc *oncall.Service, clock pager.Clock,
	watched bool, log *zap.Logger) (*tickethooks.Handler, error) {
	prios, err := tickethooks.ParsePriorities(c.ticketPriorities)
	if err != nil {
		return nil, err
	}
	tickets, err := tickethooks.New(tickethooks.Config{Secret: c.ticketSecret, Priorities: prios, Pages: pages, Log: log})
	if err != nil {
		return nil, err
	}
	if c.ticketSecret == "" && !watched {
		log.Warn("IVR_TICKETS_WEBHOOK_SECRET is not set: POST /webhooks/tickets answers 503 and ticket events page nobody")
	}
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	page, err := ackpage.New(ackpage.Config{Links: acks, Pages: pages, Engineers: svc, Now: now, Log: log})
	if err != nil {
		return nil, err
	}
	r.Handle(tickethooks.Path, tickets).Methods(http.MethodPost)
	r.PathPrefix(ackpage.PathPrefix).Handler(page)
	return tickets, nil
}
