package tickets

import (
	"context"
	"fmt"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// Who the phone line is, in the audit log (Actor) and on its notes
// (Author).
const (
	Actor  = "ivr"
	Author = "IVR"
)

var _ ivr.Tickets = (*Builtin)(nil)

// Builtin is the built-in ticket system as the call flow sees it. Its
// methods are safe for concurrent use.
type Builtin struct {
	store Store
}

// NewBuiltin returns the call flow's view of the tickets in store.
func NewBuiltin(store Store) *Builtin { return &Builtin{store: store} }

// Ticket returns ticket id; errs.NotFound if there is none (an id that is
// not a ticket id's form included). Any other error is the store's.
func (b *Builtin) Ticket(ctx context.Context, id string) (ivr.Ticket, error) {
	if !ValidID(id) {
		return ivr.Ticket{}, errs.E(errs.NotFound, "", "there is no ticket %q", id)
	}
	t, err := b.store.Ticket(ctx, id)
	if err != nil {
		return ivr.Ticket{}, fmt.Errorf("look up ticket %s: %w", id, err)
	}
	return forFlow(t), nil
}

// OpenTicket opens a ticket for a caller who has none, at level L1, with a
// subject in the caller's language naming the number called from. A
// caller id that is not a phone number is left off the ticket rather than
// refusing it.
func (b *Builtin) OpenTicket(ctx context.Context, nt ivr.NewTicket) (ivr.Ticket, error) {
	t := Ticket{
		Subject:     CallSubject(nt),
		Priority:    nt.Priority,
		Level:       oncall.L1,
		CallerPhone: nt.CallerPhone,
		Language:    nt.Language,
		Line:        nt.Line,
	}
	if _, err := optionalPhone("caller_phone", t.CallerPhone); err != nil {
		t.CallerPhone = ""
		t.Subject = CallSubject(ivr.NewTicket{Language: nt.Language})
	}
	if !t.Language.Valid() {
		t.Language = ""
	}
	created, err := b.store.CreateTicket(ctx, Actor, t)
	if err != nil {
		return ivr.Ticket{}, fmt.Errorf("open ticket: %w", err)
	}
	return forFlow(created), nil
}

// AddNote appends note, written by the phone line, to ticket id;
// errs.NotFound if there is no such ticket, Invalid (text) for an empty or
// oversized note.
func (b *Builtin) AddNote(ctx context.Context, id string, note string) error {
	if !ValidID(id) {
		return errs.E(errs.NotFound, "", "there is no ticket %q", id)
	}
	if _, err := b.store.AddNote(ctx, Actor, id, Note{Author: Author, Text: note}); err != nil {
		return fmt.Errorf("add note to ticket %s: %w", id, err)
	}
	return nil
}

func forFlow(t Ticket) ivr.Ticket {
	return ivr.Ticket{ID: t.ID, Subject: t.Subject, Priority: t.Priority, Level: t.Level}
}

// CallSubject is the subject of a ticket opened for a caller: "Phone call
// from +12025550142" in the caller's language (English unless Russian).
func CallSubject(nt ivr.NewTicket) string {
	withheld := nt.CallerPhone == ""
	switch {
	case nt.Language == oncall.Russian && withheld:
		return "Звонок со скрытого номера"
	case nt.Language == oncall.Russian:
		return "Звонок с номера " + nt.CallerPhone
	case withheld:
		return "Phone call from a withheld number"
	}
	return "Phone call from " + nt.CallerPhone
}
