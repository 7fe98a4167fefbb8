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

// CallHandle is the far end of one call. Its actions deliver the webhooks
// Twilio would send, synchronously, and fail the test if the service answers
// with an error; the fake sends nothing in the background on its own except
// after the service ended or redirected the call through the API.
//
// The test decides when a call ends: TwiML that hangs up or runs out of
// verbs does not end the call by itself (see TwiML.HangsUp); call Hangup.
type CallHandle struct {
	s              *Server
	c              *call
	redirectsTaken int
}

// SID returns the call's SID (CA…).
func (h *CallHandle) SID() string { return h.c.sid }

// To returns the number called.
func (h *CallHandle) To() string { return h.c.to }

// From returns the caller ID.
func (h *CallHandle) From() string { return h.c.from }

// Status returns the call's current status (queued, ringing, in-progress, …).
func (h *CallHandle) Status() string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.c.status
}

// Canceled is closed when the service ends the call through the REST API
// (Status=canceled or completed).
func (h *CallHandle) Canceled() <-chan struct{} { return h.c.endedByAPI }

// TwiML returns the document the call is executing, nil before Answer.
func (h *CallHandle) TwiML() *TwiML {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.c.last
}

// Answer picks up: status callbacks for the subscribed events up to
// "answered", then the TwiML fetch from the call's Url (following
// <Redirect>, placing <Dial>). With MachineDetection it reports a human.
func (h *CallHandle) Answer() *TwiML { return h.AnswerAs(AnsweredByHuman) }

// AnswerByMachine picks up with an answering machine. When the service asked
// for MachineDetection it learns so (AnsweredBy machine_start, or
// machine_end_beep with DetectMessageEnd); otherwise it cannot tell.
func (h *CallHandle) AnswerByMachine() *TwiML {
	h.s.mu.Lock()
	v := AnsweredByMachineStart
	if h.c.machineDetection == "DetectMessageEnd" {
		v = AnsweredByMachineEndBeep
	}
	h.s.mu.Unlock()
	return h.AnswerAs(v)
}

// AnswerByFax picks up with a fax machine: AnsweredBy fax, when the service
// asked for MachineDetection.
func (h *CallHandle) AnswerByFax() *TwiML { return h.AnswerAs(AnsweredByFax) }

// AnswerUndetected picks up with something machine detection cannot
// classify before its timeout: AnsweredBy unknown, when the service asked
// for MachineDetection.
func (h *CallHandle) AnswerUndetected() *TwiML { return h.AnswerAs(AnsweredByUnknown) }

// AnsweredBy values Twilio's answering machine detection reports.
const (
	AnsweredByHuman             = "human"
	AnsweredByMachineStart      = "machine_start"       // MachineDetection=Enable
	AnsweredByMachineEndBeep    = "machine_end_beep"    // DetectMessageEnd
	AnsweredByMachineEndSilence = "machine_end_silence" // DetectMessageEnd
	AnsweredByMachineEndOther   = "machine_end_other"   // DetectMessageEnd
	AnsweredByFax               = "fax"
	AnsweredByUnknown           = "unknown"
)

// answeredByValid reports whether Twilio reports answeredBy under the
// MachineDetection mode: machine_start with Enable, machine_end_* with
// DetectMessageEnd, human, fax and unknown with both. Without machine
// detection ("") nothing is reported and every value stands for who picks
// up.
func answeredByValid(mode, answeredBy string) bool {
	switch answeredBy {
	case AnsweredByHuman, AnsweredByFax, AnsweredByUnknown:
		return true
	case AnsweredByMachineStart:
		return mode != "DetectMessageEnd"
	case AnsweredByMachineEndBeep, AnsweredByMachineEndSilence, AnsweredByMachineEndOther:
		return mode != "Enable"
	}
	return false
}

// AnswerAs picks up as answeredBy (one of the AnsweredBy… values) and goes
// on like Answer. With MachineDetection the service learns answeredBy: in
// the voice request, or with AsyncAmd in the AsyncAmdStatusCallback after
// it; without MachineDetection it learns nothing. A value Twilio does not
// report under the call's MachineDetection mode (machine_end_beep with
// Enable, say) fails the test.
func (h *CallHandle) AnswerAs(answeredBy string) *TwiML { return h.answer(answeredBy, false) }

