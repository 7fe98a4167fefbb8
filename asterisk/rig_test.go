package asterisk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/gorilla/websocket"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/asterisk"
	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/tickets"
)

func TestMain(m *testing.M) { os.Exit(asterisktest.Main(m)) }

// app is the Stasis application the driver serves: the first the test
// dialplan tries.
var app = asterisktest.Apps[0]

// rig is one test's service: a real store with the demo team and
// tickets, the call flow built over it as serve builds it, and the driver
// on the test binary's Asterisk.
type rig struct {
	ast    *asterisktest.Asterisk
	db     *store.DB
	svc    *oncall.Service
	flow   *ivr.Flow
	log    *zap.Logger
	client ari.Client
	driver *asterisk.Driver
	events *recorder
	// reconcile is the driver, for arilink's OnConnect, which runs on
	// the link's goroutine.
	reconcile atomic.Pointer[asterisk.Driver]
	link      *arilink.Link
	cutter    *cutter // set before serve: the events websocket goes through it
}

// cutter relays the events websocket between the driver's connection
// and Asterisk, and can cut it (refusing new ones until restore) or add
// messages of the test's own to it: the test's stand-in for a network
// that drops the websocket mid-call, and for events a real Asterisk does
// not send on demand. Injected messages meet arilink's own defences.
type cutter struct {
	srv   *httptest.Server
	mu    sync.Mutex
	conns map[*relayed]bool
	down  bool
}

// relayed is one websocket through the cutter.
type relayed struct {
	down, up *websocket.Conn
	wmu      sync.Mutex // one writer on down
}

func (c *relayed) write(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.down.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.down.WriteMessage(websocket.TextMessage, data)
}

func (c *relayed) close() {
	_ = c.down.Close()
	_ = c.up.Close()
}

// cutEvents puts a cutter between the driver's connection and Asterisk's
// events websocket; call it before serve.
func (r *rig) cutEvents(t *testing.T) *cutter {
	t.Helper()
	c := &cutter{conns: map[*relayed]bool{}}
	events := r.ast.EventsURL
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c.mu.Lock()
		refusing := c.down
		c.mu.Unlock()
		if refusing {
			http.Error(w, "cut", http.StatusServiceUnavailable)
			return
		}
		dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		up, resp, err := dialer.DialContext(req.Context(), events+"?"+req.URL.RawQuery,
			http.Header{"Authorization": req.Header.Values("Authorization")})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_ = resp.Body.Close()
		down, err := (&websocket.Upgrader{}).Upgrade(w, req, nil)
		if err != nil {
			_ = up.Close()
			return
		}
		rc := &relayed{down: down, up: up}
		c.mu.Lock()
		c.conns[rc] = true
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			delete(c.conns, rc)
			c.mu.Unlock()
			rc.close()
		}()
		go func() { // the driver's side sends nothing; its end ends the relay
			defer rc.close()
			for {
				if _, _, err := down.ReadMessage(); err != nil {
					return
				}
			}
		}()
		for {
			_, data, err := up.ReadMessage()
			if err != nil || rc.write(data) != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		c.cut()
		c.srv.Close()
	})
	r.cutter = c
	return c
}

// url is the events websocket through the cutter.
func (c *cutter) url() string { return "ws" + strings.TrimPrefix(c.srv.URL, "http") + "/ari/events" }

// cut closes every relayed websocket and refuses new ones until restore.
func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = true
	for rc := range c.conns {
		rc.close()
	}
}

func (c *cutter) restore() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = false
}

// inject sends messages on every websocket relayed now.
func (c *cutter) inject(t *testing.T, messages ...[]byte) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.conns) == 0 {
		t.Fatal("no websocket through the cutter to inject into")
	}
	for rc := range c.conns {
		for _, m := range messages {
			if err := rc.write(m); err != nil {
				t.Fatalf("inject %s: %v", m, err)
			}
		}
	}
}

