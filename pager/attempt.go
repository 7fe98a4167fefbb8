package pager

import (
	"errors"
	"fmt"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// Kind is what an attempt asks of the outside world.
type Kind string

const (
	// KindVoice is a page call: press 1 to acknowledge.
	KindVoice Kind = "voice"
	// KindSMS is a text message (a page, or a notice about one).
	KindSMS Kind = "sms"
	// KindNote is a note added to the page's ticket.
	KindNote Kind = "note"
)

// Purpose says why an attempt is made.
type Purpose string

const (
	PurposePage       Purpose = "page"        // asks the engineer to acknowledge
	PurposeNotice     Purpose = "notice"      // tells an engineer paged earlier what happened since
	PurposeLastResort Purpose = "last-resort" // tells the last-resort contact that nobody is on call
	PurposeNote       Purpose = "note"        // the ticket's note
	// PurposeLeg is an engineer leg of a live call: a voice attempt that
	// belongs to the call (CallID), not to a page (legs.go).
	PurposeLeg Purpose = "leg"
)

// AttemptStatus is where an attempt is in the outbox:
//
//	intended → sending (leased) → sent (provider id known) → done
//	                 ↘ in doubt (the lease ran out before the outcome of the
//	                   request was stored: looked for at the provider before
//	                   any resend)
type AttemptStatus string

const (
	Intended AttemptStatus = "intended" // written, not yet claimed (or waiting for a retry)
	Sending  AttemptStatus = "sending"  // claimed under a lease; the request may be under way
	Sent     AttemptStatus = "sent"     // the provider accepted it; its id is known
	InDoubt  AttemptStatus = "in-doubt" // a claim's lease ran out: the request may or may not have been made
	Done     AttemptStatus = "done"     // ended; Outcome says how
)

// Outcome is how an attempt ended.
type Outcome string

const (
	Acked       Outcome = "acknowledged"    // voice: 1 was pressed
	NoAnswer    Outcome = "no-answer"       // voice: rang out
	Busy        Outcome = "busy"            // voice
	NoKey       Outcome = "answered-no-key" // voice: answered, no 1 after the repeats
	Machine     Outcome = "machine"         // voice: an answering machine (for the log; the key decides)
	Delivered   Outcome = "delivered"       // sms: the carrier delivered it
	Accepted    Outcome = "accepted"        // sms or note: accepted, no delivery report expected
	Undelivered Outcome = "undelivered"     // sms: the carrier could not deliver it
	Failed      Outcome = "failed"          // the provider failed it, or retries ran out
	Rejected    Outcome = "rejected"        // the provider refused it for good (an error code no retry fixes)
	OptedOut    Outcome = "opted-out"       // sms: the number replied STOP
	Canceled    Outcome = "canceled"        // not needed any more: the page was closed first
	Folded      Outcome = "folded"          // voice: announced by another page's call to the same engineer (a storm)
	Completed   Outcome = "completed"       // an engineer leg: its call was answered and is over
)

// Reached reports whether the outcome put the page in front of the
// engineer (they may still not acknowledge).
func (o Outcome) Reached() bool {
	return o == Acked || o == NoKey || o == Delivered || o == Accepted
}

// Attempt is one request to the outside world on a page's behalf, as the
// outbox keeps it: written (intended) in the same transaction as the page
// change that wants it, then carried out off the webhook path.
type Attempt struct {
	ID     int64 `json:"id"`
	PageID int64 `json:"page_id"` // 0 for an engineer leg
	// CallID is the live call an engineer leg belongs to ("" for a page's
	// attempt).
	CallID  string  `json:"call_id,omitempty"`
	Key     string  `json:"key"` // unique within the page (the call, for a leg: its leg id)
	Kind    Kind    `json:"kind"`
	Purpose Purpose `json:"purpose"`
	// Rung is the page's rung the attempt belongs to (-1 for none).
	Rung       int             `json:"rung"`
	EngineerID int64           `json:"engineer_id,omitempty"`
	To         string          `json:"to"` // E.164 for voice and sms; the ticket id for a note
	Language   oncall.Language `json:"language,omitempty"`
	Body       string          `json:"body,omitempty"` // the text of an sms or a note
	// From and RingFor are an engineer leg's caller id (the line's
	// number) and how long it rings.
	From       string        `json:"from,omitempty"`
	RingFor    time.Duration `json:"ring_for,omitempty"`
	Status     AttemptStatus `json:"status"`
	ProviderID string        `json:"provider_id,omitempty"`
	Outcome    Outcome       `json:"outcome,omitempty"`
	// Detail says more about the outcome: the provider's error code and
	// message, for admins.
	Detail    string    `json:"detail,omitempty"`
	Tries     int       `json:"tries"`
	NotBefore time.Time `json:"not_before,omitzero"` // a retry waits until then
	// ClaimedAt is when the current or last claim was made (the database's
	// clock): a request in doubt was made after it.
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Open reports whether the attempt has not ended.
func (a Attempt) Open() bool { return a.Status != Done }

// SendError classifies a failed request to a provider, so that the engine
// knows whether to retry, to look for the request at the provider first,
// or to give up on the channel.
type SendError struct {
	// Class is Retry, Doubt or Permanent.
	Class ErrorClass
	// Code is the provider's error code (Twilio's 21610, 30034, …), 0 if
	// none.
	Code int
	// Outcome, for Permanent, is how the attempt ends (Rejected, OptedOut).
	Outcome Outcome
	// RetryAfter is the provider's asked-for pause (HTTP 429), 0 if none.
	RetryAfter time.Duration
	Err        error
}

// ErrorClass is what a failed request means for the attempt.
type ErrorClass int

const (
	// Retry: the provider certainly did not act (HTTP 429, a refused
	// connection); send again after a pause.
	Retry ErrorClass = iota
	// Doubt: the provider may have acted (a timeout, a 5xx after the
	// request was sent): look for it there before sending again.
	Doubt
	// Permanent: no retry can succeed (an invalid or opted-out number, a
	// missing geographic permission); move on to the next channel.
	Permanent
)

func (e *SendError) Error() string {
	kind := map[ErrorClass]string{Retry: "temporary", Doubt: "in doubt", Permanent: "permanent"}[e.Class]
	if e.Code != 0 {
		return fmt.Sprintf("%s failure (code %d): %v", kind, e.Code, e.Err)
	}
	return fmt.Sprintf("%s failure: %v", kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// ClassOf returns the class of err: that of a *SendError in its chain,
// Doubt for anything else (an unknown failure may have reached the
// provider).
func ClassOf(err error) ErrorClass {
	var se *SendError
	if errors.As(err, &se) {
		return se.Class
	}
	return Doubt
}
