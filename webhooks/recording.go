package webhooks

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
)

// Voicemail: Twilio's recording status callback says the recording is
// complete (or absent); the service fetches it, keeps it and deletes it at
// Twilio, then tells the flow, which pages.

// recordingStatus is the voicemail's recordingStatusCallback.
func (d *Driver) recordingStatus(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	sid, err := callSid(form)
	if err != nil {
		return "", err
	}
	recSid := form.Get("RecordingSid")
	s, err := d.load(ctx, sid)
	if err != nil {
		return "", err
	}
	if !waitsForRecording(s.env) {
		d.metrics.replays.Add(1)
		return "", nil // a repeat, or the flow gave up waiting
	}
	done := ivr.RecordingDone{At: d.now()}
	if form.Get("RecordingStatus") == "completed" {
		secs, _ := strconv.Atoi(form.Get("RecordingDuration"))
		done.URL, done.Seconds = d.keep(ctx, sid, recSid, form.Get("RecordingUrl"), secs), secs
	}
	_, err = d.apply(ctx, sid, fromOther, "", func(e *envelope) (ivr.Event, bool) {
		if !waitsForRecording(*e) {
			return nil, false
		}
		e.Recording = recSid
		done.At = d.now()
		return done, true
	})
	return "", err
}

func waitsForRecording(e envelope) bool {
	return e.Recording == "" && (e.Flow.Phase == ivr.PhaseVoicemail || e.Flow.Phase == ivr.PhaseVoicemailWait)
}

// keep fetches recording recSid of call callID, saves it and deletes it
// at Twilio, and returns the service's URL for it. When that cannot be
// done, Twilio's URL is returned (and the recording left there) so that
// the page still carries the message.
func (d *Driver) keep(ctx context.Context, callID, recSid, twilioURL string, secs int) string {
	log := d.log.With(zap.String(keyCallSid, callID), zap.String("recording_sid", recSid))
	if d.cfg.Recordings == nil || twilioURL == "" || recSid == "" {
		return twilioURL
	}
	data, ct, err := d.cfg.REST.FetchMedia(ctx, twilioURL+".wav", d.cfg.MaxRecordingBytes)
	if err != nil {
		log.Error("could not fetch the voicemail from Twilio; paging with Twilio's URL", zap.Error(err))
		return twilioURL
	}
	u, err := d.cfg.Recordings.SaveRecording(ctx, callID, recSid, ct, data, secs)
	if err != nil {
		log.Error("could not save the voicemail; paging with Twilio's URL", zap.Error(err))
		return twilioURL
	}
	if err := d.cfg.REST.DeleteRecording(ctx, recSid); err != nil {
		log.Warn("could not delete the voicemail at Twilio; it stays there", zap.Error(err))
	}
	return u
}
