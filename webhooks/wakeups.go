package webhooks

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
)

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

// closeBudget bounds how long Close waits for the changes at Twilio still
// queued.
const closeBudget = 10 * time.Second

// Close stops the pending wake-ups, so that none fires into a store being
// closed on shutdown, and waits a little for the changes at Twilio still
// queued. Webhooks still answer; they schedule nothing more.
func (d *Driver) Close() {
	d.timersMu.Lock()
	d.closed = true
	for id, stop := range d.timers {
		stop()
		delete(d.timers, id)
	}
	d.timersMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), closeBudget)
	defer cancel()
	d.effects.wait(ctx)
}

// Flush waits, until ctx is done, for the changes at Twilio queued so far
// (redirects, cancels, queue deletions): for tests, which look at Twilio
// right after a webhook.
func (d *Driver) Flush(ctx context.Context) { d.effects.flush(ctx) }

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
