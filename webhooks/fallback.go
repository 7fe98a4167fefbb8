package webhooks

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/twiml"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// The Fallback URL: Twilio requests it when the Voice URL fails (an error
// or a timeout). It needs no call state: it apologises in both languages
// (the line's first), records a message and, once the recording is
// complete, keeps it and raises a page. It is served by the same process,
// so it helps when the flow or the state store fails, not when the whole
// service is down (see README.md).

// lineLanguage is the language of the line dialled, the first line's if
// the number is not a line.
func (d *Driver) lineLanguage(to string) (oncall.Language, string) {
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	for _, l := range d.cfg.Lines {
		if digits(l.Number) == digits(to) && digits(to) != "" {
			return l.Language, l.Number
		}
	}
	return d.cfg.Lines[0].Language, d.cfg.Lines[0].Number
}

func other(l oncall.Language) oncall.Language {
	if l == oncall.Russian {
		return oncall.English
	}
	return oncall.Russian
}

func (d *Driver) fallback(_ context.Context, _ *http.Request, form url.Values) (string, error) {
	lang, _ := d.lineLanguage(form.Get("To"))
	d.log.Error("Twilio used the Fallback URL: the voice webhook failed",
		zap.String(keyCallSid, form.Get("CallSid")), zap.String("error_code", form.Get("ErrorCode")),
		zap.String("error_url", form.Get("ErrorUrl")))
	var ps []ivr.Prompt
	for _, l := range []oncall.Language{lang, other(lang)} {
		ps = append(ps, ivr.Prompt{Name: "nobody_available", Lang: l}, ivr.Prompt{Name: "leave_message", Lang: l})
	}
	q := "?lang=" + string(lang)
	verbs := append(d.plays(ps), &twiml.VoiceRecord{
		Action: d.base + pathFallback + "/recorded" + q, Method: "POST",
		MaxLength: "120", Timeout: "5", FinishOnKey: "#", PlayBeep: "true",
		RecordingStatusCallback:       d.base + pathFallback + "/recording",
		RecordingStatusCallbackMethod: "POST",
		RecordingStatusCallbackEvent:  "completed",
	}, &twiml.VoiceHangup{})
	return render(verbs...), nil
}

// fallbackRecorded thanks the caller and hangs up.
func (d *Driver) fallbackRecorded(_ context.Context, r *http.Request, _ url.Values) (string, error) {
	lang := oncall.Language(r.URL.Query().Get("lang"))
	if !lang.Valid() {
		lang = d.cfg.Lines[0].Language
	}
	return d.hangup([]ivr.Prompt{{Name: "message_recorded", Lang: lang}, {Name: "goodbye", Lang: lang}}), nil
}

// fallbackRecording keeps a Fallback voicemail and pages about it, once
// per recording: the recording's SID is claimed in CallStates first, so
// a repeated callback pages no second time.
func (d *Driver) fallbackRecording(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	recSid := form.Get("RecordingSid")
	if form.Get("RecordingStatus") != "completed" || recSid == "" {
		return "", nil
	}
	// The recording is claimed before the page and marked paged after it:
	// a repeated callback finds it paged and does nothing; one that comes
	// after a failed page tries again.
	key := "fallback-" + recSid
	claim, _ := json.Marshal(fallbackClaim{RecordingSid: recSid, CallSid: sid})
	err = d.cfg.States.CreateCallState(ctx, key, claim)
	if errs.Is(err, errs.Conflict) {
		data, _, lerr := d.cfg.States.CallState(ctx, key)
		var c fallbackClaim
		if lerr == nil && json.Unmarshal(data, &c) == nil && c.Paged {
			d.metrics.replays.Add(1)
			return "", nil
		}
		err = lerr
	}
	if err != nil {
		return "", err
	}
	secs, _ := strconv.Atoi(form.Get("RecordingDuration"))
	u := d.keep(ctx, sid, recSid, form.Get("RecordingUrl"), secs)
	_, line := d.lineLanguage(form.Get("To"))
	caller := form.Get("From")
	if d.cfg.Pages == nil {
		d.log.Error("a voicemail was left through the Fallback URL and no pager is configured",
			zap.String(keyCallSid, sid), zap.String("voicemail", u))
		return "", nil
	}
	// The service failed to route this call, so nothing is known of its
	// ticket: the page is critical, at L1, so that someone listens soon.
	err = d.cfg.Pages.RequestPage(ctx, ivr.PageRequest{CallID: sid, Priority: oncall.Critical, Level: oncall.L1,
		VoicemailURL: u, VoicemailSeconds: secs, Line: line, Caller: caller, RequestedAt: d.now()})
	if err != nil {
		d.log.Error("could not page about a Fallback voicemail", zap.String(keyCallSid, sid), zap.String("voicemail", u), zap.Error(err))
		return "", err
	}
	paged, _ := json.Marshal(fallbackClaim{RecordingSid: recSid, CallSid: sid, Paged: true})
	if data, v, err := d.cfg.States.CallState(ctx, key); err == nil && !strings.Contains(string(data), `"paged":true`) {
		_, _ = d.cfg.States.UpdateCallState(ctx, key, v, paged)
	}
	return "", nil
}

// fallbackClaim marks a Fallback voicemail as being, or having been, paged.
type fallbackClaim struct {
	RecordingSid string `json:"recording_sid"`
	CallSid      string `json:"call_sid"`
	Paged        bool   `json:"paged,omitempty"`
}
