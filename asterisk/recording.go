package asterisk

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
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
	url, kept := c.keep(ctx, rec.Name, secs)
	done.URL, done.Seconds = url, secs
	c.handle(ctx, done)
	if kept {
		err := c.d.request(context.WithoutCancel(ctx), "delete the recording", func() error {
			return c.d.cfg.Client.StoredRecording().Delete(ari.NewKey(ari.StoredRecordingKey, rec.Name))
		})
		if err != nil {
			c.log.Warn("could not delete the voicemail in Asterisk; it stays there", zap.String(keyRecording, rec.Name), zap.Error(err))
		}
	}
}

// keep fetches stored recording name and saves it, returning the
// service's URL and true; "" and false when that cannot be done (the
// recording then stays in Asterisk, and the page carries no message).
func (c *call) keep(ctx context.Context, name string, secs int) (string, bool) {
	log := c.log.With(zap.String(keyRecording, name))
	if c.d.cfg.Recordings == nil || c.d.cfg.Files == nil {
		log.Warn("no recording store: the voicemail stays in Asterisk")
		return "", false
	}
	fctx, cancel := context.WithTimeout(ctx, c.d.cfg.FlowBudget)
	defer cancel()
	data, ct, err := c.d.cfg.Files.StoredFile(fctx, name, c.d.cfg.MaxRecordingBytes)
	if err != nil {
		log.Error("could not fetch the voicemail from Asterisk", zap.Error(err))
		return "", false
	}
	u, err := c.d.cfg.Recordings.SaveRecording(fctx, c.id, name, ct, data, secs)
	if err != nil {
		log.Error("could not save the voicemail", zap.Error(err))
		return "", false
	}
	return u, true
}

// NewStoredFiles fetches stored recordings from ARI at base (such as
// http://127.0.0.1:8088/ari) with basic auth, each request bounded by
// timeout.
func NewStoredFiles(base, user, password string, timeout time.Duration) StoredFiles {
	return storedFiles{base: strings.TrimSuffix(base, "/"), user: user, password: password,
		client: &http.Client{Timeout: timeout}}
}

type storedFiles struct {
	base, user, password string
	client               *http.Client
}

func (s storedFiles) StoredFile(ctx context.Context, name string, maxBytes int64) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/recordings/stored/"+url.PathEscape(name)+"/file", nil)
	if err != nil {
		return nil, "", err
	}
	req.SetBasicAuth(s.user, s.password)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("fetch recording %s: %w", name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("fetch recording %s: ARI answered %s", name, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("fetch recording %s: %w", name, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, "", fmt.Errorf("fetch recording %s: larger than %d bytes", name, maxBytes)
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "audio/wav"
	}
	return data, ct, nil
}
