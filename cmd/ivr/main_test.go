package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testEnv(vars map[string]string) (environ, *syncBuffer, *syncBuffer) {
	if vars["HOME"] == "" && vars["XDG_STATE_HOME"] == "" {
		// A PostgreSQL instance's default spool is in the user's state
		// directory: the tests' own, never the real one.
		vars = maps.Clone(vars)
		if vars == nil {
			vars = map[string]string{}
		}
		vars["XDG_STATE_HOME"] = testStateDir()
	}
	out, errOut := &syncBuffer{}, &syncBuffer{}
	return environ{getenv: func(k string) string { return vars[k] }, stdout: out, stderr: errOut}, out, errOut
}

// testStateDirs is the tests' stand-in for the user's state directory,
// made on first use and removed by TestMain.
var (
	testStateMu   sync.Mutex
	testStatePath string
)

func testStateDir() string {
	testStateMu.Lock()
	defer testStateMu.Unlock()
	if testStatePath == "" {
		d, err := os.MkdirTemp("", "ivr-test-state-")
		if err != nil {
			panic(fmt.Sprintf("a state directory for the tests: %v", err))
		}
		testStatePath = d
	}
	return testStatePath
}

const testAdminToken = "test-admin-token-0123456789abcdef"

// startServe runs `ivr serve` in-process on 127.0.0.1:0 and returns its base
// URL; the server stops when the test ends.
func startServe(t *testing.T, db string, args ...string) string {
	t.Helper()
	return startServeEnv(t, map[string]string{"IVR_DB": db, "IVR_ADMIN_TOKEN": testAdminToken}, args...)
}

// startServeEnv is startServe with the given environment.
func startServeEnv(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	env, _, errOut := testEnv(vars)
	return startWithEnv(t, env, errOut, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
}

func get(t *testing.T, url, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("decode %s: %v", url, err)
		}
	}
	return res.StatusCode
}

