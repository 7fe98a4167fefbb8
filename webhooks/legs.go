package webhooks

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// The engineer legs' webhooks. A leg's URL names its leg id,
// "<caller's CallSid>-leg<n>", so the call it belongs to is known without
// a look-up.

// legOf returns the leg id in the request's path and the caller's CallSid.
func legOf(r *http.Request) (legID, callID string, err error) {
	legID = mux.Vars(r)["leg"]
	callID, _, ok := strings.Cut(legID, "-leg")
	if !ok || callID == "" {
		return "", "", errs.E(errs.NotFound, "leg", "%q is not an engineer leg", legID)
	}
	return legID, callID, nil
}

var errUnknownLeg = errs.E(errs.NotFound, "leg", "this engineer leg is unknown to the service")

// legEvent applies the event ev builds for a known leg l (nil: nothing to
// apply) and answers with the leg's document.
func (d *Driver) legEvent(ctx context.Context, r *http.Request, form url.Values, src source,
	ev func(e *envelope, l *leg) (ivr.Event, bool)) (string, error) {
	legID, callID, err := legOf(r)
	if err != nil {
		return "", err
	}
	unknown := false
	out, err := d.apply(ctx, callID, src, legID, func(e *envelope) (ivr.Event, bool) {
		l := e.Legs[legID]
		if l == nil {
			unknown = true
			return nil, false
		}
		changed := false
		if sid := form.Get("CallSid"); l.SID == "" && sid != "" {
			l.SID, changed = sid, true // Calls.create's answer is not recorded yet
		}
		event, ch := ev(e, l)
		return event, changed || ch
	})
	if err != nil {
		return "", err
	}
	if unknown {
		return "", errUnknownLeg
	}
	if src != fromLeg {
		return "", nil
	}
	if l := out.env.Legs[legID]; l != nil && l.Doc.TwiML != "" {
		return l.Doc.TwiML, nil
	}
	return d.docs.hangup(nil), nil
}

// legAnswer: the engineer (or a machine) picked up; the screening follows.
// Answering-machine detection is asynchronous (legAMD), so the engineer
// hears the screening at once; should Twilio ever say at the answer that
// a machine answered, that verdict waits for the screening as legAMD's
// does.
func (d *Driver) legAnswer(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	legID := mux.Vars(r)["leg"]
	machine := answeredByMachine(form)
	return d.legEvent(ctx, r, form, fromLeg, func(e *envelope, l *leg) (ivr.Event, bool) {
		if l.Answered {
			return nil, false // a repeat: the stored document answers
		}
		l.Answered, l.Machine = true, machine
		return ivr.LegAnswered{LegID: legID, At: d.now()}, true
	})
}

// legAMD is Twilio's answering-machine detection result, a few seconds
// after the pick-up. A person whose greeting is long ("Hi, this is Anna
// Smirnova, support…", beyond Twilio's 2,400 ms of speech) is often called
// a machine, and only a 1 on the screening ever accepts, so a voicemail
// box never takes the call anyway: the verdict only saves the screenings'
// repeats. A machine or fax verdict therefore ends the leg (hung up here,
// the next engineer rung at once) only once a whole screening has gone
// without a 1; before that it is remembered and acted on when the current
// screening ends with no key (legScreen). A person, an unsure result, or
// an engineer who has pressed 1 already is left alone.
func (d *Driver) legAMD(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	if !answeredByMachine(form) {
		return "", nil
	}
	legID, callID, err := legOf(r)
	if err != nil {
		return "", err
	}
	ended := false
	_, err = d.legEvent(ctx, r, form, fromOther, func(e *envelope, l *leg) (ivr.Event, bool) {
		if l.Ended || e.Flow.Leg.ID != legID || !e.Flow.Leg.AcceptedAt.IsZero() || l.Machine {
			return nil, false
		}
		if !screenedWithoutKey(e.Flow.Leg) {
			l.Machine = true
			return nil, true
		}
		l.Ended, ended = true, true
		return ivr.LegEnded{LegID: legID, Reason: ivr.Machine, At: d.now()}, true
	})
	if err != nil {
		return "", err
	}
	if ended {
		d.updateLeg(callID, legID, form.Get("CallSid"), CallUpdate{Status: "completed"})
	}
	return "", nil
}

// screenedWithoutKey reports whether leg l has heard a whole screening
// that got no 1: the flow is playing it again.
func screenedWithoutKey(l ivr.Leg) bool { return l.Screens >= 2 }

