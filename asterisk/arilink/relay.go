package arilink

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/gorilla/websocket"
	"go.uber.org/zap"
)

// Limits of one websocket message: Asterisk's events (a bridge with many
// channels is the largest), and what the library may send (nothing).
const (
	maxEventBytes   = 4 << 20
	maxLibraryBytes = 64 << 10
)

// filterRetry is how often the eventFilter request is repeated while
// Asterisk has not registered the application yet (it does so just
// after the websocket's handshake).
const filterRetry = 20 * time.Millisecond

const (
	keyPath    = "path"
	keyError   = "error"
	keyWaiting = "events_waiting"
)

// handler is the relay's HTTP side, which the library's client is pointed
// at: its events websocket, and a proxy of its REST requests that bounds
// each in time.
func (l *Link) handler() http.Handler {
	target, _ := url.Parse(l.cfg.URL) // validated by New
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: l.transport,
		ErrorLog:  zap.NewStdLog(l.log.Named("proxy")),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			l.log.Debug("an ARI request through the relay failed", zap.String(keyPath, r.URL.Path), zap.Error(err))
			http.Error(w, "ARI at "+l.cfg.URL+" did not answer: "+err.Error(), http.StatusBadGateway)
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ari/events", l.serveEvents)
	mux.Handle("/ari/", http.StripPrefix("/ari", l.bounded(proxy)))
	return l.tracked(mux)
}

// tracked counts the handlers running, so that Run waits for them.
func (l *Link) tracked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.hmu.Lock()
		if l.closing {
			l.hmu.Unlock()
			http.Error(w, "the link is closing", http.StatusServiceUnavailable)
			return
		}
		l.handlers.Add(1)
		l.hmu.Unlock()
		defer l.handlers.Done()
		h.ServeHTTP(w, r)
	})
}

// bounded gives each REST request RequestTimeout: the library's own HTTP
// client has none, so a request to an Asterisk that does not answer would
// block its caller for ever.
func (l *Link) bounded(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.parking.Load() && r.Method == http.MethodGet && r.URL.Path == "/asterisk/info" {
			// The library's last dial, during shutdown: see Link.shutdown.
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, "{}")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), l.cfg.RequestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authorized reports whether r carries the credentials the library was
// given: the relay's websocket speaks for them at Asterisk.
func (l *Link) authorized(r *http.Request) bool {
	user, password, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(l.cfg.Username)) == 1 &&
		subtle.ConstantTimeCompare([]byte(password), []byte(l.cfg.Password)) == 1
}

