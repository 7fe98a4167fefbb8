package store

import (
	"context"
	"fmt"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets"
)

var _ tickets.Store = (*DB)(nil)

const ticketColumns = "id, subject, priority, level, caller_phone, language, line, created_at"

func scanTicket(s scanner) (tickets.Ticket, error) {
	var (
		t         tickets.Ticket
		id        int64
		level     int
		createdAt int64
	)
	if err := s.Scan(&id, &t.Subject, &t.Priority, &level, &t.CallerPhone, &t.Language, &t.Line, &createdAt); err != nil {
		return t, err
	}
	t.ID = tickets.FormatID(id)
	t.Level = oncall.Level(level)
	t.CreatedAt = fromMicros(createdAt)
	return t, nil
}

// noSuchTicket is the NotFound error for ticket id.
func noSuchTicket(id string) error {
	return errs.E(errs.NotFound, "", "ticket %s does not exist", id)
}

// CreateTicket normalises t and stores it as a new ticket numbered next
// (from tickets.FirstID on), with an audit entry for actor; it returns the
// ticket with ID, CreatedAt and empty Notes set. Invalid, naming the field,
// if t does not normalise.
func (db *DB) CreateTicket(ctx context.Context, actor string, t tickets.Ticket) (tickets.Ticket, error) {
	t, err := t.Normalize()
	if err != nil {
		return tickets.Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	err = db.update(ctx, func(tx *tx) error {
		t.CreatedAt, t.Notes = tx.now, []tickets.Note{}
		id, err := tx.insert(ctx, `INSERT INTO tickets (subject, priority, level, caller_phone, language, line, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.Subject, string(t.Priority), int(t.Level), t.CallerPhone,
			string(t.Language), t.Line, micros(t.CreatedAt))
		if err != nil {
			return err
		}
		t.ID = tickets.FormatID(id)
		return tx.audit(ctx, actor, audit.Create, audit.Ticket, t.ID, nil, t)
	})
	if err != nil {
		return tickets.Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	return t, nil
}

// Ticket returns ticket id with its notes, oldest first (an empty, non-nil
// slice when it has none); NotFound if there is no such ticket or id is not
// a ticket id's form.
func (db *DB) Ticket(ctx context.Context, id string) (tickets.Ticket, error) {
	n, ok := tickets.ParseID(id)
	if !ok {
		return tickets.Ticket{}, noSuchTicket(id)
	}
	r := db.reads()
	t, err := scanTicket(r.queryRow(ctx, "SELECT "+ticketColumns+" FROM tickets WHERE id = ?", n))
	if isNoRows(err) {
		return tickets.Ticket{}, noSuchTicket(id)
	}
	if err != nil {
		return tickets.Ticket{}, fmt.Errorf("get ticket %s: %w", id, err)
	}
	// Notes are only ever appended, so reading them after the ticket, on
	// another snapshot, shows at least what the ticket had.
	rows, err := r.query(ctx, "SELECT at, author, text FROM ticket_notes WHERE ticket_id = ? ORDER BY id", n)
	if err != nil {
		return tickets.Ticket{}, fmt.Errorf("get notes of ticket %s: %w", id, err)
	}
	defer rows.Close()
	t.Notes = []tickets.Note{}
	for rows.Next() {
		var (
			note tickets.Note
			at   int64
		)
		if err := rows.Scan(&at, &note.Author, &note.Text); err != nil {
			return tickets.Ticket{}, fmt.Errorf("get notes of ticket %s: %w", id, err)
		}
		note.At = fromMicros(at)
		t.Notes = append(t.Notes, note)
	}
	if err := rows.Err(); err != nil {
		return tickets.Ticket{}, fmt.Errorf("get notes of ticket %s: %w", id, err)
	}
	return t, nil
}

// Tickets returns tickets without their notes, newest first: at most
// f.Limit (100 if 0, never more than 1000), with ids below f.BeforeID if it
// is set. Invalid (before) if f.BeforeID is not a ticket id.
func (db *DB) Tickets(ctx context.Context, f tickets.Filter) ([]tickets.Ticket, error) {
	q, args := "SELECT "+ticketColumns+" FROM tickets", []any(nil)
	if f.BeforeID != "" {
		before, ok := tickets.ParseID(f.BeforeID)
		if !ok {
			return nil, errs.InvalidField("before", "%q is not a ticket id", f.BeforeID)
		}
		q, args = q+" WHERE id < ?", append(args, before)
	}
	rows, err := db.reads().query(ctx, q+" ORDER BY id DESC LIMIT "+fmt.Sprint(listLimit(f.Limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	var out []tickets.Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("list tickets: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return out, nil
}

// noteAdded is the audit entry's after for a note.
type noteAdded struct {
	Note tickets.Note `json:"note"`
}

// AddNote normalises n and appends it to ticket id, At set to the store's
// clock, with an audit entry for actor (an update of the ticket whose after
// is the note); it returns the note. NotFound if there is no such ticket,
// Invalid naming the field if n does not normalise.
func (db *DB) AddNote(ctx context.Context, actor, id string, n tickets.Note) (tickets.Note, error) {
	num, ok := tickets.ParseID(id)
	if !ok {
		return tickets.Note{}, noSuchTicket(id)
	}
	n, err := n.Normalize()
	if err != nil {
		return tickets.Note{}, fmt.Errorf("add note to ticket %s: %w", id, err)
	}
	err = db.update(ctx, func(tx *tx) error {
		var one int
		err := tx.queryRow(ctx, "SELECT 1 FROM tickets WHERE id = ?", num).Scan(&one)
		if isNoRows(err) {
			return noSuchTicket(id)
		}
		if err != nil {
			return err
		}
		n.At = tx.now
		if _, err := tx.exec(ctx, "INSERT INTO ticket_notes (ticket_id, at, author, text) VALUES (?, ?, ?, ?)",
			num, micros(n.At), n.Author, n.Text); err != nil {
			return err
		}
		return tx.audit(ctx, actor, audit.Update, audit.Ticket, id, nil, noteAdded{n})
	})
	if err != nil {
		return tickets.Note{}, fmt.Errorf("add note to ticket %s: %w", id, err)
	}
	return n, nil
}