// answeredByMachine reports whether Twilio's answering-machine detection
// says a machine (or a fax) answered.
func answeredByMachine(form url.Values) bool {
	by := form.Get("AnsweredBy")
	return strings.HasPrefix(by, "machine") || by == "fax"
}

// legScreen: the engineer's keys on the screening for step seq. No key
// on a leg detection called a machine ends it there (legAMD).
func (d *Driver) legScreen(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	legID, seq := mux.Vars(r)["leg"], seqOf(r)
	return d.legEvent(ctx, r, form, fromLeg, func(e *envelope, l *leg) (ivr.Event, bool) {
		if l.Doc.Kind != kindGather || l.Doc.Seq != seq {
			return nil, false
		}
		if l.Machine && form.Get("Digits") == "" && e.Flow.Leg.ID == legID && e.Flow.Leg.AcceptedAt.IsZero() {
			// detection said machine, and a whole screening got no key
			l.Ended, l.Doc = true, doc{Seq: seq, Kind: kindHangup, TwiML: d.docs.hangup(nil)}
			return ivr.LegEnded{LegID: legID, Reason: ivr.Machine, At: d.now()}, true
		}
		return ivr.LegDigits{LegID: legID, Digits: form.Get("Digits"), At: d.now()}, false
	})
}

// legStepRequest answers a leg redirected through the REST API.
func (d *Driver) legStepRequest(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	return d.legEvent(ctx, r, form, fromLeg, func(*envelope, *leg) (ivr.Event, bool) { return nil, false })
}

// legFallback is an engineer leg's Fallback URL: Twilio could not fetch or
// run the leg's TwiML (ErrorCode, ErrorUrl). The engineer, who may just
// have pressed 1, hears that a technical problem interrupted the call
// instead of Twilio's application-error message, and is hung up; the flow
// learns that the leg failed and moves on as for any lost leg (the next
// engineer is rung; a caller not yet bridged hears we are still trying).
// It needs no state to answer: an unknown or ended leg hears the same.
func (d *Driver) legFallback(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	legID := mux.Vars(r)["leg"]
	d.log.Error("an engineer leg's TwiML failed at Twilio; ending the leg", zap.String(keyLeg, legID),
		zap.String(keyErrorCode, form.Get("ErrorCode")), zap.String(keyErrorURL, form.Get("ErrorUrl")))
	lang := oncall.English
	_, err := d.legEvent(ctx, r, form, fromOther, func(e *envelope, l *leg) (ivr.Event, bool) {
		if e.Flow.Leg.ID == legID && e.Flow.Leg.Lang.Valid() {
			lang = e.Flow.Leg.Lang
		}
		if l.Ended {
			return nil, false
		}
		l.Ended = true
		return ivr.LegEnded{LegID: legID, Reason: ivr.Failed, At: d.now()}, true
	})
	if err != nil && !errs.Is(err, errs.NotFound) {
		d.log.Warn("could not end the failed leg in the flow", zap.String(keyLeg, legID), zap.Error(err))
	}
	return d.docs.hangup(ivr.LegFailedPrompts(lang)), nil
}

// Log keys of legFallback: Twilio's error and the URL that caused it.
const (
	keyErrorCode = "error_code"
	keyErrorURL  = "error_url"
)

// legEndReasons maps a final CallStatus to why the leg ended.
var legEndReasons = map[string]ivr.EndReason{
	"completed": ivr.Completed, "busy": ivr.Busy, "no-answer": ivr.NoAnswer,
	"failed": ivr.Failed, "canceled": ivr.Canceled,
}

// legStatus is a leg's status callback: its end.
func (d *Driver) legStatus(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	legID := mux.Vars(r)["leg"]
	reason, final := legEndReasons[form.Get("CallStatus")]
	if answeredByMachine(form) {
		reason = ivr.Machine
	}
	_, err := d.legEvent(ctx, r, form, fromOther, func(e *envelope, l *leg) (ivr.Event, bool) {
		if !final || l.Ended {
			return nil, false
		}
		l.Ended = true
		return ivr.LegEnded{LegID: legID, Reason: reason, At: d.now()}, true
	})
	if err == nil && final {
		_, callID, _ := legOf(r)
		d.legEnded(ctx, callID, legID, reason)
	}
	return "", err
}