// serveEvents is the library's events websocket: its dial waits at this
// door until the Link has a session with Asterisk for it, or is refused.
func (l *Link) serveEvents(w http.ResponseWriter, r *http.Request) {
	if !l.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="arilink"`)
		http.Error(w, "the ARI credentials are required", http.StatusUnauthorized)
		return
	}
	if app := r.URL.Query().Get("app"); app != l.cfg.Application {
		http.Error(w, fmt.Sprintf("app %q: this relay serves %q", app, l.cfg.Application), http.StatusBadRequest)
		return
	}
	d := newDoor()
	defer close(d.gone)
	select {
	case l.doors <- d:
	case <-l.stop:
		http.Error(w, "the link is closed", http.StatusServiceUnavailable)
		return
	case <-r.Context().Done():
		return
	}
	var v verdict
	select {
	case v = <-d.verdict:
	case <-l.stop:
		http.Error(w, "the link is closed", http.StatusServiceUnavailable)
		return
	case <-r.Context().Done():
		return
	}
	if v.s == nil && !v.park {
		http.Error(w, "not connected to Asterisk", http.StatusServiceUnavailable)
		return
	}
	up := websocket.Upgrader{HandshakeTimeout: l.cfg.DialTimeout}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		d.result <- err
		return
	}
	defer close(d.finished)
	defer func() { _ = conn.Close() }()
	conn.SetReadLimit(maxLibraryBytes)
	if v.park {
		d.result <- nil
		_ = conn.SetReadDeadline(time.Now().Add(shutdownWait))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}
	if !v.s.attach(conn) {
		d.result <- errors.New("the session with Asterisk ended")
		return
	}
	d.result <- nil
	for {
		// The library sends nothing; this notices its close.
		if _, _, err := conn.ReadMessage(); err != nil {
			v.s.end(fmt.Errorf("the ARI library's websocket: %w", err))
			return
		}
	}
}

// door is one websocket dial of the library's, held by serveEvents.
type door struct {
	verdict  chan verdict  // the Link's answer, at most one
	result   chan error    // the upgrade's outcome
	gone     chan struct{} // closed when serveEvents returns
	finished chan struct{} // closed when the upgraded websocket has closed
}

type verdict struct {
	s    *session // join the library's websocket to s
	park bool     // let the library's last dial through (shutdown)
}

func newDoor() *door {
	return &door{
		verdict:  make(chan verdict, 1),
		result:   make(chan error, 1),
		gone:     make(chan struct{}),
		finished: make(chan struct{}),
	}
}

func (d *door) open(s *session) error { d.verdict <- verdict{s: s}; return d.outcome() }
func (d *door) park() error           { d.verdict <- verdict{park: true}; return d.outcome() }
func (d *door) refuse()               { d.verdict <- verdict{} }

func (d *door) outcome() error {
	select {
	case err := <-d.result:
		return err
	case <-d.gone:
		select {
		case err := <-d.result:
			return err
		default:
			return errors.New("the dial went away")
		}
	}
}

// session is one websocket connection to Asterisk, relayed to the
// library's websocket once attached.
type session struct {
	l          *Link
	up         *websocket.Conn
	queue      chan ari.Event // events for the Link's bus
	release    chan struct{}  // closed when events may reach the bus
	done       chan struct{}  // closed by end
	replacedCh chan struct{}  // closed on ApplicationReplaced
	replaced   sync.Once
	ended      sync.Once
	err        error // why it ended; set before done is closed

	mu     sync.Mutex // guards down and closed
	down   *websocket.Conn
	closed bool
}

// open dials Asterisk's websocket, starts relaying and sets the
// application's event filter.
func (l *Link) open(ctx context.Context) (*session, error) {
	up, err := l.dial(ctx)
	if err != nil {
		return nil, err
	}
	s := &session{
		l:          l,
		up:         up,
		queue:      make(chan ari.Event, l.cfg.QueueSize),
		release:    make(chan struct{}),
		done:       make(chan struct{}),
		replacedCh: make(chan struct{}),
	}
	l.wg.Go(s.readUp)
	l.wg.Go(s.deliver)
	l.wg.Go(s.ping)
	if err := l.setFilter(ctx); err != nil {
		s.end(err)
		return nil, err
	}
	return s, nil
}

// dial connects to Asterisk's events websocket as the application.
func (l *Link) dial(ctx context.Context) (*websocket.Conn, error) {
	u, err := url.Parse(l.cfg.WebsocketURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("app", l.cfg.Application)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, l.cfg.DialTimeout)
	defer cancel()
	dialer := websocket.Dialer{
		NetDialContext:   (&net.Dialer{Timeout: l.cfg.DialTimeout}).DialContext,
		HandshakeTimeout: l.cfg.DialTimeout,
	}
	header := http.Header{}
	header.Set("Authorization", "Basic "+basicAuth(l.cfg.Username, l.cfg.Password))
	conn, resp, err := dialer.DialContext(ctx, u.String(), header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("events websocket %s: %s", l.cfg.WebsocketURL, resp.Status)
		}
		return nil, fmt.Errorf("events websocket %s: %w", l.cfg.WebsocketURL, err)
	}
	conn.SetReadLimit(maxEventBytes)
	return conn, nil
}

// setFilter asks Asterisk to send the application only cfg.Events
// (PUT /applications/{name}/eventFilter), retrying while Asterisk has not
// registered it yet.
func (l *Link) setFilter(ctx context.Context) error {
	type eventType struct {
		Type string `json:"type"`
	}
	var filter struct {
		Allowed []eventType `json:"allowed"`
	}
	for _, t := range l.cfg.Events {
		filter.Allowed = append(filter.Allowed, eventType{t})
	}
	body, err := json.Marshal(filter)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.RequestTimeout)
	defer cancel()
	path := "/applications/" + url.PathEscape(l.cfg.Application) + "/eventFilter"
	tick := time.NewTicker(filterRetry)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, l.cfg.URL+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.SetBasicAuth(l.cfg.Username, l.cfg.Password)
		req.Header.Set("Content-Type", "application/json")
		resp, err := l.rest.Do(req)
		if err != nil {
			return fmt.Errorf("the application's event filter: %w", err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK, http.StatusNoContent:
			return nil
		case http.StatusNotFound: // not registered yet
		default:
			return fmt.Errorf("PUT %s: %s", path, resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("PUT %s: the application is not registered: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

// readUp reads Asterisk's events, drops those the library cannot decode
// and queues the others for the Link's bus.
func (s *session) readUp() {
	wait := 2 * s.l.cfg.PingInterval
	_ = s.up.SetReadDeadline(time.Now().Add(wait))
	s.up.SetPongHandler(func(string) error { return s.up.SetReadDeadline(time.Now().Add(wait)) })
	for {
		kind, data, err := s.up.ReadMessage()
		if err != nil {
			s.end(fmt.Errorf("reading Asterisk's events: %w", err))
			return
		}
		_ = s.up.SetReadDeadline(time.Now().Add(wait))
		if kind != websocket.TextMessage {
			s.l.drop("", errors.New("not a text message"))
			continue
		}
		e, typ, err := decode(data)
		if err != nil {
			s.l.drop(typ, err)
			continue
		}
		if typ == ari.Events.ApplicationReplaced {
			s.l.setReplaced()
			s.replaced.Do(func() { close(s.replacedCh) })
		}
		select {
		case s.queue <- e:
		default:
			s.end(fmt.Errorf("%d events of the connection held while OnConnect runs: connection given up", cap(s.queue)))
			return
		}
	}
}

// deliver passes the queued events to the Link's bus, once released. The
// bus takes each at once; a subscriber holding more than QueueSize of
// them is warned about (once while it stays behind), as it is stuck or
// far too slow.
func (s *session) deliver() {
	select {
	case <-s.release:
	case <-s.done:
		return
	}
	behind := false
	for {
		select {
		case <-s.done:
			return
		case e := <-s.queue:
			waiting := s.l.bus.Send(e)
			if waiting > cap(s.queue) && !behind {
				s.l.log.Warn("a subscriber of the ARI events is far behind; its events are kept", zap.Int(keyWaiting, waiting))
			}
			behind = waiting > cap(s.queue)
		}
	}
}

// ping keeps Asterisk's websocket checked: a connection that stops
// answering is given up by readUp's deadline.
func (s *session) ping() {
	t := time.NewTicker(s.l.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			if err := s.up.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.l.cfg.WriteTimeout)); err != nil {
				s.end(fmt.Errorf("pinging Asterisk: %w", err))
				return
			}
		}
	}
}

// attach joins the library's websocket to s; false if s has ended.
func (s *session) attach(c *websocket.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.down = c
	return true
}

// end closes both websockets (so the library sees a disconnection and
// dials again); the first reason given is kept.
func (s *session) end(err error) {
	s.ended.Do(func() {
		s.err = err
		close(s.done)
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "")
		deadline := time.Now().Add(s.l.cfg.WriteTimeout)
		_ = s.up.WriteControl(websocket.CloseMessage, msg, deadline)
		_ = s.up.Close()
		s.mu.Lock()
		s.closed = true
		down := s.down
		s.mu.Unlock()
		if down != nil {
			_ = down.WriteControl(websocket.CloseMessage, msg, deadline)
			_ = down.Close()
		}
	})
}

// drop counts and logs a message kept from the library.
func (l *Link) drop(typ string, err error) {
	l.dropped.Add(1)
	// The library's errors carry a stack (eris): the message is enough.
	l.log.Debug("kept from the ARI library a message it cannot decode", zap.String(keyEventType, typ), zap.String(keyError, err.Error()))
}

func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
