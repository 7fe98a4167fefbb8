package asterisk_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/supportdesk/ivr/asterisk"
	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/internal/latency"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/tickets"
)

// BenchmarkConcurrentCalls measures the driver as it runs in production,
// under many calls at once: the test binary's real Asterisk
// (internal/asterisktest), arilink's connection, the real ivr.Flow over a
// real SQLite store with the demo team and tickets, the driver's Config
// as cmd/ivr/ariserve.go builds it, a JSON logger at info level (written
// to io.Discard).
//
// One op is one round for each application in turn, on the same arilink
// connection: first the baseline, then the driver. In a round one sipp
// process places N calls to the Washington line at 50 calls/s
// (testdata/bench_caller.xml): each is answered, presses # about 2.5 s
// later (during the greeting) and stays on the line; the key stops the
// greeting and ends its Gather (# alone keeps the line's language), and
// the flow asks for the ticket id, so that every call is in the menus,
// far from any engineer, when measured. Once all N
// calls have had their key handled the process's memory and goroutines
// are read, every channel is hung up through ARI, and the round waits for
// Asterisk and the application to have nothing left.
//
// The baseline is a minimal ARI application (baselineApp): one
// subscription, and per event a goroutine that answers the channel and
// plays one sound (StasisStart) or plays a second sound (a key).
//
// Figures, the driver's beside the baseline's ("base-"):
//
//   - heap-B/call: runtime.MemStats.HeapInuse with the N calls up minus
//     before them (each after runtime.GC), divided by N;
//   - goroutines/call: runtime.NumGoroutine's delta, divided by N;
//   - dtmf-p50-ms, dtmf-p99-ms: one sample per ChannelDtmfReceived of a
//     caller's channel, from the instant the application's bus
//     subscription hands the event over (stamped by benchProbe's
//     subscription wrapper, so before the driver's router has it) to the
//     start of the next ARI request the application makes for that
//     channel (any of its channel requests, or a request on one of its
//     playbacks). For the driver that is the DELETE of the greeting's
//     playback (a key stops the prompt); for the baseline its second
//     playback;
//   - play-p50-ms, play-p99-ms (driver only): the same event to the next
//     playback request for the channel, the ticket prompt: through the
//     flow and the store's compare-and-swap write of the call's state.
//     The baseline's dtmf figures are its play figures too;
//   - dtmf-p99-x-base: the driver's dtmf p99 over the baseline's;
//   - bus-queue-max: the most events found waiting in the application's
//     subscription to arilink's bus (which keeps them all: ari/v5's own
//     held 100 and dropped the rest); router-queue-max, the most events
//     forwarded by the probe's subscription wrapper (itself holding 100)
//     that the driver's router had not taken yet: near 100, the router
//     is what lags;
//   - lingering-calls: calls the driver still served 15 s after every
//     channel was hung up (its StasisEnd and ChannelDestroyed lost, and
//     nothing else for the call to notice by); the round then has the
//     driver reconcile, as serve does after a reconnection;
//   - cpu-ms/call, ast-cpu-ms/call, sipp-cpu-ms/call: CPU time (user and
//     system) of this process, of Asterisk and of sipp over the round,
//     divided by N (from /proc: 0 where there is none), to tell which of
//     them a machine runs out of first.
//
// N is 10, small enough for CI's single run (-benchtime 1x); set
// IVR_BENCH_CALLS to a comma-separated list for larger rounds:
//
//	IVR_BENCH_CALLS=50,100,200,500 go test -run '^$' -bench ConcurrentCalls -benchtime 1x -count 3 ./asterisk/
//
// The test rig's Asterisk has 400 RTP ports (200 channels); for rounds
// of more than 150 calls the benchmark widens the range (widenRTP). At 50
// calls/s a round of more than about 1000 calls takes longer to place
// than the first callers take to run out of the menus' tries (about 50 s
// without a key), after which the flow would ring engineers.
func BenchmarkConcurrentCalls(b *testing.B) {
	ns := []int{10}
	if v := os.Getenv("IVR_BENCH_CALLS"); v != "" {
		ns = nil
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("IVR_BENCH_CALLS=%q: want a comma-separated list of call counts, such as 50,100,500", v)
			}
			ns = append(ns, n)
		}
	}
	for _, n := range ns {
		b.Run(fmt.Sprintf("calls=%d", n), func(b *testing.B) { benchConcurrentCalls(b, n) })
	}
}

