package faketwilio

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ConsoleOptions configure Console.
type ConsoleOptions struct {
	In  io.Reader
	Out io.Writer
	// Describe says what a <Play> URL plays (the service's prompt text,
	// say); default: the URL.
	Describe func(playURL string) string
	// HoldEvery is how often a caller on hold fetches the wait URL again,
	// as Twilio does when the wait music ends; 0: only on "wait".
	HoldEvery time.Duration
	// WaitTimeout bounds how long a command about engineer call n waits for
	// that call to be placed; default 10 s.
	WaitTimeout time.Duration
}

// consoleHelp lists the console's commands.
const consoleHelp = `commands:
  dial LINE [FROM]   call the service (e.g. dial +74996383867 +15550001111)
  press KEYS         the caller presses keys (e.g. press 1001#); silence: no key
  wait               the caller on hold fetches the wait URL now
  hangup             the caller hangs up
  answer N | machine N | busy N | noanswer N    engineer call N
  key N KEYS | quiet N | end N                  on engineer call N: keys, no key, hang up
  help, quit
`

// Console lets a person play every phone from text commands: call a
// support line, press keys, hold, and answer, ignore or refuse each call
// the service places to an engineer (numbered as they come). It returns
// when the input ends, on "quit", or when ctx is done.
func (s *Server) Console(ctx context.Context, o ConsoleOptions) error {
	if o.Describe == nil {
		o.Describe = func(u string) string { return u }
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &console{s: s, o: o, changed: make(chan struct{})}
	go c.watchEngineerCalls(ctx)
	c.printf("fake Twilio console; %s", consoleHelp)
	sc := bufio.NewScanner(o.In)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "quit" {
			return nil
		}
		if err := c.safely(ctx, f); err != nil {
			c.printf("! %v\n", err)
		}
	}
	return sc.Err()
}

// console is one Console session.
type console struct {
	s *Server
	o ConsoleOptions

	mu        sync.Mutex
	out       sync.Mutex
	caller    *CallHandle
	engineers []*CallHandle
	changed   chan struct{} // closed and renewed when engineers grows
	holding   context.CancelFunc
}

func (c *console) printf(format string, args ...any) {
	c.out.Lock()
	defer c.out.Unlock()
	fmt.Fprintf(c.o.Out, format, args...)
}

// show prints what a party hears and what the document asks of it.
func (c *console) show(who string, doc *TwiML) {
	if doc == nil {
		return
	}
	var parts []string
	for _, u := range doc.Plays() {
		parts = append(parts, c.o.Describe(u))
	}
	parts = append(parts, doc.Says()...)
	switch {
	case doc.Gather() != nil:
		parts = append(parts, "(waiting for keys)")
	case doc.First("Enqueue") != nil:
		parts = append(parts, "(on hold)")
	case doc.First("Record") != nil:
		parts = append(parts, "(recording)")
	case doc.First("Dial") != nil:
		parts = append(parts, "(connecting)")
	case doc.HangsUp():
		parts = append(parts, "(hangs up)")
	}
	c.printf("%s hears: %s\n", who, strings.Join(parts, " "))
}

// watchEngineerCalls claims each call the service places and announces it.
func (c *console) watchEngineerCalls(ctx context.Context) {
	for {
		h, err := c.s.waitOutbound(ctx)
		if err != nil {
			return
		}
		c.mu.Lock()
		c.engineers = append(c.engineers, h)
		n := len(c.engineers)
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		c.printf("📞 engineer call %d: to %s, showing %s — answer %d / busy %d / noanswer %d\n", n, h.To(), h.From(), n, n, n)
	}
}

// engineer returns engineer call n, waiting for it to be placed.
func (c *console) engineer(ctx context.Context, arg string) (*CallHandle, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%q is not an engineer call number", arg)
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.WaitTimeout)
	defer cancel()
	for {
		c.mu.Lock()
		ch := c.changed
		if n <= len(c.engineers) {
			h := c.engineers[n-1]
			c.mu.Unlock()
			return h, nil
		}
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("no engineer call %d", n)
		}
	}
}

