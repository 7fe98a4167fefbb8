package tickets_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets"
)

func wantErr(t *testing.T, err error, code errs.Code, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != code || e.Field != field {
		t.Fatalf("error = %v, want code %s field %q", err, code, field)
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"1001": true, "7": true, "999999999999999999": true,
		"": false, "0": false, "01001": false, "10a1": false, " 1001": false, "-1": false, "1001#": false,
		"9999999999999999999": false, // 19 digits
	} {
		if got := tickets.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
		if n, ok := tickets.ParseID(id); ok != want || ok && tickets.FormatID(n) != id {
			t.Errorf("ParseID(%q) = %d, %v", id, n, ok)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := tickets.Ticket{Subject: " Backup failed ", Priority: " Urgent", CallerPhone: "+7 (916) 123-45-67",
			Language: "EN", Line: "+1 202 595 2118", Notes: []tickets.Note{{Author: "Anna", Text: "a\r\nb"}}}.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		want := tickets.Ticket{Subject: "Backup failed", Priority: oncall.Urgent, Level: oncall.L1, CallerPhone: "+79161234567",
			Language: oncall.English, Line: "+12025952118", Notes: []tickets.Note{{Author: "Anna", Text: "a\nb"}}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Normalize = %+v, want %+v", got, want)
		}
	})
	ok := tickets.Ticket{Subject: "Backup failed", Priority: oncall.Low, Level: oncall.L3}
	for name, c := range map[string]struct {
		mod   func(*tickets.Ticket)
		field string
	}{
		"NoSubject":      {func(t *tickets.Ticket) { t.Subject = "\t" }, "subject"},
		"LongSubject":    {func(t *tickets.Ticket) { t.Subject = strings.Repeat("я", tickets.MaxSubject+1) }, "subject"},
		"SubjectControl": {func(t *tickets.Ticket) { t.Subject = "a\x07b" }, "subject"},
		"SubjectNotUTF8": {func(t *tickets.Ticket) { t.Subject = "a\xffb" }, "subject"},
		"NoPriority":     {func(t *tickets.Ticket) { t.Priority = "" }, "priority"},
		"BadPriority":    {func(t *tickets.Ticket) { t.Priority = "P1" }, "priority"},
		"BadLevel":       {func(t *tickets.Ticket) { t.Level = -1 }, "level"},
		"LocalPhone":     {func(t *tickets.Ticket) { t.CallerPhone = "202 555 0150" }, "caller_phone"},
		"BadLine":        {func(t *tickets.Ticket) { t.Line = "+1" }, "line"},
		"BadLanguage":    {func(t *tickets.Ticket) { t.Language = "fr" }, "language"},
		"EmptyNote":      {func(t *tickets.Ticket) { t.Notes = []tickets.Note{{Author: "a", Text: "x"}, {Author: "a"}} }, "notes[1].text"},
		"NoteControl":    {func(t *tickets.Ticket) { t.Notes = []tickets.Note{{Author: "a", Text: "x\x00"}} }, "notes[0].text"},
		"LongNote": {func(t *tickets.Ticket) {
			t.Notes = []tickets.Note{{Author: "a", Text: strings.Repeat("x", tickets.MaxNote+1)}}
		}, "notes[0].text"},
		"NoteAuthorLines": {func(t *tickets.Ticket) { t.Notes = []tickets.Note{{Author: "a\nb", Text: "x"}} }, "notes[0].author"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := ok
			c.mod(&bad)
			_, err := bad.Normalize()
			wantErr(t, err, errs.Invalid, c.field)
		})
	}
}

// fakeStore is a tickets.Store whose methods are fields; an unset one
// fails the test.
type fakeStore struct {
	t            *testing.T
	createTicket func(actor string, tk tickets.Ticket) (tickets.Ticket, error)
	ticket       func(id string) (tickets.Ticket, error)
	addNote      func(actor, id string, n tickets.Note) (tickets.Note, error)
}

var _ tickets.Store = (*fakeStore)(nil)

func (f *fakeStore) CreateTicket(_ context.Context, actor string, tk tickets.Ticket) (tickets.Ticket, error) {
	if f.createTicket == nil {
		f.t.Fatal("unexpected CreateTicket")
	}
	return f.createTicket(actor, tk)
}

func (f *fakeStore) Ticket(_ context.Context, id string) (tickets.Ticket, error) {
	if f.ticket == nil {
		f.t.Fatal("unexpected Ticket")
	}
	return f.ticket(id)
}

func (f *fakeStore) Tickets(context.Context, tickets.Filter) ([]tickets.Ticket, error) {
	f.t.Fatal("unexpected Tickets")
	return nil, nil
}

func (f *fakeStore) AddNote(_ context.Context, actor, id string, n tickets.Note) (tickets.Note, error) {
	if f.addNote == nil {
		f.t.Fatal("unexpected AddNote")
	}
	return f.addNote(actor, id, n)
}

