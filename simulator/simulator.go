// Package simulator drives the call flow from a terminal, so that anyone can
// "phone" the support line with no telephony: prompts are printed as text
// (and optionally played), the caller's keys are typed, and the engineers'
// phones are answered or not by the person at the keyboard. It is a driver
// like the Twilio and Asterisk ones: it translates, the flow decides.
package simulator

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/supportdesk/ivr/ivr"
)

// Options configure a simulated call.
type Options struct {
	Line   string // the number dialled, e.g. +74996383867
	Caller string // the caller's number; "" for a withheld one
	CallID string // default "SIM-<unix nanos>"
	// Now is the clock (default time.Now); After makes a timer (default
	// time.After). Tests replace both.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Play, when set, plays a prompt's audio (the terminal shows its text
	// either way).
	Play func(p ivr.Prompt)
	// Pager, when set, shows the page the call raises being sent (the
	// flow's ivr.Pages must be Pager.Engine): once the call is over, each
	// page call and text, with the person as the engineer who gets it.
	Pager *Pager
}

// Run places one call through flow and talks with the person on in and out
// until the call is done, in hangs up, or ctx ends.
//
// Input is one line per answer: keys for a menu ("1001#", "*", "9"; an
// empty line is silence; a ticket id may be typed at the greeting), a/n/b/m
// for an engineer's phone (answer, no answer, busy, answering machine), a
// key the caller on hold presses (1 leaves a message instead of waiting),
// any text for a voicemail, and "h" at any point to hang up. With Options.Pager, the page a call raises is sent
// once the call is over, and the lines that follow answer the engineer's
// page call (1 acknowledges) and text (its code acknowledges).
func Run(ctx context.Context, flow *ivr.Flow, in io.Reader, out io.Writer, opts Options) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.CallID == "" {
		opts.CallID = fmt.Sprintf("SIM-%d", opts.Now().UnixNano())
	}
	s := &session{flow: flow, out: out, opts: opts, lines: readLines(ctx, in)}
	return s.run(ctx)
}

// session is one simulated call.
type session struct {
	flow  *ivr.Flow
	out   io.Writer
	opts  Options
	lines <-chan string
	state ivr.State
	// waiting is what the next input line answers.
	waiting waitKind
	leg     string // the leg concerned when waiting on an engineer
	wake    time.Time
	done    bool
}

type waitKind int

const (
	waitNothing  waitKind = iota // on hold: only "h" means something
	waitCaller                   // the caller's keys for a Gather
	waitRecord                   // the caller's voicemail
	waitPhone                    // an engineer's phone is ringing
	waitEngineer                 // the engineer's keys for the screening
	waitTalk                     // caller and engineer are talking
)

func (s *session) run(ctx context.Context) error {
	s.printf("☎  calling %s from %s (call %s); type h to hang up\n", s.opts.Line, orWithheld(s.opts.Caller), s.opts.CallID)
	st, res, err := s.flow.Start(ctx, ivr.CallStarted{CallID: s.opts.CallID, Line: s.opts.Line, Caller: s.opts.Caller, At: s.opts.Now()})
	if err != nil {
		return fmt.Errorf("start call: %w", err)
	}
	s.state = st
	s.apply(res)
	for !s.done {
		var timer <-chan time.Time
		if !s.wake.IsZero() {
			timer = s.opts.After(max(s.wake.Sub(s.opts.Now()), 0))
		}
		select {
		case <-ctx.Done():
			return s.handle(context.WithoutCancel(ctx), ivr.HungUp{At: s.opts.Now()})
		case <-timer:
			if err := s.handle(ctx, ivr.Tick{At: s.opts.Now()}); err != nil {
				return err
			}
		case line, ok := <-s.lines:
			if !ok {
				s.printf("(input closed: hanging up)\n")
				if err := s.handle(ctx, ivr.HungUp{At: s.opts.Now()}); err != nil {
					return err
				}
				s.done = true // nothing more can be typed into this call
				continue
			}
			if err := s.answer(ctx, strings.TrimSpace(line)); err != nil {
				return err
			}
		}
	}
	if s.opts.Pager != nil && s.state.Paged {
		return s.runPager(ctx)
	}
	return nil
}

