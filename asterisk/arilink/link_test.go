package arilink_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/gorilla/websocket"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/internal/loopback"
)

// app is the Stasis application the tests' Links hold: the first the
// rig's dialplan sends calls to.
var app = asterisktest.Apps[0]

// running is a Link run by a test, with what its OnConnect saw.
type running struct {
	*arilink.Link
	connects chan arilink.Connection
}

// run starts a Link with cfg (application app, Asterisk's credentials,
// short backoffs) and stops it when the test ends: Run must return, every
// goroutine started since must end, and Asterisk must let the application
// go.
func run(t *testing.T, ast *asterisktest.Asterisk, cfg arilink.Config) *running {
	t.Helper()
	baseline := runtime.NumGoroutine()
	r := &running{connects: make(chan arilink.Connection, 16)}
	cfg.Application, cfg.Username, cfg.Password = app, ast.User, ast.Password
	if cfg.MaxBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	cfg.Log = zaptest.NewLogger(t)
	hook := cfg.OnConnect
	cfg.OnConnect = func(ctx context.Context, c arilink.Connection) {
		if hook != nil {
			hook(ctx, c)
		}
		r.connects <- c
	}
	link, err := arilink.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Link = link
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- link.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Run did not return within 15 s of its context's end")
		}
		if err := link.Ready(); !errors.Is(err, arilink.ErrNotConnected) && !errors.Is(err, arilink.ErrReplaced) {
			t.Errorf("Ready after Run = %v, want not connected", err)
		}
		var now int
		err := poll(10*time.Second, func() bool {
			// The test's own ARI requests leave idle connections (and
			// their goroutines) in the default transport.
			http.DefaultClient.CloseIdleConnections()
			now = runtime.NumGoroutine()
			return now <= baseline
		})
		if err != nil {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines 10 s after Run returned, %d before it started:\n%s", now, baseline, buf[:runtime.Stack(buf, true)])
		}
		waitFor(t, 10*time.Second, "end of application "+app, func() bool {
			return ast.ARI(t, http.MethodGet, "/applications/"+app, nil) == http.StatusNotFound
		})
	})
	return r
}

// connected waits for the next connection OnConnect sees, then for Ready.
func (r *running) connected(t *testing.T) arilink.Connection {
	t.Helper()
	var c arilink.Connection
	select {
	case c = <-r.connects:
	case <-time.After(20 * time.Second):
		t.Fatalf("no connection within 20 s; Ready: %v", r.Ready())
	}
	waitFor(t, 10*time.Second, "Ready", func() bool { return r.Ready() == nil })
	return c
}

// filter is the application's event filter as Asterisk has it.
func filter(t *testing.T, ast *asterisktest.Asterisk) []string {
	t.Helper()
	var a struct {
		Allowed []struct {
			Type string `json:"type"`
		} `json:"events_allowed"`
	}
	if code := ast.ARI(t, http.MethodGet, "/applications/"+app, &a); code != http.StatusOK {
		t.Fatalf("GET /applications/%s: %d", app, code)
	}
	var types []string
	for _, e := range a.Allowed {
		types = append(types, e.Type)
	}
	slices.Sort(types)
	return types
}

// events gathers what a subscription to every event receives.
type events struct {
	mu   sync.Mutex
	seen []ari.Event
	done chan struct{}
}

func subscribe(t *testing.T, c ari.Client) *events {
	t.Helper()
	sub := c.Bus().Subscribe(nil, ari.Events.All)
	e := &events{done: make(chan struct{})}
	go func() {
		defer close(e.done)
		for ev := range sub.Events() {
			e.mu.Lock()
			e.seen = append(e.seen, ev)
			e.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		sub.Cancel()
		<-e.done
	})
	return e
}

