package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/tickets"
)

func newTicket(subject string) tickets.Ticket {
	return tickets.Ticket{Subject: subject, Priority: oncall.Urgent, Level: oncall.L2,
		CallerPhone: "+12025550150", Language: oncall.English}
}

func mustTicket(t *testing.T, db *store.DB, tk tickets.Ticket) tickets.Ticket {
	t.Helper()
	tk, err := db.CreateTicket(t.Context(), actor, tk)
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	return tk
}

func TestTickets(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			first := mustTicket(t, db, tickets.Ticket{Subject: "  VPN drops every hour ", Priority: "CRITICAL",
				CallerPhone: "+1 (202) 555-0151", Language: "RU", Line: "+7 499 638-38-67"})
			want := tickets.Ticket{ID: "1001", Subject: "VPN drops every hour", Priority: oncall.Critical, Level: oncall.L1,
				CallerPhone: "+12025550151", Language: oncall.Russian, Line: "+74996383867", CreatedAt: t0, Notes: []tickets.Note{}}
			equal(t, "CreateTicket", first, want)

			setClock(db, t0.Add(time.Minute))
			second := mustTicket(t, db, newTicket("Printer queue stuck"))
			if second.ID != "1002" {
				t.Fatalf("second ticket id %s, want 1002", second.ID)
			}

			got, err := db.Ticket(ctx, "1001")
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Ticket without notes", got, want)

			at := t0.Add(time.Hour + 700*time.Nanosecond)
			setClock(db, at)
			note, err := db.AddNote(ctx, actor, "1001", tickets.Note{Author: " Anna ", Text: "Called back.\r\nWorks now. "})
			if err != nil {
				t.Fatal(err)
			}
			wantNote := tickets.Note{At: at.Truncate(time.Microsecond), Author: "Anna", Text: "Called back.\nWorks now."}
			equal(t, "AddNote", note, wantNote)
			setClock(db, at.Add(time.Second))
			if _, err := db.AddNote(ctx, actor, "1001", tickets.Note{Author: tickets.Author, Text: "Вторая заметка"}); err != nil {
				t.Fatal(err)
			}
			want.Notes = []tickets.Note{wantNote, {At: at.Add(time.Second).Truncate(time.Microsecond), Author: "IVR", Text: "Вторая заметка"}}
			got, err = db.Ticket(ctx, "1001")
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Ticket with notes", got, want)

			list, err := db.Tickets(ctx, tickets.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			second.Notes, want.Notes = nil, nil // lists leave notes out
			equal(t, "Tickets", list, []tickets.Ticket{second, want})
			list, err = db.Tickets(ctx, tickets.Filter{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Tickets limit 1", list, []tickets.Ticket{second})
			list, err = db.Tickets(ctx, tickets.Filter{BeforeID: "1002"})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Tickets before 1002", list, []tickets.Ticket{want})

			entries, err := db.AuditLog(ctx, audit.Filter{Entity: audit.Ticket})
			if err != nil {
				t.Fatal(err)
			}
			var summary []string
			for _, e := range entries {
				summary = append(summary, e.Action+" "+e.EntityID+" by "+e.Actor)
			}
			equal(t, "audit", summary, []string{"update 1001 by " + actor, "update 1001 by " + actor,
				"create 1002 by " + actor, "create 1001 by " + actor})
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			mustTicket(t, db, newTicket("Mail bounces"))
			before := auditLog(t, db)
			for _, id := range []string{"1002", "9999", "01001", "abc", "", "1001 ", "99999999999999999999"} {
				_, err := db.Ticket(ctx, id)
				wantErr(t, err, errs.NotFound, "")
				_, err = db.AddNote(ctx, actor, id, tickets.Note{Author: "a", Text: "b"})
				wantErr(t, err, errs.NotFound, "")
			}
			equal(t, "audit log", auditLog(t, db), before)
		})
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			tk := mustTicket(t, db, newTicket("Mail bounces"))
			before := auditLog(t, db)
			for _, c := range []struct {
				mod   func(*tickets.Ticket)
				field string
			}{
				{func(t *tickets.Ticket) { t.Subject = " " }, "subject"},
				{func(t *tickets.Ticket) { t.Subject = "two\nlines" }, "subject"},
				{func(t *tickets.Ticket) { t.Priority = "" }, "priority"},
				{func(t *tickets.Ticket) { t.Priority = "asap" }, "priority"},
				{func(t *tickets.Ticket) { t.Level = 4 }, "level"},
				{func(t *tickets.Ticket) { t.CallerPhone = "call me" }, "caller_phone"},
				{func(t *tickets.Ticket) { t.Line = "2025952118" }, "line"},
				{func(t *tickets.Ticket) { t.Language = "de" }, "language"},
			} {
				bad := newTicket("Mail bounces")
				c.mod(&bad)
				_, err := db.CreateTicket(ctx, actor, bad)
				wantErr(t, err, errs.Invalid, c.field)
			}
			_, err := db.AddNote(ctx, actor, tk.ID, tickets.Note{Author: "Anna", Text: " \n "})
			wantErr(t, err, errs.Invalid, "text")
			_, err = db.AddNote(ctx, actor, tk.ID, tickets.Note{Text: "no author"})
			wantErr(t, err, errs.Invalid, "author")
			_, err = db.Tickets(ctx, tickets.Filter{BeforeID: "x"})
			wantErr(t, err, errs.Invalid, "before")
			equal(t, "audit log", auditLog(t, db), before)
		})
	})

	t.Run("ConcurrentIDs", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			const writers = 8
			ids := make(chan string, writers)
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					tk, err := db.CreateTicket(context.Background(), actor, newTicket("Disk full"))
					if err != nil {
						t.Errorf("CreateTicket: %v", err)
					}
					ids <- tk.ID
				})
			}
			wg.Wait()
			close(ids)
			var got []string
			for id := range ids {
				got = append(got, id)
			}
			slices.Sort(got)
			equal(t, "ids", got, []string{"1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008"})
		})
	})
}

