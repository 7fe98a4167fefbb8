package ivr

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// Function-field fakes of the flow's dependencies. A nil function fails the
// test: every call a test does not expect is an error. Each fake records
// what it was asked.

type fakeTickets struct {
	tb        testing.TB
	TicketFn  func(ctx context.Context, id string) (Ticket, error)
	OpenFn    func(ctx context.Context, nt NewTicket) (Ticket, error)
	AddNoteFn func(ctx context.Context, id, note string) error

	mu     sync.Mutex
	looked []string
	opened []NewTicket
	notes  map[string][]string
}

var _ Tickets = (*fakeTickets)(nil)

func (f *fakeTickets) Ticket(ctx context.Context, id string) (Ticket, error) {
	f.mu.Lock()
	f.looked = append(f.looked, id)
	f.mu.Unlock()
	if f.TicketFn == nil {
		f.tb.Errorf("unexpected Tickets.Ticket(%q)", id)
		return Ticket{}, errs.E(errs.Internal, "", "unexpected")
	}
	return f.TicketFn(ctx, id)
}

func (f *fakeTickets) OpenTicket(ctx context.Context, nt NewTicket) (Ticket, error) {
	f.mu.Lock()
	f.opened = append(f.opened, nt)
	f.mu.Unlock()
	if f.OpenFn == nil {
		f.tb.Errorf("unexpected Tickets.OpenTicket(%+v)", nt)
		return Ticket{}, errs.E(errs.Internal, "", "unexpected")
	}
	return f.OpenFn(ctx, nt)
}

func (f *fakeTickets) AddNote(ctx context.Context, id, note string) error {
	f.mu.Lock()
	if f.notes == nil {
		f.notes = map[string][]string{}
	}
	f.notes[id] = append(f.notes[id], note)
	f.mu.Unlock()
	if f.AddNoteFn == nil {
		f.tb.Errorf("unexpected Tickets.AddNote(%q)", id)
		return nil
	}
	return f.AddNoteFn(ctx, id, note)
}

type fakeRoster struct {
	tb       testing.TB
	OnCallFn func(ctx context.Context, level oncall.Level, layer oncall.Layer, at time.Time) (oncall.Engineer, bool, error)
}

var _ Roster = (*fakeRoster)(nil)

func (f *fakeRoster) OnCall(ctx context.Context, level oncall.Level, layer oncall.Layer, at time.Time) (oncall.Engineer, bool, error) {
	if f.OnCallFn == nil {
		f.tb.Errorf("unexpected Roster.OnCall(%s, %s)", level, layer)
		return oncall.Engineer{}, false, nil
	}
	return f.OnCallFn(ctx, level, layer, at)
}

type fakePages struct {
	tb            testing.TB
	RequestPageFn func(ctx context.Context, p PageRequest) error

	mu    sync.Mutex
	pages []PageRequest
}

var _ Pages = (*fakePages)(nil)

func (f *fakePages) RequestPage(ctx context.Context, p PageRequest) error {
	f.mu.Lock()
	f.pages = append(f.pages, p)
	f.mu.Unlock()
	if f.RequestPageFn == nil {
		f.tb.Errorf("unexpected Pages.RequestPage(%+v)", p)
		return nil
	}
	return f.RequestPageFn(ctx, p)
}

type fakePrefs struct {
	tb            testing.TB
	LanguageFn    func(ctx context.Context, caller string) (oncall.Language, bool, error)
	SetLanguageFn func(ctx context.Context, caller string, l oncall.Language) error

	mu    sync.Mutex
	asked []string
	set   map[string]oncall.Language
}

var _ Preferences = (*fakePrefs)(nil)

func (f *fakePrefs) Language(ctx context.Context, caller string) (oncall.Language, bool, error) {
	f.mu.Lock()
	f.asked = append(f.asked, caller)
	f.mu.Unlock()
	if f.LanguageFn == nil {
		f.tb.Errorf("unexpected Preferences.Language(%q)", caller)
		return "", false, nil
	}
	return f.LanguageFn(ctx, caller)
}

func (f *fakePrefs) SetLanguage(ctx context.Context, caller string, l oncall.Language) error {
	f.mu.Lock()
	if f.set == nil {
		f.set = map[string]oncall.Language{}
	}
	f.set[caller] = l
	f.mu.Unlock()
	if f.SetLanguageFn == nil {
		f.tb.Errorf("unexpected Preferences.SetLanguage(%q, %s)", caller, l)
		return nil
	}
	return f.SetLanguageFn(ctx, caller, l)
}

type fakeCalls struct {
	tb         testing.TB
	SaveCallFn func(ctx context.Context, r CallRecord) error

	mu    sync.Mutex
	saved []CallRecord
}

var _ CallLog = (*fakeCalls)(nil)

func (f *fakeCalls) SaveCall(ctx context.Context, r CallRecord) error {
	f.mu.Lock()
	f.saved = append(f.saved, r)
	f.mu.Unlock()
	if f.SaveCallFn == nil {
		f.tb.Errorf("unexpected CallLog.SaveCall(%s)", r.CallID)
		return nil
	}
	return f.SaveCallFn(ctx, r)
}

// blockUntilDone is a dependency that never answers in time: it waits for
// its context's deadline and returns the context's error.
func blockUntilDone(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}