// benchCaller is the endpoint the benchmark's sipp calls from.
const benchCaller = "bench-caller"

// benchRate is how many calls per second sipp places.
const benchRate = 50

// benchBench is one sub-benchmark's service: Asterisk, the link, the
// flow over its store, and the probe on the link's client.
type benchBench struct {
	ast      *asterisktest.Asterisk
	flow     *ivr.Flow
	states   asterisk.CallStates
	recs     voicemails
	log      *zap.Logger
	warnings *lockedOutput // the log's warnings and errors
	probe    *benchProbe
	// driver is the driver of the round running, for the link's
	// OnConnect (a reconnection has it reconcile, as serve wires it).
	driver   atomic.Pointer[asterisk.Driver]
	sounds   string // the prompts' folder as Asterisk sees it
	sipPort  int
	scenario string
}

// benchRound is what one round measured.
type benchRound struct {
	heapPerCall, goroutinesPerCall float64
	next, play                     []time.Duration
	// cpu, astCPU and sippCPU are CPU milliseconds per call.
	cpu, astCPU, sippCPU float64
	// lingering is how many calls the driver still served 15 s after
	// Asterisk had hung up every channel; queueMax the most events found
	// waiting in the application's bus subscription.
	lingering, queueMax float64
	// aheadMax is the most events forwarded to the application and not
	// yet taken by it: near 100, the application is what lags.
	aheadMax float64
}