func TestBuiltin(t *testing.T) {
	ctx := context.Background()
	t.Run("Ticket", func(t *testing.T) {
		b := tickets.NewBuiltin(&fakeStore{t: t, ticket: func(id string) (tickets.Ticket, error) {
			if id != "1001" {
				return tickets.Ticket{}, errs.E(errs.NotFound, "", "no")
			}
			return tickets.Ticket{ID: id, Subject: "s", Priority: oncall.Critical, Level: oncall.L3,
				Notes: []tickets.Note{{Text: "n"}}}, nil
		}})
		got, err := b.Ticket(ctx, "1001")
		if err != nil || got != (ivr.Ticket{ID: "1001", Subject: "s", Priority: oncall.Critical, Level: oncall.L3}) {
			t.Fatalf("Ticket = %+v, %v", got, err)
		}
		_, err = b.Ticket(ctx, "1002")
		wantErr(t, err, errs.NotFound, "")
	})
	t.Run("ErrMalformedIDIsNotFound", func(t *testing.T) {
		// The flow takes anything but NotFound for "ticket system down".
		b := tickets.NewBuiltin(&fakeStore{t: t})
		for _, id := range []string{"", "0123", "12*", "99999999999999999999"} {
			_, err := b.Ticket(ctx, id)
			wantErr(t, err, errs.NotFound, "")
			wantErr(t, b.AddNote(ctx, id, "x"), errs.NotFound, "")
		}
	})
	t.Run("ErrStoreDown", func(t *testing.T) {
		down := errors.New("connection refused")
		b := tickets.NewBuiltin(&fakeStore{t: t, ticket: func(string) (tickets.Ticket, error) { return tickets.Ticket{}, down }})
		if _, err := b.Ticket(ctx, "1001"); !errors.Is(err, down) || errs.Is(err, errs.NotFound) {
			t.Fatalf("Ticket: %v, want the store's error", err)
		}
	})
	t.Run("OpenTicket", func(t *testing.T) {
		var stored tickets.Ticket
		b := tickets.NewBuiltin(&fakeStore{t: t, createTicket: func(actor string, tk tickets.Ticket) (tickets.Ticket, error) {
			if actor != tickets.Actor {
				t.Errorf("actor %q", actor)
			}
			stored = tk
			tk.ID = "1001"
			return tk, nil
		}})
		got, err := b.OpenTicket(ctx, ivr.NewTicket{CallerPhone: "+12025550150", Language: oncall.English,
			Priority: oncall.Urgent, Line: "+12025952118"})
		if err != nil || got != (ivr.Ticket{ID: "1001", Subject: "Phone call from +12025550150", Priority: oncall.Urgent, Level: oncall.L1}) {
			t.Fatalf("OpenTicket = %+v, %v", got, err)
		}
		if stored.CallerPhone != "+12025550150" || stored.Line != "+12025952118" || stored.Language != oncall.English {
			t.Errorf("stored %+v", stored)
		}
		// A caller id that is not a number is left off rather than refused.
		if _, err := b.OpenTicket(ctx, ivr.NewTicket{CallerPhone: "12345", Language: oncall.Russian, Priority: oncall.Low}); err != nil {
			t.Fatal(err)
		}
		if stored.CallerPhone != "" || stored.Subject != "Звонок со скрытого номера" {
			t.Errorf("stored %+v, want no phone", stored)
		}
	})
	t.Run("AddNote", func(t *testing.T) {
		var got tickets.Note
		b := tickets.NewBuiltin(&fakeStore{t: t, addNote: func(actor, id string, n tickets.Note) (tickets.Note, error) {
			if actor != tickets.Actor || id != "1001" {
				t.Errorf("AddNote(%q, %q)", actor, id)
			}
			got = n
			return n, nil
		}})
		if err := b.AddNote(ctx, "1001", "Call summary"); err != nil {
			t.Fatal(err)
		}
		if got != (tickets.Note{Author: tickets.Author, Text: "Call summary"}) {
			t.Errorf("note %+v", got)
		}
	})
}

func TestCallSubject(t *testing.T) {
	for _, c := range []struct {
		nt   ivr.NewTicket
		want string
	}{
		{ivr.NewTicket{CallerPhone: "+74951234567", Language: oncall.Russian}, "Звонок с номера +74951234567"},
		{ivr.NewTicket{Language: oncall.Russian}, "Звонок со скрытого номера"},
		{ivr.NewTicket{CallerPhone: "+12025550150", Language: oncall.English}, "Phone call from +12025550150"},
		{ivr.NewTicket{}, "Phone call from a withheld number"},
	} {
		if got := tickets.CallSubject(c.nt); got != c.want {
			t.Errorf("CallSubject(%+v) = %q, want %q", c.nt, got, c.want)
		}
	}
}
