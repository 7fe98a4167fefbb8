package ivr

import (
	"slices"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// Phase is where a call is in the flow.
type Phase string

const (
	PhaseLanguage  Phase = "language"  // the one-key language offer
	PhaseTicket    Phase = "ticket"    // asking for the ticket id
	PhasePriority  Phase = "priority"  // the priority menu
	PhaseRouting   Phase = "routing"   // on hold, engineers rung one by one
	PhaseConnected Phase = "connected" // talking with an engineer
	PhaseVoicemail Phase = "voicemail" // recording a message
	// PhaseVoicemailWait: the caller hung up during the voicemail step; the
	// flow waits for RecordingDone (or RecordingGrace) to page.
	PhaseVoicemailWait Phase = "voicemail-wait"
	PhaseDone          Phase = "done" // finished, saved and noted
)

// State is everything the flow knows about one call. It is a plain value
// that round-trips through JSON, so that a stateless driver can keep it
// between events; Flow.Handle takes the last one returned and gives the next.
type State struct {
	// Seq is incremented on every accepted event.
	Seq int `json:"seq"`
	// CallerSeq is the Seq at which the caller's current step was issued.
	// A driver puts it in the action URLs of that step: a Digits or
	// RecordingDone coming with another value is a replay or stale.
	CallerSeq int             `json:"caller_seq"`
	CallID    string          `json:"call_id"`
	Line      string          `json:"line"`             // E.164 of the line answered
	Caller    string          `json:"caller,omitempty"` // as the provider reported it
	Lang      oncall.Language `json:"lang"`
	LangFrom  string          `json:"lang_from"` // "line", "remembered" or "chosen"
	Phase     Phase           `json:"phase"`
	StartedAt time.Time       `json:"started_at"`
	// Tries counts failed entries in the ticket or priority phase.
	Tries int `json:"tries,omitempty"`

	TicketID string `json:"ticket,omitempty"`
	// TicketFrom is "caller" (keyed in and found), "unverified" (keyed in
	// while the ticket system did not answer) or "opened" (by the flow).
	TicketFrom string `json:"ticket_from,omitempty"`
	// ClosedTicket is a closed ticket the caller keyed; the ticket opened
	// for the call follows it.
	ClosedTicket string          `json:"closed_ticket,omitempty"`
	TicketsDown  bool            `json:"tickets_down,omitempty"` // the ticket system failed during this call
	Priority     oncall.Priority `json:"priority,omitempty"`
	Level        oncall.Level    `json:"level,omitempty"`

	RoutedAt   time.Time `json:"routed_at,omitzero"`   // routing started
	ProgressAt time.Time `json:"progress_at,omitzero"` // last message to the caller on hold
	Rung       int       `json:"rung,omitempty"`       // the next rung of the ring plan to try
	Legs       int       `json:"legs,omitempty"`       // legs placed so far
	Tried      []int64   `json:"tried,omitempty"`      // engineers rung, in order
	// Leg is the engineer leg being rung, screened or talked to; zero when
	// none is.
	Leg Leg `json:"leg,omitzero"`

	RecordAt time.Time `json:"record_at,omitzero"`
	// GoneAt is when the caller hung up during the voicemail step: what
	// was recorded, if anything, is complete then.
	GoneAt           time.Time `json:"gone_at,omitzero"`
	VoicemailURL     string    `json:"voicemail_url,omitempty"`
	VoicemailSeconds int       `json:"voicemail_seconds,omitempty"`
	Paged            bool      `json:"paged,omitempty"`
	Outcome          Outcome   `json:"outcome,omitempty"`
	EndedAt          time.Time `json:"ended_at,omitzero"`
	// Owed are the writes at the end of the call that failed (the store or
	// the ticket system was down) and are retried by a Tick on the finished
	// call: see Flow.Handle.
	Owed Owed `json:"owed,omitzero"`

	// Steps is the log of the call: one entry per accepted event that did
	// something (a Tick that changes nothing is counted in Seq only).
	Steps []Entry `json:"steps"`
}

// Owed lists what a finished call still has to write, and when to try
// again: after 1, 2, 4 … minutes, at most every 30.
type Owed struct {
	Page   bool `json:"page,omitempty"`   // the page request
	Record bool `json:"record,omitempty"` // the call record (again, once the page went through)
	Note   bool `json:"note,omitempty"`   // the note on the ticket
	Tries  int  `json:"tries,omitempty"`  // rounds that failed so far
	// NoteRisks counts the note's failed tries that may have reached the
	// ticket system (see noteMaxTries).
	NoteRisks int       `json:"note_risks,omitempty"`
	NextAt    time.Time `json:"next_at,omitzero"` // the next round, not before
}

// Any reports whether anything is owed.
func (o Owed) Any() bool { return o.Page || o.Record || o.Note }

// Due reports whether something is owed and its next try may be made at.
func (o Owed) Due(at time.Time) bool { return o.Any() && !at.Before(o.NextAt) }

// failed records a round that left something owed, at at.
func (o *Owed) failed(at time.Time) {
	o.Tries++
	o.NextAt = at.Add(min(time.Minute<<(o.Tries-1), 30*time.Minute))
}

// Leg is an engineer leg: an outbound call to the on-call engineer.
type Leg struct {
	ID         string          `json:"id"`
	EngineerID int64           `json:"engineer_id"`
	Name       string          `json:"name,omitempty"`
	Phone      string          `json:"phone"`
	Lang       oncall.Language `json:"lang"` // the screening's language
	Level      oncall.Level    `json:"level"`
	Layer      oncall.Layer    `json:"layer"`
	RangAt     time.Time       `json:"rang_at"`
	AnsweredAt time.Time       `json:"answered_at,omitzero"`
	Screens    int             `json:"screens,omitempty"` // screening prompts played
	AcceptedAt time.Time       `json:"accepted_at,omitzero"`
	BridgedAt  time.Time       `json:"bridged_at,omitzero"` // talking with the caller since
}

func (l Leg) ringing() bool  { return l.ID != "" && l.AnsweredAt.IsZero() }
func (l Leg) accepted() bool { return !l.AcceptedAt.IsZero() }
func (l Leg) bridged() bool  { return !l.BridgedAt.IsZero() }

// Entry is one line of a call's step log.
type Entry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail,omitempty"`
}

// clone returns st with its own slices, so that the caller's copy is never
// written through.
func (st State) clone() State {
	st.Tried = slices.Clone(st.Tried)
	st.Steps = slices.Clone(st.Steps)
	return st
}