func benchConcurrentCalls(b *testing.B, n int) {
	ast := asterisktest.Start(b)
	if n > 150 {
		widenRTP(b, ast, n)
	}
	// The log as serve writes it (JSON, info), thrown away; its warnings
	// and errors are kept too, for the account of a failed round.
	warnings := &lockedOutput{}
	enc := zap.NewProductionEncoderConfig()
	log := zap.New(zapcore.NewTee(
		zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(io.Discard), zap.InfoLevel),
		zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(warnings), zap.WarnLevel)))
	db, svc := storetest.OpenDemo(b, log)
	flow, err := ivr.New(ivr.DefaultConfig(), ivr.Deps{Tickets: tickets.NewBuiltin(db), Roster: roster{svc},
		Pages: db, Preferences: db, Calls: db, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	dir := ast.Prompts(b)
	port, err := asterisktest.FreeUDPPort()
	if err != nil {
		b.Fatal(err)
	}
	ast.AddEndpoint(b, benchCaller, port)
	bb := &benchBench{ast: ast, flow: flow, states: db, recs: voicemails{db}, log: log, warnings: warnings,
		sounds: dir, sipPort: port, scenario: benchScenario(b)}
	bb.probe = bb.link(b)

	var driver, base benchRound
	b.ResetTimer()
	for range b.N {
		r := bb.round(b, n, false)
		base.add(r, b.N)
		r = bb.round(b, n, true)
		driver.add(r, b.N)
	}
	b.StopTimer()
	b.ReportMetric(driver.heapPerCall, "heap-B/call")
	b.ReportMetric(driver.goroutinesPerCall, "goroutines/call")
	b.ReportMetric(base.heapPerCall, "base-heap-B/call")
	b.ReportMetric(base.goroutinesPerCall, "base-goroutines/call")
	d99 := latency.Quantile(driver.next, 0.99)
	b99 := latency.Quantile(base.next, 0.99)
	b.ReportMetric(latency.Millis(latency.Quantile(driver.next, 0.5)), "dtmf-p50-ms")
	b.ReportMetric(latency.Millis(d99), "dtmf-p99-ms")
	b.ReportMetric(latency.Millis(latency.Quantile(driver.play, 0.5)), "play-p50-ms")
	b.ReportMetric(latency.Millis(latency.Quantile(driver.play, 0.99)), "play-p99-ms")
	b.ReportMetric(latency.Millis(latency.Quantile(base.next, 0.5)), "base-dtmf-p50-ms")
	b.ReportMetric(latency.Millis(b99), "base-dtmf-p99-ms")
	if b99 > 0 {
		b.ReportMetric(float64(d99)/float64(b99), "dtmf-p99-x-base")
	}
	for _, m := range []struct {
		v    float64
		unit string
	}{{driver.cpu, "cpu-ms/call"}, {driver.astCPU, "ast-cpu-ms/call"}, {driver.sippCPU, "sipp-cpu-ms/call"},
		{base.cpu, "base-cpu-ms/call"}, {base.astCPU, "base-ast-cpu-ms/call"}, {base.sippCPU, "base-sipp-cpu-ms/call"},
		{driver.lingering, "lingering-calls"}, {driver.queueMax, "bus-queue-max"}, {base.queueMax, "base-bus-queue-max"},
		{driver.aheadMax, "router-queue-max"}} {
		b.ReportMetric(m.v, m.unit)
	}
}

// add counts r into the average of n rounds.
func (a *benchRound) add(r benchRound, n int) {
	a.heapPerCall += r.heapPerCall / float64(n)
	a.goroutinesPerCall += r.goroutinesPerCall / float64(n)
	a.next = append(a.next, r.next...)
	a.play = append(a.play, r.play...)
	a.cpu += r.cpu / float64(n)
	a.astCPU += r.astCPU / float64(n)
	a.sippCPU += r.sippCPU / float64(n)
	a.lingering += r.lingering / float64(n)
	a.queueMax = max(a.queueMax, r.queueMax)
	a.aheadMax = max(a.aheadMax, r.aheadMax)
}

// link connects arilink to the benchmark's application for the whole
// sub-benchmark and returns the probe on its client.
func (bb *benchBench) link(b *testing.B) *benchProbe {
	connected := make(chan ari.Client, 1)
	link, err := arilink.New(arilink.Config{URL: bb.ast.ARIURL, WebsocketURL: bb.ast.EventsURL,
		Username: bb.ast.User, Password: bb.ast.Password, Application: app, Log: bb.log,
		OnConnect: func(_ context.Context, c arilink.Connection) {
			if d := bb.driver.Load(); d != nil && c.Seq > 1 {
				d.Reconcile()
			}
			select {
			case connected <- c.Client:
			default:
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- link.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("arilink Run: %v", err)
		}
	})
	select {
	case c := <-connected:
		return newBenchProbe(c)
	case <-time.After(15 * time.Second):
		b.Fatalf("arilink did not connect within 15 s: %v", link.Ready())
		return nil
	}
}

// round runs n calls through the driver (or the baseline) and measures
// them.
func (bb *benchBench) round(b *testing.B, n int, driver bool) benchRound {
	p := bb.probe
	p.reset()
	ctx, cancel := context.WithCancel(context.Background())
	var d *asterisk.Driver
	var stop func()
	if driver {
		var err error
		raw := asterisk.NewRawARI(bb.ast.ARIURL, bb.ast.User, bb.ast.Password, 30*time.Second)
		d, err = asterisk.New(asterisk.Config{Client: p, App: app, Flow: bb.flow, States: bb.states,
			SoundsDir: bb.sounds, Lines: ivr.DefaultConfig().Lines, DialString: "PJSIP/{phone}",
			Recordings: bb.recs, Files: raw, Mover: raw, Log: bb.log})
		if err != nil {
			b.Fatal(err)
		}
		bb.driver.Store(d)
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		stop = func() {
			bb.driver.Store(nil)
			cancel()
			if err := <-done; err != nil {
				b.Errorf("Run: %v", err)
			}
		}
	} else {
		greeting, _ := sounds.MediaURI(bb.sounds, "en", "greeting_washington")
		stop = baselineApp(p, app, greeting)
		stop = func(s func()) func() { return func() { cancel(); s() } }(stop)
	}
	defer stop()

	heap0, g0 := benchSnapshot()
	astPID := asteriskPID(bb.ast)
	cpu0, ast0 := procCPU(os.Getpid()), procCPU(astPID)
	sipp := bb.sipp(b, n)
	within := 60*time.Second + time.Duration(n/benchRate)*2*time.Second
	kind := "baseline"
	if driver {
		kind = "driver"
	}
	benchWait(b, bb.warnings, within, fmt.Sprintf("%s: %d calls answered and their key handled", kind, n), func() (bool, string) {
		a, k, h := p.counts(driver)
		return a >= n && h >= n, fmt.Sprintf("%d answered, %d pressed a key, %d keys handled; sipp: %s", a, k, h, sipp.tail())
	})
	heap1, g1 := benchSnapshot()
	r := benchRound{heapPerCall: (float64(heap1) - float64(heap0)) / float64(n),
		goroutinesPerCall: float64(g1-g0) / float64(n)}
	r.next, r.play = p.samples()

	var chans []struct {
		ID string `json:"id"`
	}
	bb.ast.ARI(b, http.MethodGet, "/channels", &chans)
	for _, c := range chans {
		bb.ast.ARI(b, http.MethodDelete, "/channels/"+c.ID, nil)
	}
	if err := sipp.wait(); err != nil {
		b.Logf("sipp (%s, %d calls): %v\n%s", kind, n, err, sipp.tail())
	}
	r.cpu = float64(procCPU(os.Getpid())-cpu0) / float64(time.Millisecond) / float64(n)
	r.astCPU = float64(procCPU(astPID)-ast0) / float64(time.Millisecond) / float64(n)
	r.sippCPU = float64(sipp.cpu) / float64(time.Millisecond) / float64(n)
	benchWait(b, bb.warnings, 30*time.Second, "no channel left in Asterisk", func() (bool, string) {
		var left []struct{}
		bb.ast.ARI(b, http.MethodGet, "/channels", &left)
		return len(left) == 0, fmt.Sprintf("%d channels", len(left))
	})
	if d != nil {
		// A call whose StasisEnd and ChannelDestroyed the bus dropped
		// (see bus-queue-max) is served until a request of its own finds
		// its channel gone; one that lost its prompt's PlaybackFinished
		// too makes none, and only a reconciliation (serve has one after
		// each reconnection) ends it.
		lingering := benchUntil(15*time.Second, func() bool { return d.Calls() == 0 })
		if !lingering {
			r.lingering = float64(d.Calls())
			d.Reconcile()
		}
		benchWait(b, bb.warnings, 30*time.Second, "the end of the driver's calls", func() (bool, string) {
			return d.Calls() == 0, fmt.Sprintf("%d calls", d.Calls())
		})
	}
	q, a := p.queueMax()
	r.queueMax, r.aheadMax = float64(q), float64(a)
	return r
}

// benchSnapshot is the heap in use and the goroutines, after a GC.
func benchSnapshot() (heap uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, runtime.NumGoroutine()
}

// benchUntil polls cond every 100 ms until it holds (true) or within has
// passed (false).
func benchUntil(within time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
	return true
}

// benchWait polls cond every 100 ms until it holds, failing b with
// cond's account after within.
func benchWait(b *testing.B, warn *lockedOutput, within time.Duration, what string, cond func() (bool, string)) {
	b.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, account := cond()
		if ok {
			return
		}
		select {
		case <-deadline.C:
			b.Fatalf("no %s within %v: %s\nthe log's warnings (the end):\n%s", what, within, account, warn.tail())
		case <-tick.C:
		}
	}
}

// baselineApp is the minimal ARI application: it answers each channel
// entering app and plays sound to it, and plays sound again at each key.
// stop ends it once its requests have returned.
func baselineApp(client asterisk.Client, app, sound string) (stop func()) {
	sub := client.Bus().Subscribe(ari.AppKey(app), ari.Events.StasisStart, ari.Events.ChannelDtmfReceived)
	var wg sync.WaitGroup
	var seq atomic.Int64
	play := func(key *ari.Key) {
		_, _ = client.Channel().Play(key, fmt.Sprintf("base-%d", seq.Add(1)), sound)
	}
	loop := make(chan struct{})
	go func() {
		defer close(loop)
		for e := range sub.Events() {
			switch e := e.(type) {
			case *ari.StasisStart:
				key := ari.NewKey(ari.ChannelKey, e.Channel.ID)
				wg.Go(func() {
					if client.Channel().Answer(key) == nil {
						play(key)
					}
				})
			case *ari.ChannelDtmfReceived:
				wg.Go(func() { play(ari.NewKey(ari.ChannelKey, e.Channel.ID)) })
			}
		}
	}()
	return func() {
		sub.Cancel()
		<-loop
		wg.Wait()
	}
}

// benchScenario writes testdata/bench_caller.xml into a folder of b's
// with sip-tester's key press linked beside it, and returns its path.
func benchScenario(b *testing.B) string {
	dir := b.TempDir()
	text, err := os.ReadFile(filepath.Join("testdata", "bench_caller.xml"))
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(dir, "bench_caller.xml")
	if err := os.WriteFile(file, text, 0o600); err != nil {
		b.Fatal(err)
	}
	const key = "/usr/share/sip-tester/dtmf_2833_pound.pcap"
	if _, err := os.Stat(key); err != nil {
		b.Fatalf("the key press: %v (install Debian's sip-tester)", err)
	}
	if err := os.Symlink(key, filepath.Join(dir, filepath.Base(key))); err != nil {
		b.Fatal(err)
	}
	return file
}

// benchSipp is one sipp process placing a round's calls.
type benchSipp struct {
	out  lockedOutput
	done chan struct{}
	err  error         // set before done is closed
	cpu  time.Duration // its user and system time, set before done is closed
}

// sipp starts one sipp process that places n calls from benchCaller to
// the Washington line, benchRate a second, all of them up at once.
func (bb *benchBench) sipp(b *testing.B, n int) *benchSipp {
	bin, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv(asterisktest.EnvRequire) == "require" {
			b.Fatalf("%s=require but no sipp: install Debian's sip-tester", asterisktest.EnvRequire)
		}
		b.Skip("no sipp: install Debian's sip-tester")
	}
	media, err := asterisktest.FreeUDPPort()
	if err != nil {
		b.Fatal(err)
	}
	s := &benchSipp{done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "-sf", bb.scenario, "-s", asterisktest.Washington, //nolint:gosec // G204: sipp with the benchmark's scenario
		"-key", "from_user", benchCaller, "-i", "127.0.0.1", "-p", strconv.Itoa(bb.sipPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(media),
		"-r", strconv.Itoa(benchRate), "-l", strconv.Itoa(n), "-m", strconv.Itoa(n),
		"-timeout", "280s", "-nostdin", "127.0.0.1:"+strconv.Itoa(bb.ast.SIPPort))
	cmd.Dir = b.TempDir()
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatalf("sipp: %v", err)
	}
	go func() {
		s.err = cmd.Wait()
		if cmd.ProcessState != nil {
			s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		cancel()
		close(s.done)
	}()
	b.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// wait waits for sipp to end: an error if a call failed.
func (s *benchSipp) wait() error {
	<-s.done
	return s.err
}

// sippCounts picks the last statistics line of sipp's screen.
var sippCounts = regexp.MustCompile(`\d+ new calls during [^\n]*`)

// tail is a short account of sipp's output: its last statistics line, or
// the output's end.
func (s *benchSipp) tail() string {
	out := s.out.String()
	if m := sippCounts.FindAllString(out, -1); len(m) > 0 {
		return m[len(m)-1]
	}
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return out
}

// lockedOutput is a process's output, written and read from different
// goroutines.
type lockedOutput struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// tail is the last 3000 bytes written.
func (l *lockedOutput) tail() string {
	s := l.String()
	if len(s) > 3000 {
		s = s[len(s)-3000:]
	}
	return s
}

func (l *lockedOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// widenRTP gives the test binary's Asterisk RTP ports enough for n calls
// (two each, RTP and RTCP, and room for ports taken by others), by
// rewriting its rtp.conf and reloading the RTP module. asterisktest
// starts it with 400 (200 channels), plenty for the tests; its
// configuration folder is the parent of its data folder, two levels up
// from SoundsDir. New channels get ports of the new range.
func widenRTP(b *testing.B, ast *asterisktest.Asterisk, n int) {
	conf := filepath.Join(filepath.Dir(filepath.Dir(ast.SoundsDir)), "etc", "rtp.conf")
	text, err := os.ReadFile(conf)
	if err != nil {
		b.Fatalf("widen the RTP range: %v", err)
	}
	m := regexp.MustCompile(`rtpstart = (\d+)`).FindSubmatch(text)
	if m == nil {
		b.Fatalf("widen the RTP range: no rtpstart in %s:\n%s", conf, text)
	}
	start, _ := strconv.Atoi(string(m[1]))
	size := 4*n + 400
	if start+size > 65534 {
		start = (65534 - size) &^ 1
	}
	text = regexp.MustCompile(`rtpstart = \d+\nrtpend = \d+`).ReplaceAll(text,
		fmt.Appendf(nil, "rtpstart = %d\nrtpend = %d", start, start+size))
	if err := os.WriteFile(conf, text, 0o600); err != nil {
		b.Fatal(err)
	}
	if out, err := ast.CLI("module reload res_rtp_asterisk.so"); err != nil {
		b.Fatalf("reload the RTP module: %v: %s", err, out)
	}
}

// benchProbe is the Client the benchmark gives the application: arilink's,
// with the instants the application receives each key and starts each
// request on a caller's channel recorded. The events and the requests go
// through as they are (one goroutine hop more for the events, counted in
// the samples).
type benchProbe struct {
	asterisk.Client

	mu         sync.Mutex
	keyed      map[string]time.Time // channel → its key not followed by a request yet
	keyedPlay  map[string]time.Time // channel → its key not followed by a playback yet
	playbackOf map[string]string    // playback id → its channel
	answered   map[string]bool
	keys       map[string]bool // channels that pressed a key
	next, play []time.Duration
	maxQueued  int // the most events waiting in a subscription
	maxAhead   int // the most events forwarded and not yet taken by the application
}

func newBenchProbe(c asterisk.Client) *benchProbe {
	p := &benchProbe{Client: c}
	p.reset()
	return p
}

// reset forgets what was recorded: a new round.
func (p *benchProbe) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keyed, p.keyedPlay, p.playbackOf = map[string]time.Time{}, map[string]time.Time{}, map[string]string{}
	p.answered, p.keys = map[string]bool{}, map[string]bool{}
	p.next, p.play, p.maxQueued, p.maxAhead = nil, nil, 0, 0
}

// queued records that a subscription had n events waiting (the one taken
// included): ari/v5's bus drops the events for a subscription holding
// 100.
func (p *benchProbe) queued(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxQueued = max(p.maxQueued, n)
}

// forwarded records that n events forwarded wait for the application.
func (p *benchProbe) forwarded(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxAhead = max(p.maxAhead, n)
}

func (p *benchProbe) queueMax() (queued, ahead int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxQueued, p.maxAhead
}

// counts is how many channels were answered, how many pressed a key, and
// how many keys were followed by a request (by a playback: for the
// driver, whose first request stops the prompt).
func (p *benchProbe) counts(playback bool) (answered, keyed, handled int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if playback {
		return len(p.answered), len(p.keys), len(p.play)
	}
	return len(p.answered), len(p.keys), len(p.next)
}

func (p *benchProbe) samples() (next, play []time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.next...), append([]time.Duration(nil), p.play...)
}

// key records that the application is handed a key of channel id.
func (p *benchProbe) key(id string, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys[id] = true
	if _, ok := p.keyed[id]; !ok {
		p.keyed[id] = at
	}
	if _, ok := p.keyedPlay[id]; !ok {
		p.keyedPlay[id] = at
	}
}

// request records a request on channel id starting now; playback says
// it starts a playback.
func (p *benchProbe) request(id string, playback bool) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if at, ok := p.keyed[id]; ok {
		p.next = append(p.next, now.Sub(at))
		delete(p.keyed, id)
	}
	if at, ok := p.keyedPlay[id]; ok && playback {
		p.play = append(p.play, now.Sub(at))
		delete(p.keyedPlay, id)
	}
}

