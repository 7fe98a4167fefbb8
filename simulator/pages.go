package simulator

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// Engine is what the simulator needs of the pager's engine: the one the
// call flow raises its page through (its ivr.Pages).
type Engine interface {
	// RunOnce does what the engine's loops do, once: it sends what is in
	// the outbox through the channels, Phones' among them.
	RunOnce(ctx context.Context)
	Page(ctx context.Context, id int64) (pager.Page, []pager.Attempt, error)
	AttemptEnded(ctx context.Context, id int64, o pager.Outcome, detail string) (pager.Page, error)
	Acknowledge(ctx context.Context, id int64, ack pager.Acknowledge) (pager.Page, error)
}

// Pager shows the pages a simulated call raises: once the call is over,
// the engine runs, and each page call and text it makes is shown on the
// terminal, with the person at the keyboard as the engineer who gets it.
type Pager struct {
	Engine Engine
	// Phones must be the voice and SMS channels the engine was built with.
	Phones *Phones
	// Rules are the engine's rules, for the words of the page call.
	Rules pager.Rules
	// CallerID and SMSFrom are the numbers page calls and texts come
	// from, as the engineer's phone shows them.
	CallerID, SMSFrom string
}

// Phones is the pager's voice and SMS channels in the simulator: a page
// call or text is not placed but kept for the simulated call to show,
// and "sent" under an id of the simulator's own.
type Phones struct {
	mu   sync.Mutex
	sent []pager.Attempt
	ids  map[int64]string
}

// NewPhones returns channels that send nothing.
func NewPhones() *Phones { return &Phones{ids: map[int64]string{}} }

// Channels returns the voice and SMS channels, for pager.Config.
func (p *Phones) Channels() map[pager.Kind]pager.Channel {
	return map[pager.Kind]pager.Channel{pager.KindVoice: phoneChannel{p}, pager.KindSMS: phoneChannel{p}}
}

// take returns the attempts sent since the last take, oldest first.
func (p *Phones) take() []pager.Attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.sent
	p.sent = nil
	slices.SortFunc(out, func(a, b pager.Attempt) int { return int(a.ID - b.ID) })
	return out
}

type phoneChannel struct{ p *Phones }

func (c phoneChannel) Send(_ context.Context, a pager.Attempt) (string, error) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if id, ok := c.p.ids[a.ID]; ok {
		return id, nil
	}
	id := "SIM-" + string(a.Kind) + "-" + strconv.FormatInt(a.ID, 10)
	c.p.ids[a.ID] = id
	c.p.sent = append(c.p.sent, a)
	return id, nil
}

func (c phoneChannel) Find(_ context.Context, a pager.Attempt) (string, error) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	return c.p.ids[a.ID], nil
}

// maxPagerRounds bounds how often the engine runs after a call: each
// round the person answers what the last one sent.
const maxPagerRounds = 20

// runPager runs the engine after the call and shows what it sends,
// until it sends nothing more; then it says where each page stands. An
// attempt it showed always gets its outcome, whatever the input, so that
// no page call is left in flight in the store.
func (s *session) runPager(ctx context.Context) error {
	pg := s.opts.Pager
	var shown []int64 // pages, in the order their first attempt came
	for range maxPagerRounds {
		pg.Engine.RunOnce(ctx)
		atts := pg.Phones.take()
		if len(atts) == 0 {
			break
		}
		for i, a := range atts {
			if !slices.Contains(shown, a.PageID) {
				shown = append(shown, a.PageID)
				if err := s.showRaised(ctx, a.PageID); err != nil {
					return err
				}
			}
			if err := s.deliver(ctx, a); err != nil {
				// End what was sent but not shown: nothing stays in flight.
				for _, b := range atts[i+1:] {
					_, _ = pg.Engine.AttemptEnded(context.WithoutCancel(ctx), b.ID, unanswered(b), "the simulator stopped")
				}
				return err
			}
		}
	}
	for _, id := range shown {
		p, _, err := pg.Engine.Page(ctx, id)
		if err != nil {
			return fmt.Errorf("page %d: %w", id, err)
		}
		switch {
		case p.Status == pager.Acknowledged:
			s.printf("✔ page %d acknowledged by %s (%s)\n", p.ID, p.AckedByName, p.AckVia)
		case p.Status.Closed():
			s.printf("✔ page %d %s\n", p.ID, p.Status)
		case !p.DueAt.IsZero():
			s.printf("📟 page %d is still open: nobody acknowledged it; its next step is due at %s (ivr serve on this store carries it on)\n",
				p.ID, p.DueAt.Local().Format("15:04:05"))
		default:
			s.printf("📟 page %d is still open (ivr serve on this store carries it on)\n", p.ID)
		}
	}
	return nil
}

// unanswered is the outcome of an attempt the person never answered.
func unanswered(a pager.Attempt) pager.Outcome {
	if a.Kind == pager.KindVoice {
		return pager.NoAnswer
	}
	return pager.Delivered
}

