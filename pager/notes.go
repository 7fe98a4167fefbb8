package pager

import (
	"context"

	"github.com/supportdesk/ivr/errs"
)

// Notes is the ticket system, as the pager writes to it.
type Notes interface {
	// AddNote appends a note, visible to the client, to ticket id;
	// errs.NotFound or errs.Invalid when the ticket system refuses it.
	AddNote(ctx context.Context, id string, note string) error
}

// NoteChannel carries out KindNote attempts: the note an acknowledged
// page leaves on its ticket.
type NoteChannel struct{ Tickets Notes }

// Send adds the note. A refused note is permanent; any other failure is
// retried, so a ticket system that failed after storing the note may get
// it twice (the ticket systems take no idempotency key).
func (c NoteChannel) Send(ctx context.Context, a Attempt) (string, error) {
	err := c.Tickets.AddNote(ctx, a.To, a.Body)
	switch {
	case err == nil:
		return "", nil
	case errs.Is(err, errs.NotFound), errs.Is(err, errs.Invalid):
		return "", &SendError{Class: Permanent, Outcome: Rejected, Err: err}
	}
	return "", &SendError{Class: Retry, Err: err}
}

// Find cannot tell whether a note in doubt was stored: it says no, and the
// note is added again.
func (NoteChannel) Find(context.Context, Attempt) (string, error) { return "", nil }
