package ivrtest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/ivr/ivrtest"
	"github.com/supportdesk/ivr/oncall"
)

var errDown = errors.New("store unreachable")

func TestTickets(t *testing.T) {
	ctx := context.Background()
	tk := ivrtest.NewTickets(ivr.Ticket{ID: "12345", Priority: oncall.Critical, Level: oncall.L2})
	if got, err := tk.Ticket(ctx, "12345"); err != nil || got.Level != oncall.L2 {
		t.Errorf("Ticket(12345) = %+v, %v; want the L2 ticket", got, err)
	}
	if _, err := tk.Ticket(ctx, "999"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Ticket(999): %v, want not found", err)
	}
	opened, err := tk.OpenTicket(ctx, ivr.NewTicket{Priority: oncall.Urgent})
	if err != nil || opened.ID != ivrtest.OpenedID || opened.Priority != oncall.Urgent || opened.Level != oncall.L1 {
		t.Fatalf("OpenTicket = %+v, %v", opened, err)
	}
	if got, err := tk.Ticket(ctx, opened.ID); err != nil || got != opened {
		t.Errorf("the opened ticket is not found: %+v, %v", got, err)
	}
	if err := tk.AddNote(ctx, "12345", "called"); err != nil {
		t.Fatal(err)
	}
	tk.Fail(errDown)
	if err := tk.AddNote(ctx, "12345", "again"); !errors.Is(err, errDown) {
		t.Errorf("AddNote while down: %v", err)
	}
	tk.Fail(nil)
	tk.TicketFn = func(ctx context.Context, id string) (ivr.Ticket, error) { return ivr.Ticket{}, ivrtest.Hang(ctx) }
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if _, err := tk.Ticket(short, "12345"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a hanging TicketFn gave %v, want the deadline", err)
	}
	if got := tk.Looked(); !slices.Equal(got, []string{"12345", "999", ivrtest.OpenedID, "12345"}) {
		t.Errorf("looked %v", got)
	}
	if got := tk.Notes("12345"); !slices.Equal(got, []string{"called", "again"}) {
		t.Errorf("notes %v: every note given is recorded, taken or not", got)
	}
	if got := tk.Opened(); len(got) != 1 || got[0].Priority != oncall.Urgent {
		t.Errorf("opened %+v", got)
	}
}

func TestRoster(t *testing.T) {
	ctx := context.Background()
	anna := oncall.Engineer{ID: 11, Name: "Anna"}
	r := ivrtest.NewRoster(map[ivrtest.Rung]oncall.Engineer{{Level: oncall.L1, Layer: oncall.Primary}: anna})
	if e, ok, err := r.OnCall(ctx, oncall.L1, oncall.Primary, time.Now()); err != nil || !ok || e.ID != 11 {
		t.Errorf("L1 primary: %+v %v %v", e, ok, err)
	}
	if _, ok, _ := r.OnCall(ctx, oncall.L1, oncall.Secondary, time.Now()); ok {
		t.Error("L1 secondary is on call in an empty rung")
	}
	r.Put(oncall.L1, oncall.Secondary, oncall.Engineer{ID: 12})
	r.Remove(oncall.L1, oncall.Primary)
	if _, ok, _ := r.OnCall(ctx, oncall.L1, oncall.Primary, time.Now()); ok {
		t.Error("a removed engineer is still on call")
	}
	if e, ok, _ := r.OnCall(ctx, oncall.L1, oncall.Secondary, time.Now()); !ok || e.ID != 12 {
		t.Errorf("the engineer put on call is not: %+v", e)
	}
	r.Fail(errDown)
	if _, _, err := r.OnCall(ctx, oncall.L1, oncall.Secondary, time.Now()); !errors.Is(err, errDown) {
		t.Errorf("OnCall while down: %v", err)
	}
	if e, ok := r.At(oncall.L1, oncall.Secondary); !ok || e.ID != 12 {
		t.Errorf("At while down: %+v %v; want the engineer put there", e, ok)
	}
}

