package faketwilio

import (
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// Fault makes the next matching requests fail or answer late. Faults apply to
// requests that passed validation, in the order they were injected.
type Fault struct {
	// Endpoint names what to break: "Calls.create", "Calls.fetch",
	// "Calls.update", "Calls.list", "Messages.create", "Messages.fetch",
	// "Messages.list", "Recordings.fetch", "Recordings.delete"; or the spec's
	// operationId ("CreateCall"); or "*" for any of them.
	Endpoint string
	// Status is the HTTP status to answer (429, 500, 503, …) with a
	// Twilio-style error body; 0 answers normally (after Delay).
	Status int
	// Code and Message override the error body; default code 20000+Status.
	Code    int
	Message string
	// Times is how many requests the fault affects; default 1.
	Times int
	// Delay holds the answer back this long. It is a real wait of the fake
	// server and ends early when the client gives up (request context done).
	Delay time.Duration
	// Until, when set, holds the answer back until it is closed (a hanging
	// API that the test brings back), or the client gives up; Holding, when
	// set, is sent a value as each such request starts waiting.
	Until   <-chan struct{}
	Holding chan<- struct{}
	// RetryAfter is sent as Retry-After with a 429; default 1 s.
	RetryAfter time.Duration
	// Committed carries the request out (creates the call or message) before
	// the fault is served: the client sees an error or a timeout for
	// something that did happen — an attempt in doubt.
	Committed bool
}

type fault struct {
	Fault
	left int
}

// Inject adds f. An invalid fault fails the test (or panics without one).
func (s *Server) Inject(f Fault) {
	if f.Endpoint == "" || (f.Status != 0 && (f.Status < 400 || f.Status > 599)) || f.Times < 0 || f.Delay < 0 {
		s.failf("invalid fault %+v", f)
		return
	}
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Status == http.StatusTooManyRequests && f.RetryAfter <= 0 {
		f.RetryAfter = time.Second
	}
	if f.Code == 0 && f.Status != 0 {
		f.Code = 20000 + f.Status
	}
	if f.Message == "" {
		f.Message = http.StatusText(f.Status) + " (injected by faketwilio)"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{Fault: f, left: f.Times})
}

// takeFault consumes one use of the first fault matching the endpoint.
func (s *Server) takeFault(name, op string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Endpoint != name && f.Endpoint != op && f.Endpoint != "*" {
			continue
		}
		f.left--
		if f.left == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		s.log.Info("fault injected", zap.String(keyEndpoint, name), zap.Int(keyStatus, f.Status), zap.Duration(keyDelay, f.Delay))
		return f
	}
	return nil
}

// serve waits out the delay and writes the error, if any. It reports
// whether the request has been answered (or abandoned by the client).
func (f *fault) serve(w http.ResponseWriter, r *http.Request) bool {
	if f.Until != nil {
		if f.Holding != nil {
			select {
			case f.Holding <- struct{}{}:
			case <-r.Context().Done():
				return true
			}
		}
		select {
		case <-f.Until:
		case <-r.Context().Done():
			return true
		}
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	writeError(w, &apiError{Status: f.Status, Code: f.Code, Message: f.Message})
	return true
}

// Drop counts status callbacks by kind: how many DropCallbacks is to lose,
// or how many it lost.
type Drop struct {
	// CallStatus counts call status callbacks: the StatusCallback events of
	// Calls.create (initiated, ringing, answered, completed), of a <Number>
	// and of Options.VoiceStatusCallbackURL.
	CallStatus int
	// MessageStatus counts message status callbacks (sent, delivered,
	// undelivered, failed) to a message's StatusCallback.
	MessageStatus int
}

// DropCallbacks loses the next d.CallStatus call and d.MessageStatus
// message status callbacks on their way to the service, to test what it
// does when Twilio's word never comes: the call or message moves on as
// usual (fetch and list show it), the service is just not told. Counts add
// to what is still to lose. Callbacks that are not sent anyway (no
// StatusCallback, an event not subscribed) do not count; voice requests,
// <Gather> actions, AsyncAmd and recording callbacks are never lost.
func (s *Server) DropCallbacks(d Drop) {
	if d.CallStatus < 0 || d.MessageStatus < 0 {
		s.failf("DropCallbacks: negative count %+v", d)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop.CallStatus += d.CallStatus
	s.drop.MessageStatus += d.MessageStatus
}

// Dropped returns how many status callbacks DropCallbacks lost so far.
func (s *Server) Dropped() Drop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// takeDrop uses up one callback still to lose of a kind (left), counting
// it in lost; it reports whether the callback is to be lost. Call it with
// Server.mu held.
func takeDrop(left, lost *int) bool {
	if *left == 0 {
		return false
	}
	*left--
	*lost++
	return true
}