func (s *session) showRaised(ctx context.Context, id int64) error {
	p, _, err := s.opts.Pager.Engine.Page(ctx, id)
	if err != nil {
		return fmt.Errorf("page %d: %w", id, err)
	}
	parts := []string{string(p.Priority)}
	if p.TicketID != "" {
		parts = append(parts, "ticket "+p.TicketID)
	}
	if len(p.Plan) > 0 {
		parts = append(parts, "from "+p.Plan[0].Level.String())
	}
	s.printf("📟 page %d raised: %s; the pager pages the engineer on call\n", p.ID, strings.Join(parts, ", "))
	return nil
}

// deliver shows attempt a and, for a page, lets the person be the
// engineer; it reports the attempt's outcome to the engine.
func (s *session) deliver(ctx context.Context, a pager.Attempt) error {
	eng := s.opts.Pager.Engine
	p, _, err := eng.Page(ctx, a.PageID)
	if err != nil {
		_, _ = eng.AttemptEnded(context.WithoutCancel(ctx), a.ID, unanswered(a), "the simulator could not read the page")
		return fmt.Errorf("page %d: %w", a.PageID, err)
	}
	who := nameOf(&p, a)
	if a.Kind == pager.KindVoice {
		return s.pageCall(ctx, &p, a, who)
	}
	s.printf("✉  text to %s from %s: %s\n", who, s.opts.Pager.SMSFrom, a.Body)
	if _, err := eng.AttemptEnded(ctx, a.ID, pager.Delivered, "shown by the simulator"); err != nil {
		return fmt.Errorf("page %d: %w", a.PageID, err)
	}
	if a.Purpose != pager.PurposePage || p.Status != pager.Open {
		return nil
	}
	s.printf("   reply> (the page's code %s acknowledges; empty line: no reply)\n", p.Code())
	line, ok := s.readLine(ctx)
	reply := strings.Trim(strings.TrimSpace(line), "#. ")
	switch {
	case !ok:
		s.printf("   (input closed: no reply)\n")
		return nil
	case reply == "":
		return nil
	case reply != p.Code():
		s.printf("✉  text to %s: %s\n", who, pager.ReplyHelpText(a.Language))
		return nil
	}
	p, err = eng.Acknowledge(ctx, p.ID, pager.Acknowledge{EngineerID: a.EngineerID, Name: plainName(&p, a), Via: pager.ViaSMS})
	if err != nil {
		return fmt.Errorf("acknowledge page %d: %w", a.PageID, err)
	}
	s.printf("✉  text to %s: %s\n", who, pager.ReplyAckedText(&p, a.Language))
	return nil
}

// pageCall rings the engineer: the page call's words, then the person's
// choice: 1 acknowledges, an empty line is no key, n no answer, b busy.
func (s *session) pageCall(ctx context.Context, p *pager.Page, a pager.Attempt, who string) error {
	eng := s.opts.Pager.Engine
	lang := a.Language
	if !lang.Valid() {
		lang = oncall.English
	}
	words := pager.PageCallPrompts(p, lang, s.opts.Now(), s.opts.Pager.Rules)
	s.printf("📞 page call to %s from %s: «%s»\n", who, s.opts.Pager.CallerID, s.sentence(words))
	s.printf("   engineer> 1 answers and acknowledges; empty line: answers, no key; n no answer; b busy\n")
	s.play(words)
	for {
		line, ok := s.readLine(ctx)
		var o pager.Outcome
		switch key := strings.ToLower(strings.TrimSpace(line)); {
		case !ok:
			s.printf("   (input closed: the engineer does not answer)\n")
			o, ctx = pager.NoAnswer, context.WithoutCancel(ctx)
		case key == "1":
			o = pager.Acked
		case key == "":
			o = pager.NoKey
		case key == "n":
			o = pager.NoAnswer
		case key == "b":
			o = pager.Busy
		default:
			s.printf("   (1 acknowledges, empty line: no key, n no answer, b busy)\n")
			continue
		}
		after, err := eng.AttemptEnded(ctx, a.ID, o, "simulated: "+string(o))
		if err != nil {
			return fmt.Errorf("page %d: %w", a.PageID, err)
		}
		switch {
		case o == pager.Acked && after.AckedBy == a.EngineerID:
			s.say(plainName(p, a)+" hears", pager.AckedPrompts(lang))
		case o == pager.Acked:
			s.say(plainName(p, a)+" hears", pager.TakenPrompts(lang))
		case o == pager.NoKey:
			s.say(plainName(p, a)+" hears", pager.NoKeyPrompts(lang))
		}
		return nil
	}
}

// readLine returns the next line typed; false when the input is closed
// or ctx is done.
func (s *session) readLine(ctx context.Context) (string, bool) {
	select {
	case <-ctx.Done():
		return "", false
	case line, ok := <-s.lines:
		return line, ok
	}
}

// nameOf is "Anna Smirnova (+12025550101)": the engineer a is addressed
// to, or the number alone (the last-resort contact).
func nameOf(p *pager.Page, a pager.Attempt) string {
	if n := plainName(p, a); n != "" {
		return n + " (" + a.To + ")"
	}
	return a.To
}

func plainName(p *pager.Page, a pager.Attempt) string {
	if a.EngineerID == 0 {
		return ""
	}
	for _, t := range p.Paged {
		if t.EngineerID == a.EngineerID {
			return t.Name
		}
	}
	if p.Current.Target.EngineerID == a.EngineerID {
		return p.Current.Target.Name
	}
	return fmt.Sprintf("engineer %d", a.EngineerID)
}