// wait returns the first event matching match, failing after 20 s.
func (e *events) wait(t *testing.T, what string, match func(ari.Event) bool) ari.Event {
	t.Helper()
	var found ari.Event
	waitFor(t, 20*time.Second, what, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, ev := range e.seen {
			if ev != nil && match(ev) {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

func (e *events) all() []ari.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.seen)
}

// TestRelay: the Link connects through a front that adds messages the
// library cannot take: each is dropped (and counted) before it reaches a
// subscriber, the connection stays up, and a real call's StasisStart
// still arrives. A websocket cut is then reconnected, OnConnect told.
func TestRelay(t *testing.T) {
	ast := asterisktest.Start(t)
	f := startFront(t, ast, 0)
	link := run(t, ast, arilink.Config{URL: f.URL, RequestTimeout: 500 * time.Millisecond})
	first := link.connected(t)
	if first.Seq != 1 || !first.Lost.IsZero() || first.Client == nil {
		t.Fatalf("first connection %+v, want Seq 1, no Lost, a client", first)
	}
	if got, want := filter(t, ast), arilink.KnownEvents(); !slices.Equal(got, want) {
		t.Errorf("the application's filter allows %v, want %v", got, want)
	}
	if c, err := link.Client(); err != nil || c != first.Client {
		t.Errorf("Client() = %v, %v; want OnConnect's client", c, err)
	}
	seen := subscribe(t, first.Client)

	ts := `"timestamp":"2026-12-01T12:00:00.000+0000","application":"` + app + `"`
	bad := []string{
		`{"type":"ChannelToneDetected",` + ts + `,"channel":{"id":"x","name":"PJSIP/x","state":"Up"}}`,
		`{"type":"ApplicationRegistered",` + ts + `}`,
		`{"type":"NoSuchEvent",` + ts + `}`,
		`{"type":"StasisStart","timestamp":42,"application":"` + app + `"}`, // known, but undecodable
		`{"application":"` + app + `"}`,
		`{not json`,
	}
	dropped := len(bad)
	// And every type of Asterisk 22's events.json, the library's unknown
	// ones dropped too (but ApplicationReplaced, which would tell the
	// Link that another websocket took the application).
	injected := bad
	for _, typ := range asterisktest.SpecEvents(t) {
		if typ != "ApplicationReplaced" {
			injected = append(injected, `{"type":"`+typ+`",`+ts+`}`)
		}
		if !arilink.Known(typ) {
			dropped++
		}
	}
	// A known event after them: once it is seen, they were dealt with.
	marker := `{"type":"ChannelUserevent",` + ts + `,"eventname":"arilink-marker","userevent":{}}`
	before := link.Dropped()
	f.Inject(t, append(injected, marker)...)
	seen.wait(t, "the marker event", func(e ari.Event) bool {
		u, ok := e.(*ari.ChannelUserevent)
		return ok && u.Eventname == "arilink-marker"
	})
	if got := link.Dropped() - before; got != int64(dropped) {
		t.Errorf("%d messages dropped, want %d", got, dropped)
	}
	if err := link.Ready(); err != nil {
		t.Errorf("Ready after the injected messages: %v", err)
	}

	caller := ast.Call(t, "arilink-caller", asterisktest.Moscow)
	start := seen.wait(t, "the caller's StasisStart", func(e ari.Event) bool {
		s, ok := e.(*ari.StasisStart)
		return ok && strings.HasPrefix(s.Channel.Name, "PJSIP/arilink-caller-")
	}).(*ari.StasisStart)
	if got := strings.Join(start.Args, ","); got != asterisktest.LineArg+","+asterisktest.Moscow {
		t.Errorf("StasisStart args %q", got)
	}
	key := ari.NewKey(ari.ChannelKey, start.Channel.ID)
	if err := first.Client.Channel().Answer(key); err != nil {
		t.Fatalf("answer through the relay: %v", err)
	}
	if err := first.Client.Channel().Hangup(key, "normal"); err != nil {
		t.Fatalf("hang up through the relay: %v", err)
	}
	seen.wait(t, "the caller's StasisEnd", func(e ari.Event) bool {
		s, ok := e.(*ari.StasisEnd)
		return ok && s.Channel.ID == start.Channel.ID
	})
	if err := caller.Wait(); err != nil {
		t.Error(err)
	}
	if got := link.Dropped() - before; got != int64(dropped) {
		t.Errorf("%d messages dropped after the call, want the %d injected: the library could not decode one of Asterisk's", got, dropped)
	}
	for _, e := range seen.all() {
		if e == nil || !arilink.Known(e.GetType()) {
			t.Errorf("a subscriber received %#v", e)
		}
	}
	select {
	case c := <-link.connects:
		t.Fatalf("a reconnection (%d) while messages were injected", c.Seq)
	default:
	}

	// A REST request Asterisk does not answer fails after RequestTimeout
	// (the library's own HTTP client would wait for ever).
	f.Hang.Store(true)
	asked := time.Now()
	_, err := first.Client.Channel().List(nil)
	f.Hang.Store(false)
	if took := time.Since(asked); err == nil || took > 5*time.Second {
		t.Errorf("a request left unanswered: %v after %v, want an error after the request timeout (500 ms)", err, took)
	}

	// The websocket cut: the Link reconnects, OnConnect says when it was lost.
	cut := time.Now()
	f.Cut()
	second := link.connected(t)
	if second.Seq != 2 || second.Lost.Before(cut.Add(-time.Second)) || second.Client != first.Client {
		t.Errorf("after the cut: %+v, want Seq 2, Lost after %v, the same client", second, cut)
	}
	// The subscription made before still gets events.
	f.Inject(t, strings.Replace(marker, "arilink-marker", "arilink-marker-2", 1))
	seen.wait(t, "the second marker", func(e ari.Event) bool {
		u, ok := e.(*ari.ChannelUserevent)
		return ok && u.Eventname == "arilink-marker-2"
	})
}

// TestAsteriskRestart: a restart takes the Link down (Ready says so),
// then it reconnects by itself, tells OnConnect, and sets the filter
// again (Asterisk forgot it).
func TestAsteriskRestart(t *testing.T) {
	ast := asterisktest.Start(t)
	// Pinged often: Asterisk answers, and a missing answer would show as
	// a reconnection.
	link := run(t, ast, arilink.Config{URL: ast.ARIURL, PingInterval: 100 * time.Millisecond})
	first := link.connected(t)
	seen := subscribe(t, first.Client)

	// Ready's answers while Asterisk restarts.
	var downErr error
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if err := link.Ready(); err != nil && downErr == nil {
				downErr = err
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	restarted := time.Now()
	ast.Restart(t)
	second := link.connected(t)
	close(stop)
	<-watched
	if !errors.Is(downErr, arilink.ErrNotConnected) || !strings.Contains(downErr.Error(), "Asterisk at "+ast.ARIURL+" not connected since ") {
		t.Errorf("Ready during the restart: %v, want Asterisk at %s not connected since …", downErr, ast.ARIURL)
	}
	if second.Seq != 2 || second.Lost.Before(restarted.Add(-time.Second)) {
		t.Errorf("after the restart: %+v, want Seq 2 lost after %v", second, restarted)
	}
	if got, want := filter(t, ast), arilink.KnownEvents(); !slices.Equal(got, want) {
		t.Errorf("the filter after the restart allows %v, want %v", got, want)
	}
	// Calls arrive again, to the subscription made before the restart.
	caller := ast.Call(t, "arilink-after-restart", asterisktest.Washington)
	start := seen.wait(t, "a StasisStart after the restart", func(e ari.Event) bool {
		s, ok := e.(*ari.StasisStart)
		return ok && strings.HasPrefix(s.Channel.Name, "PJSIP/arilink-after-restart-")
	}).(*ari.StasisStart)
	key := ari.NewKey(ari.ChannelKey, start.Channel.ID)
	if err := second.Client.Channel().Answer(key); err != nil {
		t.Fatal(err)
	}
	if err := second.Client.Channel().Hangup(key, "normal"); err != nil {
		t.Fatal(err)
	}
	if err := caller.Wait(); err != nil {
		t.Error(err)
	}
}

// TestAsteriskDownAtStart: with nothing at the URL, Run does not block,
// Ready and Client say since when Asterisk is not connected and why; once
// an Asterisk answers there, the Link connects.
func TestAsteriskDownAtStart(t *testing.T) {
	ast := asterisktest.Start(t)
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d/ari", port)
	began := time.Now()
	link := run(t, ast, arilink.Config{URL: base})
	waitFor(t, 10*time.Second, "a failed attempt in Ready", func() bool {
		err := link.Ready()
		return err != nil && strings.Contains(err.Error(), "connection refused")
	})
	err = link.Ready()
	if !errors.Is(err, arilink.ErrNotConnected) || !strings.Contains(err.Error(), "Asterisk at "+base+" not connected since ") {
		t.Errorf("Ready = %v, want Asterisk at %s not connected since …", err, base)
	}
	if c, err := link.Client(); c != nil || !errors.Is(err, arilink.ErrNotConnected) {
		t.Errorf("Client() = %v, %v before any connection", c, err)
	}
	t.Logf("%v after the start: %v", time.Since(began).Round(time.Millisecond), err)

	f := startFront(t, ast, port) // Asterisk "comes up" at the URL
	if c := link.connected(t); c.Seq != 1 {
		t.Errorf("first connection: Seq %d", c.Seq)
	}
	if _, err := link.Client(); err != nil {
		t.Errorf("Client() once connected: %v", err)
	}

	// Gone again: Ready says so, and the Link still ends cleanly (run's
	// cleanup) while the library waits to reconnect.
	f.Stop()
	waitFor(t, 10*time.Second, "Ready saying not connected", func() bool {
		return errors.Is(link.Ready(), arilink.ErrNotConnected)
	})
}

// TestApplicationReplaced: another websocket taking the application
// makes Ready say so, and the Link does not take it back.
func TestApplicationReplaced(t *testing.T) {
	ast := asterisktest.Start(t)
	link := run(t, ast, arilink.Config{URL: ast.ARIURL})
	link.connected(t)

	header := http.Header{}
	header.Set("Authorization", "Basic "+basic(ast.User, ast.Password))
	other, resp, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial(ast.EventsURL+"?"+url.Values{"app": {app}}.Encode(), header)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	waitFor(t, 10*time.Second, "Ready saying the application was taken", func() bool {
		return errors.Is(link.Ready(), arilink.ErrReplaced)
	})
	t.Logf("Ready: %v", link.Ready())
	_ = other.Close()
	// Once the other lets it go, nobody holds the application: the Link
	// did not take it back.
	waitFor(t, 10*time.Second, "end of application "+app, func() bool {
		return ast.ARI(t, http.MethodGet, "/applications/"+app, nil) == http.StatusNotFound
	})
	select {
	case c := <-link.connects:
		t.Errorf("the Link connected again (%d) after ApplicationReplaced", c.Seq)
	default:
	}
	if !errors.Is(link.Ready(), arilink.ErrReplaced) {
		t.Errorf("Ready = %v, want ErrReplaced still", link.Ready())
	}
}

func basic(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// TestOnConnectHoldsEvents: events of a new connection wait for OnConnect
// to return, so that a subscription made in it misses none; more than
// QueueSize of them give the connection up (and the Link reconnects).
func TestOnConnectHoldsEvents(t *testing.T) {
	ast := asterisktest.Start(t)
	f := startFront(t, ast, 0)
	inHook := make(chan arilink.Connection)
	proceed := make(chan struct{})
	link := run(t, ast, arilink.Config{URL: f.URL, QueueSize: 8, OnConnect: func(ctx context.Context, c arilink.Connection) {
		if c.Seq > 2 {
			return
		}
		inHook <- c
		select {
		case <-proceed:
		case <-ctx.Done():
		}
	}})
	var c arilink.Connection
	select {
	case c = <-inHook:
	case <-time.After(20 * time.Second):
		t.Fatalf("OnConnect not called within 20 s; Ready: %v", link.Ready())
	}
	ts := `"timestamp":"2026-12-01T12:00:00.000+0000","application":"` + app + `"`
	marker := func(name string) string {
		return `{"type":"ChannelUserevent",` + ts + `,"eventname":"` + name + `","userevent":{}}`
	}
	f.Inject(t, marker("held-1"), marker("held-2"))
	// Sent while the hook runs, subscribed to in it: still received.
	seen := subscribe(t, c.Client)
	proceed <- struct{}{}
	link.connected(t)
	for _, name := range []string{"held-1", "held-2"} {
		seen.wait(t, name, func(e ari.Event) bool {
			u, ok := e.(*ari.ChannelUserevent)
			return ok && u.Eventname == name
		})
	}

	// A second connection (after a cut) whose hook holds more events
	// than QueueSize: it is given up, and the next one serves.
	f.Cut()
	select {
	case c = <-inHook:
	case <-time.After(20 * time.Second):
		t.Fatalf("no second OnConnect; Ready: %v", link.Ready())
	}
	waitFor(t, 10*time.Second, "the cut websocket gone from the front", func() bool { return f.Relayed() == 1 })
	flood := make([]string, 8+1) // QueueSize and one: the last is read after the others were written
	for i := range flood {
		flood[i] = marker(fmt.Sprintf("flood-%d", i))
	}
	f.Inject(t, flood...)
	// Given up while the hook still runs: the events are held, not
	// handed to anyone.
	waitFor(t, 10*time.Second, "the flooded connection given up", func() bool { return f.Relayed() == 0 })
	proceed <- struct{}{}
	if got := link.connected(t); got.Seq != 2 {
		t.Fatalf("connection %d, want 2", got.Seq)
	}
	if got := link.connected(t); got.Seq != 3 {
		t.Errorf("after the flood: connection %d, want 3 (the second given up)", got.Seq)
	}
	f.Inject(t, marker("after-flood"))
	seen.wait(t, "an event after the flood", func(e ari.Event) bool {
		u, ok := e.(*ari.ChannelUserevent)
		return ok && u.Eventname == "after-flood"
	})
}

// TestBurstReachesASlowSubscriber: a thousand events arrive while the
// only subscriber reads none (the library's own bus would have kept 100
// and dropped the rest without a word); once it reads, it gets every one,
// in order.
func TestBurstReachesASlowSubscriber(t *testing.T) {
	ast := asterisktest.Start(t)
	f := startFront(t, ast, 0)
	link := run(t, ast, arilink.Config{URL: f.URL})
	c := link.connected(t)
	sub := c.Client.Bus().Subscribe(nil, ari.Events.ChannelUserevent)
	defer sub.Cancel()
	const burst = 1000
	ts := `"timestamp":"2026-12-01T12:00:00.000+0000","application":"` + app + `"`
	messages := make([]string, burst)
	for i := range messages {
		messages[i] = `{"type":"ChannelUserevent",` + ts + `,"eventname":"burst-` + fmt.Sprint(i) + `","userevent":{}}`
	}
	f.Inject(t, messages...)
	timeout := time.After(20 * time.Second)
	for i := range burst {
		select {
		case e := <-sub.Events():
			u, ok := e.(*ari.ChannelUserevent)
			if want := fmt.Sprint("burst-", i); !ok || u.Eventname != want {
				t.Fatalf("event %d: %#v, want the user event %s", i, e, want)
			}
		case <-timeout:
			t.Fatalf("%d of the %d events received within 20 s", i, burst)
		}
	}
}
