package faketwilio

import (
	"go.uber.org/zap"
)

// <Dial><Number>: the leg a live call dials is delivered to the dialled
// Phone (startDial). Once it is answered, Twilio bridges it with the call
// that dialled: at once when the <Number> has no url, after the url's
// TwiML has played out otherwise (a whisper or a screening that ends
// without hanging up). The two talk until one hangs up: the leg hanging
// up ends the <Dial> (its action, or the verbs after it: dialDone); the
// dialling call hanging up ends the leg too, which reports completed
// (canceled while it still rang) to its statusCallback.

// answerBridged is how Answer picks up a <Dial><Number> leg without a url:
// there is no TwiML to fetch, the leg is bridged with the call that dialled
// it. It reports false for any other call, which fetches its TwiML.
func (s *Server) answerBridged(c *call) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.dial == nil || c.url != "" {
		return false
	}
	s.notifyLocked()
	s.log.Info("dialled leg answered and bridged", zap.String(keyCallSid, c.sid), zap.String(keyParentCall, c.dial.parent.sid))
	return true
}

// ConnectedTo reports whether the call and other are talking: one is the
// answered <Dial><Number> leg of the other and its url's TwiML, if any,
// has played out, or <Dial><Queue> bridged them. Both must be in
// progress.
func (h *CallHandle) ConnectedTo(other *CallHandle) bool {
	if other == nil {
		return false
	}
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	a, b := h.c, other.c
	if a.bridge != nil && a.bridge == b.bridge {
		return true
	}
	return legBridged(a, b) || legBridged(b, a)
}

// legBridged reports whether leg, dialled by parent's <Dial><Number>, is
// talking with it. Server.mu is held.
func legBridged(leg, parent *call) bool {
	return leg.dial != nil && leg.dial.parent == parent && leg.status == "in-progress" && parent.status == "in-progress" &&
		(leg.last == nil || leg.last.blocking() == nil)
}

// endLegs ends the <Dial><Number> legs of parent, which hung up: an
// answered one completes, one still ringing is canceled; each reports to
// its statusCallback. The <Dial> action is not requested: the call that
// dialled is over.
func (s *Server) endLegs(parent *call) error {
	s.mu.Lock()
	var legs []*call
	now := s.now()
	for _, c := range s.callList {
		if c.dial == nil || c.dial.parent != parent || c.terminal() {
			continue
		}
		if c.status == "in-progress" {
			c.status = "completed"
		} else {
			c.status = "canceled"
		}
		c.ended, c.updated = now, now
		legs = append(legs, c)
	}
	if len(legs) > 0 {
		s.notifyLocked()
	}
	s.mu.Unlock()
	for _, c := range legs {
		s.log.Info("dialled leg ended: the call that dialled hung up", zap.String(keyCallSid, c.sid), zap.String(keyStatus, c.status))
		if err := s.statusEvent(c, "completed"); err != nil {
			return err
		}
	}
	return nil
}
