package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/internal/latency"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
)

// Benchmarks of the pager as `ivr serve` wires it: the real serve command
// in this process (demo team, the real clock, pages ringing at any hour),
// its Twilio REST client pointed at the fake Twilio on loopback, pages
// raised through the public API with the admin token. Each reports its
// figures beside a baseline measured in the same run on the same machine,
// since two noisy cores make absolute figures travel badly:
//
//	go test -run '^$' -bench 'Page' -benchtime 200x -count 3 ./cmd/ivr/
//
// With PostgreSQL the server is internal/pgtest's throw-away one, which
// runs with fsync=off and synchronous_commit=off: its commits are not
// synced, for the service and its baseline alike, so its absolute figures
// flatter PostgreSQL; its ratios do not. SQLite syncs every durable commit
// (synchronous=FULL), as in production.

// The throw-away PostgreSQL is stopped by this package's one TestMain
// (crash_main_test.go), which runs pgtest.Main.

// benchBackends are the stores the benchmarks run on: a fresh SQLite file
// or a fresh PostgreSQL database per run (skipped without PostgreSQL's
// binaries, unless IVR_TEST_POSTGRES=require).
var benchBackends = []struct {
	name string
	dsn  func(tb testing.TB) string
}{
	{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "ivr.db") }},
	{"postgres", func(tb testing.TB) string { return pgtest.URL(tb) }},
}

// benchRig is `ivr serve --demo` on dsn, in this process, on the real
// clock, against a fake Twilio that plays every engineer's phone.
type benchRig struct {
	tb     testing.TB
	base   string
	fake   *faketwilio.Server
	client *http.Client
}

func startBenchRig(tb testing.TB, dsn string) *benchRig {
	tb.Helper()
	// As in startPagerRig: the service's port first (the fake posts
	// engineers' texts to it), then the fake (the service's Twilio).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	fake := faketwilio.Start(tb, faketwilio.Options{SMSWebhookURL: "http://" + addr + "/webhooks/twilio/sms", ExpectTimeout: 30 * time.Second})
	env, _, errOut := testEnv(map[string]string{"IVR_DB": dsn, "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": fake.URL(), "TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none"})
	base := startWithEnv(tb, env, errOut, "--demo", "--addr", addr)
	// Keep-alive connections for every client goroutine, as a real API
	// client keeps them.
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	tb.Cleanup(tr.CloseIdleConnections)
	return &benchRig{tb: tb, base: base, fake: fake, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends an API request with the admin token and decodes the answer
// into out (when not nil); it returns the status. Safe from any goroutine:
// it reports errors instead of failing the benchmark.
func (r *benchRig) do(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := r.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, res.Body)
	} else {
		err = json.NewDecoder(res.Body).Decode(out)
	}
	if err != nil {
		return res.StatusCode, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	return res.StatusCode, nil
}

// raise raises a page through POST /api/v1/pages.
func (r *benchRig) raise(priority oncall.Priority, level oncall.Level, summary string) (int64, error) {
	var p struct {
		ID int64 `json:"id"`
	}
	code, err := r.do(http.MethodPost, "/api/v1/pages", map[string]any{"priority": priority, "level": level, "summary": summary}, &p)
	if err == nil && code != http.StatusCreated {
		err = fmt.Errorf("POST /api/v1/pages: %d, want 201", code)
	}
	return p.ID, err
}

// onCallPhones returns the phone of the primary engineer on call at each
// level now: where a page at that level rings first.
func (r *benchRig) onCallPhones() map[oncall.Level]string {
	r.tb.Helper()
	var out struct {
		OnCall []struct {
			Level    oncall.Level `json:"level"`
			Layer    string       `json:"layer"`
			Engineer *struct {
				Phones []string `json:"phones"`
			} `json:"engineer"`
		} `json:"oncall"`
	}
	if code, err := r.do(http.MethodGet, "/api/v1/oncall", nil, &out); err != nil || code != http.StatusOK {
		r.tb.Fatalf("GET /api/v1/oncall: %d %v", code, err)
	}
	phones := map[oncall.Level]string{}
	for _, e := range out.OnCall {
		if e.Layer == "primary" && e.Engineer != nil && len(e.Engineer.Phones) > 0 {
			phones[e.Level] = e.Engineer.Phones[0]
		}
	}
	if len(phones) != 3 {
		r.tb.Fatalf("primary engineers on call: %v, want one at each of L1, L2, L3", phones)
	}
	return phones
}

// acknowledgeByVoice is the engineer taking a page call: answer, press 1,
// hang up. The page is acknowledged, and once the completed callback is
// answered the engineer's line is free for the next page call.
func acknowledgeByVoice(h *faketwilio.CallHandle) {
	h.Answer()
	h.Press("1")
	h.Hangup()
}

// BenchmarkPageToTwilio measures how soon a page leaves the service. One
// op is one critical page raised at L1 through POST /api/v1/pages until
// the fake Twilio has accepted its page call (Calls.create) to the L1
// primary engineer: the latency runs from just before the POST to the
// moment a waiter on the engineer's phone (Device.WaitCall, started before
// the POST) wakes to the new call, which the fake announces as it stores
// the call, before it answers the create request. The engineer then
// answers, presses 1 and hangs up, off the clock, so that the next page's
// call is not held back by the one page call in flight per number.
//
// Metrics: p50-ms and p99-ms of that latency. Two baselines, each timed
// once just before each page, off the clock: oncall-p50-ms, the p50 of an
// authenticated GET /api/v1/oncall to the same server, and insert-p50-ms,
// the p50 of one durable page write (durableInsert) on a fresh store of
// the same backend outside the service; p50-x-oncall and p50-x-insert are
// the page's p50 over theirs. ns/op is the mean latency.
func BenchmarkPageToTwilio(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			r := startBenchRig(b, be.dsn(b))
			phone := r.fake.Phone(r.onCallPhones()[oncall.L1])
			db := baselineStore(b, be.dsn(b))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			page := make([]time.Duration, 0, b.N)
			get := make([]time.Duration, 0, b.N)
			insert := make([]time.Duration, 0, b.N)
			type arrival struct {
				h   *faketwilio.CallHandle
				at  time.Time
				err error
			}
			b.ResetTimer()
			b.StopTimer()
			for i := range b.N {
				t0 := time.Now()
				if code, err := r.do(http.MethodGet, "/api/v1/oncall", nil, nil); err != nil || code != http.StatusOK {
					b.Fatalf("GET /api/v1/oncall: %d %v", code, err)
				}
				get = append(get, time.Since(t0))
				t0 = time.Now()
				if err := durableInsert(ctx, db, fmt.Sprintf("bench:%d", i)); err != nil {
					b.Fatal(err)
				}
				insert = append(insert, time.Since(t0))

				arrived := make(chan arrival, 1)
				go func() {
					wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
					defer wcancel()
					h, err := phone.WaitCall(wctx)
					arrived <- arrival{h, time.Now(), err}
				}()
				b.StartTimer()
				t0 = time.Now()
				if _, err := r.raise(oncall.Critical, oncall.L1, fmt.Sprintf("benchmark page %d", i)); err != nil {
					b.Fatal(err)
				}
				a := <-arrived
				b.StopTimer()
				if a.err != nil {
					b.Fatal(a.err)
				}
				page = append(page, a.at.Sub(t0))
				acknowledgeByVoice(a.h)
			}
			p50, p99 := latency.Quantile(page, 0.50), latency.Quantile(page, 0.99)
			g50, i50 := latency.Quantile(get, 0.50), latency.Quantile(insert, 0.50)
			b.ReportMetric(latency.Millis(p50), "p50-ms")
			b.ReportMetric(latency.Millis(p99), "p99-ms")
			b.ReportMetric(latency.Millis(g50), "oncall-p50-ms")
			b.ReportMetric(float64(p50)/float64(g50), "p50-x-oncall")
			b.ReportMetric(latency.Millis(i50), "insert-p50-ms")
			b.ReportMetric(float64(p50)/float64(i50), "p50-x-insert")
		})
	}
}

