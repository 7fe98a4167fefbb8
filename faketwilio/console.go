package faketwilio

import (
	"bufio"
	"context"
	"encoding/binary"
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
	// Kind names a call the service places, from the URL Twilio fetches
	// when it is answered ("page call", say); default: "engineer call".
	Kind func(callURL string) string
	// Who names the person at a phone number ("Anna Smirnova"); "" for
	// a number it does not know. Default: nobody is known.
	Who func(number string) string
	// HoldEvery is how often a caller on hold fetches the wait URL again,
	// as Twilio does when the wait music ends; 0: only on "wait".
	HoldEvery time.Duration
	// WaitTimeout bounds how long a command about call or text n waits
	// for it to come; default 10 s.
	WaitTimeout time.Duration
}

// consoleHelp lists the console's commands.
const consoleHelp = `commands:
  dial LINE [FROM]   call the service (e.g. dial +74996383867 +15550001111)
  press KEYS         the caller presses keys (e.g. press 1001#); silence: no key
  record [SECONDS]   the caller leaves a voicemail (silent audio, default 5 s)
  wait               the caller on hold fetches the wait URL now
  hangup             the caller hangs up
  answer N | machine N | busy N | noanswer N    call N the service placed (to an engineer, or a page)
  key N KEYS | quiet N | end N                  on call N: keys, no key, hang up
  reply N TEXT       answer text N from the phone it went to (e.g. reply 1 7)
  sms FROM TEXT      text the service from FROM (e.g. sms +12025550101 7)
  help, quit
`

// Console lets a person play every phone from text commands: call a
// support line, press keys, hold, leave a voicemail; answer, ignore or
// refuse each call the service places (an engineer's call of the ring
// plan, a page call), numbered as they come; read each text the service
// sends, numbered too, and text the service back. A document that hangs
// up ends its call, as on a real phone. It returns when the input ends,
// on "quit", or when ctx is done.
func (s *Server) Console(ctx context.Context, o ConsoleOptions) error {
	if o.Describe == nil {
		o.Describe = func(u string) string { return u }
	}
	if o.Kind == nil {
		o.Kind = func(string) string { return "engineer call" }
	}
	if o.Who == nil {
		o.Who = func(string) string { return "" }
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &console{s: s, o: o, changed: make(chan struct{})}
	go c.watchPlacedCalls(ctx)
	go c.watchTexts(ctx)
	c.printf("fake Twilio console; %s", consoleHelp)
	sc := bufio.NewScanner(o.In)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "quit" {
			return nil
		}
		if err := c.safely(func() error { return c.command(ctx, f, line) }); err != nil {
			c.printf("! %v\n", err)
		}
	}
	return sc.Err()
}

// console is one Console session.
type console struct {
	s *Server
	o ConsoleOptions

	mu      sync.Mutex
	out     sync.Mutex
	caller  *CallHandle
	placed  []*CallHandle // calls the service placed, in order
	texts   []*MessageHandle
	changed chan struct{} // closed and renewed when placed or texts grow
	holding context.CancelFunc
}

func (c *console) printf(format string, args ...any) {
	c.out.Lock()
	defer c.out.Unlock()
	_, _ = fmt.Fprintf(c.o.Out, format, args...) // the operator's terminal: nowhere better to report a failed write
}

// named is "+12025550101 (Anna Smirnova)", or the number alone.
func (c *console) named(number string) string {
	if n := c.o.Who(number); n != "" {
		return number + " (" + n + ")"
	}
	return number
}

// show prints what a party hears and what the document asks of it; a
// document that hangs up ends h, as Twilio ends the call.
func (c *console) show(who string, h *CallHandle, doc *TwiML) {
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
		parts = append(parts, "(recording: record SECONDS)")
	case doc.First("Dial") != nil:
		parts = append(parts, "(connecting)")
	case doc.HangsUp():
		parts = append(parts, "(hangs up)")
	}
	c.printf("%s hears: %s\n", who, strings.Join(parts, " "))
	if b := doc.blocking(); b != nil && (b.Name == "Hangup" || b.Name == "Reject") && h != nil && h.Status() == "in-progress" {
		h.Hangup()
		c.printf("%s: the call ends\n", who)
	}
}

// added closes and renews changed. c.mu is held.
func (c *console) addedLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// watchPlacedCalls claims each call the service places, through the API
// or by a <Dial> of a live call (the client called back from a page
// call, say), and announces it.
func (c *console) watchPlacedCalls(ctx context.Context) {
	for {
		var got *call
		err := c.s.waitFor(ctx, func() bool {
			for _, cl := range c.s.callList {
				if !cl.claimed && (cl.direction == "outbound-api" || cl.direction == "outbound-dial") {
					cl.claimed, got = true, cl
					return true
				}
			}
			return false
		})
		if err != nil {
			return
		}
		h := &CallHandle{s: c.s, c: got}
		c.s.mu.Lock()
		callURL := got.url
		var parent *call
		if got.dial != nil {
			parent = got.dial.parent
		}
		c.s.mu.Unlock()
		c.mu.Lock()
		c.placed = append(c.placed, h)
		n := len(c.placed)
		c.addedLocked()
		from := c.labelLocked(parent)
		c.mu.Unlock()
		kind := c.o.Kind(callURL)
		if parent != nil {
			kind = "call"
			from = ", dialled by " + from
		} else {
			from = ""
		}
		c.printf("📞 %s %d: to %s%s, showing %s — answer %d / busy %d / noanswer %d\n", kind, n, c.named(h.To()), from, h.From(), n, n, n)
		go c.watchCanceled(ctx, h, fmt.Sprintf("%s %d", kind, n))
		go c.watchRedirects(ctx, h, c.who(n, h))
	}
}

