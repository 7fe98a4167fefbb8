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
	kept := false
	if form.Get("RecordingStatus") == "completed" {
		secs, _ := strconv.Atoi(form.Get("RecordingDuration"))
		done.URL, kept = d.keepCopy(ctx, sid, recSid, form.Get("RecordingUrl"), secs)
		done.Seconds = secs
	}
	out, err := d.apply(ctx, sid, fromOther, "", func(e *envelope) (ivr.Event, bool) {
		if !waitsForRecording(*e) {
			return nil, false
		}
		e.Recording = recSid
		done.At = d.now()
		return done, true
	})
	if err == nil && kept && out.env.Recording == recSid {
		d.dropAtTwilio(ctx, sid, recSid)
	}
	return "", err
}

func waitsForRecording(e envelope) bool {
	return e.Recording == "" && (e.Flow.Phase == ivr.PhaseVoicemail || e.Flow.Phase == ivr.PhaseVoicemailWait)
}

// keyRecordingSid logs the Twilio recording a voicemail is.
const keyRecordingSid = "recording_sid"

// keepCopy fetches recording recSid of call callID and saves it, and
// returns the service's URL for it and true. When that cannot be done,
// Twilio's URL is returned, and false, so that the page still carries the
// message. Twilio's copy is deleted by dropAtTwilio, only once the state
// that points at the service's copy is saved: a retry after a failed save
// must still find the recording at Twilio.
func (d *Driver) keepCopy(ctx context.Context, callID, recSid, twilioURL string, secs int) (string, bool) {
	log := d.log.With(zap.String(keyCallSid, callID), zap.String(keyRecordingSid, recSid))
	if d.cfg.Recordings == nil || twilioURL == "" || recSid == "" {
		return twilioURL, false
	}
	data, ct, err := d.cfg.REST.FetchMedia(ctx, twilioURL+".wav", d.cfg.MaxRecordingBytes)
	if err != nil {
		log.Error("could not fetch the voicemail from Twilio; paging with Twilio's URL", zap.Error(err))
		return twilioURL, false
	}
	u, err := d.cfg.Recordings.SaveRecording(ctx, callID, recSid, ct, data, secs)
	if err != nil {
		log.Error("could not save the voicemail; paging with Twilio's URL", zap.Error(err))
		return twilioURL, false
	}
	return u, true
}

// dropAtTwilio deletes a recording the service keeps a copy of, off the
// webhook path (effects.go).
func (d *Driver) dropAtTwilio(_ context.Context, callID, recSid string) {
	d.effects.do(callID, func(ctx context.Context) {
		if err := d.cfg.REST.DeleteRecording(ctx, recSid); err != nil {
			d.log.Warn("could not delete the voicemail at Twilio; it stays there", zap.String(keyCallSid, callID),
				zap.String(keyRecordingSid, recSid), zap.Error(err))
		}
	})
}
