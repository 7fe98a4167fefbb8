package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
)

// screen is what the console printed so far; Wait blocks until it shows
// something.
type screen struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{}
}

func newScreen() *screen { return &screen{changed: make(chan struct{})} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	close(s.changed)
	s.changed = make(chan struct{})
	return len(p), nil
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// Wait returns the first match of re in what was printed after from
// (a byte offset), waiting up to 10 s for it, and the offset after it.
func (s *screen) Wait(t *testing.T, from int, re string) ([]string, int) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		text, ch := s.buf.String(), s.changed
		s.mu.Unlock()
		if loc := rx.FindStringSubmatchIndex(text[from:]); loc != nil {
			m := make([]string, len(loc)/2)
			for i := range m {
				if loc[2*i] >= 0 {
					m[i] = text[from+loc[2*i] : from+loc[2*i+1]]
				}
			}
			return m, from + loc[1]
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the console never showed %q; it shows:\n%s", re, text)
		}
	}
}

// startConsole runs `ivr fake-twilio --console` against the serve at base,
// listening at fakeAddr; the returned function types a line into it.
func startConsole(t *testing.T, fakeAddr, base string) (*screen, func(string)) {
	t.Helper()
	in, typed := io.Pipe()
	out := newScreen()
	env, _, errOut := testEnv(map[string]string{})
	env.stdin = in
	env.stdout = out
	listening := make(chan struct{})
	env.onListen = func(string) { close(listening) }
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"fake-twilio", "--console", "--addr", fakeAddr,
			"--voice-url", base + "/webhooks/twilio/voice", "--status-url", base + "/webhooks/twilio/voice/status",
			"--sms-url", base + "/webhooks/twilio/sms"}, env)
	}()
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("fake-twilio: %v\n%s", err, errOut.String())
	}
	t.Cleanup(func() {
		typed.Close()
		if err := <-done; err != nil {
			t.Errorf("fake-twilio: %v\n%s", err, errOut.String())
		}
	})
	return out, func(line string) {
		t.Helper()
		if _, err := fmt.Fprintln(typed, line); err != nil {
			t.Fatalf("type %q: %v", line, err)
		}
	}
}

// serveForConsole runs serve (demo team) against a fake Twilio still to be
// started at the returned address.
func serveForConsole(t *testing.T) (base, fakeAddr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fakeAddr = ln.Addr().String()
	ln.Close() // the console takes it over; a race for the port is harmless here
	db := filepath.Join(t.TempDir(), "ivr.db")
	base = startServeEnv(t, map[string]string{"IVR_DB": db, "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": "http://" + fakeAddr, "TWILIO_ACCOUNT_SID": faketwilio.DefaultAccountSID,
		"TWILIO_AUTH_TOKEN": faketwilio.DefaultAuthToken, "IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none"}, "--demo")
	return base, fakeAddr
}

