package pager

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
)

// OptOuts says which phone numbers opted out of texts: they replied STOP
// to the texting number (or the provider refused a text to them because
// they had), and have not texted START since. The provider drops texts to
// them, so the pager sends none and pages such an engineer by voice. The
// store implements it; the Twilio driver keeps it up to date.
type OptOuts interface {
	// SMSOptOuts returns the numbers (E.164) that take no texts now, with
	// when they opted out.
	SMSOptOuts(ctx context.Context) (map[string]time.Time, error)
}

// optOuts reads the numbers opted out of texts, before the transaction
// that may page them (a read inside it would hold one connection while
// waiting for another). Nil when there are none, when no OptOuts is
// configured, or when they cannot be read: a text to an opted-out number
// is then refused by the provider, and the page falls back to the next
// channel all the same.
func (e *Engine) optOuts(ctx context.Context) map[string]time.Time {
	if e.cfg.OptOuts == nil {
		return nil
	}
	out, err := e.cfg.OptOuts.SMSOptOuts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("could not read which numbers opted out of texts; texting as if none had", zap.Error(err))
		}
		return nil
	}
	return out
}

// targetOf is how the pager reaches engineer eng: TargetOf, with texts
// going to the first of their SMS-capable numbers that has not opted out,
// or SMSOptedOut (texts to the first) when every one has.
func targetOf(eng oncall.Engineer, optedOut map[string]time.Time) Target {
	t := TargetOf(eng)
	if t.SMSPhone == "" || len(optedOut) == 0 {
		return t
	}
	for _, c := range eng.Reachable() {
		if _, out := optedOut[c.Phone]; c.SMS && !out {
			t.SMSPhone = c.Phone
			return t
		}
	}
	t.SMSOptedOut = true
	return t
}
