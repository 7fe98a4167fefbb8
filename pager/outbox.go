package pager

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// The outbox: attempts are claimed under a lease, carried out through their
// channel, and recorded; failures are retried with capped backoff, and an
// attempt whose outcome is in doubt is looked for at the provider before
// it is made again.

func (e *Engine) outboxLoop(ctx context.Context) {
	scan := e.cfg.Clock.After(0)
	for ctx.Err() == nil {
		for e.sendBatch(ctx) > 0 && ctx.Err() == nil {
		}
		select {
		case <-ctx.Done():
		case <-e.sendWake:
		case <-scan:
			e.scanOutbox(ctx)
			scan = e.cfg.Clock.After(min(e.cfg.Scan, e.cfg.RetryBase))
		}
	}
}

// sendBatch claims what the outbox holds for now and carries it out,
// Workers at a time; it returns how many attempts it claimed.
func (e *Engine) sendBatch(ctx context.Context) int {
	atts, err := e.cfg.Store.ClaimAttempts(ctx, e.cfg.Owner, e.cfg.Lease, e.cfg.Workers*4, e.cfg.Clock.Now())
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("claim attempts", zap.Error(err))
		}
		return 0
	}
	e.each(ctx, atts, e.send)
	return len(atts)
}

func (e *Engine) each(ctx context.Context, atts []Attempt, fn func(context.Context, Attempt)) {
	sem := make(chan struct{}, e.cfg.Workers)
	var wg sync.WaitGroup
	for _, a := range atts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(ctx, a)
		}()
	}
	wg.Wait()
}

// send carries out one claimed attempt.
func (e *Engine) send(ctx context.Context, a Attempt) {
	log := e.log.With(zap.Int64(keyPage, a.PageID), zap.Int64(keyAttempt, a.ID), zap.String(keyKind, string(a.Kind)))
	ch, ok := e.channelOf(a)
	if !ok {
		log.Error("no channel for this kind of attempt")
		e.end(ctx, log, a, Failed, "no channel is configured for "+string(a.Kind))
		return
	}
	e.cfg.Hook(ctx, PhaseClaimed, a.PageID, a.ID)
	if e.legTooLate(a, e.cfg.Clock.Now()) {
		// Written before an outage longer than a caller waits.
		e.end(ctx, log, a, Failed, fmt.Sprintf("not placed within %s of being written: the caller no longer waits for it", e.cfg.LegPatience))
		return
	}
	if a.Kind == KindVoice && a.Purpose == PurposePage && e.storm(ctx, log, a) {
		return
	}
	open, err := e.reveal(a)
	if err != nil {
		log.Error("cannot open the message of a code", zap.Error(err))
		e.end(ctx, log, a, Failed, "its message could not be opened")
		return
	}
	sctx, cancel := context.WithTimeout(ctx, e.cfg.Lease/2)
	id, err := ch.Send(sctx, open)
	cancel()
	if err == nil {
		if a.Purpose != PurposeLeg {
			e.cfg.Observer.Sent(a.Kind, time.Since(a.CreatedAt))
		}
		e.cfg.Hook(ctx, PhaseAccepted, a.PageID, a.ID)
		e.sent(ctx, log, a, id)
		return
	}
	e.failed(ctx, log, a, err)
}

// sent records that the provider took attempt a as id.
func (e *Engine) sent(ctx context.Context, log *zap.Logger, a Attempt, id string) {
	if id == "" {
		// A request that ends when it is made (a ticket note).
		e.end(ctx, log, a, Accepted, "")
		return
	}
	if err := e.cfg.Store.AttemptSent(ctx, a.ID, e.cfg.Owner, id); err != nil {
		// The request was made: the in-doubt scan or the callback will
		// find it by its id, never send it again.
		log.Error("could not record the provider's id of a request that was made", zap.String(keyProviderID, id), zap.Error(err))
		return
	}
	log.Info("attempt sent", zap.String(keyProviderID, id), zap.Int(keyTries, a.Tries))
	e.cfg.Hook(ctx, PhaseRecorded, a.PageID, a.ID)
}

func (e *Engine) failed(ctx context.Context, log *zap.Logger, a Attempt, err error) {
	var se *SendError
	errors.As(err, &se)
	switch ClassOf(err) {
	case Permanent:
		o := Rejected
		if se != nil && se.Outcome != "" {
			o = se.Outcome
		}
		log.Warn("the provider refused the attempt for good", zap.Error(err))
		e.end(ctx, log, a, o, err.Error())
	case Retry:
		var after time.Duration
		if se != nil {
			after = se.RetryAfter
		}
		e.retry(ctx, log, a, after, err)
	default:
		// The provider may have acted: look for the request before
		// sending it again.
		log.Warn("attempt in doubt; looking for it at the provider", zap.Error(err))
		select {
		case <-ctx.Done():
			return
		case <-e.cfg.Clock.After(e.cfg.DoubtGrace):
		}
		e.resolveDoubt(ctx, log, a, err)
	}
}

