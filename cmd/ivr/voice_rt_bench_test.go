package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/internal/latency"
	"github.com/supportdesk/ivr/internal/rttest"
)

// BenchmarkVoiceCallRT measures what Request Tracker as the ticket system
// adds to a call: `ivr serve --demo` as in voice_bench_test.go (this
// process, SQLite, the real clock, Twilio's REST API the fake on
// loopback), but here the fake Twilio also plays the caller, as Twilio
// would, so that the call can go the whole way: a caller who keyed a
// ticket is put on hold while an engineer is rung, and one who hung up
// there would be an abandoned call, which pages (BenchmarkVoiceCall's
// caller hangs up at the ticket prompt). One op is one whole call, one
// after another:
//
//  1. a client of the demo (+12025550151) rings the Washington line: the
//     voice webhook, the greeting's <Gather>;
//  2. they keep English (the <Gather> times out): the ticket prompt;
//  3. they key their ticket's id and #: the gather webhook that looks the
//     ticket up, routes the call (critical, L1) and answers with the hold
//     (<Enqueue>), the engineer leg written into the outbox;
//  4. the L1 primary engineer's phone rings (the outbox places the leg),
//     they answer, hear the screening prompt and press 1: the two are
//     bridged;
//  5. the caller hangs up: the call's record goes into the call log; its
//     note onto the ticket follows off that status callback, on the Tick
//     the driver gives once it has answered (with RT, a comment: one more
//     REST request, about 95 ms on the test site, written while the next
//     call runs: not waited for, and not in the hang-up's own time).
//
// Sub-benchmarks, in this order, so that the second can state its ratios
// to the first of the same go test run (with -count n, "builtin" runs n
// times, then "rt" n times: the ratios are to builtin's last run; with
// -bench 'VoiceCallRT/rt' alone, there are none):
//
//   - "builtin": IVR_TICKETS=builtin, the caller keys demo ticket 1001
//     (critical, L1);
//   - "rt": IVR_TICKETS=rt against this test binary's real RT 5
//     (internal/rttest), as cmd/ivr/rt.go wires it (IVR_RT_URL,
//     IVR_RT_TOKEN, IVR_RT_USER), its watcher off (IVR_RT_WATCH_EVERY=0)
//     so that it does not compete; the caller keys an RT ticket in queue
//     L1 at priority 90 (critical, L1: the same route). Skipped without
//     RT, like every RT test.
//
// One call before the timer starts warms each up (RT's queue names are
// then remembered: a look-up is one GET /REST/2.0/ticket/{id}). ns/op is
// the whole call's wall time, the fake's own work and the outbox placing
// the leg included; hold-p50-ms and hold-p99-ms are step 3's gather
// webhook alone, hangup-p50-ms and hangup-p99-ms step 5's status
// callback alone, each timed by the fake's HTTP client from sending it
// to the answer's last byte. "rt" also reports call_ratio (its ns/op
// over builtin's), hold_p50_ratio and hold_p99_ratio, hold_p50_added_ms
// (its hold p50 less builtin's) and hangup_p50_ratio. Each run checks
// that every call is in the call log with the ticket keyed, found
// (ticket_from "caller", not "unverified"), critical at L1, and
// connected.
//
// The test site sets RT's $BcryptCost to 4: a request to it costs about
// 20 to 30 ms here. A stock RT (cost 12) spends about 215 ms more on
// every request (internal/rttest's "Speed"), so with it step 3 takes
// about 0.2 s longer than measured here; the comment after step 5 too, in
// the background.
//
//	go test -run '^$' -bench 'BenchmarkVoiceCallRT' -benchtime 100x -count 3 ./cmd/ivr/
func BenchmarkVoiceCallRT(b *testing.B) {
	var baseline struct {
		call      time.Duration // per op
		p50, p99  time.Duration // of the hold webhook
		hangup    time.Duration // p50 of the hang-up
		completed bool
	}
	b.Run("builtin", func(b *testing.B) {
		v := startVoiceRTRig(b, "1001", nil)
		call, p50, p99, hangup := v.calls(b)
		baseline.call, baseline.p50, baseline.p99, baseline.hangup, baseline.completed = call, p50, p99, hangup, true
	})
	b.Run("rt", func(b *testing.B) {
		site := rttest.Start(b)
		id := site.CreateTicket(b, "L1", site.Unique("VPN down for the whole office"), 90, nil)
		v := startVoiceRTRig(b, strconv.Itoa(id), map[string]string{
			"IVR_TICKETS": "rt", "IVR_RT_URL": site.URL, "IVR_RT_TOKEN": site.Token, "IVR_RT_USER": rttest.APIUser,
			"IVR_RT_WATCH_EVERY": "0"})
		call, p50, p99, hangup := v.calls(b)
		site.Resolve(b, id) // closed: any other watcher of this RT leaves it alone
		if baseline.completed {
			b.ReportMetric(float64(call)/float64(baseline.call), "call_ratio")
			b.ReportMetric(float64(p50)/float64(baseline.p50), "hold_p50_ratio")
			b.ReportMetric(float64(p99)/float64(baseline.p99), "hold_p99_ratio")
			b.ReportMetric(latency.Millis(p50-baseline.p50), "hold_p50_added_ms")
			b.ReportMetric(float64(hangup)/float64(baseline.hangup), "hangup_p50_ratio")
		}
	})
}

