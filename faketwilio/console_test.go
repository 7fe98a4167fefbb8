package faketwilio_test

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// screen is what the console printed so far.
type screen struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{}
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	close(s.changed)
	s.changed = make(chan struct{})
	return len(p), nil
}

// console is a Console session the test types into.
type console struct {
	t     *testing.T
	typed *io.PipeWriter
	out   *screen
	seen  int // what the last wait matched up to
	done  chan error
	ended bool
}

func startConsole(t *testing.T, s *faketwilio.Server, o faketwilio.ConsoleOptions) *console {
	t.Helper()
	in, typed := io.Pipe()
	c := &console{t: t, typed: typed, out: &screen{changed: make(chan struct{})}, done: make(chan error, 1)}
	o.In, o.Out = in, c.out
	go func() { c.done <- s.Console(context.Background(), o) }()
	t.Cleanup(func() {
		typed.Close()
		if !c.ended {
			c.end()
		}
	})
	return c
}

// end waits for the console to return.
func (c *console) end() {
	c.ended = true
	if err := <-c.done; err != nil {
		c.t.Errorf("console: %v", err)
	}
}

func (c *console) typeLine(line string) {
	c.t.Helper()
	if _, err := fmt.Fprintln(c.typed, line); err != nil {
		c.t.Fatalf("type %q: %v", line, err)
	}
}

// wait returns the first match of re printed since the last wait, waiting
// up to 5 s for it.
func (c *console) wait(re string) []string {
	c.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		c.out.mu.Lock()
		text, ch := c.out.buf.String(), c.out.changed
		c.out.mu.Unlock()
		if loc := rx.FindStringSubmatchIndex(text[c.seen:]); loc != nil {
			m := make([]string, len(loc)/2)
			for i := range m {
				if loc[2*i] >= 0 {
					m[i] = text[c.seen+loc[2*i] : c.seen+loc[2*i+1]]
				}
			}
			c.seen += loc[1]
			return m
		}
		select {
		case <-ch:
		case <-deadline.C:
			c.t.Fatalf("the console never showed %q; it shows:\n%s", re, text)
		}
	}
}

// waitAll waits for each of res, printed in any order since the last wait.
func (c *console) waitAll(res ...string) {
	c.t.Helper()
	from, end := c.seen, c.seen
	for _, re := range res {
		c.seen = from
		c.wait(re)
		end = max(end, c.seen)
	}
	c.seen = end
}

// TestConsolePageCallAndText: the person is the engineer's phone. A call
// the service places shows with its kind and who it rings; answering
// reads the document, a key that gets a hang-up ends the call. A text the
// service sends shows as it arrives, and replying to it posts an inbound
// message to the SMS webhook, whose TwiML answer shows as a text too.
func TestConsolePageCallAndText(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/page", `<Response><Gather numDigits="1" action="/page/key"><Play>http://127.0.0.1/sounds/en/page_intro.wav</Play></Gather></Response>`)
	a.twiml("/page/key", `<Response><Play>http://127.0.0.1/sounds/en/page_acked.wav</Play><Hangup/></Response>`)
	a.twiml("/sms", `<Response><Message>You acknowledged page 42.</Message></Response>`)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine, AutoDeliver: true})
	c := startConsole(t, s, faketwilio.ConsoleOptions{
		Kind: func(u string) string {
			if strings.HasSuffix(u, "/page") {
				return "page call"
			}
			return "engineer call"
		},
		Who: func(n string) string {
			if n == engineer {
				return "Anna Smirnova"
			}
			return ""
		},
		WaitTimeout: 100 * time.Millisecond, // for "reply 9", a text that never comes
	})
	rc := faketwilio.RESTClient(s)

	call, err := rc.Api.CreateCall((&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL + "/page"))
	if err != nil {
		t.Fatal(err)
	}
	n := c.wait(`📞 page call (\d+): to \+12025550101 \(Anna Smirnova\), showing \+12025550100`)[1]
	c.typeLine("answer " + n)
	c.wait(`engineer ` + n + ` hears: http://127.0.0.1/sounds/en/page_intro.wav \(waiting for keys\)`)
	c.typeLine("key " + n + " 1")
	c.wait(`engineer ` + n + ` hears: http://127.0.0.1/sounds/en/page_acked.wav \(hangs up\)\n`)
	c.wait(`engineer ` + n + `: the call ends`)
	if got, err := rc.Api.FetchCall(*call.Sid, nil); err != nil || *got.Status != "completed" {
		t.Errorf("the page call after its hang-up: %v %v, want completed", got.Status, err)
	}

	sendSMS(t, s, (&api.CreateMessageParams{}).SetTo(engineer).SetFrom(ourLine).SetBody("CRITICAL page 42. Reply 42 to acknowledge."))
	m := c.wait(`✉  sms (\d+) to \+12025550101 \(Anna Smirnova\) from \+12025550100: CRITICAL page 42\. Reply 42 to acknowledge\. — reply \d+ TEXT`)
	c.typeLine("reply " + m[1] + "   42 ")
	c.wait(`✉  sms \d+ to \+12025550101 \(Anna Smirnova\) from \+12025550100: You acknowledged page 42\.`)
	var inbound hit
	for range len(a.hits) {
		if got := <-a.hits; got.Path == "/sms" {
			inbound = got
		}
	}
	if inbound.Form.Get("From") != engineer || inbound.Form.Get("To") != ourLine || inbound.Form.Get("Body") != "42" {
		t.Errorf("the reply reached the SMS webhook as %v, want 42 from %s to %s", inbound.Form, engineer, ourLine)
	}

	c.typeLine("sms +12025550199 hello")
	c.wait(`✉  \+12025550199 texts \+12025550100: hello`)
	c.typeLine("reply 9 late")
	c.wait(`! no text 9\n`)
	c.typeLine("quit")
	c.end()
}

