package ivr

import (
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// Prompt refers to one entry of the prompt catalogue in one language. Numbers
// and ticket ids are spoken digit by digit as "digit_0" … "digit_9".
type Prompt struct {
	Name string          `json:"name"`
	Lang oncall.Language `json:"lang"`
}

// Step is what one party of the call (the caller or an engineer leg) hears
// and does next. It is one of Play, Gather, Hold, Connect, Record, Hangup.
// Every step plays its Prompts first, in order.
type Step interface{ isStep() }

// Play plays the prompts; the driver then waits for the next event.
type Play struct {
	Prompts []Prompt
}

// Gather plays the prompts, interruptible by a key, and collects keys until
// the terminator, MaxDigits keys, or Timeout without a key (counted from the
// end of the prompts and between keys). The driver answers with Digits (for
// the caller) or LegDigits (for a leg): the keys without the terminator, ""
// when none came.
type Gather struct {
	Prompts    []Prompt
	MaxDigits  int
	Terminator string // "#" or "" (no terminator)
	Timeout    time.Duration
}

// Hold plays the prompts, then hold music until the next step. A driver
// that keeps a caller on hold delivers a Tick at least every few seconds,
// and a HoldKey for a key the caller presses (prompts and music included).
type Hold struct {
	Prompts []Prompt
}

// Connect plays the prompts, then bridges the caller with engineer leg
// LegID. Given to the caller and to that leg.
type Connect struct {
	Prompts []Prompt
	LegID   string
}

// Record plays the prompts and a tone, then records the caller for at most
// MaxLength; hash or silence ends the recording. The driver answers with
// RecordingDone (also after a hang-up during the recording).
type Record struct {
	Prompts   []Prompt
	MaxLength time.Duration
}

// Hangup plays the prompts, then hangs up that party.
type Hangup struct {
	Prompts []Prompt
}

// StepPrompts returns the prompts step s plays first.
func StepPrompts(s Step) []Prompt {
	switch s := s.(type) {
	case Play:
		return s.Prompts
	case Gather:
		return s.Prompts
	case Hold:
		return s.Prompts
	case Connect:
		return s.Prompts
	case Record:
		return s.Prompts
	case Hangup:
		return s.Prompts
	}
	return nil
}

func (Play) isStep()    {}
func (Gather) isStep()  {}
func (Hold) isStep()    {}
func (Connect) isStep() {}
func (Record) isStep()  {}
func (Hangup) isStep()  {}

// LegStep is a step for one engineer leg.
type LegStep struct {
	LegID string
	Step  Step
}

// Action is a telephony side effect the driver carries out: Ring or Cancel.
type Action interface{ isAction() }

// Ring places an outbound call (a leg) to an engineer. It shows CallerID,
// the number of the line the client dialled, never the client's number. The
// driver gives up after Timeout and reports LegEnded{no-answer}; it reports
// LegAnswered when the engineer (or a machine) picks up.
type Ring struct {
	LegID      string
	EngineerID int64
	Phone      string // E.164
	CallerID   string // E.164 of the line
	Timeout    time.Duration
}

// Cancel stops ringing a leg that has not been answered (or hangs it up if
// the answer crossed the cancel). The driver then reports LegEnded, which
// the flow ignores.
type Cancel struct {
	LegID string
}

func (Ring) isAction()   {}
func (Cancel) isAction() {}

// Result is what the driver does after an event.
type Result struct {
	// Caller is the caller's next step; nil when nothing changes for the
	// caller (a caller on hold stays on hold; a caller who hung up is gone).
	// A Caller step that results from a leg event or a Tick must be applied
	// to the live call at once (Twilio: redirect the call).
	Caller Step
	// Legs are steps for engineer legs, in order.
	Legs []LegStep
	// Actions are carried out in order, before the steps.
	Actions []Action
	// Done is true once the call is finished: it has been saved (its
	// ticket note follows on the Tick that Settle asks for);
	// the driver may keep the final state to answer stragglers. After
	// that, HungUp and LegEnded change nothing, LegAnswered and LegDigits
	// of one of the call's legs get Hangup for that leg, and any other
	// event is a Conflict.
	Done bool
	// WakeAt, when set, is the time of the flow's next deadline: deliver a
	// Tick at or soon after it if no other event comes first.
	WakeAt time.Time
	// Settle: the finished call has writes due now that the flow leaves
	// out of the request that ended it (the ticket note: a ticket system is
	// slower than the store, and a caller may be waiting for "goodbye").
	// Deliver a Tick as soon as this request is answered.
	Settle bool
}
