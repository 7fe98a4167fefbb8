package faketwilio

import (
	"net/http"
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
	body := s.addMessage(m)
	s.log.Info("message created", zap.String(keyMsgSid, m.sid), zap.String(keyTo, m.to))
	return result{http.StatusCreated, body}, nil
}

// addMessage stores m, renders it as created, then marks it sent, as Twilio
// does within moments. It wakes ExpectSMS waiters.
func (s *Server) addMessage(m *message) map[string]any {
	now := s.now()
	m.created, m.updated = now, now
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages[m.sid] = m
	s.messageList = append(s.messageList, m)
	body := s.messageJSON(m)
	if m.from == "" {
		m.from = s.opts.ServiceNumber
	}
	m.status, m.sent = "sent", now
	s.notifyLocked()
	return body
}

func (s *Server) fetchMessage(_ *http.Request, p map[string]string) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[p["Sid"]]
	if m == nil {
		return result{}, errNotFound("Message " + p["Sid"])
	}
	return result{http.StatusOK, s.messageJSON(m)}, nil
}

func (s *Server) listMessages(r *http.Request, p map[string]string) (result, *apiError) {
	q := r.URL.Query()
	s.mu.Lock()
	var match []any
	for i := len(s.messageList) - 1; i >= 0; i-- {
		m := s.messageList[i]
		if !eqFilter(q, "To", m.to) || !eqFilter(q, "From", m.from) || !dayFilter(q, "DateSent", m.sent) {
			continue
		}
		match = append(match, s.messageJSON(m))
	}
	s.mu.Unlock()
	return result{http.StatusOK, page(r, p, "messages", match)}, nil
}

// messageJSON renders the api.v2010.account.message schema. s.mu is held.
func (s *Server) messageJSON(m *message) map[string]any {
	base := "/2010-04-01/Accounts/" + s.opts.AccountSID + "/Messages/" + m.sid
	var code any
	if m.errorCode != 0 {
		code = m.errorCode
	}
	return map[string]any{
		"body":                  m.body,
		"num_segments":          strconv.Itoa(max(1, (len(m.body)+159)/160)),
		"direction":             m.direction,
		"from":                  nullable(m.from),
		"to":                    m.to,
		"date_updated":          rfc2822(m.updated),
		"price":                 nil,
		"error_message":         nil,
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