// safely runs a command; a step the fake refuses (a key on a call that is
// not in progress, say), which fails a test, is only an error here.
func (c *console) safely(ctx context.Context, f []string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return c.command(ctx, f)
}

func (c *console) command(ctx context.Context, f []string) error {
	switch f[0] {
	case "help":
		c.printf("%s", consoleHelp)
		return nil
	case "dial":
		if len(f) < 2 {
			return fmt.Errorf("dial LINE [FROM]")
		}
		from := "+15550001111"
		if len(f) > 2 {
			from = f[2]
		}
		h := c.s.Phone(from).Dial(f[1])
		c.mu.Lock()
		c.caller = h
		c.mu.Unlock()
		c.show("caller", h.Answer())
		c.hold(ctx, h)
		return nil
	case "press", "silence", "wait", "hangup":
		return c.callerCommand(ctx, f)
	}
	if len(f) < 2 {
		return fmt.Errorf("unknown command %q; type help", strings.Join(f, " "))
	}
	h, err := c.engineer(ctx, f[1])
	if err != nil {
		return err
	}
	who := "engineer " + f[1]
	switch f[0] {
	case "answer":
		c.show(who, h.Answer())
	case "machine":
		c.show(who, h.AnswerByMachine())
	case "busy":
		h.Busy()
	case "noanswer":
		h.NoAnswer()
	case "key":
		if len(f) < 3 {
			return fmt.Errorf("key N KEYS")
		}
		c.show(who, h.Press(f[2]))
	case "quiet":
		c.show(who, h.Silence())
	case "end":
		h.Hangup()
	default:
		return fmt.Errorf("unknown command %q; type help", f[0])
	}
	c.showCaller()
	return nil
}

func (c *console) callerCommand(ctx context.Context, f []string) error {
	c.mu.Lock()
	h := c.caller
	c.mu.Unlock()
	if h == nil {
		return fmt.Errorf("no call: dial a line first")
	}
	switch f[0] {
	case "press":
		if len(f) < 2 {
			return fmt.Errorf("press KEYS")
		}
		c.showCallerDoc(h, h.Press(f[1]))
	case "silence":
		c.showCallerDoc(h, h.Silence())
	case "wait":
		c.show("caller (on hold)", h.NextWait())
	case "hangup":
		h.Hangup()
		c.printf("the caller hung up\n")
		return nil
	}
	c.hold(ctx, h)
	return nil
}

// showCallerDoc prints the caller's new document and, when it put the
// caller in a queue, what the first wait request played there.
func (c *console) showCallerDoc(h *CallHandle, doc *TwiML) {
	c.show("caller", doc)
	if doc != nil && doc.First("Enqueue") != nil {
		c.show("caller (on hold)", h.WaitTwiML())
	}
}

// showCaller prints the caller's document when an engineer's action moved
// it on (a bridge, a redirect to voicemail).
func (c *console) showCaller() {
	c.mu.Lock()
	h := c.caller
	c.mu.Unlock()
	if h != nil && h.Bridged() {
		c.printf("🔗 caller and engineer are talking; hangup or end N ends it\n")
	}
}

// hold keeps a queued caller's wait loop going every HoldEvery, as Twilio
// does, until the caller leaves the queue.
func (c *console) hold(ctx context.Context, h *CallHandle) {
	if c.o.HoldEvery <= 0 || !h.Queued() {
		return
	}
	c.mu.Lock()
	if c.holding != nil {
		c.mu.Unlock()
		return
	}
	hctx, stop := context.WithCancel(ctx)
	c.holding = stop
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			c.holding = nil
			c.mu.Unlock()
		}()
		t := time.NewTicker(c.o.HoldEvery)
		defer t.Stop()
		for h.Queued() {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				c.show("caller (on hold)", h.NextWait())
			}
		}
	}()
}
