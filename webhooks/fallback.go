package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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

// fallbackPrefix starts the CallStates key of a Fallback voicemail's claim.
const fallbackPrefix = "fallback-"

// fallbackRecording keeps a Fallback voicemail and pages about it, once per
// recording. The recording is claimed in CallStates first, with all that
// paging needs; the claim then records each step done, so that a repeated
// callback, or Sweep after a failure, carries on where it stopped and never
// pages twice.
func (d *Driver) fallbackRecording(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	recSid := form.Get("RecordingSid")
	if form.Get("RecordingStatus") != "completed" || recSid == "" {
		return "", nil
	}
	secs, _ := strconv.Atoi(form.Get("RecordingDuration"))
	claim, err := json.Marshal(fallbackClaim{RecordingSid: recSid, CallSid: sid, From: form.Get("From"), To: form.Get("To"),
		TwilioURL: form.Get("RecordingUrl"), Seconds: secs, At: d.now()})
	if err != nil {
		return "", err
	}
	key := fallbackPrefix + recSid
	err = d.cfg.States.CreateCallState(ctx, key, claim)
	if err != nil && !errs.Is(err, errs.Conflict) { // Conflict: a repeat, settled below as far as it is not yet
		return "", err
	}
	return "", d.settleFallback(ctx, key)
}

// fallbackClaim is a Fallback voicemail: what the callback said, and how
// far keeping it and paging about it got.
type fallbackClaim struct {
	RecordingSid string    `json:"recording_sid"`
	CallSid      string    `json:"call_sid"`
	From         string    `json:"from,omitempty"`
	To           string    `json:"to,omitempty"`
	TwilioURL    string    `json:"twilio_url,omitempty"`
	Seconds      int       `json:"seconds,omitempty"`
	At           time.Time `json:"at"`
	// VoicemailURL is where the page points: the service's copy, or
	// Twilio's URL when keeping a copy failed. Set once.
	VoicemailURL string `json:"voicemail_url,omitempty"`
	Paged        bool   `json:"paged,omitempty"`
}

// settleFallback does what Fallback voicemail key still needs: keep the
// recording, page, mark the claim finished. An error leaves the claim
// open; Sweep calls this again.
func (d *Driver) settleFallback(ctx context.Context, key string) error {
	unlock := d.locks.lock(key)
	defer unlock()
	data, v, err := d.cfg.States.CallState(ctx, key)
	if err != nil {
		return fmt.Errorf("load fallback voicemail %s: %w", key, err)
	}
	var c fallbackClaim
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("decode fallback voicemail %s: %w", key, err)
	}
	if c.Paged {
		d.metrics.replays.Add(1)
		return d.cfg.States.FinishCallState(ctx, key)
	}
	save := func() error {
		b, err := json.Marshal(c)
		if err == nil {
			v, err = d.cfg.States.UpdateCallState(ctx, key, v, b)
		}
		return err
	}
	if c.VoicemailURL == "" {
		c.VoicemailURL = d.keep(ctx, c.CallSid, c.RecordingSid, c.TwilioURL, c.Seconds)
		if err := save(); err != nil {
			return err
		}
	}
	log := d.log.With(zap.String(keyCallSid, c.CallSid), zap.String("voicemail", c.VoicemailURL))
	if d.cfg.Pages == nil {
		log.Error("a voicemail was left through the Fallback URL and no pager is configured")
		return d.cfg.States.FinishCallState(ctx, key)
	}
	// The service failed to route this call, so nothing is known of its
	// ticket: the page is critical, at L1, so that someone listens soon.
	_, line := d.lineLanguage(c.To)
	err = d.cfg.Pages.RequestPage(ctx, ivr.PageRequest{CallID: c.CallSid, Priority: oncall.Critical, Level: oncall.L1,
		VoicemailURL: c.VoicemailURL, VoicemailSeconds: c.Seconds, Line: line, Caller: c.From, RequestedAt: c.At})
	if err != nil {
		log.Error("could not page about a Fallback voicemail; retried by the sweep", zap.Error(err))
		return err
	}
	c.Paged = true
	if err := save(); err != nil { // paged all the same: a page request is kept once per call
		return err
	}
	return d.cfg.States.FinishCallState(ctx, key)
}