// TestConsoleVoicemail: the caller is put through to voicemail and leaves
// one with record; the thanks that hangs up ends the call.
func TestConsoleVoicemail(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Say>Leave a message.</Say><Record action="/recorded" maxLength="120"/></Response>`)
	a.twiml("/recorded", `<Response><Say>Thank you.</Say><Hangup/></Response>`)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	c := startConsole(t, s, faketwilio.ConsoleOptions{})

	c.typeLine("record")
	c.wait(`! no call: dial a line first`)
	c.typeLine("dial " + ourLine + " +15550001111")
	c.wait(`caller hears: Leave a message\. \(recording: record SECONDS\)`)
	c.typeLine("record 3")
	c.wait(`caller hears: Thank you\. \(hangs up\)\ncaller: the call ends`)
	var recorded hit
	for range len(a.hits) {
		if got := <-a.hits; got.Path == "/recorded" {
			recorded = got
		}
	}
	if recorded.Form.Get("RecordingDuration") != "3" || recorded.Form.Get("RecordingUrl") == "" {
		t.Errorf("the <Record> action got %v, want a 3-second recording", recorded.Form)
	}
}

// TestConsoleDialledLeg: a call the service makes by <Dial> from a live
// call (the client called back from a page call) shows like the others;
// answering it bridges the two, and hanging it up moves the dialling call
// on to the <Dial> action.
func TestConsoleDialledLeg(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/page", `<Response><Gather numDigits="1" action="/page/key"><Say>Press 3 to call the client.</Say></Gather></Response>`)
	a.twiml("/page/key", `<Response><Say>Connecting you.</Say><Dial callerId="+12025550100" action="/dialled"><Number>+15550001111</Number></Dial></Response>`)
	a.twiml("/dialled", `<Response><Say>The client hung up.</Say><Hangup/></Response>`)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	c := startConsole(t, s, faketwilio.ConsoleOptions{})
	if _, err := faketwilio.RESTClient(s).Api.CreateCall((&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL + "/page")); err != nil {
		t.Fatal(err)
	}
	c.wait(`📞 engineer call 1: to \+12025550101, showing \+12025550100`)
	c.typeLine("answer 1")
	c.typeLine("key 1 3")
	c.waitAll(`engineer 1 hears: Connecting you\. \(connecting\)`,
		`📞 call 2: to \+15550001111, dialled by engineer 1, showing \+12025550100 — answer 2`)
	c.typeLine("answer 2")
	c.wait(`🔗 call 2 and engineer 1 are talking; end 2 hangs up`)
	c.typeLine("end 2")
	c.wait(`engineer 1 hears: The client hung up\. \(hangs up\)\nengineer 1: the call ends`)
}
