package arilink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
	"go.uber.org/zap"
)

// Errors Ready wraps.
var (
	// ErrNotConnected: the Link holds no connection to Asterisk now.
	ErrNotConnected = errors.New("not connected")
	// ErrReplaced: another websocket took the application
	// (ApplicationReplaced); the Link does not take it back.
	ErrReplaced = errors.New("application taken over by another websocket")
)

// Log keys.
const (
	keyURL       = "ari_url"
	keyApp       = "application"
	keyEventType = "event_type"
	keySeq       = "connection"
	keyBackoff   = "backoff"
)

// Connection is what OnConnect learns of a (re)connection.
type Connection struct {
	// Client is the library's client with the Link's bus, the same for
	// every connection of a Link (the bus and the subscriptions on it
	// survive reconnections).
	Client ari.Client
	// Seq counts the Link's connections: 1 for the first.
	Seq int
	// Lost is when the previous connection was lost (zero for the
	// first): the events of the gap since then are lost, so channels in
	// Stasis should be compared with the calls being served.
	Lost time.Time
}

// Link is a connection to one ARI application of one Asterisk through
// the ARI library's native client, with the relay that keeps from it what
// it cannot survive. New makes one, Run runs it.
type Link struct {
	cfg Config
	log *zap.Logger

	transport *http.Transport // to Asterisk: the filter and the REST proxy
	rest      *http.Client

	doors   chan *door    // the library's websocket dials waiting for a session
	stop    chan struct{} // closed when Run ends: doors still waiting are refused
	parking atomic.Bool   // shutting the library down: the proxy answers its Info itself
	dropped atomic.Int64
	bus     *bus // the client's, fed by the relay

	hmu      sync.Mutex // guards closing and the Add of handlers
	closing  bool
	handlers sync.WaitGroup // the relay's HTTP handlers
	wg       sync.WaitGroup // Run's other goroutines

	mu       sync.Mutex // guards what follows, which Ready and Client read
	client   *client    // set at the first connection
	up       bool
	since    time.Time // when the Link went down (or was made)
	lastErr  error
	replaced time.Time
	seq      int
	ran      bool

	// Run's goroutine's own.
	native        *native.Client
	connectCalled bool
	connectDone   chan struct{} // closed when the library's Connect has returned
}

// New checks cfg (after its defaults) and returns a Link that Run
// connects; errs.Invalid names a setting that cannot work. It connects to
// nothing.
func New(cfg Config) (*Link, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256, // one call's requests are few, but many calls run at once
		IdleConnTimeout:       90 * time.Second,
	}
	return &Link{
		cfg:         cfg,
		log:         cfg.Log.Named("arilink").With(zap.String(keyURL, cfg.URL), zap.String(keyApp, cfg.Application)),
		transport:   transport,
		rest:        &http.Client{Transport: transport, Timeout: cfg.RequestTimeout},
		doors:       make(chan *door),
		stop:        make(chan struct{}),
		since:       time.Now(),
		connectDone: make(chan struct{}),
		bus:         newBus(),
	}, nil
}

// Ready reports whether the Link is connected with the application's
// filter set: nil if so, else an error saying since when it is not (for
// /readyz), wrapping ErrNotConnected or ErrReplaced.
func (l *Link) Ready() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !l.replaced.IsZero():
		return fmt.Errorf("ARI application %s at Asterisk %s: %w at %s; this instance receives no calls "+
			"(give each instance an application name of its own, then restart it)",
			l.cfg.Application, l.cfg.URL, ErrReplaced, l.replaced.UTC().Format(time.RFC3339))
	case l.up:
		return nil
	case !l.ran:
		return fmt.Errorf("Asterisk at %s: %w: not started", l.cfg.URL, ErrNotConnected) //nolint:staticcheck // ST1005: a name, in what /readyz shows
	case l.lastErr != nil:
		return fmt.Errorf("Asterisk at %s %w since %s: %v", l.cfg.URL, ErrNotConnected, l.since.UTC().Format(time.RFC3339), l.lastErr) //nolint:staticcheck // ST1005: a name, in what /readyz shows
	default:
		return fmt.Errorf("Asterisk at %s %w since %s", l.cfg.URL, ErrNotConnected, l.since.UTC().Format(time.RFC3339)) //nolint:staticcheck // ST1005: a name, in what /readyz shows
	}
}

