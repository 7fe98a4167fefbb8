package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/pager"
)

// PagerREST is the part of Twilio's REST API the pager's channels use.
// NewREST's client implements it.
type PagerREST interface {
	// CreatePageCall places a page call and returns its CallSid.
	CreatePageCall(ctx context.Context, c PageCall) (sid string, err error)
	// CreateMessage sends a text and returns its MessageSid.
	CreateMessage(ctx context.Context, m OutboundMessage) (sid string, err error)
	// RecentCalls lists the latest calls from from to to, newest first, in
	// any status (queued and ringing included).
	RecentCalls(ctx context.Context, to, from string) ([]ProviderRecord, error)
	// RecentMessages lists the latest messages from from to to, newest
	// first.
	RecentMessages(ctx context.Context, to, from string) ([]ProviderRecord, error)
	// CallStatus returns a call's status at Twilio.
	CallStatus(ctx context.Context, sid string) (string, error)
}

// PageCall is a call that pages an engineer.
type PageCall struct {
	To, From       string // From: the pager's fixed caller id
	URL            string // TwiML fetched when answered
	StatusCallback string // gets the initiated and completed events
	AMDCallback    string // gets AnsweredBy, for the log
	Timeout        time.Duration
}

// OutboundMessage is a text. From is a Twilio number, or a Messaging
// Service (MG…) that picks one.
type OutboundMessage struct {
	To, From, Body string
	StatusCallback string
}

// ProviderRecord is a call or a message as Twilio lists it.
type ProviderRecord struct {
	SID     string
	Created time.Time
	Body    string // messages only
	Status  string
}

func (c *restClient) CreatePageCall(_ context.Context, pc PageCall) (string, error) {
	p := &api.CreateCallParams{}
	p.SetTo(pc.To).SetFrom(pc.From).SetUrl(pc.URL).SetMethod(http.MethodPost).
		SetStatusCallback(pc.StatusCallback).SetStatusCallbackMethod(http.MethodPost).
		SetStatusCallbackEvent([]string{"initiated", "completed"}).SetTimeout(seconds(pc.Timeout))
	if pc.AMDCallback != "" {
		p.SetMachineDetection("Enable").SetMachineDetectionTimeout(machineDetectionTimeout).
			SetAsyncAmd("true").SetAsyncAmdStatusCallback(pc.AMDCallback).SetAsyncAmdStatusCallbackMethod(http.MethodPost)
	}
	call, err := c.api.CreateCall(p)
	if err != nil {
		return "", sendError(fmt.Errorf("twilio: create page call to %s: %w", pc.To, err))
	}
	if call.Sid == nil || *call.Sid == "" {
		return "", &pager.SendError{Class: pager.Doubt, Err: fmt.Errorf("twilio: create page call to %s: no sid in the answer", pc.To)}
	}
	return *call.Sid, nil
}

// messagingServicePrefix starts a Messaging Service's sid.
const messagingServicePrefix = "MG"

func (c *restClient) CreateMessage(_ context.Context, m OutboundMessage) (string, error) {
	p := &api.CreateMessageParams{}
	p.SetTo(m.To).SetBody(m.Body)
	if strings.HasPrefix(m.From, messagingServicePrefix) {
		p.SetMessagingServiceSid(m.From)
	} else {
		p.SetFrom(m.From)
	}
	if m.StatusCallback != "" {
		p.SetStatusCallback(m.StatusCallback)
	}
	msg, err := c.api.CreateMessage(p)
	if err != nil {
		return "", sendError(fmt.Errorf("twilio: send text to %s: %w", m.To, err))
	}
	if msg.Sid == nil || *msg.Sid == "" {
		return "", &pager.SendError{Class: pager.Doubt, Err: fmt.Errorf("twilio: send text to %s: no sid in the answer", m.To)}
	}
	return *msg.Sid, nil
}

// recentLimit is how many of the latest calls or messages a look-up for
// a request in doubt reads: the one in doubt is among the newest.
const recentLimit = 20

