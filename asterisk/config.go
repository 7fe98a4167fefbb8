package asterisk

import (
	"context"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/sounds"
)

// Client is the connection to Asterisk the driver uses: the part of
// ari/v5's client it needs. Serve gives it arilink's (Link.Client, or
// Connection.Client in OnConnect), which keeps the events the library
// cannot decode from its bus and bounds each REST request; any ari.Client
// has these methods (native.Connect's, arimocks').
type Client interface {
	// Bus is the client's event bus: Run subscribes to it once.
	Bus() ari.Bus
	Application() ari.Application
	Asterisk() ari.Asterisk
	Channel() ari.Channel
	Bridge() ari.Bridge
	Playback() ari.Playback
	LiveRecording() ari.LiveRecording
	StoredRecording() ari.StoredRecording
}

// CallStates keeps each call's state: one opaque value per call with a
// version, for compare-and-swap (the store; the same methods as the Twilio
// driver's webhooks.CallStates).
type CallStates interface {
	// CreateCallState stores the first state of callID at version 1;
	// errs.Conflict if it has one already.
	CreateCallState(ctx context.Context, callID string, data []byte) error
	// CallState returns the state of callID and its version; errs.NotFound
	// if it has none.
	CallState(ctx context.Context, callID string) (data []byte, version int64, err error)
	// UpdateCallState replaces the state if its version is still version
	// and returns the new version; errs.Conflict if the version moved.
	UpdateCallState(ctx context.Context, callID string, version int64, data []byte) (newVersion int64, err error)
	// FinishCallState marks a call's flow done.
	FinishCallState(ctx context.Context, callID string) error
	// OpenCallStates lists up to limit calls not marked finished whose
	// state has not changed since idleSince, longest idle first.
	OpenCallStates(ctx context.Context, idleSince time.Time, limit int) ([]string, error)
}

// Recordings keeps voicemail audio (the same as the Twilio driver's).
type Recordings interface {
	// SaveRecording stores the audio of recording recordingID of call
	// callID and returns the service URL where signed-in staff fetch it.
	SaveRecording(ctx context.Context, callID, recordingID, contentType string, data []byte, seconds int) (url string, err error)
}

// StoredFiles fetches the audio of a recording Asterisk stored (ARI's GET
// /recordings/stored/{name}/file, which ari/v5 v5.3.1 does not offer);
// errs.NotFound if there is none. RawARI is one.
type StoredFiles interface {
	StoredFile(ctx context.Context, name string, maxBytes int64) (data []byte, contentType string, err error)
}

// ChannelMover moves a channel from the Stasis application it is in
// into another (ARI's POST /channels/{id}/move, which ari/v5 v5.3.1 does
// not offer). RawARI is one.
type ChannelMover interface {
	MoveChannel(ctx context.Context, channelID, app string, args []string) error
}

// Stasis arguments: a caller's channel enters the application with
// ArgLine and the line's E.164 number, an engineer leg with ArgLeg and its
// leg id, a caller taken over with ArgResume.
const (
	ArgLine = "line"
	ArgLeg  = "leg"
	// ArgResume marks a caller moved in from another instance's
	// application, whose call is taken up from the store (sweep.go).
	ArgResume = "resume"
)