// TestBuiltinOverStore is the built-in ticket system as the call flow uses
// it, over each back end.
func TestBuiltinOverStore(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		setClock(db, t0)
		var flow ivr.Tickets = tickets.NewBuiltin(db)
		opened, err := flow.OpenTicket(ctx, ivr.NewTicket{CallerPhone: "+12025550152", Language: oncall.Russian,
			Priority: oncall.Critical, Line: "+74996383867"})
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "OpenTicket", opened, ivr.Ticket{ID: "1001", Subject: "Звонок с номера +12025550152",
			Priority: oncall.Critical, Level: oncall.L1})
		got, err := flow.Ticket(ctx, "1001")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Ticket", got, opened)
		if err := flow.AddNote(ctx, "1001", "Phone call to the Moscow line."); err != nil {
			t.Fatal(err)
		}
		stored, err := db.Ticket(ctx, "1001")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "notes", stored.Notes, []tickets.Note{{At: t0, Author: tickets.Author, Text: "Phone call to the Moscow line."}})
		if stored.CallerPhone != "+12025550152" || stored.Line != "+74996383867" || stored.Language != oncall.Russian {
			t.Errorf("stored %+v, want the caller, line and language kept", stored)
		}
		entries, err := db.AuditLog(ctx, audit.Filter{Entity: audit.Ticket})
		if err != nil || len(entries) != 2 || entries[1].Actor != tickets.Actor {
			t.Fatalf("audit %+v, %v; want create and note by %q", entries, err, tickets.Actor)
		}

		_, err = flow.Ticket(ctx, "4242")
		wantErr(t, err, errs.NotFound, "")
		wantErr(t, flow.AddNote(ctx, "4242", "x"), errs.NotFound, "")

		// A withheld number: no phone on the ticket.
		anon, err := flow.OpenTicket(ctx, ivr.NewTicket{Language: oncall.English, Priority: oncall.Low, Line: "+12025952118"})
		if err != nil {
			t.Fatal(err)
		}
		if anon.ID != "1002" || anon.Subject != "Phone call from a withheld number" {
			t.Errorf("OpenTicket withheld: %+v", anon)
		}
	})
}
