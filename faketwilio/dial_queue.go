package faketwilio

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"go.uber.org/zap"
)

// <Dial><Queue>: the dialling call takes the first member of the queue.
// Twilio's <Queue> documentation: "If the queue is empty, Dial will wait
// until the next person joins the queue or until the <Dial> timeout
// duration is reached. If the queue does not exist, Dial will post an error
// status to its action URL." The fake waits likewise: a call entering the
// queue (<Enqueue>) is bridged with the waiting dialler at once; the test
// says when the timeout is reached (CallHandle.DialTimesOut), since the
// fake's time moves only when the test acts.

// queueDial is a <Dial><Queue> waiting for a member. Guarded by Server.mu.
type queueDial struct {
	doc         *TwiML // the dialler's document holding the <Dial>
	dial, queue *Node
	timeout     int // seconds, the <Dial timeout> (default 30)
}

// dialQueue runs <Dial><Queue> for dialer: it bridges the call waiting in
// the queue, whose <Queue url> TwiML plays to it first; with the queue
// empty the dialler waits for a member; with no such queue the <Dial> ends
// with DialCallStatus failed.
func (s *Server) dialQueue(dialer *call, doc *TwiML, dial, queue *Node) (*TwiML, error) {
	name := queue.Text
	s.mu.Lock()
	var member *call
	for _, o := range s.callList { // the oldest member is first in the queue
		if o.queue != nil && o.queue.name == name && !o.terminal() {
			member = o
			break
		}
	}
	exists := false
	for _, q := range s.queues {
		exists = exists || q.name == name
	}
	var p url.Values
	switch {
	case member != nil:
		dialer.queueDial = &queueDial{doc: doc, dial: dial, queue: queue}
		p = s.bridgeLocked(dialer, member)
	case exists:
		timeout := 30
		if t, err := strconv.Atoi(dial.Attr("timeout")); err == nil && t > 0 {
			timeout = t
		}
		dialer.queueDial = &queueDial{doc: doc, dial: dial, queue: queue, timeout: timeout}
		s.notifyLocked()
	}
	s.mu.Unlock()
	switch {
	case member != nil:
		return doc, s.connect(dialer, member, queue, doc, p)
	case exists:
		s.log.Info("dialling an empty queue: waiting for a member", zap.String(keyCallSid, dialer.sid), zap.String(keyWhat, name))
		return doc, nil
	}
	s.log.Info("dialling a queue that does not exist", zap.String(keyCallSid, dialer.sid), zap.String(keyWhat, name))
	return s.queueDialEnded(dialer, doc, dial, "failed")
}

// bridgeWaitingLocked bridges member, which has just entered the queue
// called name, with the call whose <Dial><Queue> waits for a member of it
// (the one that dialled first), if any. It returns that dialler (nil if
// none) and the parameters of the <Queue url> request. s.mu is held.
func (s *Server) bridgeWaitingLocked(name string, member *call) (*call, *queueDial, url.Values) {
	for _, o := range s.callList {
		if o.queueDial != nil && o.queueDial.queue.Text == name && o.bridge == nil && o.status == "in-progress" {
			qd := o.queueDial
			return o, qd, s.bridgeLocked(o, member)
		}
	}
	return nil, nil, nil
}

// bridgeLocked bridges dialer, whose <Dial><Queue> is dialer.queueDial,
// with member, which leaves its queue. It returns the parameters of the
// <Queue url> request. s.mu is held.
func (s *Server) bridgeLocked(dialer, member *call) url.Values {
	qd := dialer.queueDial
	dialer.queueDial = nil
	p := s.queueParams(member.queue)
	member.lastQueue, member.queue = member.queue, nil
	b := &bridge{caller: member, dialer: dialer, dialDoc: qd.doc, dialVerb: qd.dial}
	member.bridge, dialer.bridge = b, b
	s.notifyLocked()
	return p
}

// connect plays the <Queue url> TwiML (if any) to member, just bridged
// with dialer: what it hears before the two talk.
func (s *Server) connect(dialer, member *call, queue *Node, doc *TwiML, p url.Values) error {
	s.log.Info("bridged out of a queue", zap.String(keyCallSid, member.sid), zap.String(keyParentCall, dialer.sid))
	u := queue.Attr("url")
	if u == "" {
		return nil
	}
	target, err := doc.resolve(u)
	if err != nil {
		return fmt.Errorf("<Queue url>: %w", err)
	}
	p.Set("DequeingCallSid", dialer.sid)
	heard, err := s.fetchTwiML(member, orDefault(queue.Attr("method"), http.MethodPost), target, p)
	if err != nil {
		return fmt.Errorf("<Queue url>: %w", err)
	}
	s.mu.Lock()
	member.last = heard
	s.mu.Unlock()
	return nil
}

// queueDialEnded ends dialer's <Dial><Queue> without a bridge: its action
// gets DialCallStatus, or without one the document goes on after the
// <Dial>.
func (s *Server) queueDialEnded(dialer *call, doc *TwiML, dial *Node, status string) (*TwiML, error) {
	action := dial.Attr("action")
	if action == "" {
		return s.run(dialer, doc.rest(dial))
	}
	target, err := doc.resolve(action)
	if err != nil {
		return doc, fmt.Errorf("<Dial action>: %w", err)
	}
	return s.execute(dialer, orDefault(dial.Attr("method"), http.MethodPost), target, url.Values{"DialCallStatus": {status}})
}

// DialTimesOut says the <Dial><Queue> the call waits on has reached its
// timeout with nobody entering the queue: Twilio posts the <Dial> action
// with DialCallStatus no-answer ("the called party did not pick up before
// the timeout period passed"), or goes on after the <Dial> without one. It
// returns the call's TwiML after that.
func (h *CallHandle) DialTimesOut() *TwiML {
	s, c := h.s, h.c
	s.mu.Lock()
	qd := c.queueDial
	c.queueDial = nil
	st := c.status
	s.mu.Unlock()
	if qd == nil || st != "in-progress" {
		s.failf("DialTimesOut: call %s to %s (%s) waits on no <Dial><Queue>", c.sid, c.to, st)
		return nil
	}
	doc, err := s.queueDialEnded(c, qd.doc, qd.dial, "no-answer")
	h.must(err)
	return doc
}

// DialingQueue reports whether the call waits in a <Dial><Queue> for a
// member to enter the queue, and the <Dial>'s timeout in seconds.
func (h *CallHandle) DialingQueue() (waiting bool, timeoutSeconds int) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if h.c.queueDial == nil || h.c.bridge != nil {
		return false, 0
	}
	return true, h.c.queueDial.timeout
}