// voicemails keeps voicemails in the store, as cmd/ivr's does.
type voicemails struct{ db *store.DB }

func (v voicemails) SaveRecording(ctx context.Context, callID, id, contentType string, data []byte, seconds int) (string, error) {
	err := v.db.SaveRecording(ctx, calls.Recording{ID: id, CallID: callID, ContentType: contentType, Data: data, Seconds: seconds})
	return "https://ivr.example/api/v1/recordings/" + id, err
}

// roster answers the flow's on-call questions from the schedule, as
// cmd/ivr's does.
type roster struct{ svc *oncall.Service }

func (r roster) OnCall(_ context.Context, level oncall.Level, layer oncall.Layer, at time.Time) (oncall.Engineer, bool, error) {
	a, ok := r.svc.OnCall(level, layer, at)
	return a.Engineer, ok, nil
}

// newRig seeds a new store and builds the flow (ivr.DefaultConfig, as
// changed by each of tune); the driver starts with serve.
func newRig(t *testing.T, tune ...func(*ivr.Config)) *rig {
	t.Helper()
	ast := asterisktest.Start(t)
	// Registered first, so run last: once the driver, the link and the
	// phones have stopped, no goroutine of the test's is left.
	asterisktest.GoroutinesBack(t)
	log := zaptest.NewLogger(t)
	db, svc := storetest.OpenDemo(t, log)
	settings := ivr.DefaultConfig()
	for _, f := range tune {
		f(&settings)
	}
	flow, err := ivr.New(settings, ivr.Deps{Tickets: tickets.NewBuiltin(db), Roster: roster{svc},
		Pages: db, Preferences: db, Calls: db, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{ast: ast, db: db, svc: svc, flow: flow, log: log}
}

// ticket opens a ticket of priority at level, from a caller of line
// speaking lang, and returns its id, which a caller keys.
func (r *rig) ticket(t *testing.T, priority oncall.Priority, level oncall.Level, line string, lang oncall.Language) string {
	t.Helper()
	tk, err := r.db.CreateTicket(t.Context(), "test", tickets.Ticket{Subject: "Payments API answers 500 to every request",
		Priority: priority, Level: level, Language: lang, Line: line})
	if err != nil {
		t.Fatal(err)
	}
	return tk.ID
}

// onCall is the primary engineer on call at level now, and the number
// the flow rings.
func (r *rig) onCall(t *testing.T, level oncall.Level) (oncall.Engineer, string) {
	t.Helper()
	a, ok := r.svc.OnCall(level, oncall.Primary, time.Now())
	if !ok || len(a.Engineer.Contacts) == 0 {
		t.Fatalf("nobody with a number on call at %s", level)
	}
	return a.Engineer, a.Engineer.Contacts[0].Phone
}

// serve connects to ARI as the application through arilink (the relay
// that keeps events the library cannot decode from it) and runs the
// driver until the test ends or the function it returns is called, with
// cfg's dial settings (Endpoints mapping engineers' numbers to the test's
// user agents, or DialString), as application cfg.App (default app).
func (r *rig) serve(t *testing.T, cfg asterisk.Config) (stop func()) {
	t.Helper()
	if cfg.App == "" {
		cfg.App = app
	}
	connected := make(chan ari.Client, 1)
	eventsURL := r.ast.EventsURL
	if r.cutter != nil {
		eventsURL = r.cutter.url()
	}
	link, err := arilink.New(arilink.Config{URL: r.ast.ARIURL, WebsocketURL: eventsURL,
		Username: r.ast.User, Password: r.ast.Password, Application: cfg.App, Log: r.log,
		OnConnect: func(_ context.Context, c arilink.Connection) {
			if d := r.reconcile.Load(); d != nil && c.Seq > 1 {
				d.Reconcile() // as serve wires it: the events of the gap are lost
			}
			select {
			case connected <- c.Client:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.link = link
	linkCtx, stopLink := context.WithCancel(context.Background())
	linked := make(chan error, 1)
	go func() { linked <- link.Run(linkCtx) }()
	var unlinkOnce sync.Once
	unlink := func() {
		unlinkOnce.Do(func() {
			stopLink()
			if err := <-linked; err != nil {
				t.Errorf("arilink Run: %v", err)
			}
		})
	}
	t.Cleanup(unlink)
	select {
	case r.client = <-connected:
	case <-time.After(15 * time.Second):
		t.Fatalf("arilink did not connect within 15 s: %v", link.Ready())
	}
	events := record(t, r.client, cfg.App)
	r.events = events
	cfg.Client, cfg.Flow, cfg.States, cfg.Log = r.client, r.flow, r.db, r.log
	cfg.SoundsDir = r.ast.Prompts(t)
	cfg.Recordings = voicemails{r.db}
	raw := asterisk.NewRawARI(r.ast.ARIURL, r.ast.User, r.ast.Password, 10*time.Second)
	cfg.Files, cfg.Mover = raw, raw
	d, err := asterisk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.driver = d
	r.reconcile.Store(d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var stopOnce sync.Once
	stop = func() { // the driver stops using the client before the link ends
		stopOnce.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			events.stop()
			unlink()
		})
	}
	t.Cleanup(stop)
	return stop
}

// scenario is testdata/<name> with keys written in (asterisktest.Scenario).
func scenario(t *testing.T, name, keys string) string {
	t.Helper()
	return asterisktest.Scenario(t, filepath.Join("testdata", name), keys)
}

// caller starts a caller user agent name dialling number with scenario
// file (its keys written in); its endpoint matches it by name.
func (r *rig) caller(t *testing.T, name, number, file, keys string) *asterisktest.UA {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Asterisk's log (the end):\n%s", r.ast.LogTail())
		}
	})
	port, err := asterisktest.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	r.ast.AddEndpoint(t, name, port) // calls from it are matched by its From user
	return r.ast.StartUA(t, name, "-sf", scenario(t, file, keys), "-s", number)
}

// engineer starts an engineer's user agent name with scenario file and
// gives it an endpoint; it returns the dial string.
func (r *rig) engineer(t *testing.T, name, file string, args ...string) (*asterisktest.UA, string) {
	t.Helper()
	ua := r.ast.StartUA(t, name, append([]string{"-sf", scenario(t, file, "")}, args...)...)
	r.ast.AddEndpoint(t, name, ua.Port)
	return ua, "PJSIP/" + name
}

// recorder keeps the events the test looks at, from the driver's own
// client (a second websocket would take the application over).
type recorder struct {
	mu     sync.Mutex
	events []ari.Event
	stop   func() // ends the recording; idempotent
}

func record(t *testing.T, client ari.Client, app string) *recorder {
	r := &recorder{}
	sub := client.Bus().Subscribe(ari.AppKey(app), ari.Events.StasisStart, ari.Events.PlaybackStarted, ari.Events.ChannelEnteredBridge)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for e := range sub.Events() {
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
		}
	}()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			sub.Cancel()
			<-stopped
		})
	}
	t.Cleanup(r.stop)
	return r
}

