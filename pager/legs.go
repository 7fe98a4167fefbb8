package pager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// Engineer legs of live calls go through the pages' outbox: the telephony
// writes a leg as an intended voice attempt of the call (PlaceLeg) and
// answers its webhook at once; the engine places it off the webhook path,
// under a lease, with the same look-up at the provider before any resend
// after a crash. The rule of one voice call in flight per number holds for
// legs and page calls together, because both are voice attempts of one
// outbox (the claim keeps to it; the store's unique index guarantees it):
// a page call waits while the engineer is on a leg, and a leg waits while
// the engineer's phone rings with a page. A caller cannot wait long, so a
// leg that could not be placed within LegPatience (the line stayed busy,
// or the provider kept failing) ends, and the call's flow rings the next
// engineer; the flow's ring plan skips engineers whose phone is busy in
// the first place.

// LegStore keeps engineer legs in the outbox.
type LegStore interface {
	// AddLeg stores leg a (Purpose PurposeLeg, CallID and Key set) as
	// Intended, written at a.CreatedAt (the engine's clock, against which
	// WaitingLegs is asked; zero: the store's), and returns it as stored,
	// with added true; a call's leg
	// whose Key is stored already is returned as it is, added false.
	AddLeg(ctx context.Context, a Attempt) (stored Attempt, added bool, err error)
	// Leg returns the leg legID of call callID; errs.NotFound if there is
	// none.
	Leg(ctx context.Context, callID, legID string) (Attempt, error)
	// EndAttempt makes attempt id Done with o and detail if its status is
	// one of from, and reports whether it did.
	EndAttempt(ctx context.Context, id int64, o Outcome, detail string, from ...AttemptStatus) (bool, error)
	// OnVoiceCall reports whether a voice attempt to engineer engineerID
	// (a page call or a leg) is Sending, Sent or InDoubt.
	OnVoiceCall(ctx context.Context, engineerID int64) (bool, error)
	// WaitingLegs returns at most limit legs still Intended that were
	// written before createdBefore, oldest first.
	WaitingLegs(ctx context.Context, createdBefore time.Time, limit int) ([]Attempt, error)
}

// LegChannel places engineer legs for the telephony that owns them, and
// hears of the legs the engine ends.
type LegChannel interface {
	Channel // Send places a leg; Find looks for one in doubt
	// LegOver tells the call that owns leg a that the engine ended it
	// with o: it could not be placed (Failed, Rejected, Busy for a line
	// that stayed busy) or its end never came (a stale leg).
	LegOver(ctx context.Context, a Attempt, o Outcome, detail string)
}

// LegRequest is an engineer leg a live call wants placed.
type LegRequest struct {
	CallID     string        `json:"call_id"`
	LegID      string        `json:"leg_id"`
	EngineerID int64         `json:"engineer_id"`
	To         string        `json:"to"`   // E.164: the engineer's phone
	From       string        `json:"from"` // E.164: the line's number
	RingFor    time.Duration `json:"ring_for"`
}

// Busy reports whether engineer engineerID has a voice call in flight, a
// page call or a leg of another live call (ringing or talking), so that a
// call's ring plan passes them over: the rule of one voice call in flight
// per engineer, for live legs and pages together. It implements the call
// flow's OtherCalls.
func (e *Engine) Busy(ctx context.Context, engineerID int64) (bool, error) {
	busy, err := e.cfg.Store.OnVoiceCall(ctx, engineerID)
	if err != nil {
		return false, fmt.Errorf("is engineer %d on a call: %w", engineerID, err)
	}
	return busy, nil
}

// SetLegs gives the engine the channel of engineer legs, which is built
// after the engine (the telephony places legs through the engine). Call
// it before Run.
func (e *Engine) SetLegs(ch LegChannel) { e.legs.Store(&ch) }

func (e *Engine) legChannel() (LegChannel, bool) {
	p := e.legs.Load()
	if p == nil {
		return nil, false
	}
	return *p, true
}

