package pagecall

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/sounds"
)

// reportBudget bounds the report of a call's end to the engine, which is
// made even as the service stops.
const reportBudget = 10 * time.Second

// lostGrace is how long after its ring time a call that never answered
// waits for its channel's end before it looks whether the channel is
// still there (its events may have been lost in a reconnection).
const lostGrace = 15 * time.Second

// What follows a call's prompts.
type then int

const (
	thenNothing then = iota
	thenGather       // wait KeyWait for the key
	thenHangup
	thenDial // call the client back (callback.go)
)

// call is one page call: its channel's events, queued by forward, and
// the state its goroutine (run) keeps alone.
type call struct {
	ch     *Channel
	pages  Pages
	a      pager.Attempt
	id     string
	lang   oncall.Language
	log    *zap.Logger
	sub    ari.Subscription
	client Client

	mu        sync.Mutex
	queue     []ari.Event
	signal    chan struct{} // a token when queue has events
	forwarded chan struct{} // closed when forward has returned
	stop      chan struct{} // closed by abandon
	recheck   chan struct{} // a token when events may have been lost (Reconcile)
	stopOnce  sync.Once

	// run's own.
	up       bool
	over     bool       // the call has ended
	menu     int        // the ask of the menu after the key (callback.go); 0: none
	page     pager.Page // the page, as the key left it, for the menu
	back     *callBack  // the call to the client, while it is placed or goes on
	bridge   string     // the engineer's and the client's
	reported bool
	acked    bool
	playing  string
	prompts  []ivr.Prompt
	after    then
	round    int
	plays    int
	keyBy    time.Time // the end of the wait for the key
	lookAt   time.Time // when to look at the channel, or hang it up
}

func newCall(ch *Channel, client Client, pages Pages, a pager.Attempt, id string, sub ari.Subscription) *call {
	lang := a.Language
	if !lang.Valid() {
		lang = oncall.English
	}
	return &call{ch: ch, client: client, pages: pages, a: a, id: id, lang: lang, sub: sub,
		log:    ch.log.With(zap.Int64(keyAttempt, a.ID), zap.Int64(keyPage, a.PageID), zap.String(keyChannel, id)),
		signal: make(chan struct{}, 1), forwarded: make(chan struct{}), stop: make(chan struct{}),
		recheck: make(chan struct{}, 1)}
}

// forward drains the subscription at once (the bus drops events for a
// subscriber that does not keep up), keeping the call's own events, until
// the subscription is cancelled.
func (c *call) forward() {
	defer close(c.forwarded)
	for e := range c.sub.Events() {
		if e == nil || !c.mine(e) {
			continue
		}
		c.mu.Lock()
		c.queue = append(c.queue, e)
		c.mu.Unlock()
		select {
		case c.signal <- struct{}{}:
		default:
		}
	}
}

// mine reports whether e concerns the call's channel or its playbacks
// (whose ids start with the channel's).
func (c *call) mine(e ari.Event) bool {
	for _, k := range e.Keys() {
		if k.ID == c.id || strings.HasPrefix(k.ID, c.id+"-") {
			return true
		}
	}
	return false
}

func (c *call) take() []ari.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

// abandon ends the call without a report: its channel does not exist.
func (c *call) abandon() { c.stopOnce.Do(func() { close(c.stop) }) }

// run serves the call until its channel is destroyed (or found gone), ctx
// ends or it is abandoned.
func (c *call) run(ctx context.Context, adopted bool) {
	c.lookAt = time.Now().Add(c.ch.cfg.RingFor + lostGrace)
	if adopted {
		c.recheckNow(ctx) // its StasisStart may have come before anyone listened
	}
	for !c.over {
		next := c.lookAt
		if !c.keyBy.IsZero() && c.keyBy.Before(next) {
			next = c.keyBy
		}
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			c.over = true
			c.endCallBack(ctx)
			c.hangup(ctx)
			c.report(ctx, pager.Failed, "the service stopped during the call")
			return
		case <-c.stop:
			timer.Stop()
			return
		case <-c.recheck:
			timer.Stop()
			c.recheckNow(ctx)
		case <-c.signal:
			timer.Stop()
			for _, e := range c.take() {
				if c.handle(ctx, e); c.over {
					return
				}
			}
		case now := <-timer.C:
			if !c.keyBy.IsZero() && !now.Before(c.keyBy) {
				c.keyBy = time.Time{}
				if c.menu > 0 {
					c.nextMenu(ctx)
				} else {
					c.nextRound(ctx)
				}
			}
			if !c.over && !now.Before(c.lookAt) {
				c.look(ctx)
			}
		}
	}
}

