package webhooks_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/spool"
	"github.com/supportdesk/ivr/webhooks"
)

// outage is the store being down: while down is set, every call-state
// operation, page request and recording save fails; while hang is set,
// each waits until its context ends instead; pagesDown fails the page
// requests only.
type outage struct {
	down, hang, pagesDown atomic.Bool
}

func (o *outage) fail(ctx context.Context) error {
	if o.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if o.down.Load() {
		return errStoreDown
	}
	return nil
}

// outageStates is CallStates failing during the outage.
type outageStates struct {
	webhooks.CallStates
	o *outage
}

func (s outageStates) CreateCallState(ctx context.Context, id string, data []byte) error {
	if err := s.o.fail(ctx); err != nil {
		return err
	}
	return s.CallStates.CreateCallState(ctx, id, data)
}

func (s outageStates) CallState(ctx context.Context, id string) ([]byte, int64, error) {
	if err := s.o.fail(ctx); err != nil {
		return nil, 0, err
	}
	return s.CallStates.CallState(ctx, id)
}

func (s outageStates) UpdateCallState(ctx context.Context, id string, v int64, data []byte) (int64, error) {
	if err := s.o.fail(ctx); err != nil {
		return 0, err
	}
	return s.CallStates.UpdateCallState(ctx, id, v, data)
}

func (s outageStates) OpenCallStates(ctx context.Context, idle time.Time, limit int) ([]string, error) {
	if err := s.o.fail(ctx); err != nil {
		return nil, err
	}
	return s.CallStates.OpenCallStates(ctx, idle, limit)
}

func (s outageStates) FinishCallState(ctx context.Context, id string) error {
	if err := s.o.fail(ctx); err != nil {
		return err
	}
	return s.CallStates.FinishCallState(ctx, id)
}

// outageDeps is the pager and the recording store, failing during the
// outage.
type outageDeps struct {
	*deps
	o *outage
}

func (d outageDeps) RequestPage(ctx context.Context, p ivr.PageRequest) error {
	if err := d.o.fail(ctx); err != nil {
		return err
	}
	if d.o.pagesDown.Load() {
		return errStoreDown
	}
	return d.deps.RequestPage(ctx, p)
}

func (d outageDeps) SaveRecording(ctx context.Context, callID, sid, ct string, data []byte, secs int) (string, error) {
	if err := d.o.fail(ctx); err != nil {
		return "", err
	}
	return d.deps.SaveRecording(ctx, callID, sid, ct, data, secs)
}

// watchedSpool is the spool file, reopened at will (a restart), telling
// the test after each replay how many records are left.
type watchedSpool struct {
	t       *testing.T
	dir     string
	mu      sync.Mutex
	s       *spool.Spool
	replays chan int
}

func (w *watchedSpool) get() *spool.Spool { w.mu.Lock(); defer w.mu.Unlock(); return w.s }

func (w *watchedSpool) reopen() {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s != nil {
		_ = w.s.Close()
	}
	s, err := spool.Open(w.dir, logger(w.t))
	if err != nil {
		w.t.Fatal(err)
	}
	w.s = s
}

func (w *watchedSpool) Append(key string, data []byte) error { return w.get().Append(key, data) }
func (w *watchedSpool) Get(key string) ([]byte, bool, error) { return w.get().Get(key) }
func (w *watchedSpool) Appended() <-chan struct{}            { return w.get().Appended() }
func (w *watchedSpool) Replay(ctx context.Context, apply func(context.Context, string, []byte) error) (int, error) {
	left, err := w.get().Replay(ctx, apply)
	select {
	case w.replays <- left:
	default:
	}
	return left, err
}

// timer is a wait RunSpool scheduled, fired by the test.
type timer struct {
	after time.Duration
	fire  func()
}

// spoolEnv is env with a store that can go down, a spool, and the
// driver's timers in the test's hands.
type spoolEnv struct {
	*env
	outage *outage
	spool  *watchedSpool
	timers chan timer
}

func newSpoolEnv(t *testing.T) *spoolEnv { return newSpoolEnvBudget(t, 0) }