// PlaceLeg writes leg r into the outbox, durably, and wakes the sender;
// placing it again changes nothing.
func (e *Engine) PlaceLeg(ctx context.Context, r LegRequest) error {
	switch {
	case r.CallID == "":
		return errs.InvalidField("call_id", "is required")
	case r.LegID == "":
		return errs.InvalidField("leg_id", "is required")
	case r.To == "":
		return errs.InvalidField("to", "is required")
	}
	_, added, err := e.cfg.Store.AddLeg(ctx, Attempt{CallID: r.CallID, Key: r.LegID, Kind: KindVoice, Purpose: PurposeLeg,
		Rung: -1, EngineerID: r.EngineerID, To: r.To, From: r.From, RingFor: r.RingFor, CreatedAt: e.cfg.Clock.Now()})
	if err != nil {
		return fmt.Errorf("place leg %s: %w", r.LegID, err)
	}
	if added {
		wake(e.sendWake)
	}
	return nil
}

// LegEnded records that leg legID of call callID is over, as its final
// status said (o: Completed calls are Accepted, others as they ended): its
// number is free for the next voice call. An unknown or ended leg is no
// error.
func (e *Engine) LegEnded(ctx context.Context, callID, legID string, o Outcome, detail string) error {
	a, err := e.cfg.Store.Leg(ctx, callID, legID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("leg %s ended: %w", legID, err)
	}
	if !a.Open() {
		return nil
	}
	ended, err := e.cfg.Store.EndAttempt(ctx, a.ID, o, detail, Intended, Sending, Sent, InDoubt)
	if err != nil {
		return fmt.Errorf("leg %s ended: %w", legID, err)
	}
	if ended {
		wake(e.sendWake) // a page call may be waiting for this line
	}
	return nil
}

// CancelLeg ends leg legID of call callID if it is still waiting to be
// placed, and reports whether it did; false means it is being placed or
// was (or is unknown), and the telephony cancels it at the provider once
// it knows its call.
func (e *Engine) CancelLeg(ctx context.Context, callID, legID string) (bool, error) {
	a, err := e.cfg.Store.Leg(ctx, callID, legID)
	if errs.Is(err, errs.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cancel leg %s: %w", legID, err)
	}
	ok, err := e.cfg.Store.EndAttempt(ctx, a.ID, Canceled, "the call no longer wanted it", Intended)
	if err != nil {
		return false, fmt.Errorf("cancel leg %s: %w", legID, err)
	}
	return ok, nil
}

// channelOf returns the channel that carries out attempt a.
func (e *Engine) channelOf(a Attempt) (Channel, bool) {
	if a.Purpose == PurposeLeg {
		return e.legChannel()
	}
	ch, ok := e.cfg.Channels[a.Kind]
	return ch, ok
}

// endLeg ends leg a as the engine decided (it could not be placed, or its
// end never came) and tells its call.
func (e *Engine) endLeg(ctx context.Context, log *zap.Logger, a Attempt, o Outcome, detail string) {
	ended, err := e.cfg.Store.EndAttempt(ctx, a.ID, o, detail, Intended, Sending, Sent, InDoubt)
	if err != nil {
		log.Error("could not record how an engineer leg ended", zap.String(keyOutcome, string(o)), zap.Error(err))
		return
	}
	if !ended {
		return // it ended meanwhile (the call's own status came)
	}
	wake(e.sendWake)
	if ch, ok := e.legChannel(); ok {
		ch.LegOver(ctx, a, o, detail)
	}
}

// legTooLate reports whether leg a, if tried again at, would reach an
// engineer too late for the caller waiting for it.
func (e *Engine) legTooLate(a Attempt, at time.Time) bool {
	return a.Purpose == PurposeLeg && at.Sub(a.CreatedAt) > e.cfg.LegPatience
}

// expireWaitingLegs ends the legs that have waited longer than
// LegPatience to be placed (their engineer's line stayed busy, or no
// instance could place them), so that their calls ring someone else.
func (e *Engine) expireWaitingLegs(ctx context.Context) {
	atts, err := e.cfg.Store.WaitingLegs(ctx, e.cfg.Clock.Now().Add(-e.cfg.LegPatience), 100)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			e.log.Error("engineer legs waiting to be placed", zap.Error(err))
		}
		return
	}
	for _, a := range atts {
		log := e.log.With(zap.String(keyCall, a.CallID), zap.Int64(keyAttempt, a.ID))
		log.Warn("an engineer leg waited too long to be placed; the call rings the next engineer")
		e.endLeg(ctx, log, a, Busy, fmt.Sprintf("not placed within %s: the engineer's phone was busy with another call", e.cfg.LegPatience))
	}
}