// recheckNow looks at the call's channel after events may have been lost
// (a reconnection to ARI, or a call taken up): gone, the call ends;
// answered unseen, the page starts; a prompt whose end was lost, the next
// one plays.
func (c *call) recheckNow(ctx context.Context) {
	d, err := c.ch.data(ctx, c.id)
	switch {
	case arilink.NotFound(err):
		c.lost(ctx)
		return
	case err != nil:
		c.log.Warn("could not look at a page call's channel", zap.Error(err))
		return
	}
	if !c.up {
		if d.State == "Up" {
			c.answered(ctx)
		}
		return
	}
	if id := c.playing; id != "" {
		err := request(ctx, c.ch.cfg.RequestTimeout, "look at the prompt", func() error {
			_, err := c.client.Playback().Data(ari.NewKey(ari.PlaybackKey, id))
			return err
		})
		if arilink.NotFound(err) && c.playing == id {
			c.playing = ""
			c.playNext(ctx)
		}
	}
}

// lost ends a call whose channel is gone without its end seen.
func (c *call) lost(ctx context.Context) {
	o := pager.NoAnswer
	if c.up {
		o = pager.NoKey
	}
	c.report(ctx, o, "the channel is gone; its end was not seen")
	c.over = true
}

// handle acts on e.
func (c *call) handle(ctx context.Context, e ari.Event) {
	switch e := e.(type) {
	case *ari.StasisStart:
		switch {
		case e.Channel.ID == c.id && !c.up:
			c.answered(ctx)
		case c.back != nil && e.Channel.ID == c.back.id && !c.back.up:
			c.clientAnswered(ctx)
		}
	case *ari.ChannelDtmfReceived:
		if e.Channel.ID == c.id { // not the client's
			c.key(ctx, e.Digit)
		}
	case *ari.PlaybackFinished:
		if e.Playback.ID == c.playing {
			c.playing = ""
			c.playNext(ctx)
		}
	case *ari.ChannelDestroyed:
		switch {
		case c.back != nil && e.Channel.ID == c.back.id:
			c.clientEnded(ctx, e.Cause)
		case e.Channel.ID == c.id:
			c.over = true
			c.endCallBack(ctx)
			c.destroyed(ctx, e.Cause, e.CauseTxt)
		}
	}
}

// answered starts the call once the engineer picked up: the code of a
// number's confirmation, or the page.
func (c *call) answered(ctx context.Context) {
	c.up = true
	c.lookAt = time.Now().Add(c.ch.cfg.MaxCall)
	if err := c.pages.ConfirmAttempt(ctx, c.a.ID, c.id); err != nil {
		c.log.Warn("could not confirm the page call's channel", zap.Error(err))
	}
	c.log.Info("page call answered")
	if c.a.Purpose == pager.PurposeCode {
		c.say(ctx, pager.CodeCallPrompts(c.lang, c.a.Body), thenHangup)
		return
	}
	c.round = 1
	c.ask(ctx)
}

// ask announces the page and waits for the key, as the round-th ask.
func (c *call) ask(ctx context.Context) {
	p, _, err := c.pages.Page(ctx, c.a.PageID)
	if err != nil {
		c.log.Error("could not read the page of a page call; hanging up", zap.Error(err))
		c.hangup(ctx)
		return
	}
	if p.Status != pager.Open {
		c.say(ctx, pager.ClosedPrompts(c.lang), thenHangup)
		return
	}
	ps := pager.PageCallPrompts(&p, c.lang, time.Now(), c.ch.cfg.Rules)
	if others := len(p.DigestOf(c.a.ID)); others > 0 {
		ps = append(pager.OpenPagesPrompts(c.lang, others+1), ps...)
	}
	c.say(ctx, ps, thenGather)
}

// key takes a key pressed while the page is asked: it stops the prompt;
// 1 acknowledges, anything else asks again.
func (c *call) key(ctx context.Context, digit string) {
	if c.menu > 0 {
		if c.after == thenGather || !c.keyBy.IsZero() {
			c.menuKey(ctx, digit)
		}
		return
	}
	if c.round == 0 || c.acked || (c.after != thenGather && c.keyBy.IsZero()) {
		return
	}
	c.stopPrompt(ctx)
	c.keyBy = time.Time{}
	if digit != "1" {
		c.nextRound(ctx)
		return
	}
	c.acked = true
	p, err := c.pages.AttemptEnded(ctx, c.a.ID, pager.Acked, "pressed 1")
	if err != nil {
		// Unreported, so that the hang-up ends it without the key and
		// the page goes on.
		c.log.Error("could not record the engineer's 1", zap.Error(err))
		c.hangup(ctx)
		return
	}
	c.reported = true
	c.log.Info("page acknowledged by voice", zap.Int64("engineer_id", c.a.EngineerID))
	switch {
	case p.Status == pager.Acknowledged && p.AckedBy == c.a.EngineerID:
		if !c.offerCallBack(ctx, p) {
			c.say(ctx, pager.AckedPrompts(c.lang), thenHangup)
		}
	case p.Status == pager.Acknowledged:
		c.say(ctx, pager.TakenPrompts(c.lang), thenHangup)
	default:
		c.say(ctx, pager.ClosedPrompts(c.lang), thenHangup)
	}
}

