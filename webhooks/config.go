package webhooks

import (
	"context"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/sounds"
)

// Log keys.
const (
	keyCallSid = "call_sid"
	keyCallID  = "call_id"
	keyLeg     = "leg"
	keyPath    = "path"
	keyStatus  = "status"
	keySeq     = "seq"
)

// DefaultAPIURL is Twilio's own REST API.
const DefaultAPIURL = "https://api.twilio.com"

// DefaultRESTTimeout bounds each REST request when Settings give no
// RESTTimeout.
const DefaultRESTTimeout = 5 * time.Second

// CallStates keeps each call's state between webhooks: one opaque value per
// Twilio CallSid with a version, for compare-and-swap. The store implements
// it; callstatetest is its contract, which every implementation runs.
type CallStates interface {
	// CreateCallState stores the first state of callID at version 1;
	// errs.Conflict if it has one already.
	CreateCallState(ctx context.Context, callID string, data []byte) error
	// CallState returns the state of callID and its version; errs.NotFound
	// if it has none.
	CallState(ctx context.Context, callID string) (data []byte, version int64, err error)
	// UpdateCallState replaces the state if its version is still version
	// and returns the new version; errs.Conflict if the version moved,
	// errs.NotFound if the call has no state.
	UpdateCallState(ctx context.Context, callID string, version int64, data []byte) (newVersion int64, err error)
	// OpenCallStates lists up to limit calls not marked finished whose
	// state has not changed since idleSince, longest idle first (so that
	// a limit never hides the oldest).
	OpenCallStates(ctx context.Context, idleSince time.Time, limit int) ([]string, error)
	// FinishCallState marks a call's flow done; no error if unknown or
	// marked already. Its state stays readable for late webhooks.
	FinishCallState(ctx context.Context, callID string) error
}

// Recordings keeps voicemail audio fetched from Twilio.
type Recordings interface {
	// SaveRecording stores the audio of recording recordingSID of call
	// callID and returns the service URL where signed-in staff fetch it.
	// Saving the same recordingSID again keeps the first and returns its
	// URL, so a repeated callback is harmless.
	SaveRecording(ctx context.Context, callID, recordingSID, contentType string, data []byte, seconds int) (url string, err error)
}

// Spool keeps, on this host's disk, what the Fallback URL learns while the
// store fails, until it can be put into the store (spool.Spool).
type Spool interface {
	// Append keeps data under key, synced to disk before it returns; a
	// key appended again while pending is replayed once, with the latest
	// data.
	Append(key string, data []byte) error
	// Get returns the pending data of key; false if none.
	Get(key string) ([]byte, bool, error)
	// Replay hands each pending record to apply, in the order appended,
	// marks done those it took, and returns how many are left.
	Replay(ctx context.Context, apply func(ctx context.Context, key string, data []byte) error) (left int, err error)
	// Appended receives after records are appended.
	Appended() <-chan struct{}
}