// playback is the id of the playback of prompt ("<lang>/<name>") to
// channel id that started first; "" if none did.
func (r *recorder) playback(id, prompt string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if p, ok := e.(*ari.PlaybackStarted); ok && p.Playback.TargetURI == "channel:"+id &&
			strings.HasSuffix(p.Playback.MediaURI, "/"+prompt) {
			return p.Playback.ID
		}
	}
	return ""
}

// channel waits for the StasisStart of a channel whose name starts with
// PJSIP/<endpoint>- and returns its id.
func (r *recorder) channel(t *testing.T, endpoint string) string {
	t.Helper()
	var id string
	waitFor(t, 30*time.Second, "a channel of "+endpoint+" in Stasis", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range r.events {
			if s, ok := e.(*ari.StasisStart); ok && strings.HasPrefix(s.Channel.Name, "PJSIP/"+endpoint+"-") {
				id = s.Channel.ID
				return true
			}
		}
		return false
	})
	return id
}

// played is what the driver played to channel id, as "<lang>/<name>"
// (a tone as its media URI).
func (r *recorder) played(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if p, ok := e.(*ari.PlaybackStarted); ok && p.Playback.TargetURI == "channel:"+id {
			if strings.HasPrefix(p.Playback.MediaURI, "tone:") {
				out = append(out, p.Playback.MediaURI)
				continue
			}
			uri := strings.TrimPrefix(p.Playback.MediaURI, "sound:")
			out = append(out, filepath.Base(filepath.Dir(uri))+"/"+filepath.Base(uri))
		}
	}
	return out
}