// baselineStore opens and migrates a fresh store on dsn, outside the
// service, for the benchmarks' baselines; it closes when tb ends.
func baselineStore(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, zap.NewNop())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// durableInsert is the baselines' unit of work: one page written in one
// durable transaction (store.DB.CreatePage with an open function that adds
// nothing: an INSERT and an UPDATE of one row, and the commit, synced on
// SQLite).
func durableInsert(ctx context.Context, db *store.DB, key string) error {
	now := time.Now().UTC()
	p := pager.Page{Key: key, Source: pager.FromAPI, Priority: oncall.Critical, Level: oncall.L1,
		Summary: "baseline insert", RaisedAt: now, Deadline: now.Add(time.Hour), Status: pager.Open}
	_, _, err := db.CreatePage(ctx, p, func(*pager.Page) pager.Changes { return pager.Changes{} })
	return err
}

// rawInsertRate is the sustained benchmark's baseline: the rate of
// durableInserts on a fresh store on dsn by clients goroutines at once, n
// in all.
func rawInsertRate(tb testing.TB, dsn string, clients, n int) float64 {
	tb.Helper()
	db := baselineStore(tb, dsn)
	ctx := context.Background()
	var next atomic.Int64
	errc := make(chan error, clients)
	start := time.Now()
	for range clients {
		go func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					errc <- nil
					return
				}
				if err := durableInsert(ctx, db, fmt.Sprintf("bench:%d", i)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for range clients {
		if err := <-errc; err != nil {
			tb.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// sustainedClients is how many API clients raise pages at once in
// BenchmarkSustainedPages, and how many write at once in its baseline.
const sustainedClients = 8

// BenchmarkSustainedPages measures how many pages a second the service
// takes in and sends to the fake Twilio. One op is one critical page
// raised through POST /api/v1/pages, by one of 8 clients at once, and the
// first request the fake accepts for it; the pages go to L1, L2 and L3 in
// turn, so to the three primary engineers on call. pages/s is b.N over
// the time from just before the first POST until the fake has accepted
// the b.N-th first request (ns/op is its inverse, in ns). Two ways:
//
//   - text: the critical escalation policy is set, through the admin API,
//     to page by SMS (no voice), so each page's first request is its
//     Messages.create and nothing holds one page back for another: this is
//     the service's own rate into Twilio.
//   - voice: the default policy (voice first). Only one page call is in
//     flight per engineer's number, by design, and only one engineer is on
//     call per level and layer, so at most three page calls are in flight;
//     each engineer answers, presses 1 and hangs up as soon as a call
//     comes, and the next call to them goes out once the completed
//     callback is in. This is the rate at which the pager can ring the same
//     three engineers over and over, which the engineers' script (five
//     webhooks a call) paces as much as the service; the service's texts,
//     if any, are taken and not counted.
//
// Baseline, in the same run: inserts/s, the rate of single-page durable
// transactions (durableInsert) by 8 goroutines on a fresh store of the
// same backend, max(b.N, 100) of them, taken before and after the
// service's run and averaged; ratio is pages/s over inserts/s. posted/s is the rate at which the POSTs were
// answered (the service's intake, its durable page write included).
func BenchmarkSustainedPages(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			b.Run("text", func(b *testing.B) { sustainedPages(b, be.dsn, false) })
			b.Run("voice", func(b *testing.B) { sustainedPages(b, be.dsn, true) })
		})
	}
}

func sustainedPages(b *testing.B, dsn func(testing.TB) string, voice bool) {
	// The baseline is taken before and after the service's run, each time
	// on a fresh store, and averaged, so that a slow or fast spell of the
	// machine weighs on both sides of the ratio.
	before := rawInsertRate(b, dsn(b), sustainedClients, max(b.N, 100))
	r := startBenchRig(b, dsn(b))
	if !voice {
		steps := []map[string]any{}
		for _, l := range []string{"L1", "L2", "L3"} {
			steps = append(steps, map[string]any{"level": l, "channels": []string{"sms"}, "delay": "15m"})
		}
		if code, err := r.do(http.MethodPut, "/api/v1/policies/critical", map[string]any{"steps": steps}, nil); err != nil || code != http.StatusOK {
			b.Fatalf("PUT /api/v1/policies/critical: %d %v", code, err)
		}
	}
	levels := []oncall.Level{oncall.L1, oncall.L2, oncall.L3}
	phones := r.onCallPhones()

	// The engineers' phones: each counts the first requests it gets; the
	// b.N-th closes done.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var (
		arrivals atomic.Int64
		texts    atomic.Int64 // in voice: texts the service sent too
		textsMu  sync.Mutex
		taken    []*faketwilio.MessageHandle
		last     time.Time
		done     = make(chan struct{})
		phonesWG sync.WaitGroup
	)
	arrived := func() {
		if arrivals.Add(1) == int64(b.N) {
			last = time.Now()
			close(done)
		}
	}
	for _, l := range levels {
		d := r.fake.Phone(phones[l])
		phonesWG.Add(1)
		go func() {
			defer phonesWG.Done()
			for {
				m, err := d.WaitSMS(ctx)
				if err != nil {
					return
				}
				textsMu.Lock()
				taken = append(taken, m)
				textsMu.Unlock()
				if voice {
					texts.Add(1)
				} else {
					arrived()
				}
			}
		}()
		if !voice {
			continue
		}
		phonesWG.Add(1)
		go func() {
			defer phonesWG.Done()
			for {
				h, err := d.WaitCall(ctx)
				if err != nil {
					return
				}
				arrived()
				acknowledgeByVoice(h)
			}
		}()
	}

	var (
		next   atomic.Int64
		posted time.Time
		postMu sync.Mutex
		errc   = make(chan error, sustainedClients)
	)
	b.ResetTimer()
	start := time.Now()
	for range sustainedClients {
		go func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					postMu.Lock()
					if now := time.Now(); now.After(posted) {
						posted = now
					}
					postMu.Unlock()
					errc <- nil
					return
				}
				if _, err := r.raise(oncall.Critical, levels[i%3], fmt.Sprintf("benchmark page %d", i)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for range sustainedClients {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		b.Fatalf("%d of %d pages reached the fake Twilio in time", arrivals.Load(), b.N)
	}
	b.StopTimer()
	// The phones put down their last calls, and report their texts
	// delivered (after the "sent" the fake posts by itself), before the
	// service stops.
	cancel()
	phonesWG.Wait()
	for _, m := range taken {
		m.Delivered()
	}
	baseline := (before + rawInsertRate(b, dsn(b), sustainedClients, max(b.N, 100))) / 2
	rate := float64(b.N) / last.Sub(start).Seconds()
	b.ReportMetric(rate, "pages/s")
	b.ReportMetric(float64(b.N)/posted.Sub(start).Seconds(), "posted/s")
	b.ReportMetric(baseline, "inserts/s")
	b.ReportMetric(rate/baseline, "ratio")
	if voice {
		b.ReportMetric(float64(texts.Load())/float64(b.N), "texts/page")
	}
}
