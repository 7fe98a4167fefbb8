package webhooks

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/pager"
)

// A webhook never waits on Twilio's REST API: Twilio gives a webhook 15 s
// and twilio-go's requests take no context, so a hanging API would hang
// the caller's webhook past that (Twilio then plays the Fallback while
// engineers may really be ringing). What a saved result asks of the
// telephony is carried out in two ways instead:
//   - an engineer leg is written into the pager's outbox (Legs) and
//     placed by its engine, under a lease, with the look-up at Twilio
//     before any resend after a crash, and with one voice call in flight
//     per engineer number for legs and page calls together;
//   - changes to live calls (a redirect, a cancel, deleting a queue) are
//     queued per call and made by a goroutine of the call's own, in order,
//     outside the call's lock: a lost one is caught up by the next
//     webhook (the wait URL answers the caller's document; a leg's next
//     request answers its own) or by the sweep.

// Legs is the outbox that places engineer legs (pager.Engine).
type Legs interface {
	// PlaceLeg writes the leg durably; the engine places it.
	PlaceLeg(ctx context.Context, r pager.LegRequest) error
	// CancelLeg ends the leg if it is not being placed yet, and reports
	// whether it did.
	CancelLeg(ctx context.Context, callID, legID string) (bool, error)
	// LegEnded records the leg's end, freeing its number.
	LegEnded(ctx context.Context, callID, legID string, o pager.Outcome, detail string) error
	// AttemptByProviderID returns the outbox's attempt that owns a
	// provider id; errs.NotFound if none.
	AttemptByProviderID(ctx context.Context, providerID string) (pager.Attempt, error)
}

// carryOut does what a saved result asks of the telephony: the actions
// (ring, cancel) first, then the steps of the parties that are not
// answering this request, applied to their live calls. It returns the
// events that follow (a leg that could not be placed has ended).
func (d *Driver) carryOut(ctx context.Context, callID string, src source, legID string, out outcome) []ivr.Event {
	if !out.applied {
		return nil
	}
	res := out.res
	var follow []ivr.Event
	for _, a := range res.Actions {
		switch a := a.(type) {
		case ivr.Ring:
			if ev := d.ring(ctx, callID, a); ev != nil {
				follow = append(follow, ev)
			}
		case ivr.Cancel:
			d.cancel(ctx, callID, a.LegID)
		}
	}
	for _, ls := range res.Legs {
		if src == fromLeg && ls.LegID == legID {
			continue // the leg's own webhook answers with it
		}
		d.pushLeg(callID, ls, out)
	}
	if res.Caller != nil && src != fromCaller && src != fromWait {
		d.pushCaller(callID, out)
	}
	if res.Settle {
		// The finished call's ticket note, after this request is answered:
		// queued behind the call's other effects, never inside a webhook.
		d.effects.do(callID, func(ctx context.Context) { d.settle(ctx, callID) })
	}
	return follow
}

// ring has an engineer leg placed: the engineer sees the line's number. A
// leg that cannot even be written down has failed, and the flow moves on.
func (d *Driver) ring(ctx context.Context, callID string, r ivr.Ring) ivr.Event {
	log := d.log.With(zap.String(keyCallSid, callID), zap.String(keyLeg, r.LegID))
	if d.cfg.Legs == nil {
		return d.ringNow(ctx, log, callID, r)
	}
	if err := d.cfg.Legs.PlaceLeg(ctx, *ringRequest(callID, r)); err != nil {
		log.Error("could not write the engineer leg down; trying the next engineer", zap.Error(err))
		return ivr.LegEnded{LegID: r.LegID, Reason: ivr.Failed, At: d.now()}
	}
	return nil
}

// ringRequest is the outbox's request for ring r of call callID.
func ringRequest(callID string, r ivr.Ring) *pager.LegRequest {
	return &pager.LegRequest{CallID: callID, LegID: r.LegID, EngineerID: r.EngineerID,
		To: r.Phone, From: r.CallerID, RingFor: r.Timeout}
}