// answer is AnswerAs; with lateAMD the AsyncAmd verdict is held back for
// SendAMD (amd.go).
func (h *CallHandle) answer(answeredBy string, lateAMD bool) *TwiML {
	s, c := h.s, h.c
	s.mu.Lock()
	mode := c.machineDetection
	if c.status != "queued" && c.status != "ringing" {
		st := c.status
		s.mu.Unlock()
		s.failf("Answer: call %s to %s is %s", c.sid, c.to, st)
		return nil
	}
	inbound := c.direction == "inbound"
	async := c.asyncAMD && mode != ""
	s.mu.Unlock()
	if !answeredByValid(mode, answeredBy) {
		s.failf("Answer: Twilio does not report AnsweredBy %q with MachineDetection %q", answeredBy, mode)
		return nil
	}
	if lateAMD && !async {
		s.failf("Answer: a late AMD verdict needs MachineDetection with AsyncAmd (call %s has MachineDetection %q, AsyncAmd %v): without it Twilio fetches the Url only once detection is done", c.sid, mode, c.asyncAMD)
		return nil
	}
	if !inbound {
		h.must(h.ring(true))
	}
	s.mu.Lock()
	if !inbound {
		c.status = "in-progress"
	}
	c.answered, c.updated = s.now(), s.now()
	switch {
	case lateAMD:
		c.lateAMD = answeredBy // answered_by stays empty until SendAMD
	case c.machineDetection != "":
		c.answeredBy = answeredBy
	}
	inline, method, target := c.twiml, c.method, c.url
	s.mu.Unlock()
	if !inbound {
		h.must(s.statusEvent(c, "answered"))
	}
	var doc *TwiML
	var err error
	if inline != "" {
		doc, err = parseTwiML("", inline, 0)
		if err == nil {
			doc, err = s.run(c, doc)
		}
	} else if !s.answerBridged(c) { // a <Dial><Number> leg without url (dial_number.go)
		doc, err = s.execute(c, method, target, nil)
	}
	if inbound {
		s.mu.Lock()
		c.status = "in-progress"
		s.mu.Unlock()
	}
	h.must(err)
	if async && !lateAMD {
		h.must(s.amdCallback(c, answeredBy))
	}
	return doc
}

// Ring makes the phone ring and leaves it ringing: the initiated and
// ringing status callbacks (those subscribed), status ringing, start_time
// set. Answer, NoAnswer or Busy go on from there; the service may also
// cancel the call. Answer and the others ring by themselves when the test
// did not.
func (h *CallHandle) Ring() {
	s, c := h.s, h.c
	s.mu.Lock()
	st, inbound := c.status, c.direction == "inbound"
	s.mu.Unlock()
	if inbound || (st != "queued" && st != "ringing") {
		s.failf("Ring: call %s to %s is %s (%s)", c.sid, c.to, st, c.direction)
		return
	}
	h.must(h.ring(true))
}

// Record answers the current <Record> with wav: the recording is stored
// (served like AddRecording's) and its RecordingUrl, RecordingSid and
// RecordingDuration are posted to the verb's action.
func (h *CallHandle) Record(wav []byte) *TwiML {
	doc, rec := h.inProgress("Record", "Record")
	if rec == nil {
		return nil
	}
	sid, u := h.s.AddRecording(h.c.sid, wav)
	out := h.post(doc, rec, url.Values{"RecordingUrl": {u}, "RecordingSid": {sid}, "RecordingDuration": {strconv.Itoa(wavSeconds(wav))}})
	h.must(h.s.recordingStatus(h.c, doc, rec, sid, u, wavSeconds(wav)))
	return out
}

// recordingStatus sends the recordingStatusCallback of a <Record> verb, if
// it has one subscribed to "completed" (the default event): Twilio sends
// it once the recording can be fetched, after the verb's action.
func (s *Server) recordingStatus(c *call, doc *TwiML, rec *Node, sid, mediaURL string, secs int) error {
	cb := rec.Attr("recordingStatusCallback")
	if cb == "" {
		return nil
	}
	if ev := rec.Attr("recordingStatusCallbackEvent"); ev != "" && !strings.Contains(" "+ev+" ", " completed ") {
		return nil
	}
	target, err := doc.resolve(cb)
	if err != nil {
		return fmt.Errorf("recordingStatusCallback: %w", err)
	}
	p := url.Values{
		"AccountSid": {s.opts.AccountSID}, "CallSid": {c.sid}, "RecordingSid": {sid}, "RecordingUrl": {mediaURL},
		"RecordingStatus": {"completed"}, "RecordingDuration": {strconv.Itoa(secs)}, "RecordingChannels": {"1"},
		"RecordingSource": {"RecordVerb"}, "RecordingStartTime": {s.now().Format(http.TimeFormat)},
	}
	if _, err := s.send(context.Background(), orDefault(rec.Attr("recordingStatusCallbackMethod"), http.MethodPost), target, p); err != nil {
		return fmt.Errorf("recordingStatusCallback: %w", err)
	}
	return nil
}