// Pages and CallLog record every attempt and keep only those that went
// through, whether a hook or Fail refused them.
func TestPagesAndCallLogKeepWhatWentThrough(t *testing.T) {
	ctx := context.Background()
	p := &ivrtest.Pages{}
	c := &ivrtest.CallLog{}
	p.Fail(errDown)
	c.Fail(errDown)
	if err := p.RequestPage(ctx, ivr.PageRequest{CallID: "CA1"}); !errors.Is(err, errDown) {
		t.Errorf("RequestPage while down: %v", err)
	}
	if err := c.SaveCall(ctx, ivr.CallRecord{CallID: "CA1"}); !errors.Is(err, errDown) {
		t.Errorf("SaveCall while down: %v", err)
	}
	p.Fail(nil)
	c.Fail(nil)
	if err := p.RequestPage(ctx, ivr.PageRequest{CallID: "CA1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SaveCall(ctx, ivr.CallRecord{CallID: "CA1", Paged: true}); err != nil {
		t.Fatal(err)
	}
	p.RequestPageFn = func(context.Context, ivr.PageRequest) error { return errDown }
	c.SaveCallFn = func(context.Context, ivr.CallRecord) error { return errDown }
	_ = p.RequestPage(ctx, ivr.PageRequest{CallID: "CA2"})
	_ = c.SaveCall(ctx, ivr.CallRecord{CallID: "CA2"})
	if got := p.Requested(); len(got) != 3 {
		t.Errorf("%d requests recorded, want 3", len(got))
	}
	if got := p.Pages(); len(got) != 1 || got[0].CallID != "CA1" {
		t.Errorf("pages %+v, want CA1's once", got)
	}
	if got := c.Tried(); len(got) != 3 {
		t.Errorf("%d saves recorded, want 3", len(got))
	}
	if got := c.Records(); len(got) != 1 || !got[0].Paged {
		t.Errorf("records %+v, want CA1's paged record", got)
	}
}

func TestPreferencesRemember(t *testing.T) {
	ctx := context.Background()
	p := &ivrtest.Preferences{}
	if _, ok, err := p.Language(ctx, "+1555"); ok || err != nil {
		t.Errorf("a new caller has a language: %v %v", ok, err)
	}
	if err := p.SetLanguage(ctx, "+1555", oncall.English); err != nil {
		t.Fatal(err)
	}
	if l, ok, _ := p.Language(ctx, "+1555"); !ok || l != oncall.English {
		t.Errorf("remembered %q %v, want en", l, ok)
	}
	p.SetLanguageFn = func(context.Context, string, oncall.Language) error { return nil }
	_ = p.SetLanguage(ctx, "+1666", oncall.Russian)
	if _, ok, _ := p.Language(ctx, "+1666"); ok {
		t.Error("a language a hook took is remembered as well")
	}
	if got := p.Set(); len(got) != 2 || got["+1666"] != oncall.Russian {
		t.Errorf("set %v: every language given is recorded", got)
	}
	if got := p.Asked(); len(got) != 3 {
		t.Errorf("asked %v", got)
	}
	p.Fail(errDown)
	if _, _, err := p.Language(ctx, "+1555"); !errors.Is(err, errDown) {
		t.Errorf("Language while down: %v", err)
	}
}

func TestOtherCalls(t *testing.T) {
	ctx := context.Background()
	o := &ivrtest.OtherCalls{}
	o.SetBusy(11, true)
	if b, _ := o.Busy(ctx, 11); !b {
		t.Error("engineer 11 marked busy is not")
	}
	if b, _ := o.Busy(ctx, 12); b {
		t.Error("engineer 12 is busy unmarked")
	}
	o.SetBusy(11, false)
	if b, _ := o.Busy(ctx, 11); b {
		t.Error("engineer 11 freed is still busy")
	}
}

// A desk drives a flow: a caller with a ticket who hangs up while the
// engineer on call is rung is paged and recorded, and the desk has recorded it all.
func TestDeskDrivesTheFlow(t *testing.T) {
	ctx := context.Background()
	d := ivrtest.NewDesk()
	if d.Deps().OtherCalls != nil {
		t.Error("a desk without OtherCalls hands the flow a non-nil one")
	}
	d.Tickets.Add(ivr.Ticket{ID: "12345", Priority: oncall.Critical})
	d.Roster.Put(oncall.L1, oncall.Primary, oncall.Engineer{ID: 11, Name: "Anna", Languages: []oncall.Language{oncall.Russian},
		Contacts: []oncall.ContactMethod{{Phone: "+79990000011"}}})
	f, err := ivr.New(ivr.DefaultConfig(), d.Deps())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	st, _, err := f.Start(ctx, ivr.CallStarted{CallID: "CA1", Line: "+74996383867", Caller: "+79161234567", At: t0})
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range []ivr.Event{ivr.Digits{At: t0.Add(4 * time.Second)}, ivr.Digits{Digits: "12345", At: t0.Add(14 * time.Second)},
		ivr.HungUp{At: t0.Add(30 * time.Second)}} {
		if st, _, err = f.Handle(ctx, st, ev); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if got := d.Preferences.Asked(); !slices.Equal(got, []string{"+79161234567"}) {
		t.Errorf("asked %v", got)
	}
	if got := d.Tickets.Looked(); !slices.Equal(got, []string{"12345"}) {
		t.Errorf("looked %v", got)
	}
	if got := d.Pages.Pages(); len(got) != 1 || got[0].TicketID != "12345" {
		t.Errorf("pages %+v, want one for ticket 12345", got)
	}
	if got := d.Calls.Records(); len(got) != 1 || got[0].Outcome != ivr.OutcomeAbandoned {
		t.Errorf("records %+v, want one abandoned call", got)
	}
}
