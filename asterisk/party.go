package asterisk

import (
	"context"
	"slices"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds"
)

// Steps are rendered here from the call's own events rather than with
// ext/play: a Session subscribes to DTMF only once its goroutine runs (a
// key pressed as the step starts is lost, and so is any key between two
// sessions), and it reads and writes its result from several goroutines
// without a lock, which -race reports. One queue of events per call keeps
// every key, in order, for whichever step is current.

// party is the caller or one engineer leg: its channel and the step it is
// in.
type party struct {
	chanID   string
	legID    string       // "" for the caller
	step     ivr.Step     // the current step; nil once its answer went to the flow
	queue    []ivr.Prompt // the step's prompts still to play
	playing  string       // the playback in progress
	digits   string       // keys of the current Gather
	deadline time.Time    // when the current Gather times out
	moh      bool         // hold music on
	up       bool         // in Stasis: the caller answered, a leg picked up
	ended    bool
	canceled bool      // the driver hung up a leg that was ringing
	ready    bool      // Connect: its prompts are played
	toned    bool      // Record: the tone before the recording was played
	toneEnd  time.Time // when the tone playing is stopped and the recording starts
	recorded string    // the recording in progress
}

func (p *party) key() *ari.Key { return ari.NewKey(ari.ChannelKey, p.chanID) }

// endReason is why a leg ended, from ChannelDestroyed's cause (Q.850).
func (p *party) endReason(cause int) ivr.EndReason {
	switch {
	case p.canceled:
		return ivr.Canceled
	case p.up:
		return ivr.Completed
	case cause == 17 || cause == 21: // user busy, call rejected
		return ivr.Busy
	case cause == 16 || cause == 18 || cause == 19: // ended before the answer, no user responding, no answer
		return ivr.NoAnswer
	default:
		return ivr.Failed
	}
}

// startStep puts p into step s: what it was hearing stops, the step's
// prompts start.
func (c *call) startStep(ctx context.Context, p *party, s ivr.Step) {
	c.stopAudio(ctx, p, true)
	p.toneEnd = time.Time{}
	p.step, p.queue, p.digits, p.deadline, p.ready, p.toned = s, slices.Clone(ivr.StepPrompts(s)), "", time.Time{}, false, false
	if p == c.caller {
		if _, hold := s.(ivr.Hold); !hold {
			c.nextTick = time.Time{}
		} else if c.nextTick.IsZero() {
			c.nextTick = c.now().Add(c.d.cfg.HoldTick)
		}
	}
	c.playNext(ctx, p)
}

// stopAudio stops p's prompt (and the prompts after it), and the hold
// music too if moh.
func (c *call) stopAudio(ctx context.Context, p *party, moh bool) {
	p.queue = nil
	if id := p.playing; id != "" {
		p.playing = ""
		c.unbind(id)
		err := c.d.request(ctx, "stop a prompt", func() error { return c.d.cfg.Client.Playback().Stop(ari.NewKey(ari.PlaybackKey, id)) })
		if err != nil && !arilink.NotFound(err) {
			c.log.Warn("could not stop a prompt", zap.String(keyChannel, p.chanID), zap.Error(err))
		}
	}
	if moh && p.moh {
		p.moh = false
		err := c.d.request(ctx, "stop hold music", func() error { return c.d.cfg.Client.Channel().StopMOH(p.key()) })
		if err != nil && !arilink.NotFound(err) {
			c.log.Warn("could not stop the hold music", zap.String(keyChannel, p.chanID), zap.Error(err))
		}
	}
}

// playNext plays p's next prompt, or goes on with the step once they are
// all played. A prompt Asterisk refuses is skipped.
func (c *call) playNext(ctx context.Context, p *party) {
	for len(p.queue) > 0 && !p.ended {
		pr := p.queue[0]
		p.queue = p.queue[1:]
		uri, ok := sounds.MediaURI(c.d.cfg.SoundsDir, string(pr.Lang), pr.Name)
		if !ok {
			c.log.Error("a prompt without audio; skipping it", zap.String("prompt", pr.Name), zap.String("lang", string(pr.Lang)))
			continue
		}
		id := c.newID("play")
		c.bind(id)
		err := c.d.request(ctx, "play a prompt", func() error {
			_, err := c.d.cfg.Client.Channel().Play(p.key(), id, uri)
			return err
		})
		if err == nil {
			p.playing = id
			return
		}
		c.unbind(id)
		if arilink.NotFound(err) {
			// ARI answers 404 for the channel, never for a missing sound
			// file (that playback starts and fails): the channel is
			// leaving, and its StasisEnd follows (a recheck makes sure).
			p.queue = nil
			c.deliver(recheck{})
			return
		}
		c.log.Warn("could not play a prompt; skipping it", zap.String(keyChannel, p.chanID), zap.String("uri", uri), zap.Error(err))
	}
	if !p.ended {
		c.promptsDone(ctx, p)
	}
}

