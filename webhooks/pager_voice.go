package webhooks

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/twilio/twilio-go/twiml"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/sounds"
)

// The page call: what the engineer hears and keys, and its status callbacks.

// answer is the page call's TwiML when the engineer picks up: the page in
// their language, then "press 1", asked up to pageRepeats times.
func (pg *Pager) answer(ctx context.Context, r *http.Request, _ url.Values) (string, error) {
	a, err := pg.attemptOf(ctx, r)
	if err != nil {
		return "", err
	}
	if a.Purpose == pager.PurposeCode {
		// A call that carries the code confirming the engineer's number
		// (package verify): the body is its digits, opened by the engine.
		return pg.say(pager.CodeCallPrompts(langOr(a.Language), a.Body), &twiml.VoiceHangup{}), nil
	}
	return pg.ask(ctx, a, 1)
}

func (pg *Pager) ask(ctx context.Context, a pager.Attempt, n int) (string, error) {
	p, _, err := pg.cfg.Pages.Page(ctx, a.PageID)
	if err != nil {
		return "", err
	}
	lang := langOr(a.Language)
	if p.Status != pager.Open {
		return pg.say(pager.ClosedPrompts(lang), &twiml.VoiceHangup{}), nil
	}
	action := pg.link(a.ID, "key", url.Values{"n": {strconv.Itoa(n)}})
	g := &twiml.VoiceGather{Input: "dtmf", NumDigits: "1", Timeout: strconv.Itoa(int(pageKeyWait / time.Second)),
		Action: action, Method: http.MethodPost, ActionOnEmptyResult: "true",
		InnerElements: pg.plays(announcement(&p, a, lang, pg.cfg.Now(), pg.cfg.Rules))}
	return render(g, &twiml.VoiceRedirect{Url: action, Method: http.MethodPost}), nil
}

// announcement is what the page call of attempt a says: the page, after
// the count of the pages it announces when it stands for several (a storm:
// 1 acknowledges them all).
func announcement(p *pager.Page, a pager.Attempt, lang oncall.Language, now time.Time, rules pager.Rules) []ivr.Prompt {
	ps := pager.PageCallPrompts(p, lang, now, rules)
	if others := len(p.DigestOf(a.ID)); others > 0 {
		ps = append(pager.OpenPagesPrompts(lang, others+1), ps...)
	}
	return ps
}

// key takes the engineer's key: 1 acknowledges (and, on a page a client's
// call raised, offers the voicemail and the call back); anything else
// asks again, pageRepeats times in all, then the call ends (and the text
// follows).
func (pg *Pager) key(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	a, err := pg.attemptOf(ctx, r)
	if err != nil {
		return "", err
	}
	lang := langOr(a.Language)
	if form.Get("Digits") == "1" {
		p, err := pg.cfg.Pages.AttemptEnded(ctx, a.ID, pager.Acked, "pressed 1")
		if err != nil {
			return "", err
		}
		switch {
		case p.Status == pager.Acknowledged && p.AckedBy == a.EngineerID:
			return pg.afterKey(a, &p), nil // the menu of a client's call (pager_callback.go)
		case p.Status == pager.Acknowledged:
			return pg.say(pager.TakenPrompts(lang), &twiml.VoiceHangup{}), nil
		}
		// Resolved (or expired) while the call rang: nothing was
		// acknowledged, and the engineer must not hear that it was.
		return pg.say(pager.ClosedPrompts(lang), &twiml.VoiceHangup{}), nil
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n < pageRepeats {
		return pg.ask(ctx, a, n+1)
	}
	return pg.say(pager.NoKeyPrompts(lang), &twiml.VoiceHangup{}), nil
}

// callStatus moves a page call on: initiated confirms it; the final
// status ends the attempt (answered without the key, no answer, busy,
// failed).
func (pg *Pager) callStatus(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	a, err := pg.attemptOf(ctx, r)
	if err != nil {
		return "", err
	}
	st := form.Get("CallStatus")
	if sid := form.Get("CallSid"); sid != "" {
		// The call exists at Twilio: no look-up or resend may follow,
		// whatever became of the instance that made it.
		if err := pg.cfg.Pages.ConfirmAttempt(ctx, a.ID, sid); err != nil {
			return "", err
		}
	}
	o := callOutcome(st)
	if o == "" {
		return "", nil
	}
	detail := "call " + st
	if code := form.Get("ErrorCode"); code != "" {
		detail += ", error " + code
	}
	if _, err := pg.cfg.Pages.AttemptEnded(ctx, a.ID, o, detail); err != nil {
		return "", err
	}
	return "", nil
}

// callOutcome maps a call's final status to the attempt's outcome; "" for
// a call still going on. A completed call that reaches here was answered
// without the key: 1 ends the attempt first.
func callOutcome(status string) pager.Outcome {
	switch status {
	case "completed":
		return pager.NoKey
	case "busy":
		return pager.Busy
	case "no-answer":
		return pager.NoAnswer
	case "failed":
		return pager.Failed
	case "canceled":
		return pager.Canceled
	}
	return ""
}

// amd logs what answered the page call; the key alone acknowledges.
func (pg *Pager) amd(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	a, err := pg.attemptOf(ctx, r)
	if err != nil {
		return "", err
	}
	pg.log.Info("page call answered", zap.Int64(keyAttemptID, a.ID), zap.Int64(keyPageID, a.PageID),
		zap.String(keyAnsweredBy, form.Get("AnsweredBy")))
	return "", nil
}

// plays renders prompts as <Play> of the recorded audio. Every pager
// prompt has a recording (a test checks): none falls back to <Say>.
func (pg *Pager) plays(ps []ivr.Prompt) []twiml.Element {
	out := make([]twiml.Element, 0, len(ps))
	for _, p := range ps {
		if path, ok := sounds.URLPath(string(p.Lang), p.Name); ok {
			out = append(out, &twiml.VoicePlay{Url: pg.sig.base + path})
		}
	}
	return out
}

func (pg *Pager) say(ps []ivr.Prompt, then ...twiml.Element) string {
	return render(append(pg.plays(ps), then...)...)
}

func langOr(l oncall.Language) oncall.Language {
	if l.Valid() {
		return l
	}
	return oncall.English
}
