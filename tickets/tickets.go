// Package tickets owns the built-in ticket system: tickets kept in the
// service's own database, for teams without a ticket system of their own and
// for demos, and Builtin, which offers them to the call flow as ivr.Tickets.
// It is a domain package: it imports no transport, provider or database
// package (stores and the admin API depend on it, never the other way round).
package tickets

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// FirstID is the id of the first ticket; the store numbers the next ones
// in order. Starting at four digits keeps every id within the lengths the
// call flow accepts by default (3 to 10 digits).
const FirstID = 1001

// maxIDDigits keeps an id within an int64.
const maxIDDigits = 18

// Limits on the text of a ticket, in characters.
const (
	MaxSubject = 200
	MaxAuthor  = 100
	MaxNote    = 8000
)

// Ticket is a ticket of the built-in ticket system.
type Ticket struct {
	ID          string          `json:"id"` // digits, assigned by the store
	Subject     string          `json:"subject"`
	Priority    oncall.Priority `json:"priority"`
	Level       oncall.Level    `json:"level"`                  // the level the ticket is escalated to
	CallerPhone string          `json:"caller_phone,omitempty"` // E.164, or "" when unknown
	Language    oncall.Language `json:"language,omitempty"`     // the client's, or "" when unknown
	Line        string          `json:"line,omitempty"`         // E.164 of the line it was opened from, if by phone
	CreatedAt   time.Time       `json:"created_at"`
	// Notes are oldest first. Lists of tickets leave them out (nil);
	// a single ticket has them, [] when there are none.
	Notes []Note `json:"notes,omitzero"`
}

// Note is a note on a ticket, visible to the client.
type Note struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"` // who wrote it: a person, or "IVR" for the phone line
	Text   string    `json:"text"`   // may span several lines
}

// Filter selects a page of tickets, newest first.
type Filter struct {
	BeforeID string // "": from the newest; else only tickets with a lower id
	Limit    int    // 0: a default of 100
}

// Store keeps the built-in tickets. Writes are audited for actor in the
// same transaction.
//
// Errors are *errs.Error where the cause is the caller's: NotFound for an
// unknown ticket (an id that is not in the form ValidID accepts is unknown
// too), Invalid naming the field for a ticket or note that does not
// normalise. Anything else means the store failed.
type Store interface {
	// CreateTicket normalises t and stores it as a new ticket (its ID,
	// CreatedAt and Notes are ignored), numbered next from FirstID on, and
	// returns it with ID, CreatedAt and an empty Notes set.
	CreateTicket(ctx context.Context, actor string, t Ticket) (Ticket, error)
	// Ticket returns ticket id with its notes; NotFound if there is none.
	Ticket(ctx context.Context, id string) (Ticket, error)
	// Tickets returns tickets without their notes, newest first.
	Tickets(ctx context.Context, f Filter) ([]Ticket, error)
	// AddNote normalises n and appends it to ticket id, At set to the
	// store's clock, and returns it; NotFound if there is no such ticket.
	AddNote(ctx context.Context, actor, id string, n Note) (Note, error)
}

// ValidID reports whether id has the form of a ticket id: digits, without a
// leading zero, short enough for the store.
func ValidID(id string) bool {
	if id == "" || len(id) > maxIDDigits || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// ParseID returns the number of ticket id, false if id is not in the form
// ValidID accepts.
func ParseID(id string) (int64, bool) {
	if !ValidID(id) {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil
}

// FormatID is the id of ticket number n.
func FormatID(n int64) string { return strconv.FormatInt(n, 10) }

// Normalize validates t and returns it with its text trimmed, the priority
// and language in lower case, the level L1 when unset and phone numbers in
// E.164. ID and CreatedAt are left as they are. Errors are *errs.Error
// naming the field (notes[i].text for a note).
func (t Ticket) Normalize() (Ticket, error) {
	var err error
	if t.Subject, err = oneLine("subject", t.Subject, MaxSubject); err != nil {
		return t, err
	}
	if strings.TrimSpace(string(t.Priority)) == "" {
		return t, errs.InvalidField("priority", "is required (critical, urgent, normal or low)")
	}
	if t.Priority, err = oncall.ParsePriority(string(t.Priority)); err != nil {
		return t, err // names priority
	}
	switch {
	case t.Level == 0:
		t.Level = oncall.L1
	case !t.Level.Valid():
		return t, errs.InvalidField("level", "%d is not a support level (L1, L2 or L3)", int(t.Level))
	}
	if t.CallerPhone, err = optionalPhone("caller_phone", t.CallerPhone); err != nil {
		return t, err
	}
	if t.Line, err = optionalPhone("line", t.Line); err != nil {
		return t, err
	}
	t.Language = oncall.Language(strings.ToLower(strings.TrimSpace(string(t.Language))))
	if t.Language != "" && !t.Language.Valid() {
		return t, errs.InvalidField("language", "%q is not a language (ru or en)", t.Language)
	}
	if t.Notes != nil {
		notes := make([]Note, len(t.Notes))
		for i, n := range t.Notes {
			if notes[i], err = n.Normalize(); err != nil {
				return t, errs.Prefix("notes["+strconv.Itoa(i)+"]", err)
			}
		}
		t.Notes = notes
	}
	return t, nil
}

// Normalize validates n and returns it with its author and text trimmed and
// line breaks as \n. At is left as it is. Errors are *errs.Error naming the
// field (author or text).
func (n Note) Normalize() (Note, error) {
	var err error
	if n.Author, err = oneLine("author", n.Author, MaxAuthor); err != nil {
		return n, err
	}
	text := strings.TrimSpace(strings.ReplaceAll(n.Text, "\r\n", "\n"))
	switch {
	case text == "":
		return n, errs.InvalidField("text", "is required")
	case !utf8.ValidString(text):
		return n, errs.InvalidField("text", "is not valid UTF-8")
	case utf8.RuneCountInString(text) > MaxNote:
		return n, errs.InvalidField("text", "is longer than %d characters", MaxNote)
	case strings.ContainsFunc(text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		return n, errs.InvalidField("text", "contains control characters")
	}
	n.Text = text
	return n, nil
}

// oneLine trims s and checks that it is present, one line of valid UTF-8
// and at most max characters long.
func oneLine(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return s, errs.InvalidField(field, "is required")
	case !utf8.ValidString(s):
		return s, errs.InvalidField(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		return s, errs.InvalidField(field, "is longer than %d characters", max)
	case strings.ContainsFunc(s, unicode.IsControl):
		return s, errs.InvalidField(field, "must be one line without control characters")
	}
	return s, nil
}

// optionalPhone returns s in E.164, or "" for a blank s.
func optionalPhone(field, s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	p, err := oncall.NormalizePhone(s)
	if err != nil {
		return "", errs.InvalidField(field, "%s", err)
	}
	return p, nil
}