// voiceRTRig is serve with a ticket system, the fake Twilio playing the
// caller and the engineers, and the caller's ticket.
type voiceRTRig struct {
	api    *benchRig
	ticket string
	hooks  *webhookTimer
}

// startVoiceRTRig starts `ivr serve --demo` on a fresh SQLite file with
// the extra environment, against a fake Twilio whose webhooks to serve go
// through a webhookTimer for the gather webhook that carries ticket.
func startVoiceRTRig(b *testing.B, ticket string, extra map[string]string) *voiceRTRig {
	b.Helper()
	// As in startBenchRig: the service's port first, then the fake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	hooks := &webhookTimer{digits: ticket, next: loopbackTransport()}
	b.Cleanup(hooks.next.CloseIdleConnections)
	fake := faketwilio.Start(b, faketwilio.Options{
		SMSWebhookURL:          base + "/webhooks/twilio/sms",
		VoiceWebhookURL:        base + "/webhooks/twilio/voice",
		VoiceStatusCallbackURL: base + "/webhooks/twilio/voice/status",
		ServiceNumber:          washingtonLine,
		ExpectTimeout:          30 * time.Second,
		HTTPClient:             &http.Client{Transport: hooks},
	})
	vars := map[string]string{"IVR_DB": filepath.Join(b.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": fake.URL(), "TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none"}
	maps.Copy(vars, extra)
	env, _, errOut := testEnv(vars)
	startWithEnv(b, env, errOut, "--demo", "--addr", addr)
	tr := &http.Transport{}
	b.Cleanup(tr.CloseIdleConnections)
	api := &benchRig{tb: b, base: base, fake: fake, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	return &voiceRTRig{api: api, ticket: ticket, hooks: hooks}
}

// calls makes one warm-up call, then b.N calls timed (one op: see
// BenchmarkVoiceCallRT), checks the call log, reports the hold webhook's
// and the hang-up's p50 and p99, and returns the time per op, the hold
// webhook's p50 and p99 and the hang-up's p50.
func (v *voiceRTRig) calls(b *testing.B) (perOp, p50, p99, hangupP50 time.Duration) {
	b.Helper()
	phone := v.onCallL1(b)
	v.call(b, phone)
	if _, err := v.hooks.take(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	t0 := time.Now()
	for range b.N {
		v.call(b, phone)
	}
	took := time.Since(t0)
	b.StopTimer()
	v.checkCalls(b, b.N+1)
	lat, err := v.hooks.take()
	if err != nil {
		b.Fatal(err)
	}
	hold, hangup := lat["hold"], lat["hangup"]
	if len(hold) != b.N || len(hangup) != b.N {
		b.Fatalf("timed %d hold webhooks and %d hang-ups for %d calls", len(hold), len(hangup), b.N)
	}
	p50, p99 = latency.Quantile(hold, 0.50), latency.Quantile(hold, 0.99)
	b.ReportMetric(latency.Millis(p50), "hold-p50-ms")
	b.ReportMetric(latency.Millis(p99), "hold-p99-ms")
	hangupP50 = latency.Quantile(hangup, 0.50)
	b.ReportMetric(latency.Millis(hangupP50), "hangup-p50-ms")
	b.ReportMetric(latency.Millis(latency.Quantile(hangup, 0.99)), "hangup-p99-ms")
	return took / time.Duration(b.N), p50, p99, hangupP50
}

// call is one op: the caller keys the ticket, holds, the engineer on
// phone answers and takes the call, the caller hangs up.
func (v *voiceRTRig) call(b *testing.B, phone string) {
	fake := v.api.fake
	in := fake.Phone(clientPhone).Dial(washingtonLine)
	in.Answer()
	in.Silence() // keep English
	if hold := in.Press(v.ticket + "#"); hold == nil || hold.First("Enqueue") == nil {
		b.Fatalf("after keying ticket %s: %v; want the caller on hold", v.ticket, hold)
	}
	leg := fake.Phone(phone).ExpectCall()
	leg.Answer()
	leg.Press("1")
	if !in.ConnectedTo(leg) {
		b.Fatal("the caller and the engineer are not talking")
	}
	in.Hangup()
}

// onCallL1 is the phone of the L1 primary engineer on call now: the
// caller's ticket is at L1.
func (v *voiceRTRig) onCallL1(b *testing.B) string {
	b.Helper()
	var out struct {
		OnCall []struct {
			Level    string `json:"level"`
			Layer    string `json:"layer"`
			Engineer *struct {
				Phones []string `json:"phones"`
			} `json:"engineer"`
		} `json:"oncall"`
	}
	at := time.Now().UTC().Format(time.RFC3339)
	if code, err := v.api.do(http.MethodGet, "/api/v1/oncall?at="+at, nil, &out); err != nil || code != http.StatusOK {
		b.Fatalf("GET /api/v1/oncall: %d %v", code, err)
	}
	for _, e := range out.OnCall {
		if e.Level == "L1" && e.Layer == "primary" && e.Engineer != nil && len(e.Engineer.Phones) > 0 {
			return e.Engineer.Phones[0]
		}
	}
	b.Fatal("nobody on call at L1 primary")
	return ""
}

// checkCalls makes sure the service did the work the ops claim: the call
// log holds made calls, each with the ticket keyed, found in the ticket
// system (not kept unverified), critical at L1, connected.
func (v *voiceRTRig) checkCalls(b *testing.B, made int) {
	b.Helper()
	var log struct {
		Calls []callRecord `json:"calls"`
	}
	if code, err := v.api.do(http.MethodGet, "/api/v1/calls?limit=1000", nil, &log); err != nil || code != http.StatusOK {
		b.Fatalf("GET /api/v1/calls: %d %v", code, err)
	}
	if got, want := len(log.Calls), min(made, 1000); got != want {
		b.Fatalf("the call log holds %d calls, want %d", got, want)
	}
	for _, c := range log.Calls {
		if c.TicketID != v.ticket || c.TicketFrom != "caller" || c.Priority != "critical" || c.Level != "L1" || c.Outcome != "connected" {
			b.Fatalf("call record %+v; want ticket %s as keyed, found, critical at L1, connected", c, v.ticket)
		}
	}
}

// webhookTimer is the fake Twilio's HTTP client's transport: it times
// two of the caller's webhooks, from sending one to reading its answer's
// last byte: "hold", the gather webhook whose Digits are the ticket id
// (and checks that it answers with the hold), and "hangup", the caller's
// status callback at its end.
type webhookTimer struct {
	digits string
	next   *http.Transport

	mu  sync.Mutex
	lat map[string][]time.Duration
	bad []string
}

func (h *webhookTimer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.Body == nil {
		return h.next.RoundTrip(req)
	}
	var series string
	switch req.URL.Path {
	case "/webhooks/twilio/voice/gather":
		series = "hold"
	case "/webhooks/twilio/voice/status":
		series = "hangup"
	default:
		return h.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	form, err := url.ParseQuery(string(body))
	if err != nil || (series == "hold" && form.Get("Digits") != h.digits) {
		return h.next.RoundTrip(req)
	}
	t0 := time.Now()
	res, err := h.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(t0)
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(answer))
	h.mu.Lock()
	defer h.mu.Unlock()
	if series == "hold" && (res.StatusCode != http.StatusOK || !bytes.Contains(answer, []byte("<Enqueue"))) {
		h.bad = append(h.bad, fmt.Sprintf("%s: %s", res.Status, answer))
	}
	if h.lat == nil {
		h.lat = map[string][]time.Duration{}
	}
	h.lat[series] = append(h.lat[series], took)
	return res, nil
}

// take returns the latencies timed since the last take, by series, and
// forgets them; an error if any hold webhook did not answer with the
// hold.
func (h *webhookTimer) take() (map[string][]time.Duration, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	lat, bad := h.lat, h.bad
	h.lat, h.bad = nil, nil
	if len(bad) > 0 {
		return nil, fmt.Errorf("the ticket's gather webhook did not answer with the hold: %q", bad)
	}
	return lat, nil
}

// loopbackTransport dials loopback addresses only, as the fake's default
// callback client does.
func loopbackTransport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("dialling %s: not loopback", address)
		}
		return nil
	}}
	return &http.Transport{Proxy: nil, DialContext: d.DialContext, MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second}
}