// rxcount is how many RTP packets Asterisk received on channel id.
func (r *rig) rxcount(t *testing.T, id string) int {
	t.Helper()
	var v struct {
		Value string `json:"value"`
	}
	r.ast.ARI(t, http.MethodGet, "/channels/"+id+"/variable?"+url.Values{"variable": {"CHANNEL(rtcp,rxcount,audio)"}}.Encode(), &v)
	n, _ := strconv.Atoi(v.Value)
	return n
}

// bridgeOf waits for a bridge holding exactly the channels ids.
func (r *rig) bridgeOf(t *testing.T, within time.Duration, ids ...string) string {
	t.Helper()
	var found string
	waitFor(t, within, fmt.Sprintf("a bridge of %v", ids), func() bool {
		var bridges []struct {
			ID         string   `json:"id"`
			BridgeType string   `json:"bridge_type"`
			Channels   []string `json:"channels"`
		}
		r.ast.ARI(t, http.MethodGet, "/bridges", &bridges)
		for _, b := range bridges {
			if len(b.Channels) == len(ids) && containsAll(b.Channels, ids) {
				found = b.ID
				return true
			}
		}
		return false
	})
	return found
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// nothingLeft checks that Asterisk has no channel and no bridge left,
// and that the driver serves no call (each has a goroutine).
func (r *rig) nothingLeft(t *testing.T) {
	t.Helper()
	waitFor(t, 15*time.Second, "the end of the driver's calls", func() bool { return r.driver.Calls() == 0 })
	for _, what := range []string{"channels", "bridges"} {
		var left []json.RawMessage
		waitFor(t, 10*time.Second, "no "+what+" left in Asterisk", func() bool {
			r.ast.ARI(t, http.MethodGet, "/"+what, &left)
			return len(left) == 0
		})
	}
}

// idle waits until the state of call id has been unchanged for d, as
// the sweep sees it (the store's open calls idle since then).
func (r *rig) idle(t *testing.T, id string, d time.Duration) {
	t.Helper()
	waitFor(t, d+15*time.Second, "the state of call "+id+" unchanged for "+d.String(), func() bool {
		ids, err := r.db.OpenCallStates(t.Context(), time.Now().Add(-d), 500)
		return err == nil && slices.Contains(ids, id)
	})
}

// callRecord waits for the call record of call id.
func (r *rig) callRecord(t *testing.T, id string) ivr.CallRecord {
	t.Helper()
	var rec ivr.CallRecord
	waitFor(t, 15*time.Second, "the record of call "+id, func() bool {
		var err error
		rec, err = r.db.Call(t.Context(), id)
		return err == nil
	})
	return rec
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("no %s within %v", what, within)
		case <-tick.C:
		}
	}
}

// waitUA waits for a user agent's scenario to end and fails the test
// unless it ran to the end.
func waitUA(t *testing.T, u *asterisktest.UA) {
	t.Helper()
	if err := u.Wait(); err != nil {
		t.Errorf("%v, want exit status 0; its output:\n%s", err, u.Output())
	}
}