// Client returns the library's client once the Link has connected the
// first time (the same one afterwards, through every reconnection), else
// an error as Ready's. Its requests go through the Link's relay, each
// bounded by RequestTimeout; they fail while Asterisk is not connected.
// Its Bus is the Link's, which never drops an event; the library's own,
// which the Subscribe methods of its handles (ari.ChannelHandle …) use,
// is fed nothing: subscribe on Bus.
func (l *Link) Client() (ari.Client, error) {
	l.mu.Lock()
	c := l.client
	l.mu.Unlock()
	if c == nil {
		err := l.Ready()
		if err == nil {
			err = fmt.Errorf("Asterisk at %s: %w yet", l.cfg.URL, ErrNotConnected) //nolint:staticcheck // ST1005: a name, in what /readyz shows
		}
		return nil, err
	}
	return c, nil
}

// Dropped is the number of messages from Asterisk the relay has kept from
// the library: event types it does not know, and messages it could not
// decode.
func (l *Link) Dropped() int64 { return l.dropped.Load() }

// Run connects in the background and keeps reconnecting (backoff from
// MinBackoff to MaxBackoff) until ctx ends, then closes everything and
// returns once every goroutine it started (the library's included) has
// ended. Call it once. It returns an error only if the relay cannot
// listen on 127.0.0.1.
//
// Its end closes the client's bus: subscriptions still open are
// cancelled, their channels closed. Stop using the client before ctx
// ends.
func (l *Link) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("arilink: the relay: %w", err)
	}
	base := ln.Addr().String()
	l.native = native.New(&native.Options{
		Application:     l.cfg.Application,
		URL:             "http://" + base + "/ari",
		WebsocketURL:    "ws://" + base + "/ari/events",
		WebsocketOrigin: "http://" + base + "/",
		Username:        l.cfg.Username,
		Password:        l.cfg.Password,
	})
	srv := &http.Server{
		Handler:           l.handler(),
		ReadHeaderTimeout: l.cfg.RequestTimeout,
		ErrorLog:          zap.NewStdLog(l.log.Named("relay")),
	}
	l.wg.Go(func() { _ = srv.Serve(ln) })
	l.mu.Lock()
	l.ran = true
	l.since = time.Now()
	l.mu.Unlock()

	s, d := l.loop(ctx)
	l.shutdown(s, d)

	l.hmu.Lock()
	l.closing = true
	l.hmu.Unlock()
	close(l.stop)
	_ = srv.Close()
	l.handlers.Wait()
	l.wg.Wait()
	l.transport.CloseIdleConnections()
	l.bus.Close()
	l.setDown(errors.New("the link was closed"))
	return nil
}

// loop connects and reconnects until ctx ends, and returns the session
// and the library's door it holds then (either may be nil).
func (l *Link) loop(ctx context.Context) (*session, *door) {
	backoff := l.cfg.MinBackoff
	var held *door
	retry := func(err error) bool {
		l.setDown(err)
		log := l.log.Debug
		if backoff == l.cfg.MinBackoff { // the first failure of a streak
			log = l.log.Warn
		}
		log("could not connect to Asterisk; trying again", zap.Error(err), zap.Duration(keyBackoff, backoff))
		ok := l.wait(ctx, backoff, &held)
		backoff = min(2*backoff, l.cfg.MaxBackoff)
		return ok
	}
	for {
		if ctx.Err() != nil {
			return nil, held
		}
		if l.isReplaced() {
			// Taking the application back would take it from the other
			// instance, which would take it back: wait for the end.
			l.wait(ctx, -1, &held)
			return nil, held
		}
		s, err := l.open(ctx)
		if err != nil {
			if !retry(err) {
				return nil, held
			}
			continue
		}
		if !l.connectCalled {
			// The library's Connect blocks until its websocket (to the
			// relay) is up: it runs aside.
			l.connectCalled = true
			l.wg.Go(func() {
				defer close(l.connectDone)
				if err := l.native.Connect(); err != nil {
					l.log.Error("the ARI library did not connect", zap.Error(err))
				}
			})
		}
		if err := l.pair(ctx, s, &held); err != nil {
			s.end(err)
			if ctx.Err() != nil {
				return nil, held
			}
			if !retry(err) {
				return nil, held
			}
			continue
		}
		c := l.setUp()
		l.log.Info("connected to Asterisk's ARI", zap.Int(keySeq, c.Seq))
		if l.cfg.OnConnect != nil {
			l.cfg.OnConnect(ctx, c)
		}
		close(s.release)
		upAt := time.Now()
		if ended := l.serve(ctx, s, &held); !ended {
			return s, held
		}
		if time.Since(upAt) >= l.cfg.MaxBackoff {
			backoff = l.cfg.MinBackoff // a connection that lasted: again at once
			continue
		}
		// One that ended at once waits, as after a failure, so that an
		// Asterisk that accepts and drops is not dialled in a loop.
		if !l.wait(ctx, backoff, &held) {
			return nil, held
		}
		backoff = min(2*backoff, l.cfg.MaxBackoff)
	}
}

