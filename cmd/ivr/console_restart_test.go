package main

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
)

// restartable is ivr serve on a fixed address and database, stopped and
// started again by the test.
type restartable struct {
	t    *testing.T
	addr string
	vars map[string]string
	stop func()
}

func (s *restartable) start() {
	s.t.Helper()
	env, _, errOut := testEnv(s.vars)
	listening := make(chan struct{})
	env.onListen = func(string) { close(listening) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--demo", "--addr", s.addr}, env) }()
	select {
	case <-listening:
	case err := <-done:
		cancel()
		s.t.Fatalf("serve failed to start: %v\n%s", err, errOut.String())
	}
	s.stop = func() {
		cancel()
		if err := <-done; err != nil {
			s.t.Errorf("serve ended with %v\n%s", err, errOut.String())
		}
		s.stop = nil
	}
	s.t.Cleanup(func() {
		if s.stop != nil {
			s.stop()
		}
	})
}

// freeAddr returns a loopback address nobody listens on, so that a
// restarted service comes back where Twilio's callbacks and the engineer's
// replies are sent.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestFakeTwilioConsoleServiceRestart: the README's Twilio demo, typed
// into the console, with the service restarted while the caller holds.
// The console stays up while the service is away (the caller's wait
// request fails and says so), and once the service is back the same call
// goes on: the engineer rung before the restart answers, presses 1 and
// talks with the caller, who hangs up.
func TestFakeTwilioConsoleServiceRestart(t *testing.T) {
	fakeAddr := freeAddr(t)
	s := &restartable{t: t, addr: freeAddr(t), vars: map[string]string{
		"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": "http://" + fakeAddr, "TWILIO_ACCOUNT_SID": faketwilio.DefaultAccountSID,
		"TWILIO_AUTH_TOKEN": faketwilio.DefaultAuthToken, "IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none"}}
	s.start()
	base := "http://" + s.addr
	out, typeLine := startConsole(t, fakeAddr, base)

	typeLine("dial +12025952118")
	typeLine("silence")
	typeLine("press 1001#")
	m, at := out.Wait(t, 0, `📞 engineer call (\d+): to `)
	leg := m[1]

	s.stop()
	typeLine("wait")
	_, at = out.Wait(t, at, `(?i)(fail|error|unreachable|refused)`)

	s.start()
	typeLine("wait")
	_, at = out.Wait(t, at, `caller \(on hold\) hears: ♫`)
	typeLine("answer " + leg)
	_, at = out.Wait(t, at, `engineer `+leg+` hears: [^\n]*\(waiting for keys\)`)
	typeLine("key " + leg + " 1")
	_, at = out.Wait(t, at, `🔗 [^\n]*talking`)
	typeLine("hangup")
	out.Wait(t, at, `the caller hung up`)
}
