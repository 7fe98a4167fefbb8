package ivr

import (
	"context"
	"errors"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// The dependencies of the flow, as small interfaces the flow owns. Each call
// gets a context with a deadline (Config.TicketLookupBudget for Tickets,
// Config.LookupBudget for Preferences and Roster); Pages and CallLog get the
// driver's context, since what they write must not be cut short. The flow
// handles every failure itself: it logs it and carries on.

// Ticket is a ticket of the company's ticket system.
type Ticket struct {
	ID       string
	Subject  string
	Priority oncall.Priority
	Level    oncall.Level // the level the ticket is escalated to; 0 means L1
	// Closed: the ticket system counts the ticket as done (resolved,
	// rejected…); the flow tells the caller and opens a new one.
	Closed bool
}

// NewTicket is a ticket the flow opens for a caller who has none.
type NewTicket struct {
	CallerPhone string // E.164, or "" when the caller id was withheld
	Language    oncall.Language
	Priority    oncall.Priority
	Line        string // E.164 of the line called
	// Follows is the closed ticket the caller keyed before this one was
	// opened, "" if none: a ticket system may link the two.
	Follows string
}

// ErrNotDelivered marks a ticket system's error after which the request
// certainly did not reach it (no connection could be made): a note that
// failed so is tried again until it goes through, with no risk of a
// duplicate.
var ErrNotDelivered = errors.New("the request did not reach the ticket system")

// Tickets is the company's ticket system.
type Tickets interface {
	// Ticket returns the ticket with the given id (digits as keyed);
	// errs.NotFound if there is none. Any other error means the ticket
	// system is unavailable.
	Ticket(ctx context.Context, id string) (Ticket, error)
	// OpenTicket opens a ticket and returns it with its id.
	OpenTicket(ctx context.Context, t NewTicket) (Ticket, error)
	// AddNote appends a note, visible to the client, to ticket id. A note
	// that failed is tried again, five times at most when it may have
	// reached the ticket system, so one that failed after taking it may get
	// it twice; without limit when the error wraps ErrNotDelivered.
	// errs.NotFound or errs.Invalid means it is refused and is not tried
	// again.
	AddNote(ctx context.Context, id string, note string) error
}

// Roster says who is on call.
type Roster interface {
	// OnCall returns the engineer on call at level and layer at time at;
	// false when nobody is.
	OnCall(ctx context.Context, level oncall.Level, layer oncall.Layer, at time.Time) (oncall.Engineer, bool, error)
}

// OtherCalls knows which engineers are taken by the service's other calls.
type OtherCalls interface {
	// Busy reports whether engineer engineerID's phone has another call of
	// the service in flight now: ringing, screening or talking on another
	// caller's leg, or a page call (serve: pager.Engine.Busy). The ring plan
	// skips such an engineer; an error rings them all the same.
	Busy(ctx context.Context, engineerID int64) (bool, error)
}

// PageRequest asks the pager to page the on-call engineer of Level about a
// call nobody took.
type PageRequest struct {
	CallID           string
	TicketID         string // "" when the call has no ticket
	Priority         oncall.Priority
	Level            oncall.Level
	VoicemailURL     string // "" when no message was recorded
	VoicemailSeconds int
	Line             string          // E.164 of the line called
	Caller           string          // E.164 to call back, "" when withheld
	Language         oncall.Language // the caller's, for notes the client reads
	RequestedAt      time.Time
}

// Pages raises pages.
type Pages interface {
	// RequestPage durably records a page to be sent. The flow calls it
	// once per call, and again only after a failure (State.Owed); a second
	// request for the same call must not page twice.
	RequestPage(ctx context.Context, p PageRequest) error
}

// Preferences remembers each caller's language.
type Preferences interface {
	// Language returns the language caller chose on an earlier call;
	// false if none is remembered.
	Language(ctx context.Context, caller string) (oncall.Language, bool, error)
	// SetLanguage remembers the language caller chose.
	SetLanguage(ctx context.Context, caller string, l oncall.Language) error
}

// Outcome is how a call ended.
type Outcome string

const (
	// OutcomeConnected: the caller talked with an engineer.
	OutcomeConnected Outcome = "connected"
	// OutcomeVoicemail: nobody was free and the caller reached voicemail
	// (VoicemailURL says whether a message was left); a page was requested.
	OutcomeVoicemail Outcome = "voicemail"
	// OutcomeAbandoned: the caller hung up while waiting for an engineer;
	// a page was requested.
	OutcomeAbandoned Outcome = "abandoned"
	// OutcomeHungUp: the caller hung up in the menus, before asking for an
	// engineer.
	OutcomeHungUp Outcome = "hung-up"
)

// CallRecord is a finished call, everything the flow learnt about it.
type CallRecord struct {
	CallID   string          `json:"call_id"`
	Line     string          `json:"line"`   // E.164 of the line
	Caller   string          `json:"caller"` // as reported; may be "" or "anonymous"
	Language oncall.Language `json:"language"`
	// LanguageFrom is "line" (the line's default), "remembered" or "chosen".
	LanguageFrom string `json:"language_from"`
	TicketID     string `json:"ticket_id,omitempty"`
	// TicketFrom is "caller" (keyed in and found), "unverified" (keyed
	// in while the ticket system did not answer) or "opened" by the flow.
	TicketFrom string `json:"ticket_from,omitempty"`
	// ClosedTicket is the closed ticket the caller keyed, when the flow
	// opened TicketID in its place.
	ClosedTicket string          `json:"closed_ticket,omitempty"`
	Priority     oncall.Priority `json:"priority,omitempty"`
	Level        oncall.Level    `json:"level,omitempty"`
	StartedAt    time.Time       `json:"started_at"`
	EndedAt      time.Time       `json:"ended_at"`
	Duration     time.Duration   `json:"duration"`
	// Who answered, when Outcome is connected.
	EngineerID    int64     `json:"engineer_id,omitempty"`
	EngineerName  string    `json:"engineer_name,omitempty"`
	EngineerPhone string    `json:"engineer_phone,omitempty"`
	AnsweredAt    time.Time `json:"answered_at,omitzero"`
	// Rang lists the engineers rung, in order.
	Rang             []int64 `json:"rang,omitempty"`
	VoicemailURL     string  `json:"voicemail_url,omitempty"`
	VoicemailSeconds int     `json:"voicemail_seconds,omitempty"`
	Paged            bool    `json:"paged"`
	Outcome          Outcome `json:"outcome"`
	Steps            []Entry `json:"steps"`
	// Note is the summary added to the ticket (in the caller's language).
	Note string `json:"note"`
}

// CallLog keeps finished calls.
type CallLog interface {
	// SaveCall stores a finished call; saving one again replaces its
	// record. The flow calls it when the call ends, and again when a
	// failed save is retried or the record changes afterwards (a page that
	// went through on a retry).
	SaveCall(ctx context.Context, r CallRecord) error
}