// keepLegPlaced writes the leg being rung into the outbox again while
// Twilio has no call for it: a crash between the saved state that rang it
// and its outbox row would otherwise leave the engineer unrung until the
// ring time runs out. The outbox keeps one row per leg, so writing it again
// changes nothing when the row is there. The wait URL calls it, every few
// seconds of hold.
func (d *Driver) keepLegPlaced(ctx context.Context, callID string, e envelope) {
	leg := e.Flow.Leg
	if d.cfg.Legs == nil || e.Flow.Phase != ivr.PhaseRouting || leg.ID == "" || !leg.AnsweredAt.IsZero() {
		return
	}
	l := e.Legs[leg.ID]
	if l == nil || l.Ring == nil || l.SID != "" || l.Ended || l.Cancel {
		return
	}
	if err := d.cfg.Legs.PlaceLeg(ctx, *l.Ring); err != nil {
		d.log.Warn("could not write the ringing leg into the outbox again", zap.String(keyCallSid, callID),
			zap.String(keyLeg, leg.ID), zap.Error(err))
	}
}

// ringNow places a leg inside the webhook (no Legs: tests of the driver
// alone).
func (d *Driver) ringNow(ctx context.Context, log *zap.Logger, callID string, r ivr.Ring) ivr.Event {
	sid, err := d.createLeg(ctx, callID, r.LegID, r.Phone, r.CallerID, r.Timeout)
	if err != nil {
		log.Error("could not call the engineer; trying the next one", zap.Error(err))
		return ivr.LegEnded{LegID: r.LegID, Reason: ivr.Failed, At: d.now()}
	}
	d.legPlaced(ctx, callID, r.LegID, sid)
	return nil
}

// createLeg asks Twilio to call an engineer for leg legID of call callID.
func (d *Driver) createLeg(ctx context.Context, callID, legID, to, from string, ringFor time.Duration) (string, error) {
	return d.cfg.REST.CreateCall(ctx, OutboundCall{
		To: to, From: from, Timeout: ringFor,
		URL:            d.docs.legLink(legID, "answer", 0),
		StatusCallback: d.docs.legLink(legID, "status", 0),
		FallbackURL:    d.docs.legLink(legID, "fallback", 0),
		AMDCallback:    d.docs.legLink(legID, "amd", 0),
	})
}

// legPlaced records the CallSid of a leg Twilio has taken, and cancels the
// leg at once if the flow cancelled it meanwhile.
func (d *Driver) legPlaced(ctx context.Context, callID, legID, sid string) {
	cancel := false
	_, err := d.update(ctx, callID, func(e *envelope) (bool, error) {
		l := e.leg(legID)
		if l.SID == sid {
			cancel = l.Cancel
			return false, nil
		}
		l.SID, cancel = sid, l.Cancel
		return true, nil
	})
	if err != nil {
		// The leg's own webhooks carry its CallSid and record it then.
		d.log.Error("could not record the engineer leg's call sid", zap.String(keyCallSid, callID),
			zap.String(keyLeg, legID), zap.String(keyLegSid, sid), zap.Error(err))
	}
	if cancel {
		d.updateLeg(callID, legID, sid, CallUpdate{Status: "canceled"})
	}
}

// cancel stops a leg: one still waiting in the outbox is ended there; a
// ringing call is cancelled, one in progress is ended. A leg whose call
// sid is not known yet (being placed) is marked, and cancelled when it is.
func (d *Driver) cancel(ctx context.Context, callID, legID string) {
	if d.cfg.Legs != nil {
		never, err := d.cfg.Legs.CancelLeg(ctx, callID, legID)
		if err != nil {
			d.log.Warn("could not cancel a leg in the outbox; cancelling it at Twilio once placed",
				zap.String(keyCallSid, callID), zap.String(keyLeg, legID), zap.Error(err))
		}
		if never {
			return
		}
	}
	var sid string
	var answered bool
	_, err := d.update(ctx, callID, func(e *envelope) (bool, error) {
		l := e.leg(legID)
		sid, answered = l.SID, l.Answered
		if sid == "" && !l.Cancel {
			l.Cancel = true
			return true, nil
		}
		return false, nil
	})
	if err != nil || sid == "" {
		if err != nil {
			d.log.Error("could not mark a leg cancelled", zap.String(keyLeg, legID), zap.Error(err))
		}
		return
	}
	status := "canceled"
	if answered {
		status = "completed"
	}
	d.updateLeg(callID, legID, sid, CallUpdate{Status: status})
}