// newSpoolEnvBudget is newSpoolEnv with the driver's HandleBudget.
func newSpoolEnvBudget(t *testing.T, budget time.Duration) *spoolEnv {
	t.Helper()
	o := &outage{}
	mem := newMemStates()
	e := &env{t: t, states: outageStates{CallStates: mem, o: o}, clock: newClock(), deps: newDeps()}
	mem.now = e.clock.Now
	e.router = mux.NewRouter()
	e.srv = httptest.NewServer(e.router)
	t.Cleanup(e.srv.Close)
	e.tw = faketwilio.Start(t, faketwilio.Options{
		VoiceWebhookURL:        e.srv.URL + "/webhooks/twilio/voice",
		VoiceStatusCallbackURL: e.srv.URL + "/webhooks/twilio/voice/status",
		ServiceNumber:          washington,
		Now:                    e.clock.Now,
	})
	se := &spoolEnv{env: e, outage: o, timers: make(chan timer, 16),
		spool: &watchedSpool{t: t, dir: filepath.Join(t.TempDir(), "spool"), replays: make(chan int, 16)}}
	se.spool.reopen()
	t.Cleanup(func() { _ = se.spool.get().Close() })
	flow, err := ivr.New(ivr.DefaultConfig(), ivr.Deps{Tickets: e.deps, Roster: e.deps, Pages: e.deps,
		Preferences: e.deps, Calls: e.deps})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := webhooks.NewREST(webhooks.Settings{APIURL: e.tw.URL(), AccountSID: e.tw.AccountSID(), AuthToken: e.tw.AuthToken()})
	if err != nil {
		t.Fatal(err)
	}
	od := outageDeps{deps: e.deps, o: o}
	e.driver, err = webhooks.New(webhooks.Config{
		PublicURL: e.srv.URL, AuthToken: e.tw.AuthToken(), AccountSID: e.tw.AccountSID(),
		Flow: flow, States: e.states, Recordings: od, Pages: od, REST: rest, Spool: se.spool,
		Log: logger(t), Now: e.clock.Now, HandleBudget: budget,
		AfterFunc: func(d time.Duration, f func()) func() bool {
			se.timers <- timer{after: d, fire: f}
			return func() bool { return true }
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.driver.Register(e.router)
	return se
}

// runSpool starts the driver's replay loop until the test ends.
func (se *spoolEnv) runSpool() {
	for len(se.spool.replays) > 0 { // replays the test made itself
		<-se.spool.replays
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); se.driver.RunSpool(ctx) }()
	se.t.Cleanup(func() { cancel(); <-done })
}

// replayed waits for the loop's next replay and returns how many records
// it left.
func (se *spoolEnv) replayed() int {
	se.t.Helper()
	select {
	case left := <-se.spool.replays:
		return left
	case <-time.After(5 * time.Second):
		se.t.Fatal("the spool was not replayed")
	}
	return 0
}

// nextTimer waits for the loop to schedule its next try.
func (se *spoolEnv) nextTimer() timer {
	se.t.Helper()
	select {
	case tm := <-se.timers:
		return tm
	case <-time.After(5 * time.Second):
		se.t.Fatal("no retry was scheduled")
	}
	return timer{}
}

// With the store down during a Fallback call, Twilio is answered as usual
// (the apology, the recording, 200 to the recording callback: a 500 would
// lose the message), the call is kept in the spool, and once the store is
// back the loop keeps the voicemail and pages once, naming the caller and
// the line.
func TestFallbackSpooledWhileStoreDown(t *testing.T) {
	se := newSpoolEnv(t)
	const sid = "CAfa11bac4000000000000000000000011"
	wav := testWAV(3)
	rec, media := se.tw.AddRecording(sid, wav)

	se.outage.down.Store(true)
	fallbackCall(t, se.env, sid, moscow)
	if code, body := recordingCallback(se.env, sid, rec, media, "completed", "3"); code >= 300 {
		t.Fatalf("recording callback with the store down: %d %s; want a success (204), the message spooled", code, body)
	}
	if n := se.spool.get().Pending(); n != 2 {
		t.Fatalf("%d records spooled; want the call and its recording", n)
	}

	// The loop replays at start, and retries with a growing wait while
	// the store stays down.
	se.runSpool()
	if left := se.replayed(); left != 2 {
		t.Fatalf("replay with the store down left %d; want 2", left)
	}
	first := se.nextTimer()
	first.fire()
	if left := se.replayed(); left != 2 {
		t.Fatalf("second replay with the store down left %d; want 2", left)
	}
	second := se.nextTimer()
	if first.after != webhooks.SpoolRetry || second.after != 2*webhooks.SpoolRetry {
		t.Fatalf("retries after %v then %v; want %v doubling", first.after, second.after, webhooks.SpoolRetry)
	}
	if pages, _ := se.deps.snapshot(); len(pages) != 0 {
		t.Fatalf("paged %+v with the store down", pages)
	}

	se.outage.down.Store(false)
	second.fire()
	if left := se.replayed(); left != 0 {
		t.Fatalf("replay with the store back left %d; want none", left)
	}
	pages, _ := se.deps.snapshot()
	if len(pages) != 1 || pages[0].CallID != sid+"-fallback" || pages[0].Priority != oncall.Critical ||
		pages[0].Caller != client || pages[0].Line != moscow || pages[0].VoicemailSeconds != 3 ||
		pages[0].VoicemailURL != "https://ivr.example/api/v1/recordings/"+rec {
		t.Fatalf("pages = %+v; want one critical page with the caller, the line and the service's copy", pages)
	}
	se.deps.mu.Lock()
	saved := se.deps.saved[rec]
	se.deps.mu.Unlock()
	if string(saved) != string(wav) {
		t.Fatalf("voicemail kept: %d bytes; want the %d recorded", len(saved), len(wav))
	}
	if st, err := os.Stat(filepath.Join(se.spool.dir, spool.FileName)); err != nil || st.Size() != 0 {
		t.Fatalf("spool file after the replay: %v %v; want it compacted to nothing", st, err)
	}

	// Twilio repeats the callback; the sweep and another replay run: still
	// one page.
	if code, _ := recordingCallback(se.env, sid, rec, media, "completed", "3"); code >= 300 {
		t.Fatalf("repeated recording callback: %d", code)
	}
	if left, err := se.driver.ReplaySpool(context.Background()); left != 0 || err != nil {
		t.Fatalf("replay: %d left, %v", left, err)
	}
	if n := sweepAfter(t, se.env, webhooks.SweepIdle+fallbackSettle); n != 0 {
		t.Fatalf("sweep looked at %d calls; the spooled call was finished", n)
	}
	if pages, _ := se.deps.snapshot(); len(pages) != 1 {
		t.Fatalf("%d pages; want one", len(pages))
	}
}

// fallbackSettle is more than the longest a Fallback claim waits for its
// recording callback.
const fallbackSettle = 5 * time.Minute

// The store had part of the call (the claim, the copy) when only the page
// failed: the record spooled completes it, and a restart that replays it
// again (a crash before the spool marked it done) pages no second time.
func TestFallbackSpoolCompletesWhatTheStoreHas(t *testing.T) {
	se := newSpoolEnv(t)
	const sid = "CAfa11bac4000000000000000000000012"
	rec, media := se.tw.AddRecording(sid, testWAV(2))
	fallbackCall(t, se.env, sid, washington) // the store takes the claim
	se.outage.pagesDown.Store(true)
	if code, body := recordingCallback(se.env, sid, rec, media, "completed", "2"); code >= 300 {
		t.Fatalf("recording callback with the page failing: %d %s; want a success", code, body)
	}
	if n := se.spool.get().Pending(); n != 1 {
		t.Fatalf("%d records spooled; want the recording", n)
	}
	// A copy of the spool as it is before the replay: what a crash between
	// the replay and its done mark would leave.
	path := filepath.Join(se.spool.dir, spool.FileName)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	se.outage.pagesDown.Store(false)
	if left, err := se.driver.ReplaySpool(context.Background()); left != 0 || err != nil {
		t.Fatalf("replay: %d left, %v", left, err)
	}
	if pages, _ := se.deps.snapshot(); len(pages) != 1 || pages[0].Line != washington || pages[0].Caller != client {
		t.Fatalf("pages = %+v; want one, with the caller and line the store had", pages)
	}

	se.spool.get().Close()
	if err := os.WriteFile(path, before, 0o600); err != nil {
		t.Fatal(err)
	}
	se.spool.reopen()
	se.runSpool() // a restart: the loop replays at start
	if left := se.replayed(); left != 0 {
		t.Fatalf("replay after the restart left %d", left)
	}
	if pages, _ := se.deps.snapshot(); len(pages) != 1 {
		t.Fatalf("%d pages after the record was replayed twice; want one", len(pages))
	}
	if n := sweepAfter(t, se.env, webhooks.SweepIdle+fallbackSettle); n != 0 {
		t.Fatalf("sweep looked at %d calls; the call was finished", n)
	}
}

// The store comes back between the Fallback request and the recording
// callback: the callback takes the caller and the line from the spool, so
// the page names them, and the spooled request is then a no-op.
func TestFallbackCallerFromSpool(t *testing.T) {
	se := newSpoolEnv(t)
	const sid = "CAfa11bac4000000000000000000000013"
	rec, media := se.tw.AddRecording(sid, testWAV(1))
	se.outage.down.Store(true)
	fallbackCall(t, se.env, sid, moscow)
	se.outage.down.Store(false)
	if code, body := recordingCallback(se.env, sid, rec, media, "completed", "1"); code >= 300 {
		t.Fatalf("recording callback: %d %s", code, body)
	}
	if left, err := se.driver.ReplaySpool(context.Background()); left != 0 || err != nil {
		t.Fatalf("replay: %d left, %v", left, err)
	}
	pages, _ := se.deps.snapshot()
	if len(pages) != 1 || pages[0].Caller != client || pages[0].Line != moscow {
		t.Fatalf("pages = %+v; want one naming the caller and the Moscow line", pages)
	}
}

// A store that hangs rather than fails: the webhooks still answer within
// their budget (the voicemail's audio could not be fetched in what was
// left of it, so only Twilio's reference is spooled), a replay gives up on
// each record within the budget too, and once the store answers the replay
// fetches the audio from Twilio, keeps it and pages once.
func TestFallbackSpoolWhileStoreHangs(t *testing.T) {
	const budget = 300 * time.Millisecond
	se := newSpoolEnvBudget(t, budget)
	const sid = "CAfa11bac4000000000000000000000014"
	wav := testWAV(2)
	rec, media := se.tw.AddRecording(sid, wav)
	se.outage.hang.Store(true)
	start := time.Now()
	fallbackCall(t, se.env, sid, moscow)
	if code, body := recordingCallback(se.env, sid, rec, media, "completed", "2"); code >= 300 {
		t.Fatalf("recording callback with the store hanging: %d %s; want a success", code, body)
	}
	if took := time.Since(start); took > 4*budget {
		t.Fatalf("the two webhooks took %v with the store hanging; want each within the %v budget", took, budget)
	}
	start = time.Now()
	if left, err := se.driver.ReplaySpool(context.Background()); left != 2 || err == nil {
		t.Fatalf("replay with the store hanging: %d left, %v; want both left, with the error", left, err)
	}
	if took := time.Since(start); took > 4*budget {
		t.Fatalf("replay took %v with the store hanging; want each record given up within %v", took, budget)
	}
	se.outage.hang.Store(false)
	if left, err := se.driver.ReplaySpool(context.Background()); left != 0 || err != nil {
		t.Fatalf("replay: %d left, %v", left, err)
	}
	pages, _ := se.deps.snapshot()
	if len(pages) != 1 || pages[0].Caller != client || pages[0].VoicemailURL != "https://ivr.example/api/v1/recordings/"+rec {
		t.Fatalf("pages = %+v; want one with the service's copy", pages)
	}
	se.deps.mu.Lock()
	saved := se.deps.saved[rec]
	se.deps.mu.Unlock()
	if string(saved) != string(wav) {
		t.Fatalf("voicemail kept: %d bytes; want the %d recorded", len(saved), len(wav))
	}
}
