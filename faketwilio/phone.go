package faketwilio

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// Device is a phone at a number: what the service calls and texts, and what
// calls and texts the service.
type Device struct {
	s      *Server
	number string
}

// Phone returns the device at number (E.164, as the service dials it).
func (s *Server) Phone(number string) *Device { return &Device{s: s, number: number} }

// Number returns the device's number.
func (d *Device) Number() string { return d.number }

// waitFor blocks until cond (called with s.mu held) is true or ctx is done.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitCall claims the oldest unclaimed call to the device, waiting for one
// until ctx is done. Use it from goroutines; ExpectCall from the test.
func (d *Device) WaitCall(ctx context.Context) (*CallHandle, error) {
	var got *call
	err := d.s.waitFor(ctx, func() bool {
		for _, c := range d.s.callList {
			if !c.claimed && c.to == d.number {
				c.claimed, got = true, c
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("faketwilio: no call to %s: %w", d.number, err)
	}
	return &CallHandle{s: d.s, c: got}, nil
}

// ExpectCall waits up to Options.ExpectTimeout for a call to the device and
// fails the test if none comes.
func (d *Device) ExpectCall() *CallHandle {
	ctx, cancel := context.WithTimeout(context.Background(), d.s.opts.ExpectTimeout)
	defer cancel()
	h, err := d.WaitCall(ctx)
	if err != nil {
		d.s.failf("ExpectCall: %v", err)
	}
	return h
}

// WaitSMS claims the oldest unclaimed message to the device whose body
// contains every one of contains (case-insensitive), waiting until ctx is done.
func (d *Device) WaitSMS(ctx context.Context, contains ...string) (*MessageHandle, error) {
	var got *message
	err := d.s.waitFor(ctx, func() bool {
		for _, m := range d.s.messageList {
			if !m.claimed && m.to == d.number && containsAll(m.body, contains) {
				m.claimed, got = true, m
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("faketwilio: no SMS to %s containing %q: %w", d.number, contains, err)
	}
	return &MessageHandle{d: d, m: got}, nil
}

// ExpectSMS waits up to Options.ExpectTimeout for a message to the device
// containing every one of contains (case-insensitive) and fails the test if
// none comes.
func (d *Device) ExpectSMS(contains ...string) *MessageHandle {
	ctx, cancel := context.WithTimeout(context.Background(), d.s.opts.ExpectTimeout)
	defer cancel()
	h, err := d.WaitSMS(ctx, contains...)
	if err != nil {
		d.s.failf("ExpectSMS: %v", err)
	}
	return h
}

func containsAll(body string, words []string) bool {
	b := strings.ToLower(body)
	for _, w := range words {
		if !strings.Contains(b, strings.ToLower(w)) {
			return false
		}
	}
	return true
}

// SendSMS texts the service at number to: Options.SMSWebhookURL gets the
// signed inbound-message webhook. Each <Message> of the TwiML answer is sent
// back to the device, to be claimed with ExpectSMS.
func (d *Device) SendSMS(to, body string) *TwiML {
	s := d.s
	if s.opts.SMSWebhookURL == "" {
		s.failf("SendSMS: Options.SMSWebhookURL is not set")
		return nil
	}
	m := &message{sid: newSID("SM"), from: d.number, to: to, body: body, direction: "inbound", claimed: true}
	s.addMessage(m)
	s.mu.Lock()
	m.status = "received"
	s.mu.Unlock()
	p := url.Values{
		"AccountSid": {s.opts.AccountSID}, "ApiVersion": {apiVersion},
		"MessageSid": {m.sid}, "SmsSid": {m.sid}, "SmsMessageSid": {m.sid}, "SmsStatus": {"received"},
		"From": {d.number}, "To": {to}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
	}
	r, err := s.send(context.Background(), http.MethodPost, s.opts.SMSWebhookURL, p)
	if err != nil {
		s.failf("SendSMS from %s: %v", d.number, err)
		return nil
	}
	doc := &TwiML{URL: r.url, Status: r.status, Body: r.body}
	if strings.TrimSpace(r.body) != "" {
		if doc, err = parseTwiML(r.url, r.body, r.status); err != nil {
			s.failf("SendSMS from %s: answer is not TwiML (%v): %.200s", d.number, err, r.body)
			return nil
		}
	}
	for _, msg := range doc.Find("Message") {
		text := msg.Text
		if b := (&TwiML{Root: msg}).First("Body"); b != nil {
			text = b.Text
		}
		reply := &message{sid: newSID("SM"), from: orDefault(msg.Attr("from"), to), to: orDefault(msg.Attr("to"), d.number), body: text, direction: "outbound-reply"}
		s.addMessage(reply)
		s.log.Info("message created", zap.String(keyMsgSid, reply.sid), zap.String(keyTo, reply.to))
	}
	return doc
}

// Dial calls the service at number to (default Options.ServiceNumber): an
// inbound call whose Answer fetches TwiML from Options.VoiceWebhookURL.
func (d *Device) Dial(to string) *CallHandle {
	s := d.s
	if s.opts.VoiceWebhookURL == "" {
		s.failf("Dial: Options.VoiceWebhookURL is not set")
		return nil
	}
	now := s.now()
	c := &call{
		sid: newSID("CA"), from: d.number, to: orDefault(to, s.opts.ServiceNumber), direction: "inbound",
		url: s.opts.VoiceWebhookURL, method: http.MethodPost, events: map[string]bool{"completed": true}, status: "ringing",
		statusCallback: s.opts.VoiceStatusCallbackURL, statusCallbackMethod: http.MethodPost,
		created: now, updated: now, started: now, claimed: true, endedByAPI: make(chan struct{}),
	}
	s.mu.Lock()
	s.calls[c.sid] = c
	s.callList = append(s.callList, c)
	s.mu.Unlock()
	return &CallHandle{s: s, c: c}
}

// MessageHandle is a message the service sent to a device.
type MessageHandle struct {
	d *Device
	m *message
}

// SID returns the message SID (SM…).
func (h *MessageHandle) SID() string { return h.m.sid }

// Body returns the text.
func (h *MessageHandle) Body() string { return h.m.body }

// From returns the sender: the From the service gave, or for a message sent
// through a messaging service, Options.ServiceNumber.
func (h *MessageHandle) From() string {
	h.d.s.mu.Lock()
	defer h.d.s.mu.Unlock()
	return h.m.from
}

// ThenReply answers the message from the device: an inbound SMS to the
// message's sender (see Device.SendSMS).
func (h *MessageHandle) ThenReply(body string) *TwiML { return h.d.SendSMS(h.From(), body) }

// Delivered reports delivery: MessageStatus=delivered to the message's
// StatusCallback, if it had one.
func (h *MessageHandle) Delivered() *MessageHandle { return h.status("delivered", 0) }

// Undelivered reports a carrier failure (code e.g. 30003, unreachable).
func (h *MessageHandle) Undelivered(code int) *MessageHandle { return h.status("undelivered", code) }

func (h *MessageHandle) status(st string, code int) *MessageHandle {
	s, m := h.d.s, h.m
	s.mu.Lock()
	m.status, m.errorCode, m.updated = st, code, s.now()
	p := url.Values{
		"AccountSid": {s.opts.AccountSID}, "ApiVersion": {apiVersion},
		"MessageSid": {m.sid}, "SmsSid": {m.sid}, "MessageStatus": {st}, "SmsStatus": {st},
		"From": {m.from}, "To": {m.to},
	}
	if code != 0 {
		p.Set("ErrorCode", strconv.Itoa(code))
	}
	target := m.statusCallback
	s.mu.Unlock()
	if target == "" {
		return h
	}
	if _, err := s.send(context.Background(), http.MethodPost, target, p); err != nil {
		s.failf("message %s status %s: %v", m.sid, st, err)
	}
	return h
}

// waitOutbound claims the oldest unclaimed call the service placed through
// the API, to any number, waiting until ctx is done.
func (s *Server) waitOutbound(ctx context.Context) (*CallHandle, error) {
	var got *call
	err := s.waitFor(ctx, func() bool {
		for _, c := range s.callList {
			if !c.claimed && c.direction == "outbound-api" {
				c.claimed, got = true, c
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	return &CallHandle{s: s, c: got}, nil
}