// updateLeg changes an engineer leg's live call, off the webhook path.
func (d *Driver) updateLeg(callID, legID, sid string, u CallUpdate) {
	d.effects.do(callID, func(ctx context.Context) {
		if err := d.cfg.REST.UpdateCall(ctx, sid, u); err != nil {
			d.log.Warn("could not update an engineer leg", zap.String(keyCallSid, callID), zap.String(keyLeg, legID),
				zap.String(keyStatus, u.Status), zap.Error(err))
		}
	})
}

// pushLeg applies a step to a leg whose own webhook is not being answered:
// it is redirected to its new document, or simply ended.
func (d *Driver) pushLeg(callID string, ls ivr.LegStep, out outcome) {
	l := out.env.Legs[ls.LegID]
	h, isHangup := ls.Step.(ivr.Hangup)
	switch {
	case l == nil || l.SID == "" || l.Ended:
		return
	case isHangup && out.before == ivr.PhaseConnected && !out.env.Flow.Leg.BridgedAt.IsZero():
		return // bridged: Twilio ends the leg's <Dial> when the caller goes
	case isHangup && len(h.Prompts) == 0:
		d.updateLeg(callID, ls.LegID, l.SID, CallUpdate{Status: "completed"})
	default:
		d.updateLeg(callID, ls.LegID, l.SID, CallUpdate{URL: d.docs.legLink(ls.LegID, "step", l.Doc.Seq)})
	}
}

// pushCaller applies the caller's new document to the live call, by
// redirecting it (the wait URL would also answer <Leave/> next time). A
// caller bridged to an engineer is left alone: the end of the bridge
// brings the caller to the <Enqueue> action, which answers the document.
func (d *Driver) pushCaller(callID string, out outcome) {
	c := out.env.Caller
	if out.before == ivr.PhaseConnected || (c.Kind != kindRecord && c.Kind != kindHangup) {
		return
	}
	to := d.docs.link(pathStep, c.Seq)
	d.effects.do(callID, func(ctx context.Context) {
		if err := d.cfg.REST.UpdateCall(ctx, callID, CallUpdate{URL: to}); err != nil {
			d.log.Warn("could not redirect the caller; the wait URL will take them out of the queue",
				zap.String(keyCallSid, callID), zap.Error(err))
		}
	})
}

// legEndOutcomes is how the outbox records a leg's end, by why it ended.
var legEndOutcomes = map[ivr.EndReason]pager.Outcome{
	ivr.Completed: pager.Completed, ivr.Busy: pager.Busy, ivr.NoAnswer: pager.NoAnswer,
	ivr.Failed: pager.Failed, ivr.Canceled: pager.Canceled, ivr.Machine: pager.Machine,
}

// legEnded tells the outbox that a leg's call is over, so that its
// engineer's number is free for the next voice call.
func (d *Driver) legEnded(ctx context.Context, callID, legID string, reason ivr.EndReason) {
	if d.cfg.Legs == nil {
		return
	}
	o, ok := legEndOutcomes[reason]
	if !ok {
		o = pager.Failed
	}
	if err := d.cfg.Legs.LegEnded(ctx, callID, legID, o, "call status "+string(reason)); err != nil {
		// The stale scan asks Twilio about it later.
		d.log.Warn("could not record the end of an engineer leg in the outbox", zap.String(keyCallSid, callID),
			zap.String(keyLeg, legID), zap.Error(err))
	}
}

// effects are the calls' queued changes at Twilio: per call, in order, by
// one goroutine of the call's that ends when its queue is empty; each
// request is bounded by the REST client's own timeout, and all by
// effectsBudget.
type effects struct {
	mu     sync.Mutex
	queues map[string][]func(context.Context) // call id → what waits behind the running one
	wg     sync.WaitGroup
	ctx    context.Context
	stop   context.CancelFunc
}

// effectsBudget bounds one queued change, beyond the REST client's own
// timeout (twilio-go's requests take no context).
const effectsBudget = 30 * time.Second

func newEffects() *effects {
	ctx, stop := context.WithCancel(context.Background())
	return &effects{queues: map[string][]func(context.Context){}, ctx: ctx, stop: stop}
}