func (p *benchProbe) Bus() ari.Bus           { return benchBus{p.Client.Bus(), p} }
func (p *benchProbe) Channel() ari.Channel   { return benchChannel{p.Client.Channel(), p} }
func (p *benchProbe) Playback() ari.Playback { return benchPlayback{p.Client.Playback(), p} }
func (p *benchProbe) channelOf(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.playbackOf[id]
}

// benchBus stamps the keys its subscriptions hand over.
type benchBus struct {
	ari.Bus
	p *benchProbe
}

func (b benchBus) Subscribe(key *ari.Key, n ...string) ari.Subscription {
	inner := b.Bus.Subscribe(key, n...)
	s := &benchSub{inner: inner, out: make(chan ari.Event, 100)}
	go func() {
		defer close(s.out)
		waiting, _ := inner.(interface{ Waiting() int }) // arilink's subscription
		for e := range inner.Events() {
			if waiting != nil {
				b.p.queued(waiting.Waiting() + 1)
			}
			if d, ok := e.(*ari.ChannelDtmfReceived); ok {
				b.p.key(d.Channel.ID, time.Now())
			}
			s.out <- e
			b.p.forwarded(len(s.out))
		}
	}()
	return s
}

// benchSub forwards a subscription's events; Cancel closes them once the
// bus has closed its own.
type benchSub struct {
	inner ari.Subscription
	out   chan ari.Event
}