// TestServeDemo is what a newcomer does first: serve the demo team and ask
// who is on call.
func TestServeDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ivr.db")
	base := startServe(t, db, "--demo")

	if code := get(t, base+"/readyz", "", nil); code != http.StatusOK {
		t.Fatalf("/readyz: %d", code)
	}
	var out struct {
		OnCall []struct {
			Level    string `json:"level"`
			Layer    string `json:"layer"`
			Engineer *struct {
				Name   string   `json:"name"`
				Phones []string `json:"phones"`
			} `json:"engineer"`
			End time.Time `json:"end"`
		} `json:"oncall"`
	}
	if code := get(t, base+"/api/v1/oncall", testAdminToken, &out); code != http.StatusOK {
		t.Fatalf("/api/v1/oncall: %d", code)
	}
	if len(out.OnCall) != 6 {
		t.Fatalf("%d entries, want 3 levels × 2 layers", len(out.OnCall))
	}
	for _, e := range out.OnCall {
		if e.Engineer == nil || len(e.Engineer.Phones) == 0 || !strings.HasPrefix(e.Engineer.Phones[0], "+1202555") {
			t.Errorf("%s %s: %+v, want a demo engineer with a phone", e.Level, e.Layer, e.Engineer)
		}
	}
	if code := get(t, base+"/api/v1/oncall", "", nil); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", code)
	}

	// Prompt audio is served for Twilio's <Play>.
	res, err := http.Get(base + "/sounds/en/goodbye.wav")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "audio/") {
		t.Errorf("prompt audio: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// Without Twilio credentials the voice webhook refuses, saying why.
	res, err = http.PostForm(base+"/webhooks/twilio/voice", map[string][]string{"CallSid": {"CA1"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "TWILIO_AUTH_TOKEN") {
		t.Errorf("unconfigured voice webhook: %d %s, want 503 naming TWILIO_AUTH_TOKEN", res.StatusCode, body)
	}
	// The webhooks' counts are exported with the rest.
	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"ivr_twilio_webhook_replays_total 0", "ivr_twilio_state_conflicts_total 0",
		"ivr_twilio_swept_calls_total 0", `ivr_http_requests_total{method="POST",route="/webhooks/twilio/voice",status="503"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestSecondServeRefused: two processes cannot share one SQLite file.
func TestSecondServeRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ivr.db")
	startServe(t, db)
	env, _, _ := testEnv(map[string]string{"IVR_DB": db})
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, env)
	if err == nil || !strings.Contains(err.Error(), "another ivr process") || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("second serve: %v, want a refusal that points to PostgreSQL", err)
	}
}

// TestTokenCreate: the secret printed once lets its holder in.
func TestTokenCreate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ivr.db")
	env, out, errOut := testEnv(map[string]string{"IVR_DB": db})
	if err := run(context.Background(), []string{"token", "create", "--role", "admin", "--name", "ops laptop"}, env); err != nil {
		t.Fatalf("token create: %v\n%s", err, errOut.String())
	}
	secret := strings.TrimSpace(out.String())
	if !strings.HasPrefix(secret, "ivr_") || len(secret) < 40 {
		t.Fatalf("printed %q, want a long ivr_ secret", secret)
	}
	base := startServe(t, db)
	if code := get(t, base+"/api/v1/engineers", secret, nil); code != http.StatusOK {
		t.Errorf("new token: %d, want 200", code)
	}

	env, _, _ = testEnv(map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "other.db")})
	err := run(context.Background(), []string{"token", "create", "--role", "root", "--name", "x"}, env)
	if err == nil || !strings.Contains(err.Error(), "role") {
		t.Errorf("bad role: %v, want an error naming the role", err)
	}
}

func TestUsage(t *testing.T) {
	env, _, errOut := testEnv(nil)
	if err := run(context.Background(), []string{"frobnicate"}, env); !errors.Is(err, errUsage) {
		t.Errorf("unknown command: %v", err)
	}
	if !strings.Contains(errOut.String(), "ivr serve") {
		t.Errorf("usage not printed: %q", errOut.String())
	}
	env, _, _ = testEnv(map[string]string{"IVR_ADMIN_TOKEN": "short"})
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "x.db")}, env)
	if err == nil || !strings.Contains(err.Error(), "IVR_ADMIN_TOKEN") {
		t.Errorf("short admin token: %v, want a refusal naming IVR_ADMIN_TOKEN", err)
	}
}

func TestMigrateTwice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ivr.db")
	for i := 0; i < 2; i++ {
		env, out, errOut := testEnv(map[string]string{"IVR_DB": db})
		if err := run(context.Background(), []string{"migrate"}, env); err != nil {
			t.Fatalf("migrate #%d: %v\n%s", i+1, err, errOut.String())
		}
		if !strings.Contains(out.String(), "migrated") {
			t.Errorf("migrate said %q", out.String())
		}
	}
}

// TestSimulate phones the demo line from the "terminal": no ticket, urgent,
// nobody answers, a voicemail; the call is logged, and the page it raises
// is sent at once: the on-call engineer's page call shows, and pressing 1
// acknowledges it.
func TestSimulate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ivr.db")
	env, out, errOut := testEnv(map[string]string{"IVR_DB": db})
	env.stdin = strings.NewReader(strings.Join([]string{"", "*", "2", "n", "n", "n", "n", "n", "n", "disk full, call me", "1"}, "\n") + "\n")
	err := run(context.Background(), []string{"simulate", "--demo", "--line", "+12025952118", "--from", "+15550001111"}, env)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"Hello, you have reached", "ringing ", "(their phone shows +12025952118", "recording", "call finished: voicemail",
		"page 1 raised: urgent", "page call to ", "(+1202555", "from +74996383867: «", "page 1 acknowledged by ", "(voice)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simulator output lacks %q:\n%s", want, out.String())
		}
	}
	base := startServe(t, db)
	var calls struct {
		Calls []struct {
			Outcome string `json:"outcome"`
		} `json:"calls"`
	}
	if code := get(t, base+"/api/v1/calls", testAdminToken, &calls); code != http.StatusOK || len(calls.Calls) != 1 || calls.Calls[0].Outcome != "voicemail" {
		t.Errorf("call log after the simulated call: %d %+v, want one voicemail", code, calls)
	}
	if p := (&pagerRig{t: t, base: base}).page(1); p.Status != "acknowledged" || p.AckVia != "voice" {
		t.Errorf("page after the simulated call: %+v, want acknowledged by voice", p)
	}
}

// TestFakeTwilioConsole: a person with no Twilio account phones the
// Washington line through the fake Twilio's console, gives a ticket, and
// answers the engineer's call as the engineer; serve logs the call.
func TestFakeTwilioConsole(t *testing.T) {
	fakeLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fakeAddr := fakeLn.Addr().String()
	fakeLn.Close() // the console takes it over; a race for the port is harmless here
	db := filepath.Join(t.TempDir(), "ivr.db")
	base := startServeEnv(t, map[string]string{"IVR_DB": db, "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": "http://" + fakeAddr, "TWILIO_ACCOUNT_SID": faketwilio.DefaultAccountSID,
		"TWILIO_AUTH_TOKEN": faketwilio.DefaultAuthToken}, "--demo")

	script := strings.Join([]string{
		"dial +12025952118 +15550001111",
		"silence",     // keep English
		"press 1001#", // critical ticket: the L1 engineer is rung
		"answer 1",    // the engineer picks up and hears the screening
		"key 1 1",     // and accepts
		"hangup",      // the caller hangs up after talking
		"quit",
	}, "\n") + "\n"
	env, out, errOut := testEnv(map[string]string{})
	env.stdin = strings.NewReader(script)
	err = run(context.Background(), []string{"fake-twilio", "--console", "--addr", fakeAddr,
		"--voice-url", base + "/webhooks/twilio/voice", "--status-url", base + "/webhooks/twilio/voice/status"}, env)
	if err != nil {
		t.Fatalf("fake-twilio: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"Hello, you have reached", "Please enter your ticket number", "engineer call 1: to +1202555",
		"showing +12025952118", "press 1", "talking", "the caller hung up"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console output lacks %q:\n%s", want, out.String())
		}
	}
	var calls struct {
		Calls []struct {
			Outcome  string `json:"outcome"`
			TicketID string `json:"ticket_id"`
		} `json:"calls"`
	}
	if code := get(t, base+"/api/v1/calls", testAdminToken, &calls); code != http.StatusOK || len(calls.Calls) != 1 ||
		calls.Calls[0].Outcome != "connected" || calls.Calls[0].TicketID != "1001" {
		t.Errorf("call log: %d %+v, want one connected call on ticket 1001", code, calls)
	}
}

// TestFlowSettings: the lines, the ticket-id length and the voicemail length
// are settings; a wrong one stops the command with the flag's name and the
// problem, and a right one changes what callers hear.
func TestFlowSettings(t *testing.T) {
	for _, c := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"--ticket-digits", "10"}, nil, `--ticket-digits: "10" is not min-max`},
		{[]string{"--ticket-digits", "8-4"}, nil, "--ticket-digits: need 1 <= min <= max <= 30, have 8..4"},
		{nil, map[string]string{"IVR_TICKET_DIGITS": "0-5"}, "--ticket-digits: need 1 <= min"},
		{[]string{"--voicemail-max", "0s"}, nil, "--voicemail-max: must be positive"},
		{[]string{"--voicemail-max", "5h"}, nil, "--voicemail-max: at most 4h0m0s"},
		{[]string{"--lines", "+74996383867"}, nil, "--lines: line 1, \"+74996383867\": want number=name:language"},
		{[]string{"--lines", "+74996383867=london:en"}, nil, `--lines: line 1: no recorded greeting for "london" (the prompt catalogue has moscow and washington)`},
		{[]string{"--lines", "+7499=moscow:ru"}, nil, `--lines: lines[0].number "+7499" is not an E.164 number`},
		{nil, map[string]string{"IVR_LINES": "+74996383867=moscow:de"}, `--lines: lines[0].language "de" is not a language`},
		{[]string{"--lines", "+74996383867=moscow:ru,+74996383867=washington:en"}, nil, "--lines: lines[1].number +74996383867 is listed twice"},
	} {
		vars := map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db")}
		for k, v := range c.vars {
			vars[k] = v
		}
		env, _, _ := testEnv(vars)
		env.stdin = strings.NewReader("")
		err := run(context.Background(), append([]string{"simulate"}, c.args...), env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("simulate %v %v: %v, want an error containing %q", c.args, c.vars, err, c.want)
		}
	}

	// The Moscow line answering in English first, with 4-digit tickets.
	env, out, errOut := testEnv(map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db")})
	env.stdin = strings.NewReader("\n123#\n")
	err := run(context.Background(), []string{"simulate", "--demo", "--line", "+74996383867",
		"--lines", "+74996383867=moscow:en,+12025952118=washington:en", "--ticket-digits", "4-6"}, env)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"caller hears [en]: Hello, you have reached twenty-four seven technical support, Moscow line.",
		"Чтобы продолжить на русском языке, нажмите 9", "That is not a valid ticket number."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simulator output lacks %q:\n%s", want, out.String())
		}
	}
}
