package faketwilio

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"go.uber.org/zap"
)

// Queues: <Enqueue> puts a call in a named queue, where it executes the
// TwiML of the verb's waitUrl over and over; <Dial><Queue> bridges the
// call at the front of that queue with the dialling call; <Leave/> in the
// wait TwiML takes it out. The fake does not play audio, so the test says
// when a turn of wait TwiML has played (CallHandle.NextWait).

// queueState is a call waiting in (or bridged out of) a queue. Guarded by
// Server.mu.
type queueState struct {
	name       string
	sid        string // QU…
	doc        *TwiML // the document holding the <Enqueue>
	verb       *Node
	waitURL    string
	waitMethod string
	entered    int    // seconds on the server clock, for QueueTime
	wait       *TwiML // the last wait TwiML
	turns      int
}

// bridge links two calls talking after <Dial><Queue>. Guarded by Server.mu.
type bridge struct {
	caller, dialer *call
	dialDoc        *TwiML // the dialler's document holding the <Dial>
	dialVerb       *Node
}

// enqueue puts c in the queue of verb and runs the first turn of its wait
// TwiML.
func (s *Server) enqueue(c *call, doc *TwiML, verb *Node) (*TwiML, error) {
	name := verb.Text
	if name == "" {
		return doc, fmt.Errorf("<Enqueue> without a queue name")
	}
	if verb.Attr("workflowSid") != "" {
		return doc, fmt.Errorf("faketwilio does not implement TaskRouter <Enqueue workflowSid>")
	}
	q := &queueState{name: name, sid: newSID("QU"), doc: doc, verb: verb,
		waitMethod: orDefault(verb.Attr("waitUrlMethod"), http.MethodPost), entered: int(s.now().Unix())}
	if u := verb.Attr("waitUrl"); u != "" {
		var err error
		if q.waitURL, err = doc.resolve(u); err != nil {
			return doc, fmt.Errorf("<Enqueue waitUrl>: %w", err)
		}
	}
	s.mu.Lock()
	for _, o := range s.calls {
		if o.queue != nil && o.queue.name == name && o != c {
			s.mu.Unlock()
			return doc, fmt.Errorf("faketwilio keeps one call per queue; %q already holds %s", name, o.sid)
		}
	}
	q.sid = s.queueLocked(name).sid // the account's queue of that name, made by the first <Enqueue>
	c.queue = q
	s.notifyLocked()
	dialer, qd, p := s.bridgeWaitingLocked(name, c)
	s.mu.Unlock()
	if dialer != nil {
		// A <Dial><Queue> was waiting for a member: it takes the call at
		// once, before any wait TwiML.
		if err := s.connect(dialer, c, qd.queue, qd.doc, p); err != nil {
			return doc, err
		}
		s.mu.Lock()
		heard := c.last
		s.mu.Unlock()
		return heard, nil
	}
	if q.waitURL == "" {
		return doc, nil
	}
	w, err := s.waitTurn(c)
	s.mu.Lock()
	still := c.queue == q
	s.mu.Unlock()
	if still || err != nil {
		return doc, err
	}
	return w, nil // it left the queue at once
}

// queueParams are the parameters Twilio adds to wait URL and action
// requests. s.mu is held.
func (s *Server) queueParams(q *queueState) url.Values {
	return url.Values{
		"QueueSid":         {q.sid},
		"QueueTime":        {strconv.Itoa(int(s.now().Unix()) - q.entered)},
		"QueuePosition":    {"1"},
		"CurrentQueueSize": {"1"},
		"AvgQueueTime":     {"0"},
		"MaxQueueSize":     {"100"},
	}
}

// waitTurn fetches and runs one turn of the wait TwiML of queued call c:
// <Play>, <Say> and <Pause> play; a <Gather> (Twilio takes one in wait
// TwiML) plays what it nests and, with no key pressed (CallHandle.Press
// presses one), goes on; <Leave/> takes the call out of the queue to the
// <Enqueue> action (or the verbs after it); <Hangup/> ends it.
func (s *Server) waitTurn(c *call) (*TwiML, error) {
	s.mu.Lock()
	q := c.queue
	if q == nil || c.terminal() {
		s.mu.Unlock()
		return nil, fmt.Errorf("call %s is not waiting in a queue", c.sid)
	}
	extra := s.queueParams(q)
	s.mu.Unlock()
	w, err := s.fetchTwiML(c, q.waitMethod, q.waitURL, extra)
	if err != nil {
		return w, fmt.Errorf("wait URL: %w", err)
	}
	return s.runWait(c, q, w)
}

// pressWaiting presses digits at the <Gather> of the wait TwiML queued
// call c is playing: its action gets Digits (and the queue's parameters),
// and the answer runs as wait TwiML, as Twilio runs it for a caller who
// stays in the queue.
func (s *Server) pressWaiting(c *call, digits string) (*TwiML, error) {
	s.mu.Lock()
	q := c.queue
	var w *TwiML
	var extra url.Values
	if q != nil {
		w, extra = q.wait, s.queueParams(q)
	}
	s.mu.Unlock()
	g := w.First("Gather")
	if q == nil || g == nil {
		return nil, fmt.Errorf("call %s waits in no queue whose wait TwiML gathers keys: %s", c.sid, w)
	}
	target, err := w.resolve(g.Attr("action"))
	if err != nil {
		return nil, fmt.Errorf("wait <Gather action>: %w", err)
	}
	extra.Set("Digits", digits)
	a, err := s.fetchTwiML(c, orDefault(g.Attr("method"), http.MethodPost), target, extra)
	if err != nil {
		return a, fmt.Errorf("wait <Gather action>: %w", err)
	}
	return s.runWait(c, q, a)
}