// promptsDone goes on with p's step once its prompts are played.
func (c *call) promptsDone(ctx context.Context, p *party) {
	switch s := p.step.(type) {
	case ivr.Gather:
		p.deadline = c.now().Add(s.Timeout)
	case ivr.Hold:
		if !p.moh {
			err := c.d.request(ctx, "start hold music", func() error { return c.d.cfg.Client.Channel().MOH(p.key(), c.d.cfg.HoldMusic) })
			if err != nil {
				c.log.Warn("could not start the hold music", zap.String(keyChannel, p.chanID), zap.Error(err))
			}
			p.moh = err == nil
		}
	case ivr.Connect:
		p.ready = true
		c.connect(ctx, s.LegID)
	case ivr.Record:
		if !p.toned && c.tone(ctx, p) {
			return // the recording starts when the tone has played
		}
		c.record(ctx, p, s)
	case ivr.Hangup:
		c.hangup(ctx, p)
	}
}

// recordTone is the tone before a voicemail, played for toneLength (a
// tone playback lasts until stopped). It is Asterisk's tone generator
// rather than its "beep" sound, which an install without Asterisk's core
// sounds lacks (a recording asked to beep then fails).
const (
	recordTone = "tone:1000"
	toneLength = 400 * time.Millisecond
)

// tone plays the tone before p's recording; false if it could not.
func (c *call) tone(ctx context.Context, p *party) bool {
	p.toned = true
	id := c.newID("tone")
	c.bind(id)
	err := c.d.request(ctx, "play the tone", func() error {
		_, err := c.d.cfg.Client.Channel().Play(p.key(), id, recordTone)
		return err
	})
	if err != nil {
		c.unbind(id)
		c.log.Warn("could not play the tone before the voicemail", zap.Error(err))
		return false
	}
	p.playing, p.toneEnd = id, c.now().Add(toneLength)
	return true
}

// toneDone stops the tone and starts p's recording.
func (c *call) toneDone(ctx context.Context, p *party) {
	p.toneEnd = time.Time{}
	c.stopAudio(ctx, p, false)
	if s, ok := p.step.(ivr.Record); ok && !p.ended {
		c.record(ctx, p, s)
	}
}

// key handles a key p pressed: during a Gather it stops the prompt and is
// collected; on hold it is the caller's HoldKey; otherwise it changes
// nothing.
func (c *call) key(ctx context.Context, p *party, digit string) {
	switch s := p.step.(type) {
	case ivr.Gather:
		c.stopAudio(ctx, p, false)
		if s.Terminator != "" && digit == s.Terminator {
			c.gathered(ctx, p, true)
			return
		}
		p.digits += digit
		if s.MaxDigits > 0 && len(p.digits) >= s.MaxDigits {
			c.gathered(ctx, p, false)
			return
		}
		p.deadline = c.now().Add(s.Timeout)
	case ivr.Hold:
		if p == c.caller {
			c.handle(ctx, ivr.HoldKey{Key: digit, At: c.now()})
		}
	}
}

// gathered ends p's Gather: the keys go to the flow.
func (c *call) gathered(ctx context.Context, p *party, finished bool) {
	if _, ok := p.step.(ivr.Gather); !ok {
		return
	}
	c.stopAudio(ctx, p, false)
	digits := p.digits
	p.step, p.digits, p.deadline = nil, "", time.Time{}
	c.log.Debug("keys gathered", zap.String(keyChannel, p.chanID), zap.String("digits", digits), zap.Bool("finished", finished))
	if p == c.caller {
		c.handle(ctx, ivr.Digits{Digits: digits, Finished: finished, At: c.now()})
		return
	}
	c.handle(ctx, ivr.LegDigits{LegID: p.legID, Digits: digits, At: c.now()})
}

// hangup hangs p's channel up.
func (c *call) hangup(ctx context.Context, p *party) {
	err := c.d.request(context.WithoutCancel(ctx), "hang up", func() error { return c.d.cfg.Client.Channel().Hangup(p.key(), "normal") })
	if err != nil && !arilink.NotFound(err) {
		c.log.Warn("could not hang up a channel", zap.String(keyChannel, p.chanID), zap.Error(err))
	}
}

