package ivrtest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// OpenedID is the id of every ticket Tickets opens unless its OpenedID says
// otherwise.
const OpenedID = "90210"

// Tickets is a ticket system in memory. Ticket finds the tickets Add was
// given (others are errs.NotFound on field "id"); OpenTicket opens one with
// id OpenedID (L1, the priority asked for) and keeps it; AddNote keeps the
// note. A non-nil function field answers its method instead; what the
// method was asked is recorded either way.
type Tickets struct {
	// OpenedID is the id of opened tickets; "" means the package's OpenedID.
	OpenedID  string
	TicketFn  func(ctx context.Context, id string) (ivr.Ticket, error)
	OpenFn    func(ctx context.Context, nt ivr.NewTicket) (ivr.Ticket, error)
	AddNoteFn func(ctx context.Context, id, note string) error

	mu     sync.Mutex
	known  map[string]ivr.Ticket
	looked []string
	opened []ivr.NewTicket
	notes  map[string][]string
	err    error
}

var _ ivr.Tickets = (*Tickets)(nil)

// NewTickets returns a ticket system holding tickets.
func NewTickets(tickets ...ivr.Ticket) *Tickets {
	t := &Tickets{}
	t.Add(tickets...)
	return t
}

// Add puts tickets in the system (replacing any of the same id).
func (t *Tickets) Add(tickets ...ivr.Ticket) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.known == nil {
		t.known = map[string]ivr.Ticket{}
	}
	for _, tk := range tickets {
		t.known[tk.ID] = tk
	}
}

// Fail makes every later call return err, as a ticket system that is down
// would (nil: it is back). Calls are recorded all the same.
func (t *Tickets) Fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.err = err
}

// Ticket implements ivr.Tickets.
func (t *Tickets) Ticket(ctx context.Context, id string) (ivr.Ticket, error) {
	t.mu.Lock()
	t.looked = append(t.looked, id)
	fn, err := t.TicketFn, t.err
	tk, ok := t.known[id]
	t.mu.Unlock()
	switch {
	case err != nil:
		return ivr.Ticket{}, err
	case fn != nil:
		return fn(ctx, id)
	case !ok:
		return ivr.Ticket{}, errs.E(errs.NotFound, "id", "no ticket %s", id)
	}
	return tk, nil
}

// OpenTicket implements ivr.Tickets.
func (t *Tickets) OpenTicket(ctx context.Context, nt ivr.NewTicket) (ivr.Ticket, error) {
	t.mu.Lock()
	t.opened = append(t.opened, nt)
	fn, err := t.OpenFn, t.err
	t.mu.Unlock()
	switch {
	case err != nil:
		return ivr.Ticket{}, err
	case fn != nil:
		return fn(ctx, nt)
	}
	tk := ivr.Ticket{ID: t.OpenedID, Priority: nt.Priority, Level: oncall.L1}
	if tk.ID == "" {
		tk.ID = OpenedID
	}
	t.Add(tk)
	return tk, nil
}

// AddNote implements ivr.Tickets.
func (t *Tickets) AddNote(ctx context.Context, id, note string) error {
	t.mu.Lock()
	if t.notes == nil {
		t.notes = map[string][]string{}
	}
	t.notes[id] = append(t.notes[id], note)
	fn, err := t.AddNoteFn, t.err
	t.mu.Unlock()
	switch {
	case err != nil:
		return err
	case fn != nil:
		return fn(ctx, id, note)
	}
	return nil
}

// Looked returns the ids Ticket was asked for, in order.
func (t *Tickets) Looked() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.looked)
}

// Opened returns what OpenTicket was asked to open, in order.
func (t *Tickets) Opened() []ivr.NewTicket {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.opened)
}

// Notes returns the notes AddNote was given for ticket id, in order,
// whether or not they were taken.
func (t *Tickets) Notes(id string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.notes[id])
}

// Rung is a place in the on-call roster.
type Rung struct {
	Level oncall.Level
	Layer oncall.Layer
}

// Roster is who is on call, at any time: the engineer put at each rung.
// A non-nil OnCallFn answers instead.
type Roster struct {
	OnCallFn func(ctx context.Context, level oncall.Level, layer oncall.Layer, at time.Time) (oncall.Engineer, bool, error)

	mu   sync.Mutex
	team map[Rung]oncall.Engineer
	err  error
}

