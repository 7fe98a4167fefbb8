package webhooks

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
)

// SweepIdle is how long a call's state must have been unchanged before
// Sweep looks at it. A caller on hold changes it every HoldSegment; one
// talking with an engineer does not, and is asked about at Twilio.
const SweepIdle = time.Minute

// Sweep finishes what webhooks alone cannot, for calls idle for SweepIdle:
//   - a deadline of the flow that passed with no instance's timer to see it
//     (the instance that set it stopped) gets its Tick;
//   - a call Twilio reports over, whose status callback never arrived (every
//     instance down at that moment), ends as a hang-up, so that it is logged,
//     noted on its ticket and, when the caller was waiting, paged; so does
//     a call Twilio answers 404 for (it knows no such call any more);
//   - a finished call that still owes its page, record or ticket note (the
//     store or the ticket system failed when it ended) has them retried;
//   - a call whose flow is done, owing nothing, is marked finished and not
//     looked at again;
//   - a Fallback voicemail not yet paged about is kept and paged;
//   - the empty queue at Twilio of a call that is over is deleted.
//
// It returns how many calls it looked at. Call it every minute or so from
// one place or several: every change goes through compare-and-swap.
func (d *Driver) Sweep(ctx context.Context) (int, error) {
	ids, err := d.cfg.States.OpenCallStates(ctx, d.now().Add(-SweepIdle), 200)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if strings.HasPrefix(id, fallbackPrefix) {
			if err := d.settleFallback(ctx, id); err != nil {
				d.log.Warn("sweep: fallback voicemail", zap.String(keyClaim, id), zap.Error(err))
			}
			continue
		}
		d.sweepCall(ctx, id)
	}
	d.sweepQueues(ctx)
	return len(ids), nil
}

// SweepEvery is how often RunSweep sweeps.
const SweepEvery = 30 * time.Second

// RunSweep has the driver Sweep every SweepEvery (timed by
// Config.AfterFunc, counted from the end of the previous sweep) until ctx
// is done. A failed sweep is logged and the next one tries again.
func (d *Driver) RunSweep(ctx context.Context) {
	due := make(chan struct{}, 1)
	for {
		stop := d.cfg.AfterFunc(SweepEvery, func() {
			select {
			case due <- struct{}{}:
			default:
			}
		})
		select {
		case <-ctx.Done():
			stop()
			return
		case <-due:
		}
		if _, err := d.Sweep(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("sweep calls", zap.Error(err))
		}
	}
}

// Run runs the driver's background work until ctx is done: the sweep
// (RunSweep) and the replay of the Fallback's spool into the store
// (RunSpool). It returns once both have stopped, so that the store and the
// spool may be closed after it.
func (d *Driver) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { d.RunSweep(ctx) })
	wg.Go(func() { d.RunSpool(ctx) })
	wg.Wait()
}

func (d *Driver) sweepCall(ctx context.Context, callID string) {
	log := d.log.With(zap.String(keyCallSid, callID))
	s, err := d.load(ctx, callID)
	if err != nil {
		log.Warn("sweep: load call", zap.Error(err))
		return
	}
	if s.env.Flow.Phase == ivr.PhaseDone {
		if s.env.Flow.Owed.Any() && (!s.env.Flow.Owed.Due(d.now()) || !d.settle(ctx, callID)) {
			return // still owed: a later sweep tries again, when it is due
		}
		d.waitOK(callID) // forget wait failures of a call that ended meanwhile
		if err := d.cfg.States.FinishCallState(ctx, callID); err != nil {
			log.Warn("sweep: mark call finished", zap.Error(err))
		}
		return
	}
	if s.env.Driver != "" {
		// Another driver's live call (Asterisk's, whose instance may be
		// restarting): Twilio knows nothing of it, and that driver takes
		// its calls up itself. Finished ones are settled above, as any.
		return
	}
	// Ask Twilio first: a deadline of a call that is over would only ring
	// the next engineer for nobody.
	if s.env.Flow.Phase != ivr.PhaseVoicemailWait { // there the caller is gone already
		status, err := d.cfg.REST.CallStatus(ctx, callID)
		switch {
		case errs.Is(err, errs.NotFound), errs.Is(err, errs.Invalid):
			// Twilio does not know the call (any more), or cannot: its
			// caller is gone.
			log.Warn("Twilio knows no such call; finishing it", zap.Error(err))
			d.metrics.swept.Add(1)
			if err := d.callerEnded(ctx, callID); err != nil {
				log.Error("sweep: finish the call", zap.Error(err))
			}
			return
		case err != nil:
			log.Warn("sweep: ask Twilio for the call's status", zap.Error(err))
		case status == "completed", status == "busy", status == "failed", status == "no-answer", status == "canceled":
			log.Warn("the call ended at Twilio without a status callback; finishing it", zap.String(keyStatus, status))
			d.metrics.swept.Add(1)
			if err := d.callerEnded(ctx, callID); err != nil {
				log.Error("sweep: finish the call", zap.Error(err))
			}
			return
		}
	}
	if !s.env.WakeAt.IsZero() && !d.now().Before(s.env.WakeAt) {
		d.wake(callID)
	}
}

// settle gives a finished call that still owes a page, its record or its
// ticket note (the store or the ticket system failed when it ended) a Tick,
// on which the flow retries them. It reports whether nothing is owed now;
// the flow logs each failure.
func (d *Driver) settle(ctx context.Context, callID string) bool {
	out, err := d.apply(ctx, callID, fromOther, "", func(e *envelope) (ivr.Event, bool) {
		if e.Flow.Phase != ivr.PhaseDone || !e.Flow.Owed.Due(d.now()) {
			return nil, false
		}
		return ivr.Tick{At: d.now()}, false
	})
	if err != nil {
		d.log.Warn("sweep: retry what a finished call owes", zap.String(keyCallSid, callID), zap.Error(err))
		return false
	}
	return !out.env.Flow.Owed.Any()
}
