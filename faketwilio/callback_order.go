package faketwilio

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"go.uber.org/zap"
)

// Twilio sends each callback as a separate request, and they can arrive
// out of order: a call's completed before its answered, a leg's status
// before its AMD verdict. HoldCallbacks and ReleaseCallbacks let a test
// deliver a call's callbacks in the order it chooses. Their parameters
// (SequenceNumber, Timestamp) are those of the moment Twilio sent them.

// heldCallback is a callback held back by HoldCallbacks. Guarded by
// Server.mu.
type heldCallback struct {
	name           string // the status event (initiated, ringing, answered, completed) or "amd"
	method, target string
	params         url.Values
}

// holdLocked keeps a callback of c if c holds them; it reports whether it
// did. s.mu is held.
func (s *Server) holdLocked(c *call, name, method, target string, p url.Values) bool {
	if !c.holding {
		return false
	}
	c.held = append(c.held, heldCallback{name: name, method: method, target: target, params: p})
	s.log.Info("callback held", zap.String(keyCallSid, c.sid), zap.String(keyWhat, name))
	return true
}

// HoldCallbacks holds the call's status callbacks and its AsyncAmd verdict
// from now on instead of sending them, until ReleaseCallbacks.
func (h *CallHandle) HoldCallbacks() {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.c.holding = true
}

// HeldCallbacks names the callbacks held so far, in the order Twilio sent
// them: status events by name (initiated, ringing, answered, completed)
// and "amd" for the AsyncAmd verdict.
func (h *CallHandle) HeldCallbacks() []string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	var out []string
	for _, cb := range h.c.held {
		out = append(out, cb.name)
	}
	return out
}

// ReleaseCallbacks stops holding and delivers the held callbacks: first
// those named in order (each name takes the earliest held callback of that
// name), in that order, then the others in the order they were sent. With
// no names they go in their own order. A name not held fails the test.
//
//	call.HoldCallbacks()
//	call.Answer()
//	call.Hangup()
//	call.ReleaseCallbacks("completed") // completed, then initiated, ringing, answered
func (h *CallHandle) ReleaseCallbacks(order ...string) {
	s, c := h.s, h.c
	s.mu.Lock()
	held := c.held
	c.held, c.holding = nil, false
	s.mu.Unlock()
	var out []heldCallback
	for _, name := range order {
		i := slices.IndexFunc(held, func(cb heldCallback) bool { return cb.name == name })
		if i < 0 {
			var names []string
			for _, cb := range held {
				names = append(names, cb.name)
			}
			s.failf("ReleaseCallbacks: call %s holds no %q callback (it holds %s)", c.sid, name, strings.Join(names, ", "))
			return
		}
		out = append(out, held[i])
		held = slices.Delete(held, i, i+1)
	}
	out = append(out, held...)
	for _, cb := range out {
		if _, err := s.send(context.Background(), cb.method, cb.target, cb.params); err != nil {
			h.must(fmt.Errorf("held %s callback: %w", cb.name, err))
		}
	}
}