var _ ivr.Roster = (*Roster)(nil)

// NewRoster returns a roster of team.
func NewRoster(team map[Rung]oncall.Engineer) *Roster {
	return &Roster{team: maps.Clone(team)}
}

// Put puts e on call at level and layer.
func (r *Roster) Put(level oncall.Level, layer oncall.Layer, e oncall.Engineer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.team == nil {
		r.team = map[Rung]oncall.Engineer{}
	}
	r.team[Rung{level, layer}] = e
}

// Remove leaves nobody on call at level and layer.
func (r *Roster) Remove(level oncall.Level, layer oncall.Layer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.team, Rung{level, layer})
}

// At returns the engineer put at level and layer, whatever OnCallFn or
// Fail say: a hook that changes one rung answers the others with it.
func (r *Roster) At(level oncall.Level, layer oncall.Layer) (oncall.Engineer, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.team[Rung{level, layer}]
	return e, ok
}

// Fail makes every later call return err (nil: the roster is back).
func (r *Roster) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// OnCall implements ivr.Roster.
func (r *Roster) OnCall(ctx context.Context, level oncall.Level, layer oncall.Layer, at time.Time) (oncall.Engineer, bool, error) {
	r.mu.Lock()
	fn, err := r.OnCallFn, r.err
	e, ok := r.team[Rung{level, layer}]
	r.mu.Unlock()
	switch {
	case err != nil:
		return oncall.Engineer{}, false, err
	case fn != nil:
		return fn(ctx, level, layer, at)
	}
	return e, ok, nil
}

// Pages is a pager in memory: it records every request and keeps the ones
// that went through. A non-nil RequestPageFn answers instead (its error
// means the request did not go through).
type Pages struct {
	RequestPageFn func(ctx context.Context, p ivr.PageRequest) error

	mu        sync.Mutex
	requested []ivr.PageRequest
	pages     []ivr.PageRequest
	err       error
}

var _ ivr.Pages = (*Pages)(nil)

// Fail makes every later request fail with err, as a store that is
// unreachable would (nil: it is back).
func (p *Pages) Fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// RequestPage implements ivr.Pages.
func (p *Pages) RequestPage(ctx context.Context, r ivr.PageRequest) error {
	p.mu.Lock()
	p.requested = append(p.requested, r)
	fn, err := p.RequestPageFn, p.err
	p.mu.Unlock()
	if err == nil && fn != nil {
		err = fn(ctx, r)
	}
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.pages = append(p.pages, r)
	p.mu.Unlock()
	return nil
}

// Requested returns every request, in order, whether it went through or
// not.
func (p *Pages) Requested() []ivr.PageRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requested)
}

// Pages returns the requests that went through, in order.
func (p *Pages) Pages() []ivr.PageRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.pages)
}

// Preferences remembers callers' languages in memory. A non-nil function
// field answers its method instead (SetLanguageFn's caller is then not
// remembered here); what was asked is recorded either way.
type Preferences struct {
	LanguageFn    func(ctx context.Context, caller string) (oncall.Language, bool, error)
	SetLanguageFn func(ctx context.Context, caller string, l oncall.Language) error

	mu    sync.Mutex
	langs map[string]oncall.Language
	asked []string
	set   map[string]oncall.Language
	err   error
}

var _ ivr.Preferences = (*Preferences)(nil)

// Remember makes caller's language l, as an earlier call would have.
func (p *Preferences) Remember(caller string, l oncall.Language) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.langs == nil {
		p.langs = map[string]oncall.Language{}
	}
	p.langs[caller] = l
}

// Fail makes every later call return err (nil: it is back).
func (p *Preferences) Fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// Language implements ivr.Preferences.
func (p *Preferences) Language(ctx context.Context, caller string) (oncall.Language, bool, error) {
	p.mu.Lock()
	p.asked = append(p.asked, caller)
	fn, err := p.LanguageFn, p.err
	l, ok := p.langs[caller]
	p.mu.Unlock()
	switch {
	case err != nil:
		return "", false, err
	case fn != nil:
		return fn(ctx, caller)
	}
	return l, ok, nil
}