// who names placed call n in what it hears: "engineer 3", or "call 4"
// for a call a <Dial> placed (to a client, say).
func (c *console) who(n int, h *CallHandle) string {
	if h.c.dial != nil {
		return fmt.Sprintf("call %d", n)
	}
	return fmt.Sprintf("engineer %d", n)
}

// labelLocked names the call cl for people: "the caller", "engineer 3".
// c.mu is held.
func (c *console) labelLocked(cl *call) string {
	if c.caller != nil && c.caller.c == cl {
		return "the caller"
	}
	for i, h := range c.placed {
		if h.c == cl {
			return c.who(i+1, h)
		}
	}
	return "another call"
}

// watchCanceled says when the service ends a call through the API (stops
// ringing an engineer, say).
func (c *console) watchCanceled(ctx context.Context, h *CallHandle, what string) {
	select {
	case <-ctx.Done():
	case <-h.Canceled():
		c.printf("📞 the service ended %s (%s)\n", what, h.Status())
	}
}

// watchTexts claims each text the service sends (and Twilio's own replies
// to opt-out keywords) and prints it.
func (c *console) watchTexts(ctx context.Context) {
	for {
		var got *message
		err := c.s.waitFor(ctx, func() bool {
			for _, m := range c.s.messageList {
				if !m.claimed && m.direction != "inbound" {
					m.claimed, got = true, m
					return true
				}
			}
			return false
		})
		if err != nil {
			return
		}
		c.s.mu.Lock()
		to, from, body := got.to, got.from, got.body
		c.s.mu.Unlock()
		h := &MessageHandle{d: c.s.Phone(to), m: got}
		c.mu.Lock()
		c.texts = append(c.texts, h)
		n := len(c.texts)
		c.addedLocked()
		c.mu.Unlock()
		c.printf("✉  sms %d to %s from %s: %s — reply %d TEXT\n", n, c.named(to), from, body, n)
	}
}

// nth returns item n (from 1) of the list get reads under c.mu, waiting
// for it to come.
func nth[T any](ctx context.Context, c *console, what, arg string, get func() []T) (T, error) {
	var zero T
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 {
		return zero, fmt.Errorf("%q is not a %s number", arg, what)
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.WaitTimeout)
	defer cancel()
	for {
		c.mu.Lock()
		ch, list := c.changed, get()
		c.mu.Unlock()
		if n <= len(list) {
			return list[n-1], nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return zero, fmt.Errorf("no %s %d", what, n)
		}
	}
}

// safely runs fn; a step the fake refuses (a key on a call that is not in
// progress, say), which fails a test, is only an error here.
func (c *console) safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return fn()
}

func (c *console) command(ctx context.Context, f []string, line string) error {
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
		go c.watchRedirects(ctx, h, "caller")
		c.show("caller", h, h.Answer())
		c.hold(ctx, h)
		return nil
	case "press", "silence", "wait", "hangup", "record":
		return c.callerCommand(ctx, f)
	case "reply":
		if len(f) < 3 {
			return fmt.Errorf("reply N TEXT")
		}
		m, err := nth(ctx, c, "text", f[1], func() []*MessageHandle { return c.texts })
		if err != nil {
			return err
		}
		c.text(m.d.Number(), m.From(), fieldsAfter(line, 2))
		return nil
	case "sms":
		if len(f) < 3 {
			return fmt.Errorf("sms FROM TEXT")
		}
		c.text(f[1], c.lastSender(f[1]), fieldsAfter(line, 2))
		return nil
	}
	if len(f) < 2 {
		return fmt.Errorf("unknown command %q; type help", strings.Join(f, " "))
	}
	h, err := nth(ctx, c, "call", f[1], func() []*CallHandle { return c.placed })
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(f[1])
	who := c.who(n, h)
	before := c.redirects(h)
	var parent *CallHandle // the call whose <Dial> placed h, which h's end moves on
	var parentDoc *TwiML
	if h.c.dial != nil {
		parent = &CallHandle{s: c.s, c: h.c.dial.parent}
		parentDoc = parent.TwiML()
	}
	switch f[0] {
	case "answer":
		c.showLatest(who, h, h.Answer(), before)
	case "machine":
		c.showLatest(who, h, h.AnswerByMachine(), before)
	case "busy":
		h.Busy()
	case "noanswer":
		h.NoAnswer()
	case "key":
		if len(f) < 3 {
			return fmt.Errorf("key N KEYS")
		}
		c.showLatest(who, h, h.Press(f[2]), before)
	case "quiet":
		c.showLatest(who, h, h.Silence(), before)
	case "end":
		h.Hangup()
	default:
		return fmt.Errorf("unknown command %q; type help", f[0])
	}
	if parent != nil {
		c.mu.Lock()
		label := c.labelLocked(parent.c)
		c.mu.Unlock()
		if h.ConnectedTo(parent) {
			c.printf("🔗 %s and %s are talking; end %d hangs up\n", who, label, n)
		} else if doc := parent.TwiML(); doc != parentDoc {
			c.show(label, parent, doc) // the <Dial> is over: what the dialling call does next
		}
	}
	c.showCaller()
	return nil
}