// resolveDoubt looks for attempt a at the provider: found, it is sent;
// absent, it is sent again (after a pause).
func (e *Engine) resolveDoubt(ctx context.Context, log *zap.Logger, a Attempt, cause error) {
	ch, ok := e.channelOf(a)
	if !ok {
		return
	}
	open, err := e.reveal(a)
	if err != nil {
		e.end(ctx, log, a, Failed, "its message could not be opened")
		return
	}
	id, err := ch.Find(ctx, open)
	switch {
	case err != nil && !a.ClaimedAt.IsZero() && e.cfg.Clock.Now().Sub(a.ClaimedAt) > time.Duration(e.cfg.MaxTries)*e.cfg.Lease:
		// The provider cannot even say what it has, for long: the
		// channel is given up so that the page goes on by the next one.
		// (Whether this request was made stays unknown; it is never
		// made again.)
		log.Error("giving an attempt in doubt up: the provider cannot be asked about it", zap.Error(err))
		e.end(ctx, log, a, Failed, fmt.Sprintf("in doubt, and the provider could not be asked: %v", err))
	case err != nil:
		// Left to the lease: the in-doubt scan tries again.
		log.Warn("could not look for an attempt in doubt; the lease will bring it back", zap.Error(err))
	case id != "":
		log.Info("attempt in doubt was made after all", zap.String(keyProviderID, id))
		e.sent(ctx, log, a, id)
	default:
		e.retry(ctx, log, a, 0, cause)
	}
}

// retry sends a again after a pause, or gives its channel up after
// MaxTries.
func (e *Engine) retry(ctx context.Context, log *zap.Logger, a Attempt, after time.Duration, cause error) {
	if a.Tries >= e.cfg.MaxTries {
		log.Error("giving the channel up after repeated failures", zap.Int(keyTries, a.Tries), zap.Error(cause))
		e.end(ctx, log, a, Failed, fmt.Sprintf("%d tries: %v", a.Tries, cause))
		return
	}
	pause := backoff(e.cfg.RetryBase, e.cfg.RetryMax, a.Tries)
	pause = max(pause, after)
	at := e.cfg.Clock.Now().Add(pause)
	if e.legTooLate(a, at) {
		log.Error("giving an engineer leg up: the caller cannot wait for another try", zap.Int(keyTries, a.Tries), zap.Error(cause))
		e.end(ctx, log, a, Failed, fmt.Sprintf("%d tries: %v", a.Tries, cause))
		return
	}
	if err := e.cfg.Store.RetryAttempt(ctx, a.ID, e.cfg.Owner, at, cause.Error()); err != nil {
		log.Error("could not schedule a retry; the lease will bring the attempt back", zap.Error(err))
		return
	}
	log.Warn("attempt failed; retrying", zap.Duration(keyPause, pause), zap.Int(keyTries, a.Tries), zap.Error(cause))
}

// backoff is base·2^(tries-1), at most limit, with ±25 % jitter so that
// many retries do not come back at once.
func backoff(base, limit time.Duration, tries int) time.Duration {
	d := base
	for i := 1; i < tries && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4 //nolint:gosec // G404: spreads retries out; guards no secret
	return d + jitter
}

func (e *Engine) end(ctx context.Context, log *zap.Logger, a Attempt, o Outcome, detail string) {
	switch a.Purpose {
	case PurposeLeg:
		e.endLeg(ctx, log, a, o, detail)
		return
	case PurposeCode:
		e.endCode(ctx, log, a, o, detail)
		return
	}
	if _, err := e.Handle(ctx, a.PageID, AttemptEnded{AttemptID: a.ID, Outcome: o, Detail: detail}); err != nil {
		log.Error("could not record how an attempt ended", zap.String(keyOutcome, string(o)), zap.Error(err))
	}
}

// scanOutbox looks after attempts no event will move: those whose claimer
// died (in doubt), and those whose outcome never came (stale).
func (e *Engine) scanOutbox(ctx context.Context) {
	atts, err := e.cfg.Store.ClaimInDoubt(ctx, e.cfg.Owner, e.cfg.Lease, e.cfg.Workers*4)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("claim attempts in doubt", zap.Error(err))
		}
	} else {
		e.each(ctx, atts, func(ctx context.Context, a Attempt) {
			log := e.log.With(zap.Int64(keyPage, a.PageID), zap.Int64(keyAttempt, a.ID), zap.String(keyKind, string(a.Kind)))
			if a.ProviderID != "" {
				e.sent(ctx, log, a, a.ProviderID)
				return
			}
			log.Warn("attempt in doubt after its claim ran out; looking for it at the provider")
			e.resolveDoubt(ctx, log, a, errs.E(errs.Unavailable, "", "the instance sending it stopped before recording the outcome"))
		})
	}
	e.expireWaitingLegs(ctx)
	stale, err := e.cfg.Store.StaleAttempts(ctx, e.cfg.Clock.Now().Add(-e.cfg.StaleAfter), 100)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("stale attempts", zap.Error(err))
		}
		return
	}
	for _, a := range stale {
		log := e.log.With(zap.Int64(keyPage, a.PageID), zap.Int64(keyAttempt, a.ID), zap.String(keyKind, string(a.Kind)))
		o, detail := e.staleOutcome(ctx, a)
		if o == "" {
			continue
		}
		log.Warn("no outcome came for a sent attempt", zap.String(keyOutcome, string(o)))
		e.end(ctx, log, a, o, detail)
	}
}

// Poller is a Channel that can ask the provider how an attempt ended when
// its callback never came.
type Poller interface {
	// Poll returns the attempt's outcome; "" while it is still going on.
	Poll(ctx context.Context, a Attempt) (Outcome, error)
}

func (e *Engine) staleOutcome(ctx context.Context, a Attempt) (Outcome, string) {
	ch, _ := e.channelOf(a)
	if pl, ok := ch.(Poller); ok {
		o, err := pl.Poll(ctx, a)
		if err != nil {
			e.log.Warn("could not ask the provider about a stale attempt", zap.Int64(keyAttempt, a.ID), zap.Error(err))
			return "", ""
		}
		return o, "no callback came; the provider says so"
	}
	if a.Kind == KindSMS {
		return Accepted, "sent; no delivery report came"
	}
	return Failed, "no outcome came"
}
