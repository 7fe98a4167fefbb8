package simulator_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/simulator"
)

// desk is an in-memory support desk: one ticket, one engineer per level
// and layer, and a record of what the flow did.
type desk struct {
	mu     sync.Mutex
	pages  []ivr.PageRequest
	calls  []ivr.CallRecord
	langs  map[string]oncall.Language
	opened int
}

func (d *desk) Ticket(_ context.Context, id string) (ivr.Ticket, error) {
	if id == "1001" {
		return ivr.Ticket{ID: "1001", Subject: "database down", Priority: oncall.Critical, Level: oncall.L2}, nil
	}
	return ivr.Ticket{}, errs.E(errs.NotFound, "", "no ticket %s", id)
}

func (d *desk) OpenTicket(_ context.Context, t ivr.NewTicket) (ivr.Ticket, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opened++
	return ivr.Ticket{ID: "2001", Priority: t.Priority, Level: oncall.L1}, nil
}

func (d *desk) AddNote(context.Context, string, string) error { return nil }

func (d *desk) OnCall(_ context.Context, level oncall.Level, layer oncall.Layer, _ time.Time) (oncall.Engineer, bool, error) {
	id := int64(level)*10 + int64(layer)
	return oncall.Engineer{ID: id, Name: level.String() + " " + layer.String(), Level: level,
		Languages: []oncall.Language{oncall.Russian, oncall.English},
		Contacts:  []oncall.ContactMethod{{Phone: "+120255501" + string(rune('0'+id/10)) + string(rune('0'+id%10))}}}, true, nil
}

func (d *desk) RequestPage(_ context.Context, p ivr.PageRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pages = append(d.pages, p)
	return nil
}

func (d *desk) Language(_ context.Context, caller string) (oncall.Language, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.langs[caller]
	return l, ok, nil
}

func (d *desk) SetLanguage(_ context.Context, caller string, l oncall.Language) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.langs[caller] = l
	return nil
}

func (d *desk) SaveCall(_ context.Context, r ivr.CallRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, r)
	return nil
}

func newFlow(t *testing.T) (*ivr.Flow, *desk) {
	t.Helper()
	d := &desk{langs: map[string]oncall.Language{}}
	f, err := ivr.New(ivr.DefaultConfig(), ivr.Deps{Tickets: d, Roster: d, Pages: d, Preferences: d, Calls: d})
	if err != nil {
		t.Fatal(err)
	}
	return f, d
}

// call runs a simulated call with the typed lines as input, on a clock that
// moves a second per event and timers that never fire.
func call(t *testing.T, f *ivr.Flow, line, caller string, typed ...string) string {
	t.Helper()
	var out strings.Builder
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Second); return now }
	err := simulator.Run(context.Background(), f, strings.NewReader(strings.Join(typed, "\n")+"\n"), &out, simulator.Options{
		Line: line, Caller: caller, CallID: "SIM-1", Now: clock,
		After: func(time.Duration) <-chan time.Time { return nil },
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return out.String()
}

func TestCriticalTicketReachesL2(t *testing.T) {
	f, d := newFlow(t)
	out := call(t, f, "+74996383867", "+15550001111",
		"",      // no key: stay in Russian
		"1001#", // the ticket
		"n",     // L2 primary does not answer
		"a",     // L2 secondary answers…
		"1",     // …and accepts
		"h")     // the caller hangs up after talking
	for _, want := range []string{
		"Здравствуйте", "For English, press 9",
		"1001", "ringing L2 primary at +12025550121 (their phone shows +74996383867",
		"ringing L2 secondary", "connected", "call finished: connected",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(d.calls) != 1 || d.calls[0].EngineerID != 22 || d.calls[0].TicketID != "1001" {
		t.Errorf("call log %+v, want one call answered by engineer 22 on ticket 1001", d.calls)
	}
}

func TestNoTicketVoicemailInEnglish(t *testing.T) {
	f, d := newFlow(t)
	out := call(t, f, "+12025952118", "",
		"",                                      // stay in English
		"*",                                     // no ticket
		"2",                                     // urgent
		"b",                                     // L1 primary busy
		"m",                                     // L1 secondary: answering machine
		"n",                                     // L2 primary
		"n",                                     // L2 secondary
		"n",                                     // L3 primary
		"n",                                     // L3 secondary
		"Server room is flooding, call me back") // the voicemail
	for _, want := range []string{"Hello, you have reached", "Для русского языка нажмите 9", "2001", "recording", "call finished: voicemail"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(d.pages) != 1 || d.pages[0].Priority != oncall.Urgent || d.pages[0].TicketID != "2001" {
		t.Errorf("pages %+v, want one urgent page for ticket 2001", d.pages)
	}
}

func TestInputClosedHangsUp(t *testing.T) {
	f, d := newFlow(t)
	out := call(t, f, "+74996383867", "+15550001111", "9")
	if !strings.Contains(out, "input closed") || len(d.calls) != 1 || d.calls[0].Outcome != ivr.OutcomeHungUp {
		t.Errorf("calls %+v, want one hung-up call:\n%s", d.calls, out)
	}
}
