package webhooks

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
)

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
		d.pushLeg(ctx, callID, ls, out)
	}
	if res.Caller != nil && src != fromCaller && src != fromWait {
		d.pushCaller(ctx, callID, out)
	}
	return follow
}

// ring places an engineer leg: the engineer sees the line's number. A leg
// that cannot be placed has failed, and the flow moves on.
func (d *Driver) ring(ctx context.Context, callID string, r ivr.Ring) ivr.Event {
	log := d.log.With(zap.String(keyCallSid, callID), zap.String(keyLeg, r.LegID))
	sid, err := d.cfg.REST.CreateCall(ctx, OutboundCall{
		To: r.Phone, From: r.CallerID, Timeout: r.Timeout,
		URL:            d.legLink(r.LegID, "answer", 0),
		StatusCallback: d.legLink(r.LegID, "status", 0),
		FallbackURL:    d.legLink(r.LegID, "fallback", 0),
		AMDCallback:    d.legLink(r.LegID, "amd", 0),
	})
	if err != nil {
		log.Error("could not call the engineer; trying the next one", zap.Error(err))
		return ivr.LegEnded{LegID: r.LegID, Reason: ivr.Failed, At: d.now()}
	}
	cancel := false
	_, err = d.update(ctx, callID, func(e *envelope) (bool, error) {
		l := e.leg(r.LegID)
		l.SID, cancel = sid, l.Cancel
		return true, nil
	})
	if err != nil {
		log.Error("could not record the engineer leg's call sid", zap.String("leg_sid", sid), zap.Error(err))
	}
	if cancel {
		d.updateLeg(ctx, callID, r.LegID, sid, CallUpdate{Status: "canceled"})
	}
	return nil
}

// cancel stops a leg: a ringing call is cancelled, one in progress is
// ended. A leg whose call sid is not known yet (Calls.create still under
// way on another instance) is marked, and cancelled when it is.
func (d *Driver) cancel(ctx context.Context, callID, legID string) {
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
	d.updateLeg(ctx, callID, legID, sid, CallUpdate{Status: status})
}

func (d *Driver) updateLeg(ctx context.Context, callID, legID, sid string, u CallUpdate) {
	if err := d.cfg.REST.UpdateCall(ctx, sid, u); err != nil {
		d.log.Warn("could not update an engineer leg", zap.String(keyCallSid, callID), zap.String(keyLeg, legID),
			zap.String(keyStatus, u.Status), zap.Error(err))
	}
}

// pushLeg applies a step to a leg whose own webhook is not being answered:
// it is redirected to its new document, or simply ended.
func (d *Driver) pushLeg(ctx context.Context, callID string, ls ivr.LegStep, out outcome) {
	l := out.env.Legs[ls.LegID]
	h, isHangup := ls.Step.(ivr.Hangup)
	switch {
	case l == nil || l.SID == "" || l.Ended:
		return
	case isHangup && out.before == ivr.PhaseConnected && !out.env.Flow.Leg.BridgedAt.IsZero():
		return // bridged: Twilio ends the leg's <Dial> when the caller goes
	case isHangup && len(h.Prompts) == 0:
		d.updateLeg(ctx, callID, ls.LegID, l.SID, CallUpdate{Status: "completed"})
	default:
		d.updateLeg(ctx, callID, ls.LegID, l.SID, CallUpdate{URL: d.legLink(ls.LegID, "step", l.Doc.Seq)})
	}
}

// pushCaller applies the caller's new document to the live call at once,
// by redirecting it (the wait URL would also answer <Leave/> next time).
// A caller bridged to an engineer is left alone: the end of the bridge
// brings the caller to the <Enqueue> action, which answers the document.
func (d *Driver) pushCaller(ctx context.Context, callID string, out outcome) {
	c := out.env.Caller
	if out.before == ivr.PhaseConnected || (c.Kind != kindRecord && c.Kind != kindHangup) {
		return
	}
	if err := d.cfg.REST.UpdateCall(ctx, callID, CallUpdate{URL: d.link(pathStep, c.Seq)}); err != nil {
		d.log.Warn("could not redirect the caller; the wait URL will take them out of the queue",
			zap.String(keyCallSid, callID), zap.Error(err))
	}
}

// schedule sets the call's wake-up at the flow's next deadline, so that
// deadlines pass even when no webhook comes (a caller who hung up while
// recording). A wake-up lives in this instance only; the wait URL's Ticks
// and Twilio's own ring timeout cover the deadlines of a live caller.
func (d *Driver) schedule(callID string, e envelope) {
	d.timersMu.Lock()
	defer d.timersMu.Unlock()
	if stop := d.timers[callID]; stop != nil {
		stop()
		delete(d.timers, callID)
	}
	if e.WakeAt.IsZero() || e.Flow.Phase == ivr.PhaseDone {
		return
	}
	if d.closed {
		return
	}
	wait := max(e.WakeAt.Sub(d.now()), 0) + 50*time.Millisecond
	d.timers[callID] = d.cfg.AfterFunc(wait, func() { d.wake(callID) })
}

// Close stops the pending wake-ups, so that none fires into a store being
// closed on shutdown. Webhooks still answer; they schedule nothing more.
func (d *Driver) Close() {
	d.timersMu.Lock()
	defer d.timersMu.Unlock()
	d.closed = true
	for id, stop := range d.timers {
		stop()
		delete(d.timers, id)
	}
}

// wake delivers a Tick if the call's deadline has come.
func (d *Driver) wake(callID string) {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.HandleBudget)
	defer cancel()
	d.timersMu.Lock()
	delete(d.timers, callID)
	d.timersMu.Unlock()
	_, err := d.apply(ctx, callID, fromOther, "", func(e *envelope) (ivr.Event, bool) {
		now := d.now()
		if e.Flow.Phase == ivr.PhaseDone || e.WakeAt.IsZero() || now.Before(e.WakeAt) {
			return nil, false
		}
		return ivr.Tick{At: now}, false
	})
	if err != nil {
		d.log.Warn("wake-up failed", zap.String(keyCallSid, callID), zap.Error(err))
	}
}