func (s *benchSub) Events() <-chan ari.Event { return s.out }
func (s *benchSub) Cancel()                  { s.inner.Cancel() }

// benchChannel records the requests on channels.
type benchChannel struct {
	ari.Channel
	p *benchProbe
}

func (c benchChannel) Answer(key *ari.Key) error {
	c.p.request(key.ID, false)
	c.p.mu.Lock()
	c.p.answered[key.ID] = true
	c.p.mu.Unlock()
	return c.Channel.Answer(key)
}

func (c benchChannel) Play(key *ari.Key, playbackID string, mediaURI string) (*ari.PlaybackHandle, error) {
	c.p.request(key.ID, true)
	c.p.mu.Lock()
	c.p.playbackOf[playbackID] = key.ID
	c.p.mu.Unlock()
	return c.Channel.Play(key, playbackID, mediaURI)
}

func (c benchChannel) Hangup(key *ari.Key, reason string) error {
	c.p.request(key.ID, false)
	return c.Channel.Hangup(key, reason)
}

func (c benchChannel) MOH(key *ari.Key, class string) error {
	c.p.request(key.ID, false)
	return c.Channel.MOH(key, class)
}

func (c benchChannel) StopMOH(key *ari.Key) error {
	c.p.request(key.ID, false)
	return c.Channel.StopMOH(key)
}

