package faketwilio

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// message is one message resource. Fields are guarded by Server.mu.
type message struct {
	sid, from, to, body string
	messagingService    string
	statusCallback      string
	direction, status   string
	errorCode           int
	created, updated    time.Time
	sent                time.Time
	claimed             bool
	// auto marks Twilio's own reply to an opt-out keyword: claimable with
	// ExpectSMS, but not the service's doing, so neither listed, fetched
	// nor counted as unexpected.
	auto bool
	// settled is closed once the fake's automatic status callbacks (sent;
	// delivered with AutoDeliver) are done; nil when there are none.
	settled chan struct{}
}

// final reports whether the message reached a status nothing follows.
func (m *message) final() bool {
	switch m.status {
	case "delivered", "undelivered", "failed", "received", "canceled":
		return true
	}
	return false
}

func (s *Server) createMessage(r *http.Request, p map[string]string) (result, *apiError) {
	f := r.PostForm
	m := &message{
		sid:              newSID("SM"),
		from:             f.Get("From"),
		to:               f.Get("To"),
		body:             f.Get("Body"),
		messagingService: f.Get("MessagingServiceSid"),
		statusCallback:   f.Get("StatusCallback"),
		direction:        "outbound-api",
		status:           "queued",
		settled:          make(chan struct{}),
	}
	if m.from == "" && m.messagingService == "" {
		return result{}, errInvalid(codeNoFrom, "A 'From' phone number or a MessagingServiceSid is required.")
	}
	if m.body == "" && len(f["MediaUrl"]) == 0 && f.Get("ContentSid") == "" {
		return result{}, errInvalid(codeNoBody, "Message body is required.")
	}
	if m.from == "" {
		m.status = "accepted" // a messaging service picks the sender later
	}
	if e := s.refuseMessageFrom(m.from, m.to); e != nil {
		return result{}, e
	}
	now := s.now()
	m.created, m.updated = now, now
	s.mu.Lock()
	if e := s.refuseMessageLocked(m.to); e != nil {
		s.mu.Unlock()
		s.log.Info("message refused", zap.String(keyTo, m.to), zap.Int(keyCode, e.Code))
		return result{}, e
	}
	s.messages[m.sid] = m
	s.messageList = append(s.messageList, m)
	// Twilio answers with the initial status and posts no callback for
	// it; the message is sent within moments.
	body := s.messageJSON(m)
	if m.from == "" {
		m.from = s.opts.ServiceNumber
	}
	m.status, m.sent = "sent", now
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("message created", zap.String(keyMsgSid, m.sid), zap.String(keyTo, m.to))
	return result{status: http.StatusCreated, body: body, after: func() { s.settle(m) }}, nil
}

// settle posts what Twilio reports on its own after the create answer:
// "sent", then with Options.AutoDeliver "delivered". A failed callback is
// unexpected.
func (s *Server) settle(m *message) {
	defer close(m.settled)
	if err := s.messageStatus(m, "sent", 0); err != nil {
		s.unexpectedf("message %s: %v", m.sid, err)
		return
	}
	if !s.opts.AutoDeliver {
		return
	}
	if err := s.messageStatus(m, "delivered", 0); err != nil {
		s.unexpectedf("message %s: %v", m.sid, err)
	}
}

