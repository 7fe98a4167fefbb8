package pager

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/ivr"
)

// Requests are the page requests the IVR recorded before the pager
// existed (they were never sent).
type Requests interface {
	// PendingPageRequests returns those not taken over yet, oldest first.
	PendingPageRequests(ctx context.Context, limit int) ([]calls.PageRecord, error)
	// MarkPageRequest records that the request of call callID was taken.
	MarkPageRequest(ctx context.Context, callID string, status calls.PageStatus) error
}

// TakeOver makes pages of the requests recorded before the pager existed:
// those still inside their response window are paged now (the storm rule
// folds their calls to one engineer together); the rest are opened as
// expired, not sent, and shown to admins as such. Each request becomes
// the page its call would have raised (key "call:<id>"), so taking one
// over twice, or the IVR retrying it, pages once. It returns how many
// requests it took over.
func (e *Engine) TakeOver(ctx context.Context, reqs Requests) (int, error) {
	n := 0
	for {
		batch, err := reqs.PendingPageRequests(ctx, 100)
		if err != nil {
			return n, fmt.Errorf("take over page requests: %w", err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		for _, r := range batch {
			req := RequestFromCall(ivr.PageRequest{
				CallID: r.CallID, TicketID: r.TicketID, Priority: r.Priority, Level: r.Level,
				VoicemailURL: r.VoicemailURL, VoicemailSeconds: r.VoicemailSeconds, Line: r.Line, Caller: r.Caller,
				RequestedAt: r.RequestedAt,
			}, FromUpgrade)
			p, _, err := e.Raise(ctx, req)
			if err != nil {
				return n, fmt.Errorf("take over the page request of call %s: %w", r.CallID, err)
			}
			if err := reqs.MarkPageRequest(ctx, r.CallID, calls.PageTaken); err != nil {
				return n, err
			}
			n++
			e.log.Info("page request from before the pager taken over", zap.Int64(keyPage, p.ID), zap.String(keyCallID, r.CallID),
				zap.String(keyStatus, string(p.Status)))
		}
	}
}