// answer turns a line typed by the person into the event it means.
func (s *session) answer(ctx context.Context, line string) error {
	now := s.opts.Now()
	if line == "h" || line == "hangup" {
		return s.handle(ctx, ivr.HungUp{At: now})
	}
	if s.state.Phase == ivr.PhaseRouting && (s.waiting == waitNothing || s.waiting == waitPhone) && holdKey(line) {
		return s.handle(ctx, ivr.HoldKey{Key: line, At: now})
	}
	switch s.waiting {
	case waitCaller:
		keys, finished := strings.CutSuffix(line, "#")
		return s.handle(ctx, ivr.Digits{Digits: keys, Finished: finished, At: now})
	case waitRecord:
		return s.handle(ctx, ivr.RecordingDone{URL: "sim://voicemail/" + s.opts.CallID, Seconds: max(len(line)/12, 1), At: now})
	case waitPhone:
		leg := s.leg
		switch strings.ToLower(line) {
		case "a":
			return s.handle(ctx, ivr.LegAnswered{LegID: leg, At: now})
		case "n":
			return s.handle(ctx, ivr.LegEnded{LegID: leg, Reason: ivr.NoAnswer, At: now})
		case "b":
			return s.handle(ctx, ivr.LegEnded{LegID: leg, Reason: ivr.Busy, At: now})
		case "m":
			// Answering-machine detection reports a machine; screening
			// would catch it too, since a machine never keys 1.
			return s.handle(ctx, ivr.LegEnded{LegID: leg, Reason: ivr.Machine, At: now})
		}
		s.printf("   (a answer, n no answer, b busy, m answering machine; the caller: 1 leave a message, h hang up)\n")
		return nil
	case waitEngineer:
		return s.handle(ctx, ivr.LegDigits{LegID: s.leg, Digits: strings.TrimSuffix(line, "#"), At: now})
	case waitTalk:
		s.printf("   (talking; type h to hang up)\n")
		return nil
	}
	s.printf("   (on hold; type 1 to leave a message, h to hang up)\n")
	return nil
}

// holdKey reports whether line is one key of a phone's keypad, which the
// caller on hold may press.
func holdKey(line string) bool {
	return len(line) == 1 && strings.Contains("0123456789*#", line)
}

// handle gives ev to the flow and shows what it decided.
func (s *session) handle(ctx context.Context, ev ivr.Event) error {
	st, res, err := s.flow.Handle(ctx, s.state, ev)
	if err != nil {
		return fmt.Errorf("flow: %w", err)
	}
	s.state = st
	if res.Settle {
		// As serve does once the request is answered: the Tick on which the
		// finished call writes its ticket note.
		if s.state, _, err = s.flow.Handle(ctx, s.state, ivr.Tick{At: s.opts.Now()}); err != nil {
			return fmt.Errorf("flow: %w", err)
		}
	}
	if _, hung := ev.(ivr.HungUp); hung && !res.Done {
		s.printf("   (caller hung up)\n")
	}
	s.apply(res)
	if c, ok := res.Caller.(ivr.Connect); ok {
		// Here the bridge is instant: a phone network would report it a
		// moment later.
		return s.handle(ctx, ivr.Bridged{LegID: c.LegID, At: s.opts.Now()})
	}
	return nil
}

// apply shows a Result and sets what the next input answers.
func (s *session) apply(res ivr.Result) {
	for _, a := range res.Actions {
		switch a := a.(type) {
		case ivr.Ring:
			name := fmt.Sprintf("engineer %d", a.EngineerID)
			if s.state.Leg.ID == a.LegID && s.state.Leg.Name != "" {
				name = s.state.Leg.Name
			}
			s.printf("📞 ringing %s at %s (their phone shows %s, not the caller) — a answer, n no answer, b busy, m machine\n",
				name, a.Phone, a.CallerID)
			s.waiting, s.leg = waitPhone, a.LegID
		case ivr.Cancel:
			s.printf("📞 the service stops ringing %s\n", a.LegID)
			if s.leg == a.LegID && (s.waiting == waitPhone || s.waiting == waitEngineer) {
				s.waiting, s.leg = waitNothing, ""
			}
		}
	}
	for _, l := range res.Legs {
		s.showLeg(l)
	}
	if res.Caller != nil {
		s.showCaller(res.Caller)
	}
	s.wake = res.WakeAt
	if res.Done {
		s.done = true
		s.printf("✔ call finished: %s\n", summary(s.state))
		if o := s.state.Owed; o.Any() {
			// serve's sweep retries these; a simulated call ends here.
			s.printf("⚠ not written (see the log): page %v, call record %v, ticket note %v\n", o.Page, o.Record, o.Note)
		}
	}
}