// ring originates leg r to the engineer into the application, its events
// routed to the call before it is dialled. A leg that cannot be placed has
// failed, and the flow moves on.
func (c *call) ring(ctx context.Context, r ivr.Ring) {
	log := c.log.With(zap.String(keyLeg, r.LegID))
	p := &party{chanID: r.LegID, legID: r.LegID}
	c.legs[r.LegID] = p
	failed := func(err error) {
		log.Error("could not ring the engineer; trying the next one", zap.Error(err))
		p.ended = true
		c.unbind(p.chanID)
		c.follow = append(c.follow, ivr.LegEnded{LegID: r.LegID, Reason: ivr.Failed, At: c.now()})
	}
	endpoint, ok := c.d.cfg.endpoint(r.Phone)
	if !ok {
		log.Error("no endpoint for the engineer's number", zap.String("phone", r.Phone))
		p.ended = true
		c.follow = append(c.follow, ivr.LegEnded{LegID: r.LegID, Reason: ivr.Failed, At: c.now()})
		return
	}
	h, err := c.d.cfg.Client.Channel().StageOriginate(ari.NewKey(ari.ChannelKey, c.id), ari.OriginateRequest{
		Endpoint: endpoint, Timeout: int((r.Timeout + time.Second - 1) / time.Second), CallerID: r.CallerID,
		App: c.d.cfg.App, AppArgs: ArgLeg + "," + r.LegID, ChannelID: p.chanID,
	})
	if err != nil {
		failed(err)
		return
	}
	c.bind(p.chanID) // subscribed before it is dialled
	if err := c.d.request(ctx, "originate", h.Exec); err != nil {
		failed(err)
		return
	}
	log.Info("ringing an engineer", zap.Int64("engineer_id", r.EngineerID), zap.String("endpoint", endpoint))
}

// cancelLeg hangs a leg up; its end follows as ChannelDestroyed.
func (c *call) cancelLeg(ctx context.Context, legID string) {
	p := c.legs[legID]
	if p == nil || p.ended {
		return
	}
	p.canceled = !p.up
	c.hangup(ctx, p)
}

// connect bridges the caller with leg legID once both have heard their
// Connect prompts; Bridged follows when both are seen in the bridge.
func (c *call) connect(ctx context.Context, legID string) {
	leg := c.legs[legID]
	if leg == nil || leg.ended || c.caller.ended || c.bridge != "" {
		return
	}
	if _, ok := c.caller.step.(ivr.Connect); !ok || !c.caller.ready {
		return
	}
	if _, ok := leg.step.(ivr.Connect); ok && !leg.ready {
		return
	}
	id := c.newID("bridge")
	c.bind(id)
	br := c.d.cfg.Client.Bridge()
	key := ari.NewKey(ari.BridgeKey, id)
	err := c.d.request(ctx, "create the bridge", func() error { _, err := br.Create(key, "mixing", id); return err })
	if err != nil {
		c.unbind(id)
		c.log.Error("could not create the bridge; ending the leg", zap.Error(err))
		c.hangup(ctx, leg)
		return
	}
	c.bridge = id
	for _, ch := range []string{c.id, leg.chanID} {
		if err := c.d.request(ctx, "add to the bridge", func() error { return br.AddChannel(key, ch) }); err != nil {
			c.log.Error("could not add a channel to the bridge; ending the leg", zap.String(keyChannel, ch), zap.Error(err))
			c.hangup(ctx, leg)
			return
		}
	}
}

// reportBridged tells the flow, once, that both are in the bridge.
func (c *call) reportBridged(ctx context.Context) {
	for _, p := range c.legs {
		if c.bridged || p.ended || !c.inBridge[c.id] || !c.inBridge[p.chanID] {
			continue
		}
		c.bridged = true
		c.handle(ctx, ivr.Bridged{LegID: p.legID, At: c.now()})
	}
}

// dropBridge destroys the bridge, if any: its channels leave it.
func (c *call) dropBridge(ctx context.Context) {
	id := c.bridge
	if id == "" {
		return
	}
	c.bridge = ""
	err := c.d.request(context.WithoutCancel(ctx), "destroy the bridge", func() error {
		return c.d.cfg.Client.Bridge().Delete(ari.NewKey(ari.BridgeKey, id))
	})
	if err != nil && !arilink.NotFound(err) {
		c.log.Warn("could not destroy the bridge", zap.String("bridge", id), zap.Error(err))
	}
	c.unbind(id)
}