// runWait runs w, the wait TwiML of c queued in q.
func (s *Server) runWait(c *call, q *queueState, w *TwiML) (*TwiML, error) {
	s.mu.Lock()
	q.wait, q.turns = w, q.turns+1
	s.mu.Unlock()
	for _, v := range w.verbs() {
		switch v.Name {
		case "Play", "Say", "Pause", "Gather":
		case "Leave":
			return s.dequeue(c, "leave")
		case "Hangup":
			return w, nil
		default:
			return w, fmt.Errorf("faketwilio does not implement <%s> in wait TwiML", v.Name)
		}
	}
	return w, nil
}

// dequeue takes c out of its queue with result and goes on: the <Enqueue>
// action gets QueueResult, or without one the document goes on after it.
func (s *Server) dequeue(c *call, result string) (*TwiML, error) {
	s.mu.Lock()
	q := c.queue
	c.queue = nil
	s.mu.Unlock()
	if q == nil {
		return nil, fmt.Errorf("call %s is not in a queue", c.sid)
	}
	return s.leftQueue(c, q, result)
}

// leftQueue goes on for c, which has left q with result: the <Enqueue>
// action gets QueueResult, or without one the document goes on after it.
// After a hang-up or a redirect the action's answer is not executed.
func (s *Server) leftQueue(c *call, q *queueState, result string) (*TwiML, error) {
	s.mu.Lock()
	p := s.queueParams(q)
	p.Set("QueueResult", result)
	s.mu.Unlock()
	action := q.verb.Attr("action")
	if action == "" {
		if result == "hangup" || result == "redirected" {
			return nil, nil
		}
		return s.run(c, q.doc.rest(q.verb))
	}
	target, err := q.doc.resolve(action)
	if err != nil {
		return nil, fmt.Errorf("<Enqueue action>: %w", err)
	}
	method := orDefault(q.verb.Attr("method"), http.MethodPost)
	if result == "hangup" || result == "redirected" {
		// The call has moved on: the answer is not executed.
		_, err := s.fetchTwiML(c, method, target, p)
		return nil, err
	}
	return s.execute(c, method, target, p)
}

// endBridge is called when c, bridged by <Dial><Queue>, ends: the other
// side goes on — the dialler after its <Dial>, the dequeued caller at its
// <Enqueue> action with QueueResult bridged.
func (s *Server) endBridge(c *call) error {
	s.mu.Lock()
	b := c.bridge
	if b == nil {
		s.mu.Unlock()
		return nil
	}
	b.caller.bridge, b.dialer.bridge = nil, nil
	other := b.caller
	if c == b.caller {
		other = b.dialer
	}
	live := other.status == "in-progress"
	s.mu.Unlock()
	if !live {
		return nil
	}
	if other == b.dialer {
		doc, err := s.run(other, b.dialDoc.rest(b.dialVerb))
		if err != nil {
			return err
		}
		return s.endIfOver(other, doc)
	}
	return s.bridgedCallerGoesOn(other)
}

// endIfOver ends call c, completed, when doc (what it runs now) hangs up
// or has nothing left to run, as Twilio ends a call whose document is over:
// the dialler of a <Dial><Queue> whose caller hung up, say.
func (s *Server) endIfOver(c *call, doc *TwiML) error {
	if v := doc.blocking(); v != nil && v.Name != "Hangup" && v.Name != "Reject" {
		return nil
	}
	s.mu.Lock()
	if c.status != "in-progress" {
		s.mu.Unlock()
		return nil
	}
	c.status, c.ended, c.updated = "completed", s.now(), s.now()
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("call ended: its document is over", zap.String(keyCallSid, c.sid))
	return s.statusEvent(c, "completed")
}

// bridgedCallerGoesOn posts the <Enqueue> action of a caller whose bridge
// ended, with QueueResult bridged.
func (s *Server) bridgedCallerGoesOn(c *call) error {
	s.mu.Lock()
	q := c.lastQueue
	s.mu.Unlock()
	if q == nil {
		return nil
	}
	s.mu.Lock()
	c.queue = q
	s.mu.Unlock()
	_, err := s.dequeue(c, "bridged")
	return err
}

// NextWait says the wait TwiML of a queued call has played: Twilio requests
// the wait URL again. It returns the new wait TwiML, or the call's TwiML
// after it left the queue.
func (h *CallHandle) NextWait() *TwiML {
	doc, err := h.s.waitTurn(h.c)
	h.must(err)
	return doc
}

// WaitTwiML returns the last wait TwiML of the call's queue, nil if the
// call is not waiting in one.
func (h *CallHandle) WaitTwiML() *TwiML {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if h.c.queue == nil {
		return nil
	}
	return h.c.queue.wait
}

// Queued reports whether the call waits in a queue.
func (h *CallHandle) Queued() bool {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.c.queue != nil
}

// Bridged reports whether the call is bridged to another by <Dial><Queue>.
func (h *CallHandle) Bridged() bool {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.c.bridge != nil
}