// messageStatus moves m to status st (with error code, 0 for none) and
// posts the status callback if m has one, unless DropCallbacks makes it
// lose it.
func (s *Server) messageStatus(m *message, st string, code int) error {
	s.mu.Lock()
	m.status, m.updated = st, s.now()
	if code != 0 {
		m.errorCode = code
	}
	p := url.Values{
		"AccountSid": {s.opts.AccountSID}, "ApiVersion": {apiVersion},
		"MessageSid": {m.sid}, "SmsSid": {m.sid}, "MessageStatus": {st}, "SmsStatus": {st},
		"From": {m.from}, "To": {m.to},
	}
	if m.messagingService != "" {
		p.Set("MessagingServiceSid", m.messagingService)
	}
	if code != 0 {
		p.Set("ErrorCode", strconv.Itoa(code))
	}
	target := m.statusCallback
	lost := target != "" && takeDrop(&s.drop.MessageStatus, &s.dropped.MessageStatus)
	s.mu.Unlock()
	if target == "" {
		return nil
	}
	if lost {
		s.log.Info("status callback dropped", zap.String(keyMsgSid, m.sid), zap.String(keyStatus, st))
		return nil
	}
	if _, err := s.send(context.Background(), http.MethodPost, target, p); err != nil {
		return fmt.Errorf("status callback %q: %w", st, err)
	}
	return nil
}

// addMessage stores a message Twilio sends or receives outside
// Messages.create (inbound, a TwiML reply, an opt-out reply) and wakes
// ExpectSMS waiters.
func (s *Server) addMessage(m *message) {
	now := s.now()
	m.created, m.updated, m.sent = now, now, now
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages[m.sid] = m
	s.messageList = append(s.messageList, m)
	s.notifyLocked()
}

func (s *Server) fetchMessage(_ *http.Request, p map[string]string) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[p["Sid"]]
	if m == nil || m.auto {
		return result{}, errNotFound("Message " + p["Sid"])
	}
	return result{status: http.StatusOK, body: s.messageJSON(m)}, nil
}

func (s *Server) listMessages(r *http.Request, p map[string]string) (result, *apiError) {
	q := r.URL.Query()
	s.mu.Lock()
	var match []any
	for i := len(s.messageList) - 1; i >= 0; i-- {
		m := s.messageList[i]
		if m.auto || !eqFilter(q, "To", m.to) || !eqFilter(q, "From", m.from) || !dayFilter(q, "DateSent", m.sent) {
			continue
		}
		match = append(match, s.messageJSON(m))
	}
	s.mu.Unlock()
	return result{status: http.StatusOK, body: page(r, p, "messages", match)}, nil
}

// messageJSON renders the api.v2010.account.message schema. s.mu is held.
func (s *Server) messageJSON(m *message) map[string]any {
	base := "/2010-04-01/Accounts/" + s.opts.AccountSID + "/Messages/" + m.sid
	var code, text any
	if m.errorCode != 0 {
		code, text = m.errorCode, nullable(errorMessage(m.errorCode))
	}
	return map[string]any{
		"body":                  m.body,
		"num_segments":          strconv.Itoa(max(1, (len(m.body)+159)/160)),
		"direction":             m.direction,
		"from":                  nullable(m.from),
		"to":                    m.to,
		"date_updated":          rfc2822(m.updated),
		"price":                 nil,
		"error_message":         text,
		"uri":                   base + ".json",
		"account_sid":           s.opts.AccountSID,
		"num_media":             "0",
		"status":                m.status,
		"messaging_service_sid": nullable(m.messagingService),
		"sid":                   m.sid,
		"date_sent":             rfc2822(m.sent),
		"date_created":          rfc2822(m.created),
		"error_code":            code,
		"price_unit":            "USD",
		"api_version":           apiVersion,
		"subresource_uris": map[string]any{
			"media":    base + "/Media.json",
			"feedback": base + "/Feedback.json",
		},
	}
}

// errorMessage is the error_message Twilio gives a message that failed or
// went undelivered with code; "" for a code the fake does not know.
func errorMessage(code int) string {
	switch code {
	case 30001:
		return "Queue overflow"
	case 30002:
		return "Account suspended"
	case 30003:
		return "Unreachable destination handset"
	case 30004:
		return "Message blocked"
	case 30005:
		return "Unknown destination handset"
	case 30006:
		return "Landline or unreachable carrier"
	case 30007:
		return "Message filtered"
	case 30008:
		return "Unknown error"
	case 30034:
		return "US A2P 10DLC - Message from an Unregistered Number"
	}
	return ""
}
