package arilink_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/supportdesk/ivr/internal/asterisktest"
)

// front is a fake Asterisk placed in front of the real one: ARI's REST
// requests are passed to it, and so are its events websockets, to which
// the test adds messages of its own (Inject) or which it cuts (Cut). The
// Link under test is pointed at it, so that injected events meet the
// Link's own defences.
type front struct {
	URL string // http://127.0.0.1:<port>/ari

	// Hang makes REST requests wait, unanswered, until their client
	// gives up.
	Hang atomic.Bool

	srv   *http.Server
	mu    sync.Mutex
	conns map[*frontConn]struct{}
	seen  chan struct{} // a websocket was relayed
	wg    sync.WaitGroup
}

type frontConn struct {
	down, up *websocket.Conn
	wmu      sync.Mutex // one writer on down
}

func (c *frontConn) write(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.down.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.down.WriteMessage(websocket.TextMessage, data)
}

func (c *frontConn) close() {
	_ = c.down.Close()
	_ = c.up.Close()
}

// startFront serves a front of ast on 127.0.0.1:port (a free one if 0)
// until the test ends.
func startFront(t *testing.T, ast *asterisktest.Asterisk, port int) *front {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	f := &front{
		URL:   "http://" + ln.Addr().String() + "/ari",
		conns: map[*frontConn]struct{}{},
		seen:  make(chan struct{}, 100),
	}
	target, err := url.Parse(ast.ARIURL)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ari/events", func(w http.ResponseWriter, r *http.Request) {
		header := http.Header{"Authorization": r.Header.Values("Authorization")}
		dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		up, resp, err := dialer.DialContext(r.Context(), ast.EventsURL+"?"+r.URL.RawQuery, header)
		if err != nil {
			code := http.StatusBadGateway
			if resp != nil {
				code = resp.StatusCode
			}
			http.Error(w, err.Error(), code)
			return
		}
		_ = resp.Body.Close()
		down, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			_ = up.Close()
			return
		}
		c := &frontConn{down: down, up: up}
		f.mu.Lock()
		f.conns[c] = struct{}{}
		f.mu.Unlock()
		select {
		case f.seen <- struct{}{}:
		default:
		}
		defer func() {
			f.mu.Lock()
			delete(f.conns, c)
			f.mu.Unlock()
			c.close()
		}()
		f.wg.Go(func() { // the Link's side: sends nothing, closes
			defer c.close()
			for {
				if _, _, err := down.ReadMessage(); err != nil {
					return
				}
			}
		})
		for {
			_, data, err := up.ReadMessage()
			if err != nil || c.write(data) != nil {
				return
			}
		}
	})
	rest := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	mux.Handle("/ari/", http.StripPrefix("/ari", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.Hang.Load() {
			<-r.Context().Done()
			return
		}
		rest.ServeHTTP(w, r)
	})))
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	f.wg.Go(func() { _ = f.srv.Serve(ln) })
	t.Cleanup(func() {
		f.Stop()
		f.wg.Wait()
	})
	return f
}

// Stop closes the front and its websockets: Asterisk is gone from its
// address.
func (f *front) Stop() {
	_ = f.srv.Close()
	f.Cut()
}

// Inject sends data to every websocket relayed now, after waiting (up to
// 10 s) for one.
func (f *front) Inject(t *testing.T, messages ...string) {
	t.Helper()
	waitFor(t, 10*time.Second, "a websocket through the front", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.conns) > 0
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		for _, m := range messages {
			if err := c.write([]byte(m)); err != nil {
				t.Fatalf("inject %s: %v", m, err)
			}
		}
	}
}

// Relayed is the number of websockets relayed now.
func (f *front) Relayed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// Cut closes every websocket relayed now, as a network fault would.
func (f *front) Cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.close()
	}
}

// waitFor polls cond every 20 ms until it holds, failing the test after
// within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := poll(within, cond); err != nil {
		t.Fatalf("no %s within %v", what, within)
	}
}

func poll(within time.Duration, cond func() bool) error {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return errors.New("timed out")
		case <-tick.C:
		}
	}
	return nil
}