// NoAnswer lets the call ring out: the initiated and ringing events (if
// not sent yet), then completed with CallStatus no-answer, CallDuration 0
// and SipResponseCode 487.
func (h *CallHandle) NoAnswer() { h.unanswered("no-answer") }

// Busy answers busy: the initiated event (if not sent yet; a busy line
// does not ring), then completed with CallStatus busy, CallDuration 0 and
// SipResponseCode 486.
func (h *CallHandle) Busy() { h.unanswered("busy") }

// Fail makes the call fail (an unreachable or disconnected number): the
// initiated event (if not sent yet), then completed with CallStatus
// failed, CallDuration 0 and SipResponseCode 404.
func (h *CallHandle) Fail() { h.unanswered("failed") }

// Hangup ends an answered call from the far end: status completed, with
// CallDuration (seconds from Answer to now, on Options.Now) in the status
// callback. A <Gather> the call was waiting on posts nothing: answering and
// hanging up without a key is Answer then Hangup.
func (h *CallHandle) Hangup() {
	s, c := h.s, h.c
	s.mu.Lock()
	if c.status != "in-progress" {
		st := c.status
		s.mu.Unlock()
		s.failf("Hangup: call %s to %s is %s, not in-progress", c.sid, c.to, st)
		return
	}
	queued := c.queue != nil
	c.status, c.ended, c.updated = "completed", s.now(), s.now()
	c.queueDial = nil
	s.mu.Unlock()
	if queued {
		_, err := s.dequeue(c, "hangup")
		h.must(err)
	}
	h.must(s.statusEvent(c, "completed"))
	h.must(s.dialDone(c))
	h.must(s.endBridge(c))
	h.must(s.endLegs(c))
}

// HangupUnreported hangs up like Hangup, but every callback it would cause
// is lost on the way (the service was down): Twilio knows the call is
// completed, and the service learns it only by asking (Calls fetch).
func (h *CallHandle) HangupUnreported() {
	s, c := h.s, h.c
	s.mu.Lock()
	st := c.status
	if st == "in-progress" {
		c.status, c.ended, c.updated = "completed", s.now(), s.now()
		c.queue, c.queueDial = nil, nil
	}
	s.mu.Unlock()
	if st != "in-progress" {
		s.failf("HangupUnreported: call %s to %s is %s, not in-progress", c.sid, c.to, st)
	}
}

// WaitRedirect returns the TwiML the fake fetched after the service
// redirected the live call (update with Url or Twiml), waiting up to
// Options.ExpectTimeout for it.
func (h *CallHandle) WaitRedirect() *TwiML {
	ctx, cancel := context.WithTimeout(context.Background(), h.s.opts.ExpectTimeout)
	defer cancel()
	var doc *TwiML
	err := h.s.waitFor(ctx, func() bool {
		if len(h.c.redirects) > h.redirectsTaken {
			doc = h.c.redirects[h.redirectsTaken]
			h.redirectsTaken++
			return true
		}
		return false
	})
	if err != nil {
		h.s.failf("WaitRedirect: call %s was not redirected: %v", h.c.sid, err)
	}
	return doc
}

func (h *CallHandle) unanswered(status string) {
	s, c := h.s, h.c
	s.mu.Lock()
	if c.status != "queued" && c.status != "ringing" {
		st := c.status
		s.mu.Unlock()
		s.failf("%s: call %s to %s is already %s", status, c.sid, c.to, st)
		return
	}
	s.mu.Unlock()
	h.must(h.ring(status == "no-answer"))
	s.mu.Lock()
	c.status, c.ended, c.updated = status, s.now(), s.now()
	s.mu.Unlock()
	h.must(s.statusEvent(c, "completed"))
	h.must(s.dialDone(c))
}

// ring sends the initiated and (if ringing) ringing events once, from a
// queued call; it is when Twilio dials, so start_time is set.
func (h *CallHandle) ring(ringing bool) error {
	s, c := h.s, h.c
	s.mu.Lock()
	if c.rung || c.status != "queued" {
		s.mu.Unlock()
		return nil
	}
	c.rung = true
	if c.started.IsZero() {
		c.started = s.now()
	}
	s.mu.Unlock()
	if err := s.statusEvent(c, "initiated"); err != nil || !ringing {
		return err
	}
	s.mu.Lock()
	c.status, c.updated = "ringing", s.now()
	s.mu.Unlock()
	return s.statusEvent(c, "ringing")
}

