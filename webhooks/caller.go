package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
)

// The caller's webhooks.

// voice answers a new call (the number's Voice URL). Twilio repeating it
// gets the stored first document.
func (d *Driver) voice(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	// No look-up first: the flow's start only reads, and a repeated request
	// finds the state created below and gets the stored document.
	st, res, err := d.cfg.Flow.Start(ctx, ivr.CallStarted{CallID: sid, Line: form.Get("To"), Caller: form.Get("From"), At: d.now()})
	if err != nil {
		return "", err
	}
	var e envelope
	d.record(&e, st, res)
	data, err := encodeEnvelope(e)
	if err != nil {
		return "", fmt.Errorf("encode state of call %s: %w", sid, err)
	}
	err = d.cfg.States.CreateCallState(ctx, sid, data)
	if errs.Is(err, errs.Conflict) { // a repeat, or another instance answered it first
		s, err := d.load(ctx, sid)
		if err != nil {
			return "", err
		}
		d.metrics.replays.Add(1)
		return s.env.Caller.TwiML, nil
	}
	if err != nil {
		return "", err
	}
	return e.Caller.TwiML, nil
}

func seqOf(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("seq"))
	return n
}

func menuPhase(p ivr.Phase) bool {
	return p == ivr.PhaseLanguage || p == ivr.PhaseTicket || p == ivr.PhasePriority
}

// gatherAction takes the keys of a menu. Only the request for the menu
// being played advances the flow; a repeat gets the current document.
func (d *Driver) gatherAction(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	seq := seqOf(r)
	out, err := d.apply(ctx, sid, fromCaller, "", func(e *envelope) (ivr.Event, bool) {
		if !menuPhase(e.Flow.Phase) || e.Caller.Kind != kindGather || seq != e.Flow.CallerSeq {
			return nil, false
		}
		return ivr.Digits{Digits: form.Get("Digits"), Finished: form.Get("FinishedOnKey") != "", At: d.now()}, false
	})
	if err != nil {
		return "", err
	}
	return out.env.Caller.TwiML, nil
}

// waitRequest is one turn of the caller's wait in its queue: a Tick for
// the flow, then a segment of hold music (after a progress message when
// one is due), or <Leave/> once the caller's document is no longer the
// queue (the <Enqueue> action then answers it). While engineers are rung
// the turn takes a key (holdKey).
func (d *Driver) waitRequest(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	var seg int
	var pending []ivr.Prompt
	out, err := d.apply(ctx, sid, fromWait, "", func(e *envelope) (ivr.Event, bool) {
		seg, pending = e.HoldSeg, e.Progress
		e.HoldSeg, e.Progress = (e.HoldSeg+1)%d.hold.count(), nil
		switch e.Flow.Phase {
		case ivr.PhaseRouting, ivr.PhaseVoicemail, ivr.PhaseVoicemailWait:
			return ivr.Tick{At: d.now()}, true
		}
		return nil, true
	})
	if err != nil && !errs.Is(err, errs.NotFound) && d.waitFailed(sid) {
		// A failed state read or write (a store blip) must not cost the
		// caller their place: an error here would send them to the
		// Fallback URL while engineers are still rung for them. They hear
		// the music again and the next wait request retries the step;
		// only an outage that outlasts maxWaitFailures sends them on.
		d.log.Error("wait request failed; the caller keeps holding", zap.String(keyCallSid, sid), zap.Error(err))
		return d.docs.wait(nil, seg, false), nil
	}
	d.waitOK(sid)
	if err != nil {
		return "", err
	}
	d.keepLegPlaced(ctx, sid, out.env)
	if !out.env.Caller.queued() {
		return leave(), nil
	}
	keys := out.env.Flow.Phase == ivr.PhaseRouting && out.env.Caller.Kind == kindHold
	return d.docs.wait(append(pending, out.progress...), seg, keys), nil
}

// holdKey is the action of the wait URL's <Gather>: the caller on hold
// pressed a key. The flow decides (1 leaves a message instead of waiting:
// the leg rung is cancelled, the caller's document becomes the recording);
// the answer is then the wait URL's, <Leave/> when the caller's document is
// no longer the queue (the <Enqueue> action answers with the recording),
// the next turn of music otherwise. A repeat, or a key pressed as the call
// moved on, changes nothing.
func (d *Driver) holdKey(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	_, err = d.apply(ctx, sid, fromWait, "", func(e *envelope) (ivr.Event, bool) {
		if e.Flow.Phase != ivr.PhaseRouting || e.Caller.Kind != kindHold {
			return nil, false
		}
		return ivr.HoldKey{Key: form.Get("Digits"), At: d.now()}, false
	})
	if err != nil {
		return "", err
	}
	return d.waitRequest(ctx, r, form)
}

