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
// or a timeout). It needs no call state: it says there are technical
// difficulties in both languages (the line's first), records a message
// and, once the recording is complete, keeps it and raises a page. It is
// served by the same process, so it helps when the flow or the state store
// fails, not when the whole service is down (see README.md). What the store
// cannot take meanwhile (the caller, the voicemail, the page) goes to the
// Spool on this host's disk, and RunSpool puts it into the store once it is
// back.

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
		zap.String(keyCallSid, sid), zap.String(keyErrorCode, form.Get("ErrorCode")),
		zap.String(keyErrorURL, form.Get("ErrorUrl")))
	// The caller is paged about even without a message (the sweep does it
	// once no recording can come), which needs a claim now: the recording
	// callbacks carry neither From nor To. The store may be what failed:
	// then the claim is spooled (RunSpool makes it), or if even that fails
	// the recording callback claims it without them.
	if sid != "" {
		c := fallbackClaim{CallSid: sid, From: form.Get("From"), To: form.Get("To"), At: d.now()}
		if data, err := json.Marshal(c); err == nil {
			if err := d.cfg.States.CreateCallState(ctx, fallbackPrefix+sid, data); err != nil && !errs.Is(err, errs.Conflict) {
				d.spoolFallback(sid, spoolCall, spooledFallback{Claim: c}, err)
			}
		}
	}
	var ps []ivr.Prompt
	for _, l := range []oncall.Language{lang, other(lang)} {
		ps = append(ps, ivr.FallbackPrompts(l)...)
	}
	q := "?lang=" + string(lang)
	verbs := append(d.docs.plays(ps), &twiml.VoiceRecord{
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
	return d.docs.hangup([]ivr.Prompt{{Name: "message_recorded", Lang: lang}, {Name: "goodbye", Lang: lang}}), nil
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
// Sweep after a failure, carries on where it stopped. When the store fails
// and a Spool is configured, what the callback said (and the audio, if it
// can be fetched) is spooled and Twilio gets 200: RunSpool finishes it.
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
	rec.From, rec.To = d.spooledCaller(sid)
	key := fallbackPrefix + sid
	err = d.claimRecording(ctx, key, rec)
	if err == nil {
		err = d.settleFallback(ctx, key)
	}
	if err != nil && d.cfg.Spool != nil {
		sp := spooledFallback{Claim: rec}
		if rec.RecordingSid != "" && d.cfg.Recordings != nil {
			// The audio goes with it if Twilio gives it now; if not, the
			// replay fetches it (Twilio keeps it until the service has
			// its copy).
			sp.Audio, sp.ContentType, _ = d.cfg.REST.FetchMedia(ctx, rec.TwilioURL+".wav", d.cfg.MaxRecordingBytes)
		}
		if d.spoolFallback(sid, spoolRecording, sp, err) {
			return "", nil
		}
	}
	return "", err
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
			zap.String(keyRecording, rec.TwilioURL))
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
// recording (audio, when the spool has it, rather than fetched from
// Twilio), page, mark the claim finished. A claim waiting for its
// recording callback is left until fallbackSettleAfter, then paged
// without a message. An error leaves the claim open; Sweep calls this
// again.
func (d *Driver) settleFallback(ctx context.Context, key string) error {
	return d.settleFallbackWith(ctx, key, nil)
}

// settleFallbackWith is settleFallback keeping audio's copy of the
// recording, if it has one.
func (d *Driver) settleFallbackWith(ctx context.Context, key string, audio *spooledFallback) error {
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
		if audio != nil && len(audio.Audio) > 0 && d.cfg.Recordings != nil {
			c.VoicemailURL, kept = d.keepSpooledCopy(ctx, c, audio)
		} else {
			c.VoicemailURL, kept = d.keepCopy(ctx, c.CallSid, c.RecordingSid, c.TwilioURL, c.Seconds)
		}
		if err := save(); err != nil {
			return err // Twilio's copy stays: the next try fetches it again
		}
		if kept {
			d.dropAtTwilio(ctx, c.CallSid, c.RecordingSid)
		}
	}
	log := d.log.With(zap.String(keyCallSid, c.CallSid), zap.String(keyVoicemail, c.VoicemailURL))
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

// The spool: what the Fallback learned that the store could not take.
// A record's key is the CallSid and what it is: "/call", the Fallback
// request (who called which line, and when); "/recording", the recording
// callback (the recording's sid, URL and length, and the audio when it
// could be fetched). Replaying either is idempotent on the call: the
// claim is created once (or completed), the copy saved once per recording
// sid, the page requested once (its call id is the call's), and a claim
// already paged is left alone.
const (
	spoolCall      = "/call"
	spoolRecording = "/recording"
)

// Log keys of the spool.
const (
	keyStoreError = "store_error" // what the store said when the Fallback spooled
	keySpooled    = "spooled"     // which record: spoolCall or spoolRecording
	keyAudio      = "audio"       // whether the voicemail's audio was spooled
	keySpoolKey   = "spool_key"
	keyLeft       = "left"
	keyRetryIn    = "retry_in"
)

// SpoolRetry is how long RunSpool waits before it replays again after a
// failure or a record spooled (the store had just failed), doubling up to
// SpoolRetryMax while the store stays down.
const (
	SpoolRetry    = time.Second
	SpoolRetryMax = time.Minute
)

// spooledFallback is one spool record: the claim as far as the Fallback
// knew it, and the voicemail's audio if it was fetched.
type spooledFallback struct {
	Claim       fallbackClaim `json:"claim"`
	Audio       []byte        `json:"audio,omitempty"`
	ContentType string        `json:"content_type,omitempty"`
}

// spoolFallback keeps what call sid's Fallback request or recording
// callback (kind) learned when the store failed with cause, and reports
// whether it is kept: synced to disk, so that Twilio may be answered as if
// the store had taken it.
func (d *Driver) spoolFallback(sid, kind string, sp spooledFallback, cause error) bool {
	log := d.log.With(zap.String(keyCallSid, sid), zap.NamedError(keyStoreError, cause))
	if d.cfg.Spool == nil {
		log.Warn("could not note the Fallback call; it is paged only if a recording comes (no spool configured)")
		return false
	}
	data, err := json.Marshal(sp)
	if err == nil {
		err = d.cfg.Spool.Append(sid+kind, data)
	}
	if err != nil {
		log.Error("the store failed and the Fallback call could not be spooled either", zap.Error(err))
		return false
	}
	log.Warn("the store failed: the Fallback call is spooled on this host and put into the store when it is back",
		zap.String(keySpooled, kind), zap.Bool(keyAudio, len(sp.Audio) > 0))
	return true
}

// spooledCaller is who called which line, from call sid's Fallback
// request if the store could not take it and the spool holds it.
func (d *Driver) spooledCaller(sid string) (from, to string) {
	if d.cfg.Spool == nil {
		return "", ""
	}
	data, ok, err := d.cfg.Spool.Get(sid + spoolCall)
	var sp spooledFallback
	if err != nil || !ok || json.Unmarshal(data, &sp) != nil {
		return "", ""
	}
	return sp.Claim.From, sp.Claim.To
}

// keepSpooledCopy saves the audio the spool kept of c's recording, as
// keepCopy does with what it fetches.
func (d *Driver) keepSpooledCopy(ctx context.Context, c fallbackClaim, sp *spooledFallback) (string, bool) {
	u, err := d.cfg.Recordings.SaveRecording(ctx, c.CallSid, c.RecordingSid, sp.ContentType, sp.Audio, c.Seconds)
	if err != nil {
		d.log.Error("could not save the spooled voicemail; paging with Twilio's URL", zap.String(keyCallSid, c.CallSid),
			zap.String(keyRecordingSid, c.RecordingSid), zap.Error(err))
		return c.TwilioURL, false
	}
	return u, true
}

// RunSpool puts what the Fallback spooled into the store: at once, then a
// while (SpoolRetry) after each record spooled, and while any is left
// again with a backoff doubling up to SpoolRetryMax, the waits scheduled
// with Config.AfterFunc. It returns when ctx ends; at once without a
// Spool. Call it from one goroutine per Driver.
func (d *Driver) RunSpool(ctx context.Context) {
	if d.cfg.Spool == nil {
		return
	}
	retry := make(chan struct{}, 1)
	stop := func() bool { return false }
	defer func() { stop() }()
	arm := func(wait time.Duration) {
		stop()
		stop = d.cfg.AfterFunc(wait, func() {
			select {
			case retry <- struct{}{}:
			default:
			}
		})
	}
	wait := SpoolRetry
	for {
		left, err := d.cfg.Spool.Replay(ctx, d.replayBounded)
		if ctx.Err() != nil {
			return
		}
		if left > 0 {
			d.log.Warn("spooled Fallback calls could not be put into the store yet; retrying",
				zap.Int(keyLeft, left), zap.Duration(keyRetryIn, wait), zap.Error(err))
			arm(wait)
			wait = min(2*wait, SpoolRetryMax)
		} else {
			if err != nil {
				d.log.Error("spool replay", zap.Error(err))
			}
			wait = SpoolRetry
			select {
			case <-ctx.Done():
				return
			case <-d.cfg.Spool.Appended():
			}
			arm(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-retry:
		}
	}
}

// ReplaySpool replays the spool once, as RunSpool does, and returns how
// many records are left.
func (d *Driver) ReplaySpool(ctx context.Context) (int, error) {
	if d.cfg.Spool == nil {
		return 0, nil
	}
	return d.cfg.Spool.Replay(ctx, d.replayBounded)
}

// replayBounded is replaySpooled within HandleBudget, so that a store that
// hangs rather than fails holds the replay up no longer than a webhook.
func (d *Driver) replayBounded(ctx context.Context, key string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.HandleBudget)
	defer cancel()
	return d.replaySpooled(ctx, key, data)
}

// replaySpooled puts one spool record into the store; nil once the store
// has it (or it can never be read: logged and dropped).
func (d *Driver) replaySpooled(ctx context.Context, key string, data []byte) error {
	var sp spooledFallback
	if err := json.Unmarshal(data, &sp); err != nil || sp.Claim.CallSid == "" {
		d.log.Error("a spooled Fallback record cannot be read; dropped", zap.String(keySpoolKey, key), zap.Error(err))
		return nil
	}
	switch {
	case strings.HasSuffix(key, spoolCall):
		return d.replayFallbackCall(ctx, sp.Claim)
	case strings.HasSuffix(key, spoolRecording):
		return d.replayFallbackRecording(ctx, sp)
	}
	d.log.Error("a spooled Fallback record of an unknown kind; dropped", zap.String(keySpoolKey, key))
	return nil
}

// replayFallbackCall creates the claim of a Fallback request the store
// missed; a claim made meanwhile (the recording callback, once the store
// was back) gets the caller and the line, unless it was paged already.
func (d *Driver) replayFallbackCall(ctx context.Context, c fallbackClaim) error {
	key := fallbackPrefix + c.CallSid
	unlock := d.locks.lock(key)
	defer unlock()
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	err = d.cfg.States.CreateCallState(ctx, key, data)
	if !errs.Is(err, errs.Conflict) {
		return err
	}
	cur, v, err := d.loadFallbackClaim(ctx, key)
	if err != nil {
		return err
	}
	if cur.Paged || cur.From != "" || cur.To != "" {
		return nil
	}
	cur.From, cur.To = c.From, c.To
	if c.At.Before(cur.At) {
		cur.At = c.At
	}
	if data, err = json.Marshal(cur); err != nil {
		return err
	}
	_, err = d.cfg.States.UpdateCallState(ctx, key, v, data)
	return err
}

// replayFallbackRecording does what the recording callback could not:
// note the recording in the claim (creating it if need be), keep the copy
// (the spooled audio, or fetched from Twilio), page, finish.
func (d *Driver) replayFallbackRecording(ctx context.Context, sp spooledFallback) error {
	rec := sp.Claim
	if rec.From == "" && rec.To == "" {
		rec.From, rec.To = d.spooledCaller(rec.CallSid)
	}
	key := fallbackPrefix + rec.CallSid
	if err := d.claimRecording(ctx, key, rec); err != nil {
		return err
	}
	if c, _, err := d.loadFallbackClaim(ctx, key); err != nil {
		return err
	} else if c.Paged { // settled meanwhile (the sweep, or a repeated callback)
		return d.cfg.States.FinishCallState(ctx, key)
	}
	return d.settleFallbackWith(ctx, key, &sp)
}