// do queues fn for call callID.
func (x *effects) do(callID string, fn func(context.Context)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if q, running := x.queues[callID]; running {
		x.queues[callID] = append(q, fn)
		return
	}
	x.queues[callID] = nil
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		for fn != nil {
			ctx, cancel := context.WithTimeout(x.ctx, effectsBudget)
			fn(ctx)
			cancel()
			x.mu.Lock()
			if q := x.queues[callID]; len(q) > 0 {
				fn, x.queues[callID] = q[0], q[1:]
			} else {
				fn = nil
				delete(x.queues, callID)
			}
			x.mu.Unlock()
		}
	}()
}

// wait waits for the queued changes until ctx is done, then gives up the
// rest.
func (x *effects) wait(ctx context.Context) {
	if !x.flush(ctx) {
		x.stop()
	}
}

// flush waits for the queued changes until ctx is done, and reports
// whether they were all made.
func (x *effects) flush(ctx context.Context) bool {
	done := make(chan struct{})
	go func() { x.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// LegChannel is the pager's channel of engineer legs: the engine places
// the legs written into its outbox through it.
func (d *Driver) LegChannel() pager.LegChannel { return legChannel{d} }

type legChannel struct{ d *Driver }

func (c legChannel) Send(ctx context.Context, a pager.Attempt) (string, error) {
	if s, err := c.d.load(ctx, a.CallID); err == nil {
		if l := s.env.Legs[a.Key]; s.env.Flow.Phase == ivr.PhaseDone || (l != nil && (l.Cancel || l.Ended)) {
			return "", &pager.SendError{Class: pager.Permanent, Outcome: pager.Canceled,
				Err: errs.E(errs.Conflict, "", "the call no longer wants leg %s", a.Key)}
		}
	}
	sid, err := c.d.createLeg(ctx, a.CallID, a.Key, a.To, a.From, a.RingFor)
	if err != nil {
		return "", err
	}
	c.d.legPlaced(ctx, a.CallID, a.Key, sid)
	return sid, nil
}

// Find looks, for a leg in doubt, among the latest calls from the line to
// the engineer for one made after the leg's claim that no other attempt
// owns.
func (c legChannel) Find(ctx context.Context, a pager.Attempt) (string, error) {
	recs, err := c.d.cfg.REST.RecentCalls(ctx, a.To, a.From)
	if err != nil {
		return "", err
	}
	sid, err := match(ctx, a, recs, anyRecord, c.d.cfg.Legs.AttemptByProviderID)
	if sid != "" {
		c.d.legPlaced(ctx, a.CallID, a.Key, sid)
	}
	return sid, err
}

// Poll asks Twilio how a leg whose status callback never came ended.
func (c legChannel) Poll(ctx context.Context, a pager.Attempt) (pager.Outcome, error) {
	st, err := c.d.cfg.REST.CallStatus(ctx, a.ProviderID)
	if errs.Is(err, errs.NotFound) {
		return pager.Failed, nil
	}
	if err != nil {
		return "", err
	}
	reason, final := legEndReasons[st]
	if !final {
		return "", nil
	}
	return legEndOutcomes[reason], nil
}

// LegOver ends, in the call's flow, a leg the engine ended: it could not
// be placed, or its end never reached the service.
func (c legChannel) LegOver(ctx context.Context, a pager.Attempt, o pager.Outcome, detail string) {
	reason := ivr.Failed
	for r, out := range legEndOutcomes {
		if out == o {
			reason = r
		}
	}
	c.d.log.Warn("the outbox ended an engineer leg", zap.String(keyCallSid, a.CallID), zap.String(keyLeg, a.Key),
		zap.String(keyOutcome, string(o)), zap.String(keyDetail, detail))
	_, err := c.d.apply(ctx, a.CallID, fromOther, a.Key, func(e *envelope) (ivr.Event, bool) {
		l := e.Legs[a.Key]
		if l == nil || l.Ended {
			return nil, false
		}
		l.Ended = true
		return ivr.LegEnded{LegID: a.Key, Reason: reason, At: c.d.now()}, true
	})
	if err != nil && !errs.Is(err, errs.NotFound) {
		c.d.log.Error("could not end the leg in its call's flow", zap.String(keyCallSid, a.CallID), zap.String(keyLeg, a.Key), zap.Error(err))
	}
}