// dequeued is the <Enqueue> action: the caller left the queue. After a
// bridge the engineer has hung up; after a hang-up the caller has gone;
// otherwise (<Leave/>, a redirect) the caller's current document answers.
func (d *Driver) dequeued(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	result := form.Get("QueueResult")
	d.dropQueue(sid, form.Get("QueueSid")) // whatever the result, the caller has left it
	if result != "bridged" && result != "hangup" {
		// <Leave/>, the service's own REST redirect ("redirected") or a
		// queue error: nothing happened to the flow, and it is no replay.
		s, err := d.load(ctx, sid)
		if err != nil {
			return "", err
		}
		if s.env.Caller.Kind == kindConnect {
			return d.docs.hangup(nil), nil
		}
		return s.env.Caller.TwiML, nil
	}
	if result == "bridged" { // the bridge happened, even if its <Queue url> request was lost
		if s, err := d.load(ctx, sid); err == nil && s.env.Flow.Phase == ivr.PhaseConnected && s.env.Flow.Leg.BridgedAt.IsZero() {
			if _, err := d.apply(ctx, sid, fromCaller, "", bridgedNow(d.now)); err != nil {
				return "", err
			}
		}
	}
	out, err := d.apply(ctx, sid, fromCaller, "", func(e *envelope) (ivr.Event, bool) {
		switch {
		case result == "bridged" && e.Flow.Phase == ivr.PhaseConnected:
			return ivr.LegEnded{LegID: e.Flow.Leg.ID, Reason: ivr.Completed, At: d.now()}, false
		case result == "hangup" && e.Flow.Phase != ivr.PhaseDone:
			return ivr.HungUp{At: d.now()}, false
		}
		return nil, false
	})
	if err != nil {
		return "", err
	}
	if result == "hangup" || out.env.Caller.Kind == kindConnect {
		return d.docs.hangup(nil), nil
	}
	return out.env.Caller.TwiML, nil
}

// callerStepRequest answers a caller redirected through the REST API with
// the current document.
func (d *Driver) callerStepRequest(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	s, err := d.loadForm(ctx, form)
	if err != nil {
		return "", err
	}
	if s.env.Caller.Kind == kindConnect {
		return d.docs.hangup(nil), nil
	}
	return s.env.Caller.TwiML, nil
}

// connectRequest is <Queue url>: what the caller hears before the bridge,
// which it announces: Twilio requests it as the engineer takes the caller
// out of the queue. Its CallSid is the caller's.
func (d *Driver) connectRequest(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	out, err := d.apply(ctx, sid, fromCaller, "", bridgedNow(d.now))
	if err != nil {
		return "", err
	}
	if out.env.Caller.Kind != kindConnect {
		return render(), nil
	}
	return out.env.Caller.TwiML, nil
}

// bridgedNow decides a Bridged event for the engineer who accepted, unless
// the flow knows of the bridge already.
func bridgedNow(now func() time.Time) decide {
	return func(e *envelope) (ivr.Event, bool) {
		if e.Flow.Phase != ivr.PhaseConnected || !e.Flow.Leg.BridgedAt.IsZero() {
			return nil, false
		}
		return ivr.Bridged{LegID: e.Flow.Leg.ID, At: now()}, false
	}
}

// recorded is the <Record> action: the recording is over but only its
// status callback says when it can be fetched, so the caller waits in the
// queue until the flow says goodbye (or hears it now if it already has).
func (d *Driver) recorded(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	seq := seqOf(r)
	out, err := d.apply(ctx, sid, fromCaller, "", func(e *envelope) (ivr.Event, bool) {
		if e.Caller.Kind != kindRecord || e.Caller.Seq != seq {
			return nil, false
		}
		e.Caller = doc{Seq: seq, Kind: kindAfter, TwiML: d.docs.enqueue(sid, nil, seq)}
		return nil, true
	})
	if err != nil {
		return "", err
	}
	return out.env.Caller.TwiML, nil
}

// callerStatus is the number's status callback: the end of the caller's
// call.
func (d *Driver) callerStatus(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	switch form.Get("CallStatus") {
	case "completed", "busy", "failed", "no-answer", "canceled":
	default:
		return "", nil
	}
	return "", d.callerEnded(ctx, sid)
}

// callerEnded tells the flow the caller's call is over, unless it knows.
func (d *Driver) callerEnded(ctx context.Context, sid string) error {
	_, err := d.apply(ctx, sid, fromOther, "", func(e *envelope) (ivr.Event, bool) {
		if e.Flow.Phase == ivr.PhaseDone || e.Flow.Phase == ivr.PhaseVoicemailWait {
			return nil, false
		}
		return ivr.HungUp{At: d.now()}, false
	})
	return err
}

// loadForm loads the call the form's CallSid names.
func (d *Driver) loadForm(ctx context.Context, form url.Values) (stored, error) {
	sid, err := callSid(form)
	if err != nil {
		return stored{}, err
	}
	return d.load(ctx, sid)
}