// pair waits for the library's websocket (a door) and joins it to s; the
// first time, until the library's Connect has returned.
func (l *Link) pair(ctx context.Context, s *session, held **door) error {
	for *held == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return s.err
		case d := <-l.doors:
			*held = d
		}
	}
	d := *held
	*held = nil
	if err := d.open(s); err != nil {
		return fmt.Errorf("the library's websocket: %w", err)
	}
	select {
	case <-l.connectDone:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return s.err
	case d := <-l.doors:
		// Its GET /asterisk/info failed: it left that websocket (without
		// closing it) and dials again.
		*held = d
		return errors.New("the ARI library gave up its first websocket")
	}
	return nil
}

// serve waits while s is up. It returns false if ctx ended (s still up),
// true if s ended.
func (l *Link) serve(ctx context.Context, s *session, held **door) bool {
	replaced := s.replacedCh
	for {
		select {
		case <-ctx.Done():
			return false
		case <-s.done:
			l.setDown(s.err)
			if !l.isReplaced() {
				l.log.Warn("lost the connection to Asterisk's ARI; reconnecting", zap.Error(s.err))
			}
			return true
		case <-replaced:
			replaced = nil
			l.log.Error("another websocket took the ARI application (ApplicationReplaced); not taking it back")
		case d := <-l.doors:
			// The library gave up its websocket (and dials again): start
			// over with a new session.
			*held = d
			s.end(errors.New("the ARI library dropped its websocket"))
		}
	}
}

// wait waits d (forever if d < 0), holding the library's door if it
// comes; false if ctx ended.
func (l *Link) wait(ctx context.Context, d time.Duration, held **door) bool {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timeout:
			return true
		case nd := <-l.doors:
			if *held != nil {
				(*held).refuse()
			}
			*held = nd
		}
	}
}

// shutdownWait bounds each step of the library's shutdown, which only a
// bug could make last.
const shutdownWait = 10 * time.Second

// shutdown ends the library's client without racing with it. Its Close
// writes a field its reconnecting goroutine writes too, unsynchronised;
// so the goroutine is first brought to the relay's door (its websocket
// closed, it dials again), Close is called while it waits there, and then
// its dial is let through (GET /asterisk/info answered by the relay),
// after which it sees its context ended, closes the websocket and
// returns. No goroutine of the library is left behind.
func (l *Link) shutdown(s *session, held *door) {
	l.parking.Store(true)
	if s != nil {
		s.end(errors.New("the link is closing"))
	}
	if !l.connectCalled {
		if held != nil {
			held.refuse()
		}
		return
	}
	timeout := time.NewTimer(shutdownWait)
	defer timeout.Stop()
	for held == nil {
		select {
		case held = <-l.doors:
		case <-timeout.C:
			l.log.Error("the ARI library did not come back to the relay; closing it anyway")
			l.native.Close()
			return
		}
	}
	l.native.Close()
	if err := held.park(); err != nil {
		l.log.Warn("the ARI library's last websocket", zap.Error(err))
		return
	}
	select {
	case <-held.finished:
	case <-timeout.C:
		l.log.Error("the ARI library did not close its last websocket")
	}
}

func (l *Link) isReplaced() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.replaced.IsZero()
}

func (l *Link) setReplaced() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.replaced.IsZero() {
		l.replaced = time.Now()
		l.up = false
	}
}

// setUp records a connection and returns what OnConnect is told.
func (l *Link) setUp() Connection {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	if l.client == nil {
		l.client = &client{Client: l.native, bus: clientBus{l.bus}}
	}
	c := Connection{Client: l.client, Seq: l.seq}
	if l.seq > 1 {
		c.Lost = l.since
	}
	l.up, l.lastErr = true, nil
	return c
}

func (l *Link) setDown(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.up {
		l.since = time.Now()
	}
	l.up, l.lastErr = false, err
}
