package faketwilio

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

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

// ExpectNothing fails the test if a call or SMS to the device is waiting
// now that no ExpectCall or ExpectSMS claimed (Twilio's own opt-out
// replies excepted). It looks at this moment and does not wait: call it
// once the service has done what the test expects it to do, to say it did
// nothing more towards this phone.
func (d *Device) ExpectNothing() *Device {
	s := d.s
	s.mu.Lock()
	var found []string
	for _, c := range s.callList {
		if !c.claimed && c.to == d.number {
			found = append(found, fmt.Sprintf("call %s from %s (%s)", c.sid, c.from, c.status))
		}
	}
	for _, m := range s.messageList {
		if !m.claimed && !m.auto && m.to == d.number {
			found = append(found, fmt.Sprintf("SMS %s from %s: %q", m.sid, m.from, m.body))
		}
	}
	s.mu.Unlock()
	if len(found) > 0 {
		s.failf("ExpectNothing: %s got %s", d.number, strings.Join(found, "; "))
	}
	return d
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
//
// A body that is one of Twilio's keywords (trimmed, any case) is handled by
// Twilio first, as it does for long codes by default: STOP, STOPALL,
// UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE and OPTOUT opt the device out
// (Messages.create to it fails with 21610); START, YES and UNSTOP opt it
// back in; HELP and INFO change nothing. Twilio's own reply (containing
// "unsubscribed", "re-subscribed", or the help text; none for HELP from an
// opted-out device) comes from the number texted and can be claimed with
// ExpectSMS; it is
// not the service's doing, so leaving it unclaimed is not unexpected. The
// webhook is delivered all the same, with OptOutType (STOP, START, HELP)
// when Options.AdvancedOptOut is set. A <Message> answer to an opted-out
// device fails the test: Twilio would not send it.
func (d *Device) SendSMS(to, body string) *TwiML {
	s := d.s
	if s.opts.SMSWebhookURL == "" {
		s.failf("SendSMS: Options.SMSWebhookURL is not set")
		return nil
	}
	keyword := optOutKeyword(body)
	s.mu.Lock()
	st := s.phoneLocked(d.number)
	switch keyword {
	case optOutStop:
		st.optedOut = true
	case optOutStart:
		st.optedOut = false
	}
	optedOut := st.optedOut
	s.mu.Unlock()
	if keyword != "" {
		s.log.Info("opt-out keyword", zap.String(keyFrom, d.number), zap.String(keyKeyword, keyword))
	}
	m := &message{sid: newSID("SM"), from: d.number, to: to, body: body, direction: "inbound", status: "received", claimed: true}
	s.addMessage(m)
	if text := autoReply(keyword, optedOut); text != "" {
		s.addOutbound(&message{sid: newSID("SM"), from: to, to: d.number, body: text, direction: "outbound-reply", auto: true})
	}
	p := url.Values{
		"AccountSid": {s.opts.AccountSID}, "ApiVersion": {apiVersion},
		"MessageSid": {m.sid}, "SmsSid": {m.sid}, "SmsMessageSid": {m.sid}, "SmsStatus": {"received"},
		"From": {d.number}, "To": {to}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
	}
	if keyword != "" && s.opts.AdvancedOptOut {
		p.Set("OptOutType", keyword)
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
		if reply.to == d.number && optedOut {
			s.failf("SendSMS %q from %s: the service answered with <Message>%.100s</Message>, which Twilio refuses to send to an opted-out number (%d)",
				body, d.number, text, codeUnsubscribed)
			return doc
		}
		s.addOutbound(reply)
	}
	return doc
}

// addOutbound stores a message Twilio sends outside Messages.create (a
// TwiML reply, an opt-out reply): sent, or delivered with
// Options.AutoDeliver. Such messages have no status callback.
func (s *Server) addOutbound(m *message) {
	m.status = "sent"
	if s.opts.AutoDeliver {
		m.status = "delivered"
	}
	s.addMessage(m)
	s.log.Info("message created", zap.String(keyMsgSid, m.sid), zap.String(keyTo, m.to))
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
		fallbackURL: s.opts.VoiceFallbackURL, fallbackMethod: http.MethodPost,
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
// StatusCallback, if it had one, after the "sent" the fake posted by
// itself. The message must not have reached a final status.
func (h *MessageHandle) Delivered() *MessageHandle { return h.status("delivered", 0) }

// Undelivered reports that the carrier could not deliver the message:
// MessageStatus=undelivered with ErrorCode code (30003 unreachable
// handset, 30005 unknown handset, 30006 landline, 30007 filtered, 30034 US
// A2P 10DLC unregistered sender, …); the resource's error_code and
// error_message say so too.
func (h *MessageHandle) Undelivered(code int) *MessageHandle { return h.status("undelivered", code) }

// Failed reports that Twilio could not send the message: MessageStatus=
// failed with ErrorCode code (30001 queue overflow, 30002 account
// suspended, …), and error_code on the resource. Twilio reports failed
// instead of sent; the fake has posted sent already, so the service sees
// sent then failed, which a robust service copes with anyway (status
// callbacks are separate requests and can arrive out of order).
func (h *MessageHandle) Failed(code int) *MessageHandle { return h.status("failed", code) }

func (h *MessageHandle) status(st string, code int) *MessageHandle {
	s, m := h.d.s, h.m
	if st != "delivered" && code == 0 {
		s.failf("message %s %s: give Twilio's error code", m.sid, st)
		return h
	}
	if m.settled != nil {
		t := time.NewTimer(s.opts.ExpectTimeout)
		defer t.Stop()
		select {
		case <-m.settled:
		case <-t.C:
			s.failf("message %s %s: the fake's own status callbacks did not finish within %v", m.sid, st, s.opts.ExpectTimeout)
			return h
		}
	}
	s.mu.Lock()
	prev, final := m.status, m.final()
	s.mu.Unlock()
	if final {
		s.failf("message %s %s: it is %s already", m.sid, st, prev)
		return h
	}
	if err := s.messageStatus(m, st, code); err != nil {
		s.failf("message %s: %v", m.sid, err)
	}
	return h
}

// Status returns the message's current status (sent, delivered, …).
func (h *MessageHandle) Status() string {
	h.d.s.mu.Lock()
	defer h.d.s.mu.Unlock()
	return h.m.status
}
