package faketwilio

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// Answering machine detection beyond a clean verdict at answer time, as it
// goes at Twilio: detection can give up (AnswerUndetected: unknown), take
// a person for a machine (AnswerPersonAsMachine: a long spoken greeting
// exceeds Twilio's speech threshold), and with AsyncAmd deliver its
// verdict while the call's TwiML already plays (AnswerAMDLate, then
// SendAMD): the service may have begun, or finished, screening by then.

// AnswerPersonAsMachine picks up as a person whom detection takes for an
// answering machine ("Hi, this is Anna Smirnova, support…" outlasts the
// 2,400 ms speech threshold): the service learns machine_start (or
// machine_end_other with DetectMessageEnd), and the person hears the TwiML
// and can Press keys like anyone.
func (h *CallHandle) AnswerPersonAsMachine() *TwiML {
	h.s.mu.Lock()
	v := AnsweredByMachineStart
	if h.c.machineDetection == "DetectMessageEnd" {
		v = AnsweredByMachineEndOther
	}
	h.s.mu.Unlock()
	return h.AnswerAs(v)
}

// AnswerAMDLate picks up like AnswerAs(answeredBy) on a call with
// MachineDetection and AsyncAmd, but detection has not finished: the
// call's Url is fetched and its TwiML runs (a screening <Gather> can be
// pressed or time out) with no verdict sent; SendAMD sends it when the
// test says detection is done, at any later point, after a hang-up
// included (Twilio's callbacks are separate requests). The call's
// answered_by stays empty until then.
func (h *CallHandle) AnswerAMDLate(answeredBy string) *TwiML { return h.answer(answeredBy, true) }

// SendAMD delivers the verdict AnswerAMDLate held back to the call's
// AsyncAmdStatusCallback, with MachineDetectionDuration counted from the
// answer on Options.Now (at least 1,500 ms).
func (h *CallHandle) SendAMD() {
	s, c := h.s, h.c
	s.mu.Lock()
	v := c.lateAMD
	c.lateAMD = ""
	if v != "" {
		c.answeredBy = v
	}
	s.mu.Unlock()
	if v == "" {
		s.failf("SendAMD: call %s to %s has no AMD verdict held back (AnswerAMDLate)", c.sid, c.to)
		return
	}
	h.must(s.amdCallback(c, v))
}

// amdCallback sends the AsyncAmdStatusCallback of c with verdict v.
func (s *Server) amdCallback(c *call, v string) error {
	s.mu.Lock()
	// A verdict at answer time took 1.5 s; a late one as long as the test
	// let time pass since the answer.
	ms := max(s.now().Sub(c.answered).Milliseconds(), 1500)
	p := url.Values{"AccountSid": {s.opts.AccountSID}, "CallSid": {c.sid}, "AnsweredBy": {v},
		"MachineDetectionDuration": {strconv.FormatInt(ms, 10)}}
	method, target := c.asyncAMDMethod, c.asyncAMDCallback
	held := target != "" && s.holdLocked(c, "amd", method, target, p)
	s.mu.Unlock()
	if target == "" || held {
		return nil
	}
	if _, err := s.send(context.Background(), method, target, p); err != nil {
		return fmt.Errorf("AsyncAmdStatusCallback: %w", err)
	}
	return nil
}
