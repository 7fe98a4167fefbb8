package asterisk

import (
	"context"
	"strings"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds/wav"
)

// Voicemail: after the prompts and a tone, Asterisk records the caller
// (# or silence ends it); once RecordingFinished says it is stored, the driver fetches it,
// saves it into the service's store, deletes it in Asterisk, and tells the
// flow, which pages.

// record starts the voicemail of p (the caller).
func (c *call) record(ctx context.Context, p *party, s ivr.Record) {
	// The store takes letters, digits, - and _ in a recording's id;
	// Asterisk's channel ids have a dot.
	name := strings.ReplaceAll(c.newID("voicemail"), ".", "-")
	c.bind(name)
	p.recorded = name
	// The recording's name goes into the stored state first: a driver
	// taking the call up after this one stopped finds the message
	// (resumeRecording), or finds there is none.
	fctx, cancel := context.WithTimeout(ctx, c.d.cfg.FlowBudget)
	c.save(fctx, c.st)
	cancel()
	err := c.d.request(ctx, "record", func() error {
		_, err := c.d.cfg.Client.Channel().Record(p.key(), name, &ari.RecordingOptions{
			Format: "wav", MaxDuration: s.MaxLength, MaxSilence: c.d.cfg.MaxSilence,
			Exists: "overwrite", Terminate: "#", // the tone was played before (tone)
		})
		return err
	})
	if err != nil {
		c.log.Error("could not record the voicemail", zap.Error(err))
		c.unbind(name)
		p.recorded = ""
		c.follow = append(c.follow, ivr.RecordingDone{At: c.now()})
	}
}

// resumeRecording, for a call taken up in its voicemail: a recording
// still under way is waited for (its RecordingFinished comes as usual);
// one that ended while no driver served the call (the caller pressed # or
// hung up) is fetched from Asterisk's stored recordings and carried by the
// page like any other; if there is none, the flow is told nothing was
// recorded.
func (c *call) resumeRecording(ctx context.Context) {
	name := c.caller.recorded
	if name == "" {
		c.handle(ctx, ivr.RecordingDone{At: c.now()}) // none had started: nothing will report
		return
	}
	err := c.d.request(ctx, "look at the voicemail being recorded", func() error {
		_, err := c.d.cfg.Client.LiveRecording().Data(ari.NewKey(ari.LiveRecordingKey, name))
		return err
	})
	if err == nil {
		c.log.Info("the voicemail is still being recorded; waiting for its end", zap.String(keyRecording, name))
		return
	}
	if !arilink.NotFound(err) {
		c.log.Warn("could not look at the voicemail being recorded; waiting for its end", zap.String(keyRecording, name), zap.Error(err))
		return
	}
	c.caller.recorded = ""
	c.unbind(name)
	done := ivr.RecordingDone{At: c.now()}
	url, secs, kept := c.keep(ctx, name, 0)
	if kept {
		c.log.Info("found the voicemail recorded while no driver served the call", zap.String(keyRecording, name), zap.Int("seconds", secs))
		done.URL, done.Seconds = url, secs
	}
	c.handle(ctx, done)
	if kept {
		c.deleteStored(ctx, name)
	}
}

// deleteStored deletes stored recording name in Asterisk, once kept.
func (c *call) deleteStored(ctx context.Context, name string) {
	err := c.d.request(context.WithoutCancel(ctx), "delete the recording", func() error {
		return c.d.cfg.Client.StoredRecording().Delete(ari.NewKey(ari.StoredRecordingKey, name))
	})
	if err != nil {
		c.log.Warn("could not delete the voicemail in Asterisk; it stays there", zap.String(keyRecording, name), zap.Error(err))
	}
}

// recorded handles the end of the voicemail's recording.
func (c *call) recorded(ctx context.Context, rec ari.LiveRecordingData, ok bool) {
	p := c.caller
	if rec.Name == "" || rec.Name != p.recorded {
		return
	}
	p.recorded = ""
	c.unbind(rec.Name)
	done := ivr.RecordingDone{At: c.now()}
	secs := int(time.Duration(rec.Duration) / time.Second)
	if !ok || secs <= 0 {
		c.log.Info("no voicemail recorded", zap.String(keyRecording, rec.Name), zap.String(keyCause, rec.Cause))
		c.handle(ctx, done)
		return
	}
	url, _, kept := c.keep(ctx, rec.Name, secs)
	done.URL, done.Seconds = url, secs
	c.handle(ctx, done)
	if kept {
		c.deleteStored(ctx, rec.Name)
	}
}

// keep fetches stored recording name and saves it, returning the
// service's URL, its length (secs if known, else read from the file) and
// true; false when that cannot be done (the recording then stays in
// Asterisk, and the page carries no message), or there is nothing in it.
func (c *call) keep(ctx context.Context, name string, secs int) (string, int, bool) {
	log := c.log.With(zap.String(keyRecording, name))
	if c.d.cfg.Recordings == nil || c.d.cfg.Files == nil {
		log.Warn("no recording store: the voicemail stays in Asterisk")
		return "", 0, false
	}
	fctx, cancel := context.WithTimeout(ctx, c.d.cfg.FlowBudget)
	defer cancel()
	data, ct, err := c.d.cfg.Files.StoredFile(fctx, name, c.d.cfg.MaxRecordingBytes)
	switch {
	case errs.Is(err, errs.NotFound) && secs <= 0:
		log.Info("no voicemail stored: the caller left none") // looked for on resuming
		return "", 0, false
	case err != nil:
		log.Error("could not fetch the voicemail from Asterisk", zap.Error(err))
		return "", 0, false
	}
	if secs <= 0 {
		info, err := wav.Parse(data)
		if secs = int(info.Duration() / time.Second); err != nil || secs <= 0 {
			log.Info("the stored voicemail is empty or unreadable", zap.Int("bytes", len(data)), zap.Error(err))
			return "", 0, false
		}
	}
	u, err := c.d.cfg.Recordings.SaveRecording(fctx, c.id, name, ct, data, secs)
	if err != nil {
		log.Error("could not save the voicemail", zap.Error(err))
		return "", 0, false
	}
	return u, secs, true
}