func (c benchChannel) Data(key *ari.Key) (*ari.ChannelData, error) {
	c.p.request(key.ID, false)
	return c.Channel.Data(key)
}

// benchPlayback records the requests on playbacks, as requests on their
// channels.
type benchPlayback struct {
	ari.Playback
	p *benchProbe
}

func (pb benchPlayback) Stop(key *ari.Key) error {
	pb.p.request(pb.p.channelOf(key.ID), false)
	return pb.Playback.Stop(key)
}

func (pb benchPlayback) Data(key *ari.Key) (*ari.PlaybackData, error) {
	pb.p.request(pb.p.channelOf(key.ID), false)
	return pb.Playback.Data(key)
}

// asteriskPID is the process id of ast's Asterisk, 0 if not found: the
// process whose command line names its configuration (asterisktest runs
// asterisk -f -n -C <dir>/etc/asterisk.conf).
func asteriskPID(ast *asterisktest.Asterisk) int {
	conf := filepath.Join(filepath.Dir(filepath.Dir(ast.SoundsDir)), "etc", "asterisk.conf")
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		line, err := os.ReadFile(p) //nolint:gosec // G304: /proc's own files
		if err != nil {
			continue
		}
		args := strings.Split(string(line), "\x00")
		if len(args) > 0 && filepath.Base(args[0]) == "asterisk" && slices.Contains(args, "-f") && slices.Contains(args, conf) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	return 0
}

// procCPU is the CPU time (user and system) process pid has used, from
// /proc/<pid>/stat (in clock ticks, 100 a second on Linux); 0 if unknown.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command's name, which is in parentheses and
	// may hold spaces: state is the 3rd field, utime the 14th, stime the
	// 15th.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * (time.Second / 100)
}