// Config is what a Driver needs. Zero values get the defaults described.
type Config struct {
	// PublicURL is the service's public base URL as Twilio calls it, e.g.
	// https://ivr.example.com (IVR_PUBLIC_URL); signatures are checked
	// against it and every URL given to Twilio starts with it. Required.
	PublicURL string
	// AuthToken is the Twilio auth token (TWILIO_AUTH_TOKEN). Without it
	// every webhook is refused with 503: unsigned requests are never
	// accepted.
	AuthToken string
	// AccountSID is the Twilio account (TWILIO_ACCOUNT_SID).
	AccountSID string
	// Flow is the call flow. Required.
	Flow *ivr.Flow
	// States keeps the calls' states. Required.
	States CallStates
	// Recordings keeps voicemails; nil keeps them at Twilio (the page then
	// carries Twilio's URL and nothing is deleted there).
	Recordings Recordings
	// Pages raises the page of a voicemail left through the Fallback URL;
	// nil: such a voicemail is only logged.
	Pages ivr.Pages
	// Spool keeps what the Fallback URL learns (the caller, the line, the
	// voicemail) when the store fails, so that Twilio is answered as usual
	// and RunSpool keeps the message and pages once the store is back. It
	// is this host's: with several instances it covers only the calls this
	// one answered. nil: a store failure makes the Fallback's recording
	// callback answer 500, and only what the store holds is retried.
	Spool Spool
	// REST is Twilio's REST API (NewREST). Required.
	REST REST
	// Legs is the outbox that places engineer legs off the webhook path
	// (the pager's engine, given the driver's LegChannel). Nil: a leg is
	// placed at once, inside the webhook that rang it, and nothing of it
	// outlives the process: for tests of the driver alone, never serve.
	Legs Legs
	// Lines are the support lines, for the Fallback URL's language
	// (ivr.DefaultConfig().Lines); the first is the default.
	Lines []ivr.Line
	// Log receives the driver's log. Default: none.
	Log *zap.Logger
	// Now is the clock events are stamped with. Default: time.Now.
	Now func() time.Time
	// MaxBody bounds a webhook's body. Default: 64 KiB.
	MaxBody int64
	// MaxRecordingBytes bounds a voicemail fetched from Twilio. Default:
	// 32 MiB.
	MaxRecordingBytes int64
	// HoldSegment is how long each piece of hold music the wait URL plays
	// lasts, so how often a caller on hold delivers a Tick. Default: 8 s.
	HoldSegment time.Duration
	// HandleBudget bounds the work for one webhook (state, flow, REST
	// calls), well inside Twilio's 15 s timeout. Default: 10 s.
	HandleBudget time.Duration
	// CASRetries is how often an update that lost a compare-and-swap is
	// retried on the fresh state, each after a short random pause.
	// Default: 16.
	CASRetries int
	// AfterFunc schedules the wake-up at a flow deadline (Result.WakeAt);
	// default time.AfterFunc. Tests give one they fire themselves.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

func (c *Config) defaults() {
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 64 << 10
	}
	if c.MaxRecordingBytes <= 0 {
		c.MaxRecordingBytes = 32 << 20
	}
	if c.HoldSegment <= 0 {
		c.HoldSegment = 8 * time.Second
	}
	if c.HandleBudget <= 0 {
		c.HandleBudget = 10 * time.Second
	}
	if c.CASRetries <= 0 {
		c.CASRetries = 16
	}
	if c.AfterFunc == nil {
		c.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if len(c.Lines) == 0 {
		c.Lines = ivr.DefaultConfig().Lines
	}
}

func (c Config) validate() error {
	switch {
	case c.Flow == nil:
		return errs.InvalidField("flow", "is required")
	case c.States == nil:
		return errs.InvalidField("states", "is required")
	case c.REST == nil:
		return errs.InvalidField("rest", "is required")
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return errs.InvalidField("public_url", "%q is not an absolute http(s) base URL such as https://ivr.example.com (IVR_PUBLIC_URL)", c.PublicURL)
	}
	return missingAudio(ivr.Catalogue(), func(lang, name string) bool {
		_, ok := sounds.URLPath(lang, name)
		return ok
	})
}

// missingAudio is errs.Invalid naming the first prompt of ps that has no
// recording in one of its languages, as has tells. The driver only plays
// recordings: Twilio's <Say> has no voice for ru-RU by default, and an
// invalid voice and language "may result in error and <Say> instruction
// failure", so a prompt without audio refuses the start rather than the
// call. Every line's prompts are in the catalogue (ivr.Config checks).
func missingAudio(ps []ivr.PromptText, has func(lang, name string) bool) error {
	for _, p := range ps {
		for _, lang := range []oncall.Language{oncall.Russian, oncall.English} {
			if !has(string(lang), p.Name) {
				return errs.InvalidField("prompts", "prompt %q has no %s recording: run go generate ./sounds/ (sounds/README.md)", p.Name, lang)
			}
		}
	}
	return nil
}

// Settings are the Twilio settings of the service. cmd/ivr reads them from
// the environment and flags named beside each; this package reads neither.
type Settings struct {
	PublicURL  string // IVR_PUBLIC_URL, -public-url
	AccountSID string // TWILIO_ACCOUNT_SID, -twilio-account-sid
	AuthToken  string // TWILIO_AUTH_TOKEN, -twilio-auth-token
	APIURL     string // IVR_TWILIO_API_URL, -twilio-api-url; default DefaultAPIURL
	// RESTTimeout bounds each REST request (IVR_TWILIO_TIMEOUT,
	// -twilio-timeout); default DefaultRESTTimeout.
	RESTTimeout time.Duration
}

func (s *Settings) fill() {
	if s.APIURL == "" {
		s.APIURL = DefaultAPIURL
	}
	if s.RESTTimeout <= 0 {
		s.RESTTimeout = DefaultRESTTimeout
	}
}

// More log keys.
const (
	keyClaim     = "claim"
	keyDetail    = "detail"
	keyLegSid    = "leg_sid"
	keyOpenPages = "open_pages"
	keyOutcome   = "outcome"
	keyPanic     = "panic"
	keyStack     = "stack"
	keyVoicemail = "voicemail"
)