func (s *session) showCaller(step ivr.Step) {
	switch st := step.(type) {
	case ivr.Gather:
		s.say("caller hears", st.Prompts)
		s.printf("   keys> (digits, # to finish, * for none; empty line = silence)\n")
		s.waiting = waitCaller
	case ivr.Hold:
		s.say("caller hears", st.Prompts)
		s.printf("   ♫ hold music\n")
		if s.waiting == waitCaller || s.waiting == waitRecord {
			s.waiting = waitNothing
		}
	case ivr.Play:
		s.say("caller hears", st.Prompts)
	case ivr.Record:
		s.say("caller hears", st.Prompts)
		s.printf("   🔴 recording (up to %s): type the message and press Enter\n", st.MaxLength)
		s.waiting = waitRecord
	case ivr.Connect:
		s.say("caller hears", st.Prompts)
		s.printf("   🔗 caller and engineer are connected; h hangs up\n")
		s.waiting = waitTalk
	case ivr.Hangup:
		s.say("caller hears", st.Prompts)
		s.printf("   (the line hangs up)\n")
		s.waiting = waitNothing
	}
}

func (s *session) showLeg(l ivr.LegStep) {
	switch st := l.Step.(type) {
	case ivr.Gather:
		s.say("engineer hears", st.Prompts)
		s.printf("   engineer keys> (1 accepts; empty line = silence)\n")
		s.waiting, s.leg = waitEngineer, l.LegID
	case ivr.Connect:
		s.say("engineer hears", st.Prompts)
	case ivr.Hangup:
		s.say("engineer hears", st.Prompts)
		s.printf("   (the engineer's call ends)\n")
		if s.leg == l.LegID {
			s.waiting, s.leg = waitNothing, ""
		}
	default:
		s.say("engineer hears", ivr.StepPrompts(l.Step))
	}
}

// say prints prompts as one sentence, numbers as digits, and plays them.
func (s *session) say(who string, prompts []ivr.Prompt) {
	if len(prompts) == 0 {
		return
	}
	s.printf("🔊 %s [%s]: %s\n", who, prompts[0].Lang, s.sentence(prompts))
	s.play(prompts)
}

// play plays prompts, when Options.Play is set.
func (s *session) play(prompts []ivr.Prompt) {
	if s.opts.Play == nil {
		return
	}
	for _, p := range prompts {
		s.opts.Play(p)
	}
}

// sentence is prompts' text as one sentence, numbers as digits, the pause
// after a number as a comma ("Ticket 1001, priority critical").
func (s *session) sentence(prompts []ivr.Prompt) string {
	var b strings.Builder
	paused := false
	for i, p := range prompts {
		if p.Name == ivr.PromptPause {
			paused = true
			continue
		}
		d, digit := strings.CutPrefix(p.Name, "digit_")
		text := d
		if !digit {
			text = ivr.Text(p)
		}
		if i > 0 && !(digit && strings.HasPrefix(prompts[i-1].Name, "digit_")) {
			// A phrase ("priority critical") followed by a whole sentence
			// (capitalised, several words, closing punctuation) gets the
			// full stop a speaker's pause stands for; the end of a sentence
			// ("within" + "two hours.") does not.
			first, _ := utf8.DecodeRuneInString(text)
			whole := unicode.IsUpper(first) && strings.Contains(text, " ") && strings.ContainsAny(text[len(text)-1:], ".?!")
			if r, _ := utf8.DecodeLastRuneInString(b.String()); unicode.IsLetter(r) || unicode.IsDigit(r) {
				switch {
				case whole:
					b.WriteByte('.')
				case paused:
					b.WriteByte(',')
				}
			}
			b.WriteByte(' ')
		}
		paused = false
		b.WriteString(text)
	}
	return b.String()
}

// printf writes to the terminal the simulator runs in; a failed write there
// has nowhere better to be reported, and the session goes on.
func (s *session) printf(format string, args ...any) { _, _ = fmt.Fprintf(s.out, format, args...) }

func summary(st ivr.State) string {
	parts := []string{string(st.Outcome), "language " + string(st.Lang)}
	if st.TicketID != "" {
		parts = append(parts, "ticket "+st.TicketID)
	}
	if st.Priority != "" {
		parts = append(parts, string(st.Priority)+" at "+st.Level.String())
	}
	if st.Paged {
		parts = append(parts, "page raised")
	}
	return strings.Join(parts, ", ")
}

func orWithheld(s string) string {
	if s == "" {
		return "a withheld number"
	}
	return s
}

// readLines delivers in's lines on a channel, closed at EOF.
func readLines(ctx context.Context, in io.Reader) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case ch <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