func (c *restClient) RecentCalls(_ context.Context, to, from string) ([]ProviderRecord, error) {
	p := &api.ListCallParams{}
	p.SetTo(to).SetFrom(from).SetPageSize(recentLimit).SetLimit(recentLimit)
	calls, err := c.api.ListCall(p)
	if err != nil {
		return nil, fmt.Errorf("twilio: list calls to %s: %w", to, err)
	}
	out := make([]ProviderRecord, 0, len(calls))
	for _, call := range calls {
		out = append(out, ProviderRecord{SID: deref(call.Sid), Created: parseTwilioTime(deref(call.DateCreated)), Status: deref(call.Status)})
	}
	return out, nil
}

func (c *restClient) RecentMessages(_ context.Context, to, from string) ([]ProviderRecord, error) {
	p := &api.ListMessageParams{}
	p.SetTo(to).SetPageSize(recentLimit).SetLimit(recentLimit)
	if !strings.HasPrefix(from, messagingServicePrefix) {
		p.SetFrom(from)
	}
	msgs, err := c.api.ListMessage(p)
	if err != nil {
		return nil, fmt.Errorf("twilio: list messages to %s: %w", to, err)
	}
	out := make([]ProviderRecord, 0, len(msgs))
	for _, m := range msgs {
		var st string
		if m.Status != nil {
			st = *m.Status
		}
		out = append(out, ProviderRecord{SID: deref(m.Sid), Created: parseTwilioTime(deref(m.DateCreated)), Body: deref(m.Body), Status: st})
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// parseTwilioTime reads Twilio's RFC 2822 dates ("Mon, 16 Aug 2010
// 03:45:01 +0000"); zero when unreadable.
func parseTwilioTime(s string) time.Time {
	t, err := time.Parse(time.RFC1123Z, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// Twilio error codes that end an attempt for good: no retry can succeed.
const (
	codeUnsubscribed      = 21610 // the number texted STOP
	codeInvalidTo         = 21211
	codeNotSMSCapable     = 21614
	codeNoSMSPermission   = 21408
	codeNoVoicePermission = 21215
)

// sendError classifies a failed create request for the pager: a 4xx
// answer is permanent (Twilio refused the request; 429 excepted, which is
// retried), a refused connection is retried, and anything else — a
// timeout, a 5xx, a broken answer — is in doubt: Twilio may have acted.
func sendError(err error) error {
	var re *client.TwilioRestError
	if errors.As(err, &re) {
		switch {
		case re.Status == http.StatusTooManyRequests:
			return &pager.SendError{Class: pager.Retry, Code: re.Code, Err: err}
		case re.Status >= 400 && re.Status < 500:
			se := &pager.SendError{Class: pager.Permanent, Code: re.Code, Outcome: pager.Rejected, Err: err}
			if re.Code == codeUnsubscribed {
				se.Outcome = pager.OptedOut
			}
			return se
		}
		return &pager.SendError{Class: pager.Doubt, Code: re.Code, Err: err}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return &pager.SendError{Class: pager.Retry, Err: err}
	}
	if errs.Is(err, errs.Unavailable) {
		return &pager.SendError{Class: pager.Retry, Err: err}
	}
	return &pager.SendError{Class: pager.Doubt, Err: err}
}

// The REST of a service with no Twilio account refuses the pager's
// requests too, naming the missing settings: retried, then the channel
// fails and the page says so.
func (unconfigured) CreatePageCall(context.Context, PageCall) (string, error) {
	return "", &pager.SendError{Class: pager.Retry, Err: errUnconfigured}
}
func (unconfigured) CreateMessage(context.Context, OutboundMessage) (string, error) {
	return "", &pager.SendError{Class: pager.Retry, Err: errUnconfigured}
}
func (unconfigured) RecentCalls(context.Context, string, string) ([]ProviderRecord, error) {
	return nil, errUnconfigured
}
func (unconfigured) RecentMessages(context.Context, string, string) ([]ProviderRecord, error) {
	return nil, errUnconfigured
}
