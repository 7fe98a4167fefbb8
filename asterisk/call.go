package asterisk

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
)

// envelope is what the driver keeps per call in CallStates: the flow's
// state and the Asterisk ids that go with it, so that a restarted process
// can find the channels of the call.
type envelope struct {
	Driver  string    `json:"driver"` // "asterisk"
	Flow    ivr.State `json:"flow"`
	Channel string    `json:"channel"`          // the caller's
	Bridge  string    `json:"bridge,omitempty"` // the caller and the engineer's, once made
	// Asterisk is the entity id of the Asterisk the call is on (its
	// system_info.entity_id), "" if the driver did not know it: the sweep
	// takes up only calls of its own Asterisk.
	Asterisk string `json:"asterisk,omitempty"`
	// Recording is the caller's voicemail being recorded, by name, so
	// that a driver taking the call up finds it (recording.go).
	Recording string `json:"recording,omitempty"`
	// App is the Stasis application serving the call: a call of another
	// instance's whose state stays unchanged is taken over (sweep.go).
	App string `json:"app,omitempty"`
}

// call is one caller's channel in the application and the engineer legs
// rung for it. The driver's router appends its events to queue; the rest
// belongs to the call's goroutine (run).
type call struct {
	d    *Driver
	id   string // the caller's channel id, and the flow's call id
	line string
	from string
	log  *zap.Logger

	mu    sync.Mutex
	queue []any         // ari.Event, or recheck
	wake  chan struct{} // a token when queue has events

	st       ivr.State
	version  int64 // of the state in CallStates; 0: not stored yet
	caller   *party
	legs     map[string]*party // by leg id, which is also the leg's channel id
	bridge   string            // the mixing bridge, once made
	inBridge map[string]bool   // channels seen entering it
	bridged  bool              // Bridged was reported
	wakeAt   time.Time         // the flow's next deadline
	nextTick time.Time         // the next Tick of a caller on hold
	settle   bool              // a Tick is due at once (Result.Settle)
	done     bool              // the flow finished the call
	goneAt   time.Time         // when the caller left
	follow   []ivr.Event       // events the driver itself raised, handled next
	savedAt  time.Time         // when the state was last written
	bound    map[string]bool   // ids routed to this call
	seq      int               // for the ids the call makes
	resumed  bool              // taken up from the store: no answer, no start
}

func newCall(d *Driver, channelID, line, from string) *call {
	c := &call{d: d, id: channelID, line: line, from: from, wake: make(chan struct{}, 1),
		legs: map[string]*party{}, inBridge: map[string]bool{}, bound: map[string]bool{channelID: true},
		log: d.log.With(zap.String(keyCallID, channelID))}
	c.caller = &party{chanID: channelID}
	return c
}

// recheck asks the call to look whether its channels are still there:
// after a reconnection (the events of the gap are lost), or a request
// that found a channel gone.
type recheck struct{}

// deliver queues an event of the call (an ari.Event, or recheck); the
// router calls it.
func (c *call) deliver(e any) {
	c.mu.Lock()
	c.queue = append(c.queue, e)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *call) take() []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

func (c *call) bind(id string) {
	c.bound[id] = true
	c.d.bind(id, c)
}

func (c *call) unbind(id string) {
	delete(c.bound, id)
	c.d.unbind(id)
}

// newID is a new id for something the call creates in Asterisk.
func (c *call) newID(kind string) string {
	c.seq++
	return fmt.Sprintf("%s-%s%d", c.id, kind, c.seq)
}

func (c *call) now() time.Time { return c.d.now() }

