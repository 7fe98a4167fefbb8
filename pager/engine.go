package pager

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
)

// Log keys.
const (
	keyPage    = "page_id"
	keyAttempt = "attempt_id"
	keyKind    = "kind"
	keyOwner   = "owner"
	keyTries   = "tries"
	keyCall    = "call_sid"
)

// Channel carries out one kind of attempt at a provider.
type Channel interface {
	// Send makes attempt a's request and returns the provider's id for it
	// ("" for a channel whose requests end at once, such as a ticket
	// note). A failure should be a *SendError saying whether the request
	// may have been made; any other error counts as Doubt.
	Send(ctx context.Context, a Attempt) (providerID string, err error)
	// Find looks at the provider for a request made for attempt a after
	// a.ClaimedAt, when a's outcome is in doubt, and returns its id; ""
	// when the provider has none, so that sending again cannot repeat it.
	Find(ctx context.Context, a Attempt) (providerID string, err error)
}

// Roster says who is on call.
type Roster interface {
	// OnCall returns the engineer on call at level and layer at t; false
	// when nobody is.
	OnCall(level oncall.Level, layer oncall.Layer, t time.Time) (oncall.Engineer, bool)
}

// Policies gives the escalation policy of each priority.
type Policies interface {
	Policy(ctx context.Context, p oncall.Priority) (oncall.Policy, error)
}

// Clock is the engine's time: real in production, driven by tests.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config is what an Engine needs. Zero values get the defaults described.
type Config struct {
	Store    Store            // required
	Channels map[Kind]Channel // the channel of each kind of attempt; an attempt of a kind with none fails
	Roster   Roster           // required
	Policies Policies         // required
	Rules    Rules
	Clock    Clock       // default: the real clock
	Log      *zap.Logger // default: none
	// OptOuts says which numbers opted out of texts, so that their
	// engineers are paged by voice only. Nil: every number takes texts.
	OptOuts OptOuts
	// Owner names this instance in leases. Default: random.
	Owner string
	// Lease is how long a claimed attempt is this instance's: longer than
	// any provider request. Default 30 s.
	Lease time.Duration
	// DoubtGrace is how long to wait, after a request whose outcome is in
	// doubt, before looking for it at the provider (whose lists lag a
	// little). Default 3 s.
	DoubtGrace time.Duration
	// Scan is the period of the safety scan for due pages and attempts
	// that no wake-up announced. Default 15 s.
	Scan time.Duration
	// Workers is how many attempts are carried out at once. Default 8.
	Workers int
	// RetryBase and RetryMax bound the pause before retrying a request
	// that failed for a reason that may pass (exponential, with jitter).
	// Defaults 2 s and 2 min.
	RetryBase, RetryMax time.Duration
	// MaxTries is how often a request is tried before its channel counts
	// as failed and the next channel takes over. Default 5.
	MaxTries int
	// StaleAfter is how long a sent attempt waits for its outcome before
	// it is taken as lost (voice: the provider is asked; SMS: taken as
	// sent without a report). Default 10 min.
	StaleAfter time.Duration
	// StormGap is the least time between two page calls to one number
	// for pages that are not critical: a call due sooner waits, and the
	// pages that arrive meanwhile are announced by it together. 0: no
	// gap (the calls still go one at a time, each folding those that
	// waited for it).
	StormGap time.Duration
	// LegPatience is how long an engineer leg of a live call may wait to
	// be placed (its engineer's line busy, the provider failing) before
	// it ends and the call rings the next engineer. Default 10 s.
	LegPatience time.Duration
	// Sealer opens the sealed bodies of the codes that confirm engineers'
	// numbers (codes.go). Nil: such attempts fail.
	Sealer *Sealer
	// Observer learns what the engine does, for metrics. Default: none.
	Observer Observer
	// Hook, when set, is called at each Phase of the engine's work (a
	// test stops the process there). Nil in production.
	Hook func(ctx context.Context, phase Phase, pageID, attemptID int64)
}

// Phase names a point in the engine's work where a crash leaves the most
// to recover, for Config.Hook.
type Phase string

const (
	// PhaseClaimed: an attempt's claim has committed; its request is not
	// made yet.
	PhaseClaimed Phase = "claimed"
	// PhaseAccepted: the provider accepted the request (its id is known
	// to this process only); the id is not stored yet.
	PhaseAccepted Phase = "accepted"
	// PhaseRecorded: the provider's id is stored; the outcome is not
	// known yet.
	PhaseRecorded Phase = "recorded"
	// PhaseDue: a page's timer has come; its escalation is not stored yet.
	PhaseDue Phase = "due"
)

