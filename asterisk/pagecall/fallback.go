package pagecall

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/pager"
)

// Fallback is the voice channel of a pager with two ways to call: the
// pager takes one channel per kind (pager.Config.Channels), so the choice
// between them is made here, per request. Send tries Primary (Twilio's
// page calls, say) and, only when it failed without making the request (a
// *pager.SendError of class Retry: Twilio refused the connection, answered
// 429, or has no account configured), Secondary (Asterisk's); a primary
// that may have made the request (Doubt) is not followed by a second call,
// which would ring the engineer twice: the engine looks for it first, and
// its retries go through Fallback again. A primary that refused for good
// (Permanent) is not tried again elsewhere either: the page goes on by
// its next channel (text).
//
// Either may be primary: Fallback{Primary: asterisk, Secondary: twilio}
// pages through the PBX first.
type Fallback struct {
	Primary, Secondary pager.Channel
	Log                *zap.Logger
}

// Send makes a's request through Primary, or Secondary when Primary
// certainly made none.
func (f Fallback) Send(ctx context.Context, a pager.Attempt) (string, error) {
	id, err := f.Primary.Send(ctx, a)
	if err == nil || pager.ClassOf(err) != pager.Retry {
		return id, err
	}
	f.log().Warn("the primary voice channel failed without calling; calling through the fallback",
		zap.Int64(keyAttempt, a.ID), zap.Error(err))
	id, ferr := f.Secondary.Send(ctx, a)
	if ferr == nil {
		return id, nil
	}
	joined := fmt.Errorf("primary: %w; fallback: %w", err, ferr)
	if pager.ClassOf(ferr) == pager.Doubt {
		// The fallback may have called: look for it before any resend.
		return "", &pager.SendError{Class: pager.Doubt, Err: joined}
	}
	// Neither called: retried (both, in turn) after the engine's pause.
	var se *pager.SendError
	errors.As(err, &se)
	return "", &pager.SendError{Class: pager.Retry, RetryAfter: se.RetryAfter, Err: joined}
}

// Find looks for a's request at Secondary, then at Primary.
func (f Fallback) Find(ctx context.Context, a pager.Attempt) (string, error) {
	id, serr := f.Secondary.Find(ctx, a)
	if serr == nil && id != "" {
		return id, nil
	}
	id, err := f.Primary.Find(ctx, a)
	if err != nil && serr != nil {
		return "", fmt.Errorf("primary: %w; fallback: %w", err, serr)
	}
	return id, err
}

// Poll asks the channel whose id a.ProviderID is how a stale attempt
// ended, if it can say.
func (f Fallback) Poll(ctx context.Context, a pager.Attempt) (pager.Outcome, error) {
	if p, ok := f.owner(a.ProviderID).(pager.Poller); ok {
		return p.Poll(ctx, a)
	}
	return pager.Failed, nil
}

// owner is the channel that made provider id: Asterisk's calls have ids
// of this package's; the other channel's are anything else.
func (f Fallback) owner(id string) pager.Channel {
	_, primaryOurs := f.Primary.(*Channel)
	if strings.HasPrefix(id, idPrefix) == primaryOurs {
		return f.Primary
	}
	return f.Secondary
}

func (f Fallback) log() *zap.Logger {
	if f.Log == nil {
		return zap.NewNop()
	}
	return f.Log
}
