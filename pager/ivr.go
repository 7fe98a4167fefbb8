package pager

import (
	"context"
	"strings"

	"github.com/supportdesk/ivr/ivr"
)

// fallbackSuffix ends the call id of pages raised through the telephony
// provider's Fallback URL (webhooks/fallback.go).
const fallbackSuffix = "-fallback"

// RequestPage raises the page of a call nobody took (ivr.Pages): one per
// call, however often the flow asks.
func (e *Engine) RequestPage(ctx context.Context, r ivr.PageRequest) error {
	src := FromCall
	if strings.HasSuffix(r.CallID, fallbackSuffix) {
		src = FromFallback
	}
	_, _, err := e.Raise(ctx, RequestFromCall(r, src))
	return err
}

// RequestFromCall is the page request of a call nobody took.
func RequestFromCall(r ivr.PageRequest, src Source) Request {
	return Request{
		Key: "call:" + r.CallID, Source: src, TicketID: r.TicketID, Priority: r.Priority, Level: r.Level,
		Line: r.Line, Caller: r.Caller, Recording: r.VoicemailURL, RecordingSeconds: r.VoicemailSeconds,
		Language: r.Language, RaisedAt: r.RequestedAt,
	}
}

var _ ivr.Pages = (*Engine)(nil)