// Observer learns what the engine does, for metrics.
type Observer interface {
	// Sent: the provider accepted an attempt of kind, latency after the
	// attempt was written (for a page's first attempt: after the page).
	Sent(kind Kind, latency time.Duration)
	// Ended: an attempt of kind ended with o.
	Ended(kind Kind, o Outcome)
}

type noObserver struct{}

func (noObserver) Sent(Kind, time.Duration) {}
func (noObserver) Ended(Kind, Outcome)      {}

func (c *Config) defaults() {
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.Owner == "" {
		var b [6]byte
		_, _ = crand.Read(b[:])
		c.Owner = "pager-" + hex.EncodeToString(b[:])
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.DoubtGrace <= 0 {
		c.DoubtGrace = 3 * time.Second
	}
	if c.Scan <= 0 {
		c.Scan = 15 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 2 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 2 * time.Minute
	}
	if c.MaxTries <= 0 {
		c.MaxTries = 5
	}
	if c.StaleAfter <= 0 {
		c.StaleAfter = 10 * time.Minute
	}
	if c.LegPatience <= 0 {
		c.LegPatience = 10 * time.Second
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	if c.Hook == nil {
		c.Hook = func(context.Context, Phase, int64, int64) {}
	}
}

// Engine makes pages durable and timely: it opens them, fires their timers
// from stored due times, and carries out their attempts through the
// channels, each claimed under a lease so that any number of engines
// (instances) can share the work without a leader.
type Engine struct {
	cfg       Config
	log       *zap.Logger
	sendWake  chan struct{}
	timerWake chan struct{}

	zonesMu sync.Mutex
	zones   map[string]*time.Location

	legs atomic.Pointer[LegChannel] // SetLegs
}

// New returns an engine; Run starts its loops.
func New(cfg Config) (*Engine, error) {
	cfg.defaults()
	switch {
	case cfg.Store == nil:
		return nil, errors.New("pager: Config.Store is required")
	case cfg.Roster == nil:
		return nil, errors.New("pager: Config.Roster is required")
	case cfg.Policies == nil:
		return nil, errors.New("pager: Config.Policies is required")
	}
	return &Engine{
		cfg:       cfg,
		log:       cfg.Log.With(zap.String(keyOwner, cfg.Owner)),
		sendWake:  make(chan struct{}, 1),
		timerWake: make(chan struct{}, 1),
		zones:     map[string]*time.Location{},
	}, nil
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Wake makes the loops look for work now: another instance added some
// (PostgreSQL's LISTEN/NOTIFY calls it), or the store came back.
func (e *Engine) Wake() {
	wake(e.sendWake)
	wake(e.timerWake)
}

// env is what Apply reads, with the numbers opted out of texts as
// optOuts read them (before the transaction).
func (e *Engine) env(optedOut map[string]time.Time, lines map[string]VoiceLine) Env {
	return Env{
		Now: e.cfg.Clock.Now(),
		OnCall: func(level oncall.Level, layer oncall.Layer, t time.Time) (Target, bool) {
			eng, ok := e.cfg.Roster.OnCall(level, layer, t)
			if !ok {
				return Target{}, false
			}
			return targetOf(eng, optedOut), true
		},
		Rules: e.cfg.Rules,
		Zone:  e.zone,
		SMSOptedOut: func(phone string) bool {
			_, out := optedOut[phone]
			return out
		},
		Line: func(phone string) VoiceLine { return lines[phone] },
	}
}

func (e *Engine) zone(name string) *time.Location {
	e.zonesMu.Lock()
	defer e.zonesMu.Unlock()
	if loc, ok := e.zones[name]; ok {
		return loc
	}
	loc, err := oncall.LoadZone(name)
	if err != nil {
		loc = time.UTC
	}
	e.zones[name] = loc
	return loc
}

// Raise pages about r: the page is stored with its first attempts in one
// durable transaction and leaves the process at once. A request whose Key
// names an existing page returns that page with created false.
func (e *Engine) Raise(ctx context.Context, r Request) (p Page, created bool, err error) {
	if err := r.Validate(); err != nil {
		return Page{}, false, err
	}
	policy, err := e.cfg.Policies.Policy(ctx, r.Priority)
	if err != nil {
		return Page{}, false, fmt.Errorf("raise page %s: escalation policy: %w", r.Key, err)
	}
	level := r.Level
	if !level.Valid() {
		level = oncall.L1
	}
	np := Page{
		Key: r.Key, Source: r.Source, TicketID: r.TicketID, Priority: r.Priority, Level: level, Summary: r.Summary,
		Line: r.Line, Caller: r.Caller, Language: r.Language, Recording: r.Recording, RecordingSeconds: r.RecordingSeconds,
		RaisedAt: r.RaisedAt.UTC(), Deadline: r.RaisedAt.UTC().Add(r.Priority.ResponseTime()), Status: Open,
	}
	optedOut, lines := e.optOuts(ctx), e.lines(ctx)
	p, created, err = e.cfg.Store.CreatePage(ctx, np, func(p *Page) Changes {
		return Apply(p, nil, Opened{Policy: policy}, e.env(optedOut, lines))
	})
	if err != nil {
		return Page{}, false, fmt.Errorf("raise page %s: %w", r.Key, err)
	}
	if created {
		e.log.Info("page raised", zap.Int64(keyPage, p.ID), zap.String(keyPriority, string(p.Priority)),
			zap.String(keyTicket, p.TicketID), zap.String(keyStatus, string(p.Status)))
		e.Wake()
	}
	return p, created, nil
}

// Handle applies ev to page id in one durable transaction and wakes the
// loops for what it added. errs.NotFound if there is no such page.
func (e *Engine) Handle(ctx context.Context, id int64, ev Event) (Page, error) {
	var ended []Attempt // attempts this event ends, for the observer
	var earlier bool    // the event brought the page's timer forward
	optedOut, lines := e.optOuts(ctx), e.lines(ctx)
	p, err := e.cfg.Store.UpdatePage(ctx, id, func(p *Page, atts []Attempt) (Changes, error) {
		before := p.DueAt
		ch := Apply(p, atts, ev, e.env(optedOut, lines))
		earlier = !p.DueAt.IsZero() && (before.IsZero() || p.DueAt.Before(before))
		ended = ended[:0]
		for _, end := range ch.End {
			for _, a := range atts {
				if a.ID == end.AttemptID && a.Open() && (end.Outcome != Canceled || a.Status == Intended) {
					a.Outcome = end.Outcome
					ended = append(ended, a)
				}
			}
		}
		return ch, nil
	})
	if err != nil {
		return Page{}, fmt.Errorf("page %d: %w", id, err)
	}
	for _, a := range ended {
		e.cfg.Observer.Ended(a.Kind, a.Outcome)
	}
	// Even with nothing added: an attempt that ended may free a phone
	// number for the page call waiting on it.
	wake(e.sendWake)
	// The timer loop sleeps until the earliest due time it read; only a
	// timer brought forward needs it to read again (one put back or
	// cleared merely wakes it once for nothing at the old time).
	if earlier {
		wake(e.timerWake)
	}
	return p, nil
}

// Acknowledge takes page id on behalf of ack's engineer. A closed page is
// left as it is (the log says so).
func (e *Engine) Acknowledge(ctx context.Context, id int64, ack Acknowledge) (Page, error) {
	return e.Handle(ctx, id, ack)
}

// Resolve closes page id.
func (e *Engine) Resolve(ctx context.Context, id int64, by string) (Page, error) {
	return e.Handle(ctx, id, Resolve{By: by})
}

// AttemptEnded reports the outcome of attempt id (from a provider's
// callback). An attempt that has ended already is left as it is. A call
// acknowledged by its 1 also acknowledges every page it announced.
func (e *Engine) AttemptEnded(ctx context.Context, id int64, o Outcome, detail string) (Page, error) {
	a, err := e.cfg.Store.Attempt(ctx, id)
	if err != nil {
		return Page{}, fmt.Errorf("attempt %d: %w", id, err)
	}
	if a.Purpose == PurposeCode {
		e.endCode(ctx, e.log.With(zap.Int64(keyAttempt, a.ID)), a, o, detail)
		return Page{}, nil
	}
	p, err := e.Handle(ctx, a.PageID, AttemptEnded{AttemptID: id, Outcome: o, Detail: detail})
	if err != nil || o != Acked || p.AckedBy != a.EngineerID {
		return p, err
	}
	for _, other := range p.DigestOf(id) {
		if _, err := e.Handle(ctx, other, Acknowledge{EngineerID: p.AckedBy, Name: p.AckedByName, Via: ViaVoice}); err != nil {
			return p, fmt.Errorf("acknowledge page %d announced with page %d: %w", other, p.ID, err)
		}
	}
	return p, nil
}

// ConfirmAttempt records the provider's id for attempt id on the
// provider's own word (the initiated callback of a page call).
func (e *Engine) ConfirmAttempt(ctx context.Context, id int64, providerID string) error {
	return e.cfg.Store.ConfirmAttempt(ctx, id, providerID)
}

// Page returns page id with its attempts.
func (e *Engine) Page(ctx context.Context, id int64) (Page, []Attempt, error) {
	return e.cfg.Store.Page(ctx, id)
}

// Pages lists pages newest first.
func (e *Engine) Pages(ctx context.Context, f Filter) ([]Page, error) {
	return e.cfg.Store.Pages(ctx, f)
}

// Attempt returns attempt id; a code's with its body open, for the
// telephony that speaks it.
func (e *Engine) Attempt(ctx context.Context, id int64) (Attempt, error) {
	a, err := e.cfg.Store.Attempt(ctx, id)
	if err != nil {
		return a, err
	}
	return e.reveal(a)
}

// AttemptByProviderID returns the attempt the provider knows as
// providerID; errs.NotFound if none. A channel looking for a request in
// doubt asks it, so that it never takes another attempt's call or text
// for the one it looks for.
func (e *Engine) AttemptByProviderID(ctx context.Context, providerID string) (Attempt, error) {
	return e.cfg.Store.AttemptByProviderID(ctx, providerID)
}

// Run runs the engine's loops until ctx is done: the timers of open pages
// and the outbox. It returns nil when ctx ends.
//
// With PostgreSQL the store announces every change (LISTEN/NOTIFY), and
// the engine wakes whenever another instance changes a page, so that
// timers and work set elsewhere are seen at once.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e.timerLoop(ctx) }()
	go func() { defer wg.Done(); e.outboxLoop(ctx) }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := e.cfg.Store.ListenPager(ctx, e.Wake); err != nil && ctx.Err() == nil {
			e.log.Error("pager notifications stopped; other instances' changes are seen at the safety scan", zap.Error(err))
		}
	}()
	wg.Wait()
	return nil
}

// Listener is the part of the Store that announces changes made by any
// instance (PostgreSQL's LISTEN/NOTIFY; with one instance it returns at
// once).
type Listener interface {
	// ListenPager calls wake after every change to a page or its outbox,
	// and after every reconnection (changes announced meanwhile are
	// lost), until ctx is done.
	ListenPager(ctx context.Context, wake func()) error
}

// RunOnce does, once and in order, what the loops do: fires due timers,
// sends what is in the outbox, looks after attempts in doubt or stale. It
// returns when all of it is done; tests drive the engine with it.
func (e *Engine) RunOnce(ctx context.Context) {
	e.fireDue(ctx)
	for e.sendBatch(ctx) > 0 {
	}
	e.scanOutbox(ctx)
	for e.sendBatch(ctx) > 0 {
	}
}

func (e *Engine) timerLoop(ctx context.Context) {
	for ctx.Err() == nil {
		e.fireDue(ctx)
		wait := e.cfg.Scan
		if next, ok, err := e.cfg.Store.NextDue(ctx); err != nil {
			if ctx.Err() == nil {
				e.log.Error("next page timer", zap.Error(err))
			}
		} else if ok {
			wait = min(wait, max(0, next.Sub(e.cfg.Clock.Now())))
		}
		select {
		case <-ctx.Done():
		case <-e.timerWake:
		case <-e.cfg.Clock.After(wait):
		}
	}
}

// fireDue delivers Due to every page whose timer has come.
func (e *Engine) fireDue(ctx context.Context) {
	for ctx.Err() == nil {
		ids, err := e.cfg.Store.DuePages(ctx, e.cfg.Clock.Now(), 100)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("due pages", zap.Error(err))
			}
			return
		}
		for _, id := range ids {
			e.cfg.Hook(ctx, PhaseDue, id, 0)
			if _, err := e.Handle(ctx, id, Due{}); err != nil && ctx.Err() == nil {
				e.log.Error("page timer", zap.Int64(keyPage, id), zap.Error(err))
			}
		}
		if len(ids) < 100 {
			return
		}
	}
}

// More log keys.
const (
	keyAt         = "at"
	keyCallID     = "call_id"
	keyOutcome    = "outcome"
	keyPages      = "pages"
	keyPause      = "pause"
	keyPriority   = "priority"
	keyProviderID = "provider_id"
	keyStatus     = "status"
	keyTicket     = "ticket"
)