// run serves the call until it is over: answered, started in the flow,
// then its events and deadlines in turn.
func (c *call) run(ctx context.Context) {
	defer c.close(ctx)
	if c.resumed {
		c.resume(ctx)
	} else if !c.begin(ctx) {
		return
	}
	for {
		c.followUps(ctx)
		if c.over() {
			return
		}
		var timeout <-chan time.Time
		var timer *time.Timer
		if at, ok := c.nextDeadline(); ok {
			timer = time.NewTimer(max(0, at.Sub(c.now())))
			timeout = timer.C
		}
		select {
		case <-ctx.Done():
		case <-c.wake:
			for _, e := range c.take() {
				switch e := e.(type) {
				case ari.Event:
					c.onEvent(ctx, e)
				case recheck:
					c.recheck(ctx)
				}
			}
		case <-timeout:
			c.onTime(ctx)
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// begin answers the caller and starts the flow; false if the call cannot
// go on.
func (c *call) begin(ctx context.Context) bool {
	ch := c.d.cfg.Client.Channel()
	if err := c.d.request(ctx, "answer", func() error { return ch.Answer(ari.NewKey(ari.ChannelKey, c.id)) }); err != nil {
		c.log.Error("could not answer the caller", zap.Error(err))
		return false
	}
	fctx, cancel := context.WithTimeout(ctx, c.d.cfg.FlowBudget)
	defer cancel()
	st, res, err := c.d.cfg.Flow.Start(fctx, ivr.CallStarted{CallID: c.id, Line: c.line, Caller: c.from, At: c.now()})
	if err != nil {
		c.log.Error("the flow refused the call", zap.Error(err))
		return false
	}
	c.st = st
	if data, err := c.encode(st); err != nil {
		c.log.Error("could not encode the call's state", zap.Error(err))
	} else if err := c.d.cfg.States.CreateCallState(fctx, c.id, data); err != nil {
		c.log.Error("could not store the call's first state; serving it from memory", zap.Error(err))
	} else {
		c.version, c.savedAt = 1, c.now()
	}
	c.log.Info("call answered", zap.String("line", c.line))
	c.apply(ctx, res)
	return true
}

func (c *call) encode(st ivr.State) ([]byte, error) {
	return json.Marshal(envelope{Driver: "asterisk", Flow: st, Channel: c.id, Bridge: c.bridge, Asterisk: c.d.entityID(),
		Recording: c.caller.recorded, App: c.d.cfg.App})
}

// handle runs one event through the flow, saves the new state with
// compare-and-swap (on a conflict, the event is handled again on the
// fresh state), and carries out the result.
func (c *call) handle(ctx context.Context, ev ivr.Event) {
	fctx, cancel := context.WithTimeout(ctx, c.d.cfg.FlowBudget)
	defer cancel()
	for try := 0; ; try++ {
		st, res, err := c.d.cfg.Flow.Handle(fctx, c.st, ev)
		if err != nil {
			c.log.Info("event refused by the flow", zap.String(keyEvent, fmt.Sprintf("%T", ev)), zap.Error(err))
			return
		}
		if c.save(fctx, st) || try >= c.d.cfg.CASRetries {
			c.st = st
			c.apply(ctx, res)
			return
		}
	}
}

// save stores st; false when another writer moved the state, which is
// then loaded into c.st. A store that fails otherwise is logged and the
// call goes on from memory (the next save tries again).
func (c *call) save(ctx context.Context, st ivr.State) bool {
	data, err := c.encode(st)
	if err != nil {
		c.log.Error("could not encode the call's state", zap.Error(err))
		return true
	}
	states := c.d.cfg.States
	if c.version == 0 {
		if err := states.CreateCallState(ctx, c.id, data); err != nil {
			c.log.Error("could not store the call's state", zap.Error(err))
			return true
		}
		c.version, c.savedAt = 1, c.now()
		return true
	}
	v, err := states.UpdateCallState(ctx, c.id, c.version, data)
	switch {
	case err == nil:
		c.version, c.savedAt = v, c.now()
		return true
	case errs.Is(err, errs.Conflict):
		data, v, lerr := states.CallState(ctx, c.id)
		var e envelope
		if lerr == nil {
			lerr = json.Unmarshal(data, &e)
		}
		if lerr != nil {
			c.log.Error("could not load the call's state after a conflict", zap.Error(lerr))
			return true
		}
		c.st, c.version = e.Flow, v
		return false
	default:
		c.log.Error("could not store the call's state; going on from memory", zap.Error(err))
		return true
	}
}

// apply carries out a result: the actions first, then the legs' steps,
// then the caller's.
func (c *call) apply(ctx context.Context, res ivr.Result) {
	for _, a := range res.Actions {
		switch a := a.(type) {
		case ivr.Ring:
			c.ring(ctx, a)
		case ivr.Cancel:
			c.cancelLeg(ctx, a.LegID)
		}
	}
	for _, ls := range res.Legs {
		if p := c.legs[ls.LegID]; p != nil && !p.ended {
			c.startStep(ctx, p, ls.Step)
		}
	}
	if res.Caller != nil && !c.caller.ended {
		c.startStep(ctx, c.caller, res.Caller)
	}
	c.wakeAt = res.WakeAt
	if res.Settle {
		c.settle = true
	}
	if res.Done && !c.done {
		c.done = true
		fctx, cancel := context.WithTimeout(ctx, c.d.cfg.FlowBudget)
		defer cancel()
		if err := c.d.cfg.States.FinishCallState(fctx, c.id); err != nil {
			c.log.Warn("could not mark the call's state finished", zap.Error(err))
		}
	}
}

// followUps handles the events the driver raised itself (a leg that
// could not be placed has ended).
func (c *call) followUps(ctx context.Context) {
	for i := 0; len(c.follow) > 0 && i < 20; i++ {
		ev := c.follow[0]
		c.follow = c.follow[1:]
		c.handle(ctx, ev)
	}
	c.follow = nil
}

// onEvent translates one ARI event of the call.
func (c *call) onEvent(ctx context.Context, e ari.Event) {
	switch e := e.(type) {
	case *ari.StasisStart:
		if p := c.legs[e.Channel.ID]; p != nil && !p.up && !p.ended {
			p.up = true
			c.handle(ctx, ivr.LegAnswered{LegID: p.legID, At: c.now()})
		}
	case *ari.StasisEnd:
		c.left(ctx, e.Channel.ID, -1)
	case *ari.ChannelDestroyed:
		c.left(ctx, e.Channel.ID, e.Cause)
	case *ari.ChannelDtmfReceived:
		if p := c.party(e.Channel.ID); p != nil && !p.ended {
			c.key(ctx, p, e.Digit)
		}
	case *ari.PlaybackFinished:
		c.unbind(e.Playback.ID)
		for _, p := range c.parties() {
			if p.playing == e.Playback.ID {
				p.playing = ""
				c.playNext(ctx, p)
			}
		}
	case *ari.RecordingFinished:
		c.recorded(ctx, e.Recording, true)
	case *ari.RecordingFailed:
		c.recorded(ctx, e.Recording, false)
	case *ari.ChannelEnteredBridge:
		if e.Bridge.ID == c.bridge {
			c.inBridge[e.Channel.ID] = true
			c.reportBridged(ctx)
		}
	}
}

// recheck catches up with events that may have been lost (a reconnection,
// a request that found a channel gone): a party whose channel Asterisk
// no longer has ends as its ChannelDestroyed would have; a leg whose
// channel is up was answered; a prompt Asterisk no longer plays has
// finished.
func (c *call) recheck(ctx context.Context) {
	for _, p := range c.parties() {
		if p.ended {
			continue
		}
		var ch *ari.ChannelData
		err := c.d.request(ctx, "look at a channel", func() error {
			var err error
			ch, err = c.d.cfg.Client.Channel().Data(p.key())
			return err
		})
		switch {
		case arilink.NotFound(err):
			c.log.Info("a channel of the call is gone without its events reaching the driver", zap.String(keyChannel, p.chanID))
			c.left(ctx, p.chanID, 0)
			continue
		case err != nil:
			c.log.Warn("could not look at a channel of the call", zap.String(keyChannel, p.chanID), zap.Error(err))
			continue
		case p != c.caller && !p.up && ch.State == "Up":
			p.up = true // its StasisStart was lost
			c.handle(ctx, ivr.LegAnswered{LegID: p.legID, At: c.now()})
			continue
		}
		if id := p.playing; id != "" && p.toneEnd.IsZero() {
			err := c.d.request(ctx, "look at a prompt", func() error {
				_, err := c.d.cfg.Client.Playback().Data(ari.NewKey(ari.PlaybackKey, id))
				return err
			})
			if arilink.NotFound(err) && p.playing == id { // its PlaybackFinished was lost
				p.playing = ""
				c.unbind(id)
				c.playNext(ctx, p)
			}
		}
	}
}

// party is the caller or a leg of the call by channel id; nil if neither.
func (c *call) party(channelID string) *party {
	if channelID == c.id {
		return c.caller
	}
	return c.legs[channelID]
}

func (c *call) parties() []*party {
	ps := []*party{c.caller}
	for _, p := range c.legs {
		ps = append(ps, p)
	}
	return ps
}

// left handles the end of a channel of the call (StasisEnd: cause -1, or
// ChannelDestroyed with the hang-up cause), whichever comes first.
func (c *call) left(ctx context.Context, channelID string, cause int) {
	p := c.party(channelID)
	if p == nil || p.ended {
		return
	}
	if cause < 0 && !p.up && p != c.caller {
		return // a leg never answered leaves no Stasis; its ChannelDestroyed tells why it ended
	}
	_, recording := p.step.(ivr.Record)
	recording = recording && p.recorded == "" // asked to record, and no recording under way that will report
	p.ended, p.step, p.playing, p.deadline, p.moh, p.toneEnd = true, nil, "", time.Time{}, false, time.Time{}
	if p == c.caller {
		c.callerLeft(ctx, recording)
		return
	}
	reason := p.endReason(cause)
	c.log.Info("engineer leg ended", zap.String(keyLeg, p.legID), zap.String("reason", string(reason)), zap.Int(keyCause, cause))
	c.dropBridge(ctx)
	c.handle(ctx, ivr.LegEnded{LegID: p.legID, Reason: reason, At: c.now()})
}

// callerLeft: the caller hung up. The flow hears of it, and every leg the
// flow gave no last words to is hung up. A caller who hangs up at the
// voicemail before their recording started (during its prompts or tone,
// or with Asterisk going down) left nothing: the flow is told so at once
// (RecordingDone with nothing), instead of waiting RecordingGrace for a
// recording no one will report.
func (c *call) callerLeft(ctx context.Context, unrecorded bool) {
	c.goneAt, c.nextTick = c.now(), time.Time{}
	c.log.Info("the caller hung up")
	c.handle(ctx, ivr.HungUp{At: c.now()})
	if unrecorded {
		c.handle(ctx, ivr.RecordingDone{At: c.now()})
	}
	for _, p := range c.legs {
		if _, last := p.step.(ivr.Hangup); !p.ended && !last {
			p.canceled = !p.up
			c.hangup(ctx, p)
		}
	}
	c.dropBridge(ctx)
}

// over reports whether the call's goroutine may end: the caller and every
// leg gone (or given up on after LegGrace), nothing due from the flow.
func (c *call) over() bool {
	if !c.caller.ended || c.settle || len(c.follow) > 0 || (!c.done && !c.wakeAt.IsZero()) {
		return false
	}
	if c.now().Sub(c.goneAt) >= c.d.cfg.LegGrace {
		return true
	}
	for _, p := range c.legs {
		if !p.ended {
			return false
		}
	}
	return true
}

// nextDeadline is the earliest time something is due: a Gather's timeout,
// a Tick of the caller on hold, the flow's deadline, the end of LegGrace.
func (c *call) nextDeadline() (time.Time, bool) {
	var at time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	if c.settle {
		consider(c.now())
	}
	for _, p := range c.parties() {
		consider(p.deadline)
		consider(p.toneEnd)
	}
	consider(c.nextTick)
	consider(c.wakeAt)
	if c.live() {
		consider(c.savedAt.Add(c.d.cfg.refresh()))
	}
	if c.caller.ended {
		consider(c.goneAt.Add(c.d.cfg.LegGrace))
	}
	return at, !at.IsZero()
}

// onTime handles what is due now.
func (c *call) onTime(ctx context.Context) {
	now := c.now()
	for _, p := range c.parties() {
		if !p.deadline.IsZero() && !now.Before(p.deadline) {
			c.gathered(ctx, p, false)
		}
		if !p.toneEnd.IsZero() && !now.Before(p.toneEnd) {
			c.toneDone(ctx, p)
		}
	}
	tick := c.settle
	c.settle = false
	if !c.wakeAt.IsZero() && !now.Before(c.wakeAt) {
		c.wakeAt, tick = time.Time{}, true
	}
	if !c.nextTick.IsZero() && !now.Before(c.nextTick) {
		c.nextTick, tick = now.Add(c.d.cfg.HoldTick), true
	}
	if tick {
		c.handle(ctx, ivr.Tick{At: now})
	}
	if c.live() && !now.Before(c.savedAt.Add(c.d.cfg.refresh())) {
		fctx, cancel := context.WithTimeout(ctx, c.d.cfg.FlowBudget)
		defer cancel()
		c.save(fctx, c.st)
	}
}

// refresh is how often the state of a live call is written again when
// nothing changed it (a caller talking with an engineer, recording a
// message): half of SweepIdle, so that a state left unchanged for that
// long is one whose instance stopped (sweep.go).
func (c Config) refresh() time.Duration { return c.SweepIdle / 2 }

// live reports whether the call is stored and its caller still on the
// line with the flow going on.
func (c *call) live() bool { return c.version > 0 && !c.caller.ended && !c.done }

// close ends what the call still holds in Asterisk (unless the driver is
// stopping: calls are then left for a restarted process) and forgets its
// routes.
func (c *call) close(ctx context.Context) {
	if ctx.Err() == nil {
		for _, p := range c.parties() {
			if !p.ended {
				c.hangup(ctx, p)
			}
		}
		c.dropBridge(ctx)
	}
	for id := range c.bound {
		c.d.unbind(id)
	}
	c.log.Debug("call over")
}
