package asterisk

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/supportdesk/ivr/asterisk/arilink"
	"go.uber.org/zap"
)

// Events are the event types the driver acts on: what an application's
// eventFilter must let through (arilink sets it).
var Events = []string{
	ari.Events.StasisStart, ari.Events.StasisEnd, ari.Events.ChannelDestroyed,
	ari.Events.ChannelDtmfReceived, ari.Events.PlaybackStarted, ari.Events.PlaybackFinished,
	ari.Events.RecordingFinished, ari.Events.RecordingFailed, ari.Events.ChannelEnteredBridge,
}

// Driver answers the calls that enter its Stasis application.
type Driver struct {
	cfg Config
	log *zap.Logger

	mu     sync.Mutex
	routes map[string]*call // channel, playback, recording and bridge ids → their call
	wg     sync.WaitGroup   // the calls' goroutines
	calls  atomic.Int64     // calls being served
	// reconnected has a token when Reconcile was called.
	reconnected chan struct{}
	entity      string // the Asterisk's entity id, once known (sweep.go); guarded by mu
	sweeping    sync.Mutex
}

// Calls is the number of calls being served: each has one goroutine.
func (d *Driver) Calls() int { return int(d.calls.Load()) }

// New returns a Driver, or errs.Invalid naming the setting that cannot
// work.
func New(cfg Config) (*Driver, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Driver{cfg: cfg, log: cfg.Log.Named("asterisk"), routes: map[string]*call{}, reconnected: make(chan struct{}, 1)}, nil
}

func (d *Driver) now() time.Time { return d.cfg.Now().UTC() }

// Run subscribes to the application's events and serves its calls until
// ctx ends; it returns once every call's goroutine has (calls still in
// Stasis then are left as they are, their state in the store).
func (d *Driver) Run(ctx context.Context) error {
	sub := d.cfg.Client.Bus().Subscribe(ari.AppKey(d.cfg.App), ari.Events.All)
	defer func() {
		sub.Cancel()
		for range sub.Events() { // Cancel closed it: drain what was left
		}
		d.wg.Wait()
	}()
	d.log.Info("serving the Stasis application", zap.String("app", d.cfg.App))
	d.learnEntity(ctx) // stamped on the calls' states; the sweep tries again
	d.adopt(ctx)       // calls another instance of the driver left in the application
	d.wg.Go(func() {
		d.sweep(ctx) // calls a stopped driver left whose callers are gone
		d.runSweeps(ctx)
	})
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.reconnected:
			d.recheckAll()
			d.adopt(ctx)
		case e, ok := <-sub.Events():
			if !ok {
				return fmt.Errorf("the ARI client's event bus closed")
			}
			if e != nil {
				d.route(ctx, e)
			}
		}
	}
}

// route hands event e to the call it concerns, or starts a call for a
// caller's channel entering the application. It never blocks: the bus
// drops events for a subscriber that does not keep up.
func (d *Driver) route(ctx context.Context, e ari.Event) {
	if s, ok := e.(*ari.StasisStart); ok {
		if s.Channel.ID == "" {
			return // no channel: nothing to answer
		}
		if c := d.callOf(s.Channel.ID); c != nil {
			c.deliver(e) // an engineer leg this driver originated
			return
		}
		d.started(ctx, s)
		return
	}
	var seen *call
	for _, k := range e.Keys() {
		if c := d.callOf(k.ID); c != nil && c != seen {
			c.deliver(e)
			seen = c
		}
	}
}

// Reconcile is to be called after each reconnection to Asterisk
// (arilink's OnConnect): the events of the gap are lost, so every call
// looks whether its channels are still there and ends those that are not
// (after an Asterisk restart, all of them), and callers who entered the
// application meanwhile are taken up. It does not wait: Run does it.
func (d *Driver) Reconcile() {
	select {
	case d.reconnected <- struct{}{}:
	default:
	}
}

// recheckAll has every call look at its channels.
func (d *Driver) recheckAll() {
	d.mu.Lock()
	seen := map[*call]bool{}
	for _, c := range d.routes {
		seen[c] = true
	}
	d.mu.Unlock()
	for c := range seen {
		c.deliver(recheck{})
	}
}

func (d *Driver) callOf(id string) *call {
	if id == "" {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.routes[id]
}

// bind routes the events of id (a channel, playback, recording or bridge
// the call is about to create) to c: before the request, so that no event
// of it is missed.
func (d *Driver) bind(id string, c *call) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.routes[id] = c
}

func (d *Driver) unbind(ids ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		delete(d.routes, id)
	}
}

// started handles a channel entering the application that no call knows:
// a caller (arguments "line,<number>"), a caller taken over from another
// instance ("resume"), or an engineer leg of a call this process no
// longer serves, which is hung up.
func (d *Driver) started(ctx context.Context, s *ari.StasisStart) {
	log := d.log.With(zap.String(keyChannel, s.Channel.ID), zap.Strings(keyArgs, s.Args))
	if len(s.Args) > 0 && s.Args[0] == ArgLeg {
		log.Warn("an engineer leg of no call served here entered the application; hanging it up")
		d.wg.Go(func() {
			if err := d.request(context.WithoutCancel(ctx), "hang up a stray leg", func() error {
				return d.cfg.Client.Channel().Hangup(ari.NewKey(ari.ChannelKey, s.Channel.ID), "normal")
			}); err != nil {
				log.Warn("could not hang up the stray leg", zap.Error(err))
			}
		})
		return
	}
	if len(s.Args) > 0 && s.Args[0] == ArgResume {
		d.adoptCaller(ctx, s.Channel.ID, false) // moved in by this driver's sweep
		return
	}
	line := d.lineOf(s)
	d.serve(ctx, newCall(d, s.Channel.ID, line, s.Channel.Caller.Number))
}

// serve routes the caller's channel to c and runs c in a goroutine of its
// own.
func (d *Driver) serve(ctx context.Context, c *call) {
	d.bind(c.id, c)
	d.calls.Add(1)
	d.wg.Go(func() {
		defer d.calls.Add(-1)
		c.run(ctx)
	})
}

// lineOf is the line a caller's channel dialled: its Stasis argument, else
// the extension it is at.
func (d *Driver) lineOf(s *ari.StasisStart) string {
	if len(s.Args) >= 2 && s.Args[0] == ArgLine {
		return s.Args[1]
	}
	exten := s.Channel.Dialplan.Exten
	for _, l := range d.cfg.Lines {
		if exten == l.Number || "+"+exten == l.Number {
			return l.Number
		}
	}
	d.log.Warn("a channel entered the application without a line argument; answered as the default line",
		zap.String(keyChannel, s.Channel.ID), zap.Strings(keyArgs, s.Args))
	return exten
}

// request runs one ARI request, bounded by RequestTimeout
// (arilink.Request).
func (d *Driver) request(ctx context.Context, what string, fn func() error) error {
	return arilink.Request(ctx, d.cfg.RequestTimeout, what, fn)
}