// text sends body from phone from to number to, the service's SMS
// webhook; the service's answer comes back as texts, printed as they come.
func (c *console) text(from, to, body string) {
	c.printf("✉  %s texts %s: %s\n", c.named(from), to, body)
	c.s.Phone(from).SendSMS(to, body)
}

// lastSender is the number that last texted phone, or the service's
// number when none did.
func (c *console) lastSender(phone string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.texts) - 1; i >= 0; i-- {
		if c.texts[i].d.Number() == phone {
			return c.texts[i].From()
		}
	}
	return c.s.opts.ServiceNumber
}

// fieldsAfter is line from its (n+1)th field on.
func fieldsAfter(line string, n int) string {
	rest := strings.TrimSpace(line)
	for range n {
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			return ""
		}
		rest = strings.TrimSpace(rest[i:])
	}
	return rest
}

func (c *console) callerCommand(ctx context.Context, f []string) error {
	c.mu.Lock()
	h := c.caller
	c.mu.Unlock()
	if h == nil {
		return fmt.Errorf("no call: dial a line first")
	}
	before := c.redirects(h)
	switch f[0] {
	case "press":
		if len(f) < 2 {
			return fmt.Errorf("press KEYS")
		}
		c.showCallerDoc(h, h.Press(f[1]), before)
	case "silence":
		c.showCallerDoc(h, h.Silence(), before)
	case "record":
		secs := 5
		if len(f) > 1 {
			n, err := strconv.Atoi(f[1])
			if err != nil || n < 1 || n > 3600 {
				return fmt.Errorf("record SECONDS: %q is not a number of seconds from 1 to 3600", f[1])
			}
			secs = n
		}
		c.showCallerDoc(h, h.Record(silentWAV(secs)), before)
	case "wait":
		c.show("caller (on hold)", h, h.NextWait())
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
func (c *console) showCallerDoc(h *CallHandle, doc *TwiML, before int) {
	if !c.showLatest("caller", h, doc, before) {
		return
	}
	if doc != nil && doc.First("Enqueue") != nil {
		c.show("caller (on hold)", h, h.WaitTwiML())
	}
}

// redirects counts the times the service redirected h so far.
func (c *console) redirects(h *CallHandle) int {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return len(h.c.redirects)
}

// showLatest shows doc, the answer to an action on h, unless the service
// redirected h since before (a count of redirects): then doc is already
// behind what the call does, and watchRedirects shows the newer one.
func (c *console) showLatest(who string, h *CallHandle, doc *TwiML, before int) bool {
	if c.redirects(h) > before {
		return false
	}
	c.show(who, h, doc)
	return true
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

// watchRedirects prints what h hears each time the service redirects it
// (out of the queue to voicemail, say), until ctx is done.
func (c *console) watchRedirects(ctx context.Context, h *CallHandle, who string) {
	for seen := 0; ; seen++ {
		var doc *TwiML
		err := c.s.waitFor(ctx, func() bool {
			if len(h.c.redirects) > seen {
				doc = h.c.redirects[seen]
				return true
			}
			return false
		})
		if err != nil {
			return
		}
		if err := c.safely(func() error { c.show(who, h, doc); return nil }); err != nil {
			c.printf("! %v\n", err)
		}
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
			stop() // the call left the queue: release hctx
		}()
		t := time.NewTicker(c.o.HoldEvery)
		defer t.Stop()
		for h.Queued() {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				// The call may leave the queue between the check and the
				// fetch: that is no reason to stop the console.
				_ = c.safely(func() error {
					if h.Queued() {
						c.show("caller (on hold)", h, h.NextWait())
					}
					return nil
				})
			}
		}
	}()
}

// silentWAV is secs seconds of silence as 8 kHz 16-bit mono PCM, in a
// canonical 44-byte RIFF/WAVE header: what a caller who says nothing
// leaves.
func silentWAV(secs int) []byte {
	const rate, bytesPerSample = 8000, 2
	data := secs * rate * bytesPerSample
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data)) //nolint:gosec // G115: at most an hour (the console checks), 57.6 MB
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], rate)
	binary.LittleEndian.PutUint32(b[28:], rate*bytesPerSample)
	binary.LittleEndian.PutUint16(b[32:], bytesPerSample)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data)) //nolint:gosec // G115: as above
	return b
}
