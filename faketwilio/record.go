package faketwilio

import (
	"slices"
	"time"
)

// Request is one create request the fake accepted through the REST API
// (Calls.create or Messages.create answered 201): the record of what the
// service asked Twilio to do, for tests that check nothing was asked twice.
type Request struct {
	Kind           string // RequestCall or RequestMessage
	SID            string // CA… or SM…
	To, From       string // From is "" for a message sent through a messaging service
	Body           string // a message's text; "" for a call
	URL            string // a call's TwiML URL; "" for a message
	StatusCallback string
	Created        time.Time // on Options.Now
}

// Kinds of Request.
const (
	RequestCall    = "call"
	RequestMessage = "message"
)

// Requests lists every call and message the service created through the
// REST API, in the order the fake accepted them (calls and messages merged
// by creation time; within each kind, exactly in order of acceptance).
// Calls a <Dial> placed, inbound calls and texts, TwiML replies and
// Twilio's own opt-out replies are not requests and are left out; refused
// requests (an injected fault, a marked number) are not listed either.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var calls, msgs []Request
	for _, c := range s.callList {
		if c.direction != "outbound-api" {
			continue
		}
		calls = append(calls, Request{Kind: RequestCall, SID: c.sid, To: c.to, From: c.from, URL: c.url,
			StatusCallback: c.statusCallback, Created: c.created})
	}
	for _, m := range s.messageList {
		if m.direction != "outbound-api" {
			continue
		}
		from := m.from
		if m.messagingService != "" {
			from = ""
		}
		msgs = append(msgs, Request{Kind: RequestMessage, SID: m.sid, To: m.to, From: from, Body: m.body,
			StatusCallback: m.statusCallback, Created: m.created})
	}
	// Merge the two lists, each already in order of acceptance, keeping
	// that order within each kind whatever the clock says.
	out := make([]Request, 0, len(calls)+len(msgs))
	for len(calls) > 0 && len(msgs) > 0 {
		if msgs[0].Created.Before(calls[0].Created) {
			out, msgs = append(out, msgs[0]), msgs[1:]
		} else {
			out, calls = append(out, calls[0]), calls[1:]
		}
	}
	return slices.Concat(out, calls, msgs)
}
