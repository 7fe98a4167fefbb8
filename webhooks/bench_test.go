package webhooks_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/store"
)

// Benchmarks of the driver alone, not of the service: webhooks.Driver on
// loopback with this package's in-memory test fakes for its flow's
// dependencies (harness_test.go's deps, over ivr/ivrtest: tickets, roster,
// language preferences, call log, pages), and its call state either in
// memory ("memory") or on a real SQLite store ("sqlite-callstate": the
// call state alone is on SQLite). With them the flow's other writes cost
// nothing, and the gather step (Digits=9) does not write the caller's
// language at all (the harness's SetLanguage does nothing), where the
// service makes a synced write of its store. The service as `ivr
// serve` wires it, everything on its store, is measured by
// cmd/ivr/voice_bench_test.go (BenchmarkVoiceCall,
// BenchmarkVoiceCallConcurrent).
//
// BenchmarkDriverVoiceWebhook: the driver's voice webhook beside a bare
// net/http handler that only parses the form and writes a fixed document,
// in the same run. One op is a new call (voice webhook) and its first
// menu step (gather action, Digits=9), each answered 200: signature check,
// state load, flow step, TwiML, state save. ns/op counts the driver's op
// and the bare handler's alike; service_ns/op is the driver's alone.
//
//	go test -run '^$' -bench Driver -benchtime 2000x -count 5 ./webhooks/

func BenchmarkDriverVoiceWebhook(b *testing.B) {
	for _, backend := range []string{"memory", "sqlite-callstate"} {
		b.Run(backend, func(b *testing.B) {
			e := benchEnv(b, backend)
			bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				w.Header().Set("Content-Type", "text/xml")
				_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Gather/></Response>`)
			}))
			defer bare.Close()
			form := func(sid string) map[string]string {
				return map[string]string{"CallSid": sid, "From": client, "To": washington, "CallStatus": "ringing",
					"AccountSid": e.tw.AccountSID(), "Direction": "inbound", "ApiVersion": "2010-04-01"}
			}
			var n atomic.Int64
			// One bare op, then one op of the service, and so on: the
			// machine's drift (other load, the CPU's clock) falls on both.
			var bareTotal, total time.Duration
			b.ResetTimer()
			for range b.N {
				sid := fmt.Sprintf("CA%032x", n.Add(1))
				t0 := time.Now()
				benchPost(b, bare.URL+"/webhooks/twilio/voice", form(sid), e.tw.AuthToken())
				benchPost(b, bare.URL+"/webhooks/twilio/voice/gather?seq=1", map[string]string{"CallSid": sid, "Digits": "9"}, e.tw.AuthToken())
				t1 := time.Now()
				sid = fmt.Sprintf("CA%032x", n.Add(1))
				benchPost(b, e.srv.URL+"/webhooks/twilio/voice", form(sid), e.tw.AuthToken())
				benchPost(b, e.srv.URL+"/webhooks/twilio/voice/gather?seq=1", map[string]string{"CallSid": sid, "Digits": "9"}, e.tw.AuthToken())
				bareTotal += t1.Sub(t0)
				total += time.Since(t1)
			}
			b.StopTimer()
			bareNs := float64(bareTotal.Nanoseconds()) / float64(b.N)
			ns := float64(total.Nanoseconds()) / float64(b.N)
			b.ReportMetric(bareNs/ns, "throughput_ratio")
			b.ReportMetric(bareNs, "bare_ns/op")
			b.ReportMetric(ns, "service_ns/op")
		})
	}
}

// BenchmarkDriverConcurrentCalls: the driver (with in-memory dependencies,
// as above) holding 50 calls at once, each on hold while its engineer leg
// is rung. One op is one wait webhook (QueueTime=3: a Tick of the flow)
// of one of the 50 calls, sent by 50 clients at once, b.N/50 each (at
// least one); ns/op is the wall time over b.N. Reports the p99 latency of
// a wait webhook and the bytes of state per call.
func BenchmarkDriverConcurrentCalls(b *testing.B) {
	for _, backend := range []string{"memory", "sqlite-callstate"} {
		b.Run(backend, func(b *testing.B) {
			e := benchEnv(b, backend)
			const calls = 50
			sids := make([]string, calls)
			for i := range sids {
				sids[i] = fmt.Sprintf("CA%032x", i+1) // a call SID's shape; each backend has its own env
				benchPost(b, e.srv.URL+"/webhooks/twilio/voice", map[string]string{"CallSid": sids[i], "From": client, "To": washington}, e.tw.AuthToken())
				benchPost(b, e.srv.URL+"/webhooks/twilio/voice/gather?seq=1", map[string]string{"CallSid": sids[i], "Digits": ""}, e.tw.AuthToken())
				benchPost(b, e.srv.URL+"/webhooks/twilio/voice/gather?seq=2", map[string]string{"CallSid": sids[i], "Digits": critical}, e.tw.AuthToken())
			}
			var total int
			for _, sid := range sids {
				data, _, err := e.states.CallState(context.Background(), sid)
				if err != nil {
					b.Fatal(err)
				}
				total += len(data)
			}
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			var wg sync.WaitGroup
			per := max(1, b.N/calls)
			for _, sid := range sids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := make([]time.Duration, 0, per)
					for range per {
						t0 := time.Now()
						benchPost(b, e.srv.URL+"/webhooks/twilio/voice/wait", map[string]string{"CallSid": sid, "QueueTime": "3"}, e.tw.AuthToken())
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			b.ReportMetric(float64(total)/calls, "state_bytes/call")
			for range calls {
				_ = e.tw.Phone(phoneOf(21)).ExpectCall() // the engineers rung
			}
		})
	}
}

// benchEnv is the driver over the in-memory fakes of its dependencies, its
// call state in memory ("memory") or on a real SQLite store (the store's
// CallStates alone, migrated in a temporary directory).
func benchEnv(b *testing.B, backend string) *env {
	b.Helper()
	if backend == "memory" {
		return newEnv(b)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "ivr.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return newEnvWith(b, db)
}

func benchPost(b *testing.B, u string, form map[string]string, token string) {
	vals := map[string][]string{}
	for k, v := range form {
		vals[k] = []string{v}
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(encode(vals)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Signature(token, u, vals))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %s", u, resp.Status)
	}
}
