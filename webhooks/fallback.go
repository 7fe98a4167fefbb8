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

func (d *Driver) fallback(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	lang, _ := d.lineLanguage(form.Get("To"))
	sid := form.Get("CallSid")
	d.log.Error("Twilio used the Fallback URL: the voice webhook failed",
		zap.String(keyCallSid, sid), zap.String("error_code", form.Get("ErrorCode")),
		zap.String("error_url", form.Get("ErrorUrl")))
	// The caller is paged about even without a message (the sweep does it
	// once no recording can come), which needs a claim now: the recording
	// callbacks carry neither From nor To. The store may be what failed, so
	// this is best effort; the recording callback claims it otherwise.
	if sid != "" {
		c := fallbackClaim{CallSid: sid, From: form.Get("From"), To: form.Get("To"), At: d.now()}
		if data, err := json.Marshal(c); err == nil {
			if err := d.cfg.States.CreateCallState(ctx, fallbackPrefix+sid, data); err != nil && !errs.Is(err, errs.Conflict) {
				d.log.Warn("could not note the Fallback call; it is paged only if a recording comes", zap.String(keyCallSid, sid), zap.Error(err))
			}
		}
	}
	var ps []ivr.Prompt
	for _, l := range []oncall.Language{lang, other(lang)} {
		ps = append(ps, ivr.Prompt{Name: "nobody_available", Lang: l}, ivr.Prompt{Name: "leave_message", Lang: l})
	}
	q := "?lang=" + string(lang)
	verbs := append(d.plays(ps), &twiml.VoiceRecord{
		Action: d.base + pathFallback + "/recorded" + q, Method: "POST",
		MaxLength: strconv.Itoa(fallbackMaxLength), Timeout: "5", FinishOnKey: "#", PlayBeep: "true",
		RecordingStatusCallback:       d.base + pathFallback + "/recording",
		RecordingStatusCallbackMethod: "POST",
		RecordingStatusCallbackEvent:  "completed absent",
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

// fallbackPrefix starts the CallStates key of a Fallback call's claim:
// "fallback-" and the CallSid.
const fallbackPrefix = "fallback-"

// fallbackMaxLength is the longest Fallback voicemail, in seconds;
// fallbackSettleAfter is how long after the Fallback answered a claim with
// no recording callback is paged without a message.
const (
	fallbackMaxLength   = 120
	fallbackSettleAfter = fallbackMaxLength*time.Second + 2*time.Minute
)

// fallbackRecording is the Fallback voicemail's recording callback:
// completed (a message) or absent (none). The call's claim records it, then
// settleFallback keeps the message and pages, once: a repeated callback, or
// Sweep after a failure, carries on where it stopped.
func (d *Driver) fallbackRecording(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	status := form.Get("RecordingStatus")
	if status != "completed" && status != "absent" {
		return "", nil
	}
	secs, _ := strconv.Atoi(form.Get("RecordingDuration"))
	rec := fallbackClaim{CallSid: sid, At: d.now(), Recorded: true}
	if status == "completed" {
		rec.RecordingSid, rec.TwilioURL, rec.Seconds = form.Get("RecordingSid"), form.Get("RecordingUrl"), secs
	}
	key := fallbackPrefix + sid
	if err := d.claimRecording(ctx, key, rec); err != nil {
		return "", err
	}
	return "", d.settleFallback(ctx, key)
}

// claimRecording records rec's recording in claim key, creating the claim
// if the Fallback could not.
func (d *Driver) claimRecording(ctx context.Context, key string, rec fallbackClaim) error {
	unlock := d.locks.lock(key)
	defer unlock()
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	err = d.cfg.States.CreateCallState(ctx, key, data)
	if !errs.Is(err, errs.Conflict) {
		return err
	}
	c, v, err := d.loadFallbackClaim(ctx, key)
	if err != nil {
		return err
	}
	if c.Recorded {
		return nil // a repeat
	}
	if c.Paged {
		d.log.Warn("a Fallback voicemail came after the call was paged without one", zap.String(keyCallSid, c.CallSid),
			zap.String("recording", rec.TwilioURL))
	}
	c.Recorded, c.RecordingSid, c.TwilioURL, c.Seconds = true, rec.RecordingSid, rec.TwilioURL, rec.Seconds
	if data, err = json.Marshal(c); err != nil {
		return err
	}
	_, err = d.cfg.States.UpdateCallState(ctx, key, v, data)
	return err
}

func (d *Driver) loadFallbackClaim(ctx context.Context, key string) (fallbackClaim, int64, error) {
	var c fallbackClaim
	data, v, err := d.cfg.States.CallState(ctx, key)
	if err != nil {
		return c, 0, fmt.Errorf("load fallback call %s: %w", key, err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, 0, fmt.Errorf("decode fallback call %s: %w", key, err)
	}
	return c, v, nil
}

// fallbackClaim is a call answered by the Fallback URL: who called which
// line, its voicemail once the recording callback said, and how far
// keeping it and paging about it got.
type fallbackClaim struct {
	CallSid      string    `json:"call_sid"`
	From         string    `json:"from,omitempty"`
	To           string    `json:"to,omitempty"`
	At           time.Time `json:"at"`
	Recorded     bool      `json:"recorded,omitempty"` // the recording callback came (with a message or without)
	RecordingSid string    `json:"recording_sid,omitempty"`
	TwilioURL    string    `json:"twilio_url,omitempty"`
	Seconds      int       `json:"seconds,omitempty"`
	// VoicemailURL is where the page points: the service's copy, or
	// Twilio's URL when keeping a copy failed. Set once.
	VoicemailURL string `json:"voicemail_url,omitempty"`
	Paged        bool   `json:"paged,omitempty"`
}

// settleFallback does what Fallback call key still needs: keep the
// recording, page, mark the claim finished. A claim waiting for its
// recording callback is left until fallbackSettleAfter, then paged
// without a message. An error leaves the claim open; Sweep calls this
// again.
func (d *Driver) settleFallback(ctx context.Context, key string) error {
	unlock := d.locks.lock(key)
	defer unlock()
	c, v, err := d.loadFallbackClaim(ctx, key)
	if err != nil {
		return err
	}
	if c.Paged {
		d.metrics.replays.Add(1)
		return d.cfg.States.FinishCallState(ctx, key)
	}
	if !c.Recorded && d.now().Before(c.At.Add(fallbackSettleAfter)) {
		return nil // the recording callback may still come
	}
	save := func() error {
		b, err := json.Marshal(c)
		if err == nil {
			v, err = d.cfg.States.UpdateCallState(ctx, key, v, b)
		}
		return err
	}
	if c.VoicemailURL == "" && c.RecordingSid != "" {
		var kept bool
		c.VoicemailURL, kept = d.keepCopy(ctx, c.CallSid, c.RecordingSid, c.TwilioURL, c.Seconds)
		if err := save(); err != nil {
			return err // Twilio's copy stays: the next try fetches it again
		}
		if kept {
			d.dropAtTwilio(ctx, c.CallSid, c.RecordingSid)
		}
	}
	log := d.log.With(zap.String(keyCallSid, c.CallSid), zap.String("voicemail", c.VoicemailURL))
	if d.cfg.Pages == nil {
		log.Error("a caller reached the Fallback URL and no pager is configured")
		return d.cfg.States.FinishCallState(ctx, key)
	}
	// The service failed to route this call, so nothing is known of its
	// ticket: the page is critical, at L1, so that someone calls back soon.
	// Its call id is the call's with "-fallback": the flow may have paged
	// about the same call before it failed, and a page is kept once per id.
	_, line := d.lineLanguage(c.To)
	caller := ""
	if c.From != "" && !strings.EqualFold(c.From, "anonymous") {
		caller = c.From
	}
	err = d.cfg.Pages.RequestPage(ctx, ivr.PageRequest{CallID: c.CallSid + "-fallback", Priority: oncall.Critical, Level: oncall.L1,
		VoicemailURL: c.VoicemailURL, VoicemailSeconds: c.Seconds, Line: line, Caller: caller, RequestedAt: d.now()})
	if err != nil {
		log.Error("could not page about a Fallback call; retried by the sweep", zap.Error(err))
		return err
	}
	c.Paged = true
	if err := save(); err != nil { // paged all the same: a page request is kept once per call
		return err
	}
	return d.cfg.States.FinishCallState(ctx, key)
}
