package main

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/internal/latency"
	"github.com/supportdesk/ivr/internal/pgtest"
)

// Benchmarks of the voice webhooks as `ivr serve` wires them: the real
// serve command in this process (`--demo`, the real clock), everything on
// its store (call state, the demo tickets and roster, callers' language
// preferences, the call log, pages), its Twilio REST client pointed at the
// fake Twilio on loopback. The webhooks are posted to serve directly,
// signed with the account's auth token as Twilio signs them, over
// keep-alive connections.
//
// One op is one whole short call, three webhooks in turn, each answered
// 200 (or 204) before the next is sent:
//
//  1. the voice webhook of a new call (CallSid never seen) from a caller
//     to the Washington line: signature check, the caller's remembered
//     language read from the store, the call's state created, the
//     greeting's <Gather>;
//  2. that Gather's action with Digits=9: the caller switches language,
//     which the flow remembers for the caller's next call (a durable,
//     synced write of the store: DB.SetLanguage), and the call's state is
//     updated (compare-and-swap); the ticket prompt's <Gather>;
//  3. the call's status callback, CallStatus=completed: the caller hung
//     up at the ticket prompt, the call's record is written to the call
//     log (durable, synced) and its state finished.
//
// Baseline, in the same run: a bare net/http handler on loopback that
// parses the form and writes a fixed TwiML document, sent the same three
// requests (signed alike) per op by the same client; throughput_ratio is
// the service's ops/s over the bare handler's (1 would be a service that
// costs nothing beyond HTTP).
//
//	go test -run '^$' -bench 'VoiceCall' -benchtime 2000x -count 3 ./cmd/ivr/
//
// SQLite syncs the durable writes (synchronous=FULL) as in production, and
// not the call-state writes (NORMAL). With PostgreSQL the server is
// internal/pgtest's throw-away one (fsync=off, synchronous_commit=off: no
// commit is synced), unless IVR_BENCH_POSTGRES names a server run with
// production durability settings, on which each run creates a database of
// its own and drops it afterwards:
//
//	IVR_BENCH_POSTGRES='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	  go test -run '^$' -bench 'VoiceCall/postgres' -benchtime 2000x -count 3 ./cmd/ivr/

// voiceBackends are the stores the voice benchmarks run on: a fresh
// SQLite file, or a fresh PostgreSQL database (voiceBenchPostgresURL).
var voiceBackends = []struct {
	name string
	dsn  func(tb testing.TB) string
}{
	{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "ivr.db") }},
	{"postgres", voiceBenchPostgresURL},
}

// voiceBenchDBSeq numbers the databases voiceBenchPostgresURL creates.
var voiceBenchDBSeq atomic.Int64