// nextRound asks again, or, after Repeats asks, ends the call without
// the key.
func (c *call) nextRound(ctx context.Context) {
	if c.round < c.ch.cfg.Repeats {
		c.round++
		c.ask(ctx)
		return
	}
	c.round = 0 // no more keys
	c.report(ctx, pager.NoKey, fmt.Sprintf("answered; no 1 after %d asks", c.ch.cfg.Repeats))
	c.say(ctx, pager.NoKeyPrompts(c.lang), thenHangup)
}

// say plays ps one after the other, then does after.
func (c *call) say(ctx context.Context, ps []ivr.Prompt, after then) {
	c.stopPrompt(ctx)
	c.prompts, c.after = slices.Clone(ps), after
	c.playNext(ctx)
}

// playNext plays the next prompt, or does what follows them. A prompt
// Asterisk refuses is skipped.
func (c *call) playNext(ctx context.Context) {
	for len(c.prompts) > 0 {
		pr := c.prompts[0]
		c.prompts = c.prompts[1:]
		uri, ok := sounds.MediaURI(c.ch.cfg.SoundsDir, string(pr.Lang), pr.Name)
		if !ok {
			c.log.Error("a prompt without audio; skipping it", zap.String("prompt", pr.Name))
			continue
		}
		c.plays++
		id := c.id + "-play-" + strconv.Itoa(c.plays)
		err := request(ctx, c.ch.cfg.RequestTimeout, "play a prompt", func() error {
			_, err := c.client.Channel().Play(ari.NewKey(ari.ChannelKey, c.id), id, uri)
			return err
		})
		if err == nil {
			c.playing = id
			return
		}
		if arilink.NotFound(err) {
			if _, derr := c.ch.data(ctx, c.id); arilink.NotFound(derr) {
				c.prompts = nil
				c.lost(ctx) // its ChannelDestroyed may have been lost
				return
			}
		}
		c.log.Warn("could not play a prompt; skipping it", zap.String(keyURI, uri), zap.Error(err))
	}
	after := c.after
	c.after = thenNothing
	switch after {
	case thenGather:
		c.keyBy = time.Now().Add(c.ch.cfg.KeyWait)
	case thenHangup:
		c.hangup(ctx)
	case thenDial:
		c.dialClient(ctx)
	}
}

// stopPrompt stops the prompt playing and drops those after it.
func (c *call) stopPrompt(ctx context.Context) {
	c.prompts = nil
	id := c.playing
	if id == "" {
		return
	}
	c.playing = ""
	err := request(ctx, c.ch.cfg.RequestTimeout, "stop a prompt", func() error {
		return c.client.Playback().Stop(ari.NewKey(ari.PlaybackKey, id))
	})
	if err != nil && !arilink.NotFound(err) {
		c.log.Warn("could not stop a prompt", zap.Error(err))
	}
}

func (c *call) hangup(ctx context.Context) { c.hangupID(ctx, c.id) }

// hangupID hangs up channel id, the page call or the call to the client.
func (c *call) hangupID(ctx context.Context, id string) {
	err := request(context.WithoutCancel(ctx), c.ch.cfg.RequestTimeout, "hang up", func() error {
		return c.client.Channel().Hangup(ari.NewKey(ari.ChannelKey, id), "normal")
	})
	if err != nil && !arilink.NotFound(err) {
		c.log.Warn("could not hang up a page call", zap.Error(err))
	}
}

// look is the call's watchdog: a call whose channel is gone (its end
// lost) ends; one that never answered within its ring time, or answered
// and lasted MaxCall, is hung up (its end follows).
func (c *call) look(ctx context.Context) {
	c.lookAt = time.Now().Add(lostGrace)
	_, err := c.ch.data(ctx, c.id)
	switch {
	case arilink.NotFound(err):
		c.lost(ctx)
	case err != nil:
		c.log.Warn("could not look at a page call's channel", zap.Error(err))
	default:
		c.log.Warn("a page call outlasted its time; hanging up", zap.Bool("answered", c.up))
		c.hangup(ctx)
	}
}

// destroyed ends the call as its channel's end says (Q.850 cause).
func (c *call) destroyed(ctx context.Context, cause int, text string) {
	c.stopPrompt(ctx)
	detail := fmt.Sprintf("call ended: %s (cause %d)", text, cause)
	switch {
	case c.up:
		c.report(ctx, pager.NoKey, "answered; hung up without pressing 1")
	case cause == 17 || cause == 21: // user busy, call rejected
		c.report(ctx, pager.Busy, detail)
	case cause == 16 || cause == 18 || cause == 19: // cleared before the answer, no user responding, no answer
		c.report(ctx, pager.NoAnswer, detail)
	default:
		c.report(ctx, pager.Failed, detail)
	}
}

// report tells the engine how the attempt ended, once.
func (c *call) report(ctx context.Context, o pager.Outcome, detail string) {
	if c.reported {
		return
	}
	c.reported = true
	c.log.Info("page call ended", zap.String(keyOutcome, string(o)), zap.String(keyCause, detail))
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reportBudget)
	defer cancel()
	if _, err := c.pages.AttemptEnded(rctx, c.a.ID, o, detail); err != nil {
		c.log.Error("could not record how a page call ended", zap.String(keyOutcome, string(o)), zap.Error(err))
	}
}