// SetLanguage implements ivr.Preferences.
func (p *Preferences) SetLanguage(ctx context.Context, caller string, l oncall.Language) error {
	p.mu.Lock()
	if p.set == nil {
		p.set = map[string]oncall.Language{}
	}
	p.set[caller] = l
	fn, err := p.SetLanguageFn, p.err
	p.mu.Unlock()
	switch {
	case err != nil:
		return err
	case fn != nil:
		return fn(ctx, caller, l)
	}
	p.Remember(caller, l)
	return nil
}

// Asked returns the callers Language was asked about, in order.
func (p *Preferences) Asked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.asked)
}

// Set returns the last language SetLanguage was given for each caller,
// whether or not it was remembered.
func (p *Preferences) Set() map[string]oncall.Language {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.set)
}

// CallLog keeps call records in memory: it records every save and keeps
// the ones that went through. A non-nil SaveCallFn answers instead (its
// error means the record was not saved).
type CallLog struct {
	SaveCallFn func(ctx context.Context, r ivr.CallRecord) error

	mu      sync.Mutex
	tried   []ivr.CallRecord
	records []ivr.CallRecord
	err     error
}

var _ ivr.CallLog = (*CallLog)(nil)

// Fail makes every later save fail with err, as a store that is
// unreachable would (nil: it is back).
func (c *CallLog) Fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// SaveCall implements ivr.CallLog.
func (c *CallLog) SaveCall(ctx context.Context, r ivr.CallRecord) error {
	c.mu.Lock()
	c.tried = append(c.tried, r)
	fn, err := c.SaveCallFn, c.err
	c.mu.Unlock()
	if err == nil && fn != nil {
		err = fn(ctx, r)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.records = append(c.records, r)
	c.mu.Unlock()
	return nil
}

// Tried returns every record SaveCall was given, in order, saved or not.
func (c *CallLog) Tried() []ivr.CallRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.tried)
}

// Records returns the records saved, in order: a call saved twice (a
// retry, a record changed afterwards) is there twice.
func (c *CallLog) Records() []ivr.CallRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.records)
}

// OtherCalls says which engineers are on the service's other calls: those
// SetBusy marked. A non-nil BusyFn answers instead.
type OtherCalls struct {
	BusyFn func(ctx context.Context, engineerID int64) (bool, error)

	mu   sync.Mutex
	busy map[int64]bool
}

var _ ivr.OtherCalls = (*OtherCalls)(nil)

// SetBusy marks engineer id busy on another call, or free.
func (o *OtherCalls) SetBusy(id int64, busy bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.busy == nil {
		o.busy = map[int64]bool{}
	}
	o.busy[id] = busy
}

// Busy implements ivr.OtherCalls.
func (o *OtherCalls) Busy(ctx context.Context, engineerID int64) (bool, error) {
	o.mu.Lock()
	fn, busy := o.BusyFn, o.busy[engineerID]
	o.mu.Unlock()
	if fn != nil {
		return fn(ctx, engineerID)
	}
	return busy, nil
}

// Desk is every dependency of the flow, in memory.
type Desk struct {
	Tickets     *Tickets
	Roster      *Roster
	Pages       *Pages
	Preferences *Preferences
	Calls       *CallLog
	// OtherCalls is nil unless a test sets it: the flow then knows of no
	// other call.
	OtherCalls *OtherCalls
}

// NewDesk returns a desk with no ticket, nobody on call, nothing
// remembered and no other call.
func NewDesk() *Desk {
	return &Desk{Tickets: NewTickets(), Roster: NewRoster(nil), Pages: &Pages{},
		Preferences: &Preferences{}, Calls: &CallLog{}}
}

// Deps returns the desk as the flow's dependencies, logging nowhere.
func (d *Desk) Deps() ivr.Deps {
	deps := ivr.Deps{Tickets: d.Tickets, Roster: d.Roster, Pages: d.Pages,
		Preferences: d.Preferences, Calls: d.Calls}
	if d.OtherCalls != nil {
		deps.OtherCalls = d.OtherCalls
	}
	return deps
}

// Hang is a dependency that never answers in time: it waits for ctx to be
// done and returns its error. Hooks use it (`TicketFn = func(ctx …) {
// return ivr.Ticket{}, ivrtest.Hang(ctx) }`) to test the flow's budgets.
func Hang(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}