// TestFakeTwilioConsoleVoicemailPage: in the console a caller reaches
// nobody, is put through to voicemail, leaves one with record, and the
// page it raises rings the L1 engineer as a page call; 1 acknowledges it.
func TestFakeTwilioConsoleVoicemailPage(t *testing.T) {
	base, fakeAddr := serveForConsole(t)
	r := &pagerRig{t: t, base: base, clock: newTestClock()}
	_, phone := r.onCall("L1", "primary")
	out, typeLine := startConsole(t, fakeAddr, base)

	typeLine("dial +12025952118")
	typeLine("silence")
	typeLine("press *")
	typeLine("press 2")
	at := 0
	for rung := 0; ; rung++ {
		var m []string
		m, at = out.Wait(t, at, `📞 engineer call (\d+): to |\(recording: record SECONDS\)`)
		if m[1] == "" {
			break
		}
		if rung == 6 {
			t.Fatalf("more engineers rung than the demo has:\n%s", out.String())
		}
		typeLine("noanswer " + m[1])
	}
	typeLine("record 4")
	out.Wait(t, at, `caller: the call ends`)
	m, at := out.Wait(t, at, `📞 page call (\d+): to `+regexp.QuoteMeta(phone))
	typeLine("answer " + m[1])
	m2, at := out.Wait(t, at, `engineer `+m[1]+` hears: ([^\n]*)\(waiting for keys\)`)
	if !strings.Contains(m2[1], "voicemail") && !strings.Contains(m2[1], "голосовое сообщение") {
		t.Errorf("the page call says %q, want that a client left a voicemail", m2[1])
	}
	typeLine("key " + m[1] + " 1")
	// Acknowledged; a voicemail's page then offers to play it (2) and to
	// call the client back (3).
	out.Wait(t, at, `engineer `+m[1]+` hears: [^\n]*(?:press 2|Нажмите 2)[^\n]*\(waiting for keys\)`)
	typeLine("end " + m[1])
	if strings.Contains(out.String(), "caller hears: (on hold)\ncaller: the call ends") {
		t.Errorf("the console shows the caller back on hold after the goodbye:\n%s", out.String())
	}
	var list struct {
		Pages []apiPage `json:"pages"`
	}
	if code := get(t, base+"/api/v1/pages", testAdminToken, &list); code != http.StatusOK || len(list.Pages) != 1 ||
		list.Pages[0].Status != "acknowledged" || list.Pages[0].AckVia != "voice" {
		t.Errorf("pages after the voicemail: %d %+v, want one acknowledged by voice", code, list.Pages)
	}
}

// TestFakeTwilioConsolePages: a newcomer is the on-call engineer's phone in
// the fake Twilio's console. A page raised through the API arrives as a
// page call; they answer, hear it, press 1, and the page is acknowledged
// by voice. A second page rings out; its text shows in the console, and
// replying with the code acknowledges it by text.
func TestFakeTwilioConsolePages(t *testing.T) {
	base, fakeAddr := serveForConsole(t)
	r := &pagerRig{t: t, base: base, clock: newTestClock()}
	name, phone := r.onCall("L1", "primary")
	out, typeLine := startConsole(t, fakeAddr, base)

	// The first page: answered, 1 pressed.
	first := r.raise("critical", "mail server rejects all mail")
	m, at := out.Wait(t, 0, `📞 page call (\d+): to `+regexp.QuoteMeta(phone+" ("+name+")")+`, showing \+\d+`)
	call := m[1]
	typeLine("answer " + call)
	m, at = out.Wait(t, at, `engineer `+call+` hears: ([^\n]*)\(waiting for keys\)`)
	if heard := m[1]; !strings.Contains(heard, "This is the support pager") && !strings.Contains(heard, "Вас вызывает") || strings.Contains(heard, "/sounds/") {
		t.Errorf("the page call says %q, want the page's announcement in words", heard)
	}
	typeLine("key " + call + " 1")
	_, at = out.Wait(t, at, `engineer `+call+`: the call ends`)
	if got := r.page(first.ID); got.Status != "acknowledged" || got.AckVia != "voice" || got.AckedByName != name {
		t.Errorf("first page after 1: %+v, want acknowledged by %s by voice", got, name)
	}

	// The second page: the call rings out, the text follows, the reply
	// acknowledges.
	second := r.raise("critical", "VPN drops every few minutes") // critical: no storm gap holds its call back
	m, at = out.Wait(t, at, `📞 page call (\d+): to `+regexp.QuoteMeta(phone))
	typeLine("noanswer " + m[1])
	code := fmt.Sprint(second.ID)
	m, at = out.Wait(t, at, `✉  sms (\d+) to `+regexp.QuoteMeta(phone)+`[^\n]*(?:Reply|Ответьте) `+code+`\b`)
	typeLine("reply " + m[1] + " " + code)
	out.Wait(t, at, `✉  sms \d+ to `+regexp.QuoteMeta(phone)+`[^\n]*(?:You acknowledged page `+code+`|Вызов `+code+` [^\n]*принят вами)`)
	if got := r.page(second.ID); got.Status != "acknowledged" || got.AckVia != "sms" || got.AckedByName != name {
		t.Errorf("second page after the reply: %+v, want acknowledged by %s by text", got, name)
	}
	typeLine("quit")
}
