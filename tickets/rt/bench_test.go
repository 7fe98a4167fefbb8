package rt_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/internal/latency"
	"github.com/supportdesk/ivr/internal/rttest"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/tickets"
	"github.com/supportdesk/ivr/tickets/rt"
)

// BenchmarkTicketLookup is the call flow's ticket look-up (ivr.Tickets'
// Ticket) of an existing critical L2 ticket, one op one look-up, by one
// client, one after another:
//
//   - "builtin", the baseline: tickets.NewBuiltin over a real store.DB on
//     a SQLite file in a temporary directory (one read of the ticket and
//     its notes);
//   - "rt": rt.Client as serve builds it (the service's RT user's token,
//     the default mapping) against the test binary's real RT 5
//     (internal/rttest) on loopback. The queue's name is read once and
//     remembered (a warm-up look-up before the timer starts), so each op
//     is one GET /REST/2.0/ticket/{id}: RT checks the token with bcrypt,
//     loads the ticket, renders its JSON.
//
// Each reports p50-ms and p99-ms of one op; "rt" also p50_ratio and
// p99_ratio, its figures over the builtin's of the same go test run.
// "builtin" runs first (with -count n, n times, then "rt" n times: the
// ratios are to its last run); without it, e.g. -bench
// 'TicketLookup/rt', there are no ratios.
//
// The test site sets RT's $BcryptCost to 4, which makes a request cost
// about 20 to 30 ms here; a stock RT (cost 12) spends about 215 ms more on
// every request (internal/rttest's "Speed"), so a production look-up costs
// about 0.2 s more than these figures say.
//
//	go test -run '^$' -bench 'BenchmarkTicketLookup' -benchtime 200x -count 3 ./tickets/rt/
func BenchmarkTicketLookup(b *testing.B) {
	var baseline struct{ p50, p99 time.Duration } // builtin's, of this run
	b.Run("builtin", func(b *testing.B) {
		db := openStore(b)
		created, err := db.CreateTicket(b.Context(), tickets.Actor, tickets.Ticket{
			Subject: "VPN down for the whole office", Priority: oncall.Critical, Level: oncall.L2})
		if err != nil {
			b.Fatal(err)
		}
		baseline.p50, baseline.p99 = benchLookups(b, tickets.NewBuiltin(db), created.ID)
	})
	b.Run("rt", func(b *testing.B) {
		site := rttest.Start(b)
		id := strconv.Itoa(site.CreateTicket(b, "L2", site.Unique("VPN down for the whole office"), 90, nil))
		c, err := rt.New(rt.Config{URL: site.URL, Token: site.Token})
		if err != nil {
			b.Fatal(err)
		}
		p50, p99 := benchLookups(b, c, id)
		if baseline.p50 > 0 {
			b.ReportMetric(float64(p50)/float64(baseline.p50), "p50_ratio")
			b.ReportMetric(float64(p99)/float64(baseline.p99), "p99_ratio")
		}
	})
}

// benchLookups looks ticket id up b.N times through ts, after one look-up
// outside the timer (RT's queue name then remembered), checks that each
// finds the critical L2 ticket, reports p50-ms and p99-ms and returns
// them.
func benchLookups(b *testing.B, ts ivr.Tickets, id string) (p50, p99 time.Duration) {
	b.Helper()
	ctx := context.Background()
	check := func(t ivr.Ticket, err error) {
		if err != nil {
			b.Fatalf("Ticket(%s): %v", id, err)
		}
		if t.ID != id || t.Priority != oncall.Critical || t.Level != oncall.L2 || t.Closed {
			b.Fatalf("Ticket(%s) = %+v, want it critical at L2, open", id, t)
		}
	}
	check(ts.Ticket(ctx, id))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		t, err := ts.Ticket(ctx, id)
		lat = append(lat, time.Since(t0))
		check(t, err)
	}
	b.StopTimer()
	p50, p99 = latency.Quantile(lat, 0.50), latency.Quantile(lat, 0.99)
	b.ReportMetric(latency.Millis(p50), "p50-ms")
	b.ReportMetric(latency.Millis(p99), "p99-ms")
	return p50, p99
}

// openStore opens and migrates a store on a new SQLite file in
// b.TempDir(), logging nothing (storetest's logger would print into the
// benchmark's output); it closes when b ends.
func openStore(b *testing.B) *store.DB {
	b.Helper()
	db, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "ivr.db"), zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	return db
}