// inProgress checks the call is live and its TwiML has verb; it fails the
// test otherwise.
func (h *CallHandle) inProgress(action, verb string) (*TwiML, *Node) {
	h.s.mu.Lock()
	st, doc := h.c.status, h.c.last
	h.s.mu.Unlock()
	if st != "in-progress" {
		h.s.failf("%s: call %s to %s is %s, not in-progress", action, h.c.sid, h.c.to, st)
		return nil, nil
	}
	n := doc.blocking()
	if n == nil || n.Name != verb {
		h.s.failf("%s: the call's TwiML waits on no <%s>: %s", action, verb, doc)
		return nil, nil
	}
	return doc, n
}

// post sends extra to verb's action (default: the document's own URL).
func (h *CallHandle) post(doc *TwiML, verb *Node, extra url.Values) *TwiML {
	target, err := doc.resolve(verb.Attr("action"))
	h.must(err)
	out, err := h.s.execute(h.c, orDefault(verb.Attr("method"), http.MethodPost), target, extra)
	h.must(err)
	return out
}

func (h *CallHandle) must(err error) {
	if err != nil {
		h.s.failf("call %s to %s: %v", h.c.sid, h.c.to, err)
	}
}

// callParams are the parameters of every voice webhook. s.mu is held.
func (s *Server) callParams(c *call) url.Values {
	v := url.Values{
		"AccountSid": {s.opts.AccountSID},
		"ApiVersion": {apiVersion},
		"CallSid":    {c.sid},
		"CallStatus": {c.status},
		"Called":     {c.to},
		"Caller":     {c.from},
		"Direction":  {c.direction},
		"From":       {c.from},
		"To":         {c.to},
	}
	if c.parentSid != "" {
		v.Set("ParentCallSid", c.parentSid)
	}
	if c.answeredBy != "" && !c.asyncAMD {
		v.Set("AnsweredBy", c.answeredBy)
	}
	return v
}

// sipCodes are the SipResponseCode of final statuses.
var sipCodes = map[string]string{"completed": "200", "busy": "486", "no-answer": "487", "canceled": "487", "failed": "404"}

// statusEvent sends the status callback for event (initiated, ringing,
// answered, completed) if the call subscribed to it, unless DropCallbacks
// makes it lose it. A lost callback still uses up its SequenceNumber.
func (s *Server) statusEvent(c *call, event string) error {
	s.mu.Lock()
	if c.statusCallback == "" || !c.events[event] {
		s.mu.Unlock()
		return nil
	}
	p := s.callParams(c)
	p.Set("CallbackSource", "call-progress-events")
	p.Set("SequenceNumber", strconv.Itoa(c.seq))
	p.Set("Timestamp", s.now().Format(http.TimeFormat))
	c.seq++
	switch event {
	case "initiated":
		p.Set("CallStatus", "initiated")
	case "completed":
		p.Set("CallDuration", strconv.Itoa(c.duration()))
		p.Set("SipResponseCode", sipCodes[c.status])
	}
	method, target := c.statusCallbackMethod, c.statusCallback
	lost := takeDrop(&s.drop.CallStatus, &s.dropped.CallStatus)
	held := !lost && s.holdLocked(c, event, method, target, p)
	s.mu.Unlock()
	if lost {
		s.log.Info("status callback dropped", zap.String(keyCallSid, c.sid), zap.String(keyStatus, p.Get("CallStatus")))
		return nil
	}
	if held {
		return nil
	}
	_, err := s.send(context.Background(), method, target, p)
	if err != nil {
		return fmt.Errorf("status callback %q: %w", event, err)
	}
	return nil
}

// redirect fetches the TwiML of a live call the service redirected.
func (s *Server) redirect(c *call) {
	s.mu.Lock()
	method, target, inline := c.method, c.url, c.twiml
	s.mu.Unlock()
	var doc *TwiML
	var err error
	if inline != "" {
		if doc, err = parseTwiML("", inline, 0); err == nil {
			doc, err = s.run(c, doc)
		}
	} else {
		doc, err = s.execute(c, method, target, nil)
	}
	if err != nil {
		s.unexpectedf("redirect of call %s: %v", c.sid, err)
		return
	}
	s.log.Info("call redirected", zap.String(keyCallSid, c.sid))
	s.mu.Lock()
	c.redirects = append(c.redirects, doc)
	s.notifyLocked()
	s.mu.Unlock()
}