// Config is what a Driver needs. Zero values get the defaults described.
type Config struct {
	// Client is the ARI connection. Required.
	Client Client
	// App is the Stasis application's name, as the client connected with.
	// Required.
	App string
	// Flow is the call flow. Required.
	Flow *ivr.Flow
	// States keeps the calls' states. Required.
	States CallStates
	// Recordings keeps voicemails and Files fetches them from Asterisk;
	// with either nil a voicemail is left in Asterisk and the page carries
	// no message.
	Recordings Recordings
	Files      StoredFiles
	// Mover moves into this application the callers of an instance that
	// stopped serving them (see sweep.go); nil: they are not taken over.
	Mover ChannelMover
	// SoundsDir is the folder, as Asterisk sees it, holding the prompts
	// as <lang>/<name>.wav (ivr asterisk sounds --dir). Required.
	SoundsDir string
	// Lines are the support lines (ivr.DefaultConfig().Lines); a caller
	// whose channel has no line argument is matched by the extension
	// dialled.
	Lines []ivr.Line
	// DialString makes the endpoint an engineer's leg is originated to
	// from the engineer's number: "{phone}" is replaced by it, as in
	// "PJSIP/{phone}@trunk". Endpoints, when it has the number, wins.
	// One of the two is required.
	DialString string
	Endpoints  map[string]string
	// HoldMusic is the music-on-hold class; "" the default class.
	HoldMusic string
	// HoldTick is how often a caller on hold gets a Tick. Default: 5 s.
	HoldTick time.Duration
	// RequestTimeout bounds each ARI request. Default: 5 s.
	RequestTimeout time.Duration
	// FlowBudget bounds the flow and the store for one event. Default 10 s.
	FlowBudget time.Duration
	// MaxRecordingBytes bounds a voicemail fetched from Asterisk. Default:
	// 32 MiB.
	MaxRecordingBytes int64
	// MaxSilence ends a voicemail after that much silence. Default: 5 s.
	MaxSilence time.Duration
	// LegGrace is how long a call waits, after the caller is gone, for
	// its legs to report their end before it forgets them. Default 10 s.
	LegGrace time.Duration
	// CASRetries is how often an update that lost a compare-and-swap is
	// redone on the fresh state. Default: 8.
	CASRetries int
	// SweepEvery is how often the driver looks for calls of its Asterisk
	// left in the store by a driver that stopped (see sweep.go). Default:
	// 30 s.
	SweepEvery time.Duration
	// SweepIdle is how long a call's state must have been unchanged for
	// the sweep to end it (its caller gone) or take it over (its instance
	// gone); a live call's state is written at least every SweepIdle/2.
	// Give every instance the same. Default: 1 min.
	SweepIdle time.Duration
	// Now is the clock events are stamped with. Default: time.Now.
	Now func() time.Time
	// Log receives the driver's log. Default: none.
	Log *zap.Logger
}

func (c *Config) defaults() {
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HoldTick <= 0 {
		c.HoldTick = 5 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.FlowBudget <= 0 {
		c.FlowBudget = 10 * time.Second
	}
	if c.MaxRecordingBytes <= 0 {
		c.MaxRecordingBytes = 32 << 20
	}
	if c.MaxSilence <= 0 {
		c.MaxSilence = 5 * time.Second
	}
	if c.LegGrace <= 0 {
		c.LegGrace = 10 * time.Second
	}
	if c.CASRetries <= 0 {
		c.CASRetries = 8
	}
	if c.SweepEvery <= 0 {
		c.SweepEvery = 30 * time.Second
	}
	if c.SweepIdle <= 0 {
		c.SweepIdle = time.Minute
	}
	if len(c.Lines) == 0 {
		c.Lines = ivr.DefaultConfig().Lines
	}
}

func (c Config) validate() error {
	switch {
	case c.Client == nil:
		return errs.InvalidField("client", "is required")
	case c.App == "":
		return errs.InvalidField("app", "is required: the Stasis application's name")
	case c.Flow == nil:
		return errs.InvalidField("flow", "is required")
	case c.States == nil:
		return errs.InvalidField("states", "is required")
	case c.SoundsDir == "":
		return errs.InvalidField("sounds_dir", "is required: the folder Asterisk reads the prompts from")
	}
	if err := arilink.CheckDialing(c.DialString, c.Endpoints); err != nil {
		return err
	}
	// The driver only plays recordings: a prompt without one refuses the
	// start rather than a call.
	for _, p := range ivr.Catalogue() {
		for _, lang := range []oncall.Language{oncall.Russian, oncall.English} {
			if _, ok := sounds.InstallPath(string(lang), p.Name); !ok {
				return errs.InvalidField("prompts", "prompt %q has no %s recording: run go generate ./sounds/ (sounds/README.md)", p.Name, lang)
			}
		}
	}
	return nil
}

// endpoint is the dial string of an engineer's number.
func (c Config) endpoint(phone string) (string, bool) {
	return arilink.Endpoint(c.DialString, c.Endpoints, phone)
}

// Log keys.
const (
	keyCallID    = "call_id"
	keyLeg       = "leg"
	keyChannel   = "channel"
	keyEvent     = "event"
	keyStep      = "step"
	keyRecording = "recording"
	keyArgs      = "args"
	keyCause     = "cause"
)
