package ivr

import "time"

// Event is something that happened to a call, reported by a driver. It is
// one of CallStarted, Digits, HoldKey, Tick, LegAnswered, LegDigits,
// Bridged, LegEnded, RecordingDone, HungUp. Every event carries the time it
// happened: the flow never reads a clock.
type Event interface{ when() time.Time }

// CallStarted: a caller dialled Line (E.164 as the provider reports it) from
// Caller, which may be "" or "anonymous" when withheld. Given to Flow.Start.
type CallStarted struct {
	CallID string
	Line   string
	Caller string
	At     time.Time
}

// Digits: what the caller keyed for the current Gather, without the
// terminator; "" when the gather timed out with nothing. Finished is true
// when the caller ended with the terminator (Twilio's FinishedOnKey).
type Digits struct {
	Digits   string
	Finished bool
	At       time.Time
}

// HoldKey: the caller on hold (a Hold step) pressed Key. 1 leaves a
// message instead of waiting (the hold messages offer it); other keys
// change nothing. A key that comes once the caller is connected or
// recording changes nothing either.
type HoldKey struct {
	Key string
	At  time.Time
}

// Tick: time passed. A driver delivers one at least every few seconds while
// the caller is on hold (and at Result.WakeAt), so that deadlines and
// progress messages are evaluated.
type Tick struct {
	At time.Time
}

// LegAnswered: engineer leg LegID was picked up (by a person or a machine).
type LegAnswered struct {
	LegID string
	At    time.Time
}

// LegDigits: what the engineer keyed on leg LegID's Gather; "" for nothing.
type LegDigits struct {
	LegID  string
	Digits string
	At     time.Time
}

// Bridged: the caller and the engineer of leg LegID, who accepted, are
// connected: the driver saw the bridge start. Until it comes, an accepted
// leg that ends has not talked with the caller.
type Bridged struct {
	LegID string
	At    time.Time
}

// EndReason is why an engineer leg ended.
type EndReason string

const (
	NoAnswer  EndReason = "no-answer"
	Busy      EndReason = "busy"
	Failed    EndReason = "failed"
	Machine   EndReason = "machine"   // an answering machine picked up
	Canceled  EndReason = "canceled"  // the driver cancelled it (after a Cancel)
	Completed EndReason = "completed" // it was answered and then hung up
)

// LegEnded: engineer leg LegID ended.
type LegEnded struct {
	LegID  string
	Reason EndReason
	At     time.Time
}

// RecordingDone: the caller's voicemail was recorded: URL of the audio
// (kept by the driver's side) and its length. URL "" or Seconds 0 means
// nothing was recorded.
type RecordingDone struct {
	URL     string
	Seconds int
	At      time.Time
}

// HungUp: the caller hung up.
type HungUp struct {
	At time.Time
}

func (e CallStarted) when() time.Time   { return e.At }
func (e Digits) when() time.Time        { return e.At }
func (e HoldKey) when() time.Time       { return e.At }
func (e Tick) when() time.Time          { return e.At }
func (e LegAnswered) when() time.Time   { return e.At }
func (e LegDigits) when() time.Time     { return e.At }
func (e Bridged) when() time.Time       { return e.At }
func (e LegEnded) when() time.Time      { return e.At }
func (e RecordingDone) when() time.Time { return e.At }
func (e HungUp) when() time.Time        { return e.At }
