package admin

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets"
)

// keyTicket is the log key of a ticket id.
const keyTicket = "ticket"

type ticketInput struct {
	Subject     string `json:"subject"`
	Priority    string `json:"priority"`
	Level       string `json:"level"`        // default L1
	CallerPhone string `json:"caller_phone"` // optional, international form
	Language    string `json:"language"`     // optional: ru or en
}

// ticket converts in; the store normalises the rest, naming the field.
func (in ticketInput) ticket() (tickets.Ticket, error) {
	t := tickets.Ticket{Subject: in.Subject, Priority: oncall.Priority(in.Priority),
		CallerPhone: in.CallerPhone, Language: oncall.Language(in.Language)}
	if in.Level != "" {
		var err error
		if t.Level, err = parseLevel("level", in.Level); err != nil {
			return t, err
		}
	}
	return t, nil
}

type noteInput struct {
	Text   string `json:"text"`
	Author string `json:"author"` // default: the token's name
}

// pathTicketID reads the {id} path variable as a ticket id.
func pathTicketID(r *http.Request) (string, error) {
	id := mux.Vars(r)["id"]
	if !tickets.ValidID(id) {
		return "", errs.InvalidField("id", "%q is not a ticket id (digits)", id)
	}
	return id, nil
}

// listTickets lists the built-in tickets without their notes, newest
// first: ?before=<ticket id>, ?limit= (at most 1000, default 100).
func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) error {
	f := tickets.Filter{BeforeID: strings.TrimSpace(r.URL.Query().Get("before"))}
	var err error
	if f.BeforeID != "" && !tickets.ValidID(f.BeforeID) {
		err = errs.InvalidField("before", "%q is not a ticket id (digits)", f.BeforeID)
	}
	if err == nil {
		f.Limit, err = queryLimit(r)
	}
	var list []tickets.Ticket
	if err == nil {
		list, err = s.tickets.Tickets(r.Context(), f)
	}
	if err != nil {
		return err
	}
	if list == nil {
		list = []tickets.Ticket{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": list})
	return nil
}

// createTicket opens a built-in ticket (admin only).
func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) error {
	var in ticketInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := in.ticket()
	if err == nil {
		t, err = s.tickets.CreateTicket(r.Context(), actor(r), t)
	}
	if err != nil {
		return err
	}
	s.logChange(r, "ticket created", zap.String(keyTicket, t.ID), zap.String(keyPriority, string(t.Priority)))
	w.Header().Set("Location", "/api/v1/tickets/"+t.ID)
	writeJSON(w, http.StatusCreated, t)
	return nil
}

// getTicket shows one ticket with its notes.
func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTicketID(r)
	var t tickets.Ticket
	if err == nil {
		t, err = s.tickets.Ticket(r.Context(), id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// addTicketNote appends a note, visible to the client, to a ticket (admin
// only).
func (s *Server) addTicketNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathTicketID(r)
	if err != nil {
		return err
	}
	var in noteInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Author) == "" {
		in.Author = tokenOf(r).Name
	}
	n, err := s.tickets.AddNote(r.Context(), actor(r), id, tickets.Note{Author: in.Author, Text: in.Text})
	if err != nil {
		return err
	}
	s.logChange(r, "ticket note added", zap.String(keyTicket, id))
	w.Header().Set("Location", "/api/v1/tickets/"+id)
	writeJSON(w, http.StatusCreated, n)
	return nil
}
