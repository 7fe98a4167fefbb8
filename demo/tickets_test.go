package demo_test

import (
	"os"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/tickets"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestSeedTickets(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		seeded, err := demo.SeedTickets(ctx, db)
		if err != nil || !seeded {
			t.Fatalf("SeedTickets = %v, %v; want seeded", seeded, err)
		}
		list, err := db.Tickets(ctx, tickets.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(demo.Tickets) {
			t.Fatalf("%d tickets, want %d", len(list), len(demo.Tickets))
		}
		priorities := map[oncall.Priority]int{}
		levels := map[oncall.Level]int{}
		for i, d := range demo.Tickets {
			got, err := db.Ticket(ctx, tickets.FormatID(int64(tickets.FirstID+i)))
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != d.Subject || got.Priority != d.Priority || got.Level != d.Level || got.CallerPhone != d.Phone {
				t.Errorf("ticket %s = %+v, want %+v", got.ID, got, d)
			}
			if !strings.HasPrefix(got.CallerPhone, "+120255501") {
				t.Errorf("ticket %s: phone %s is not from the fictional range", got.ID, got.CallerPhone)
			}
			if wantNotes := d.Escalation != ""; wantNotes != (len(got.Notes) == 1) {
				t.Errorf("ticket %s: notes %+v", got.ID, got.Notes)
			}
			priorities[got.Priority]++
			levels[got.Level]++
		}
		for _, p := range oncall.Priorities {
			if priorities[p] < 2 {
				t.Errorf("%d %s tickets, want a few", priorities[p], p)
			}
		}
		if levels[oncall.L2] == 0 || levels[oncall.L3] == 0 {
			t.Errorf("levels %v, want escalated tickets at L2 and L3", levels)
		}

		seeded, err = demo.SeedTickets(ctx, db)
		if err != nil || seeded {
			t.Fatalf("second SeedTickets = %v, %v; want nothing done", seeded, err)
		}
		if again, _ := db.Tickets(ctx, tickets.Filter{}); len(again) != len(demo.Tickets) {
			t.Fatalf("%d tickets after seeding twice", len(again))
		}
	})
}

// TestReadmeListsDemoTickets keeps the README's table in step with
// demo.Tickets.
func TestReadmeListsDemoTickets(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range demo.Tickets {
		row := "| " + tickets.FormatID(int64(tickets.FirstID+i)) + " | " + string(d.Priority) + " | " + d.Level.String() + " | " + d.Subject + " |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %s", row)
		}
	}
}