// voiceBenchPostgresURL is the URL of a fresh PostgreSQL database for tb:
// on the server IVR_BENCH_POSTGRES names if set (created there, dropped
// when tb ends), else internal/pgtest's (skipped without PostgreSQL's
// binaries, unless IVR_TEST_POSTGRES=require).
func voiceBenchPostgresURL(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("IVR_BENCH_POSTGRES")
	if admin == "" {
		return pgtest.URL(tb)
	}
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("IVR_BENCH_POSTGRES: %v", err)
	}
	pool, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatalf("IVR_BENCH_POSTGRES: %v", err)
	}
	name := fmt.Sprintf("ivr_bench_%d_%d", os.Getpid(), voiceBenchDBSeq.Add(1))
	if _, err := pool.ExecContext(tb.Context(), "CREATE DATABASE "+name); err != nil {
		_ = pool.Close()
		tb.Fatalf("IVR_BENCH_POSTGRES: create database %s: %v", name, err)
	}
	// Registered before serve starts, so run after it has stopped; FORCE
	// ends any connection left.
	tb.Cleanup(func() {
		defer pool.Close()
		if _, err := pool.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("IVR_BENCH_POSTGRES: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// voiceTarget is where a benchmark's webhooks go: serve, or the bare
// baseline handler; both check the fake Twilio account's signatures or
// none, the client signs alike.
type voiceTarget struct {
	base    string
	account string
	token   string
	client  *http.Client
}

// post sends one signed webhook and returns its latency. Safe from any
// goroutine: it reports errors instead of failing the benchmark.
func (t voiceTarget) post(path string, form url.Values, want string) (time.Duration, error) {
	u := t.base + path
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Signature(t.token, u, form))
	t0 := time.Now()
	res, err := t.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("POST %s: %w", path, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(t0)
	switch {
	case err != nil:
		return 0, fmt.Errorf("POST %s: read the answer: %w", path, err)
	case res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent:
		return 0, fmt.Errorf("POST %s: %s: %s", path, res.Status, body)
	case want != "" && !strings.Contains(string(body), want):
		return 0, fmt.Errorf("POST %s: the answer has no %s: %s", path, want, body)
	}
	return took, nil
}

// call is one op (see the comment at the top): call sid from caller, its
// three webhooks' latencies appended to lat.
func (t voiceTarget) call(sid, caller string, lat []time.Duration) ([]time.Duration, error) {
	steps := []struct {
		path string
		form url.Values
		want string
	}{
		{"/webhooks/twilio/voice", url.Values{"CallSid": {sid}, "AccountSid": {t.account}, "From": {caller}, "To": {washingtonLine},
			"CallStatus": {"ringing"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}, "<Gather"},
		{"/webhooks/twilio/voice/gather?seq=1", url.Values{"CallSid": {sid}, "AccountSid": {t.account}, "Digits": {"9"}}, "<Gather"},
		{"/webhooks/twilio/voice/status", url.Values{"CallSid": {sid}, "AccountSid": {t.account}, "From": {caller}, "To": {washingtonLine},
			"CallStatus": {"completed"}, "CallDuration": {"9"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}, ""},
	}
	for _, s := range steps {
		d, err := t.post(s.path, s.form, s.want)
		if err != nil {
			return lat, fmt.Errorf("call %s: %w", sid, err)
		}
		lat = append(lat, d)
	}
	return lat, nil
}

// voiceRig is serve on one backend and the bare baseline beside it, both
// on loopback, reached through one keep-alive client.
type voiceRig struct {
	svc, bare voiceTarget
	rig       *benchRig
	sids      atomic.Int64
}

func startVoiceRig(tb testing.TB, dsn string) *voiceRig {
	tb.Helper()
	r := startBenchRig(tb, dsn)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Gather/></Response>`)
	}))
	tb.Cleanup(bare.Close)
	svc := voiceTarget{base: r.base, account: r.fake.AccountSID(), token: r.fake.AuthToken(), client: r.client}
	b := svc
	b.base = bare.URL
	return &voiceRig{svc: svc, bare: b, rig: r}
}

// sid is a new call SID, of Twilio's shape.
func (v *voiceRig) sid() string { return fmt.Sprintf("CA%032x", v.sids.Add(1)) }

// benchCaller is the caller number of client i: one per client, so that
// each client's calls rewrite one preference.
func benchCaller(i int) string { return fmt.Sprintf("+1202555%04d", 2000+i) }

// checkCalls makes sure the service did the work the ops claim: the call
// log holds every call made (up to the API's page of 1000), and the next
// call of caller, who made calls ops, is greeted in the language the last
// of them chose (the line's English switched at each call).
func (v *voiceRig) checkCalls(tb testing.TB, made int, caller string, ops int) {
	tb.Helper()
	var log struct {
		Calls []struct {
			ID string `json:"id"`
		} `json:"calls"`
	}
	if code, err := v.rig.do(http.MethodGet, "/api/v1/calls?limit=1000", nil, &log); err != nil || code != http.StatusOK {
		tb.Fatalf("GET /api/v1/calls: %d %v", code, err)
	}
	if got, want := len(log.Calls), min(made, 1000); got != want {
		tb.Fatalf("the call log holds %d calls, want %d", got, want)
	}
	want := "/sounds/en/greeting_"
	if ops%2 == 1 {
		want = "/sounds/ru/greeting_"
	}
	form := url.Values{"CallSid": {v.sid()}, "AccountSid": {v.svc.account}, "From": {caller}, "To": {washingtonLine},
		"CallStatus": {"ringing"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}
	if _, err := v.svc.post("/webhooks/twilio/voice", form, want); err != nil {
		tb.Fatalf("after %d calls switching language: %v", ops, err)
	}
}

// BenchmarkVoiceCall is one client making one call after another (one op:
// see the top of this file), against serve and, interleaved op by op, the
// bare handler, so that the machine's drift falls on both. ns/op is both
// together; service_ns/op and bare_ns/op each alone; throughput_ratio is
// bare_ns/op over service_ns/op.
func BenchmarkVoiceCall(b *testing.B) {
	for _, be := range voiceBackends {
		b.Run(be.name, func(b *testing.B) {
			v := startVoiceRig(b, be.dsn(b))
			caller := benchCaller(0)
			var svcTotal, bareTotal time.Duration
			lat := make([]time.Duration, 0, 3)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if _, err := v.bare.call(v.sid(), caller, lat[:0]); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := v.svc.call(v.sid(), caller, lat[:0]); err != nil {
					b.Fatal(err)
				}
				bareTotal += t1.Sub(t0)
				svcTotal += time.Since(t1)
			}
			b.StopTimer()
			v.checkCalls(b, b.N, caller, b.N)
			svcNs := float64(svcTotal.Nanoseconds()) / float64(b.N)
			bareNs := float64(bareTotal.Nanoseconds()) / float64(b.N)
			b.ReportMetric(svcNs, "service_ns/op")
			b.ReportMetric(bareNs, "bare_ns/op")
			b.ReportMetric(bareNs/svcNs, "throughput_ratio")
		})
	}
}

// voiceClients is how many clients make calls at once in
// BenchmarkVoiceCallConcurrent.
const voiceClients = 50

// BenchmarkVoiceCallConcurrent is 50 clients making calls at once, each
// one call after another (one op: see the top of this file), b.N calls in
// all, each client calling from its own number. ns/op is the service's
// wall time over b.N; calls/s its rate; p50-ms and p99-ms the latency of
// one webhook (any of the three) under that load. Baseline: the same b.N
// calls by 50 clients against the bare handler, just before and just after
// the service's run, averaged (bare-calls/s, with bare-p50-ms and
// bare-p99-ms of the later run); throughput_ratio is calls/s over
// bare-calls/s. With b.N below 50, only b.N clients have a call to make.
func BenchmarkVoiceCallConcurrent(b *testing.B) {
	for _, be := range voiceBackends {
		b.Run(be.name, func(b *testing.B) {
			v := startVoiceRig(b, be.dsn(b))
			b.ResetTimer()
			b.StopTimer()
			bareBefore, _, err := v.concurrentCalls(v.bare, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			rate, lat, err := v.concurrentCalls(v.svc, b.N)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			bareAfter, bareLat, err := v.concurrentCalls(v.bare, b.N)
			if err != nil {
				b.Fatal(err)
			}
			// Client 0 makes calls 0, 50, 100… of b.N.
			v.checkCalls(b, b.N, benchCaller(0), (b.N+voiceClients-1)/voiceClients)
			bare := (bareBefore + bareAfter) / 2
			b.ReportMetric(rate, "calls/s")
			b.ReportMetric(latency.Millis(latency.Quantile(lat, 0.50)), "p50-ms")
			b.ReportMetric(latency.Millis(latency.Quantile(lat, 0.99)), "p99-ms")
			b.ReportMetric(bare, "bare-calls/s")
			b.ReportMetric(latency.Millis(latency.Quantile(bareLat, 0.50)), "bare-p50-ms")
			b.ReportMetric(latency.Millis(latency.Quantile(bareLat, 0.99)), "bare-p99-ms")
			b.ReportMetric(rate/bare, "throughput_ratio")
		})
	}
}

// concurrentCalls makes n calls to t by voiceClients clients at once,
// client i taking calls i, i+50, i+100… (from its own number); it returns
// the calls' rate and every webhook's latency.
func (v *voiceRig) concurrentCalls(t voiceTarget, n int) (float64, []time.Duration, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, 3*n)
		errs = make(chan error, voiceClients)
	)
	sids := make([]string, n)
	for i := range sids {
		sids[i] = v.sid()
	}
	start := time.Now()
	for c := range min(voiceClients, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 3*(n/voiceClients+1))
			var err error
			for i := c; i < n && err == nil; i += voiceClients {
				mine, err = t.call(sids[i], benchCaller(c), mine)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, nil, err
	}
	return float64(n) / took.Seconds(), lat, nil
}
