package demo

import (
	"context"
	"fmt"

	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets"
)

// The support lines, as the demo tickets name them.
const (
	moscowLine     = "+74996383867"
	washingtonLine = "+12025952118"
)

// Ticket is one demo ticket. Into an empty store they are numbered from
// tickets.FirstID in the order of Tickets.
type Ticket struct {
	Subject  string
	Priority oncall.Priority
	Level    oncall.Level
	City     string // the line the client calls: Moscow or Washington
	Phone    string // the client's, from +1 202 555 01xx, reserved for fiction
	// Escalation, for a ticket above L1: who escalated it and why, added
	// as a note.
	EscalatedBy, Escalation string
}

// Tickets are the demo tickets: two of each priority, one critical ticket
// escalated to L3 and one urgent ticket to L2, so that a demo call can
// reach every level. Clients on the Moscow line speak Russian, on the
// Washington line English.
var Tickets = []Ticket{
	{Subject: "Mail server rejects all incoming messages", Priority: oncall.Critical, Level: oncall.L1,
		City: "Washington", Phone: "+12025550151"},
	{Subject: "Primary database cluster lost its leader; writes fail", Priority: oncall.Critical, Level: oncall.L3,
		City: "Moscow", Phone: "+12025550152", EscalatedBy: "Anna Smirnova",
		Escalation: "Escalated to L3: automatic failover did not complete and the replicas disagree."},
	{Subject: "VPN drops every few minutes for the whole office", Priority: oncall.Urgent, Level: oncall.L1,
		City: "Washington", Phone: "+12025550153"},
	{Subject: "Nightly backups have failed three nights in a row", Priority: oncall.Urgent, Level: oncall.L2,
		City: "Moscow", Phone: "+12025550154", EscalatedBy: "Emily Carter",
		Escalation: "Escalated to L2: the backup agent crashes before it logs anything; the usual recipe did not help."},
	{Subject: "Shared printer on the third floor prints blank pages", Priority: oncall.Normal, Level: oncall.L1,
		City: "Washington", Phone: "+12025550155"},
	{Subject: "Calendar invitations arrive an hour late", Priority: oncall.Normal, Level: oncall.L1,
		City: "Moscow", Phone: "+12025550156"},
	{Subject: "How do I add a new user to the customer portal?", Priority: oncall.Low, Level: oncall.L1,
		City: "Washington", Phone: "+12025550157"},
	{Subject: "Which password manager do you recommend for a team of ten?", Priority: oncall.Low, Level: oncall.L1,
		City: "Moscow", Phone: "+12025550158"},
}

// SeedTickets adds the demo tickets to store unless it already has
// tickets, in which case it does nothing and reports seeded=false. Each
// escalated ticket gets a note from the engineer who escalated it.
func SeedTickets(ctx context.Context, store tickets.Store) (seeded bool, err error) {
	existing, err := store.Tickets(ctx, tickets.Filter{Limit: 1})
	if err != nil {
		return false, err
	}
	if len(existing) > 0 {
		return false, nil
	}
	for _, d := range Tickets {
		line, lang := washingtonLine, oncall.English
		if d.City == "Moscow" {
			line, lang = moscowLine, oncall.Russian
		}
		t, err := store.CreateTicket(ctx, Actor, tickets.Ticket{Subject: d.Subject, Priority: d.Priority,
			Level: d.Level, CallerPhone: d.Phone, Language: lang, Line: line})
		if err != nil {
			return false, fmt.Errorf("seed ticket %q: %w", d.Subject, err)
		}
		if d.Escalation == "" {
			continue
		}
		if _, err := store.AddNote(ctx, Actor, t.ID, tickets.Note{Author: d.EscalatedBy, Text: d.Escalation}); err != nil {
			return false, fmt.Errorf("seed note on ticket %s: %w", t.ID, err)
		}
	}
	return true, nil
}
