package simulator_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/ivr/ivrtest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/simulator"
	"github.com/supportdesk/ivr/store"
)

// newDesk returns an in-memory support desk (ivrtest's): one ticket, 1001
// (critical, L2), new tickets opened as 2001, one engineer per level and
// layer (engineer 10×level+layer, phone +120255501<id>), callers' languages
// remembered, and a record of what the flow did.
func newDesk() *ivrtest.Desk {
	d := ivrtest.NewDesk()
	d.Tickets.Add(ivr.Ticket{ID: "1001", Subject: "database down", Priority: oncall.Critical, Level: oncall.L2})
	d.Tickets.OpenedID = "2001"
	for _, level := range []oncall.Level{oncall.L1, oncall.L2, oncall.L3} {
		for _, layer := range []oncall.Layer{oncall.Primary, oncall.Secondary} {
			id := int64(level)*10 + int64(layer)
			d.Roster.Put(level, layer, oncall.Engineer{ID: id, Name: level.String() + " " + layer.String(), Level: level,
				Languages: []oncall.Language{oncall.Russian, oncall.English},
				Contacts:  []oncall.ContactMethod{{Phone: fmt.Sprintf("+120255501%02d", id), SMS: true}}})
		}
	}
	return d
}

func newFlow(t *testing.T) (*ivr.Flow, *ivrtest.Desk) {
	t.Helper()
	d := newDesk()
	f, err := ivr.New(ivr.DefaultConfig(), d.Deps())
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
	if calls := d.Calls.Records(); len(calls) != 1 || calls[0].EngineerID != 22 || calls[0].TicketID != "1001" {
		t.Errorf("call log %+v, want one call answered by engineer 22 on ticket 1001", calls)
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
	for _, want := range []string{"Hello, you have reached", "Чтобы продолжить на русском языке, нажмите 9", "2001", "recording", "call finished: voicemail"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if pages := d.Pages.Pages(); len(pages) != 1 || pages[0].Priority != oncall.Urgent || pages[0].TicketID != "2001" {
		t.Errorf("pages %+v, want one urgent page for ticket 2001", pages)
	}
}

func TestInputClosedHangsUp(t *testing.T) {
	f, d := newFlow(t)
	out := call(t, f, "+74996383867", "+15550001111", "9")
	if calls := d.Calls.Records(); !strings.Contains(out, "input closed") || len(calls) != 1 || calls[0].Outcome != ivr.OutcomeHungUp {
		t.Errorf("calls %+v, want one hung-up call:\n%s", calls, out)
	}
}

// clock is the simulated call's and the pager's time: a second passes at
// each reading, and no timer ever fires.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

func (c *clock) After(time.Duration) <-chan time.Time { return nil }

// deskRoster is the desk's on-call answers as the pager asks them.
type deskRoster struct{ d *ivrtest.Desk }

func (r deskRoster) OnCall(level oncall.Level, layer oncall.Layer, t time.Time) (oncall.Engineer, bool) {
	e, ok, _ := r.d.Roster.OnCall(context.Background(), level, layer, t)
	return e, ok
}

type defaultPolicies struct{}

func (defaultPolicies) Policy(_ context.Context, p oncall.Priority) (oncall.Policy, error) {
	return oncall.DefaultPolicy(p), nil
}

// pagedDesk is the desk with a real pager behind the flow: its engine over
// a SQLite store, with the simulator's phones as channels.
type pagedDesk struct {
	*ivrtest.Desk
	flow  *ivr.Flow
	eng   *pager.Engine
	pager *simulator.Pager
	clock *clock
}

func newPagedFlow(t *testing.T) *pagedDesk {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "pages.db"), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	d := newDesk()
	clk := &clock{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	phones := simulator.NewPhones()
	channels := phones.Channels()
	channels[pager.KindNote] = pager.NoteChannel{Tickets: d.Tickets}
	rules := pager.Rules{LineNames: map[string]string{"+12025952118": "Washington", "+74996383867": "Moscow"}}
	eng, err := pager.New(pager.Config{Store: db, Channels: channels, Roster: deskRoster{d}, Policies: defaultPolicies{}, Rules: rules, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	deps := d.Deps()
	deps.Pages = eng
	f, err := ivr.New(ivr.DefaultConfig(), deps)
	if err != nil {
		t.Fatal(err)
	}
	return &pagedDesk{Desk: d, flow: f, eng: eng, clock: clk,
		pager: &simulator.Pager{Engine: eng, Phones: phones, Rules: rules, CallerID: "+74996383867", SMSFrom: "+12025952118"}}
}

// call runs a simulated call that leaves a voicemail in English, then the
// engineer's answers to the page.
func (d *pagedDesk) voicemail(t *testing.T, engineer ...string) string {
	t.Helper()
	typed := append([]string{"", "*", "2", "n", "n", "n", "n", "n", "n", "the server room is flooding"}, engineer...)
	var out strings.Builder
	err := simulator.Run(context.Background(), d.flow, strings.NewReader(strings.Join(typed, "\n")+"\n"), &out, simulator.Options{
		Line: "+12025952118", Caller: "+15550001111", CallID: "SIM-1", Now: d.clock.Now, After: d.clock.After, Pager: d.pager,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return out.String()
}

func (d *pagedDesk) page(t *testing.T) (pager.Page, []pager.Attempt) {
	t.Helper()
	p, atts, err := d.eng.Page(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return p, atts
}

func wants(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestVoicemailPageAcknowledgedByVoice: right after the voicemail the page
// call to the L1 engineer is shown with what they hear; pressing 1
// acknowledges the page.
func TestVoicemailPageAcknowledgedByVoice(t *testing.T) {
	d := newPagedFlow(t)
	out := d.voicemail(t, "1")
	wants(t, out, "call finished: voicemail", "page raised",
		"📟 page 1 raised: urgent, ticket 2001",
		"📞 page call to L1 primary (+12025550111) from +74996383867: «Вас вызывает дежурная служба поддержки.",
		"Клиент оставил голосовое сообщение", "Нажмите 1, чтобы принять вызов.»",
		"L1 primary hears [ru]: Спасибо, вы приняли вызов.",
		"✔ page 1 acknowledged by L1 primary (voice)")
	if strings.Index(out, "call finished") > strings.Index(out, "page call to") {
		t.Errorf("the page call shows before the call is over:\n%s", out)
	}
	if p, _ := d.page(t); p.Status != pager.Acknowledged || p.AckVia != pager.ViaVoice || p.AckedBy != 11 {
		t.Errorf("page %+v, want acknowledged by engineer 11 by voice", p)
	}
}

// TestVoicemailPageRingsOutThenText: the engineer lets the page call ring
// out; the text follows, and replying with its code acknowledges.
func TestVoicemailPageRingsOutThenText(t *testing.T) {
	d := newPagedFlow(t)
	out := d.voicemail(t, "n", "1")
	wants(t, out, "📞 page call to L1 primary",
		"✉  text to L1 primary (+12025550111) from +12025952118: СРОЧНЫЙ вызов 1, заявка 2001",
		"reply> (the page's code 1 acknowledges",
		"✉  text to L1 primary (+12025550111): Вызов 1 (заявка 2001, срочный) принят вами.",
		"✔ page 1 acknowledged by L1 primary (sms)")
	if p, _ := d.page(t); p.Status != pager.Acknowledged || p.AckVia != pager.ViaSMS {
		t.Errorf("page %+v, want acknowledged by text", p)
	}
}

// TestVoicemailPageInputClosed: nobody is there to play the engineer: the
// page call goes unanswered, the text is shown, the page stays open for
// its next step, and nothing is left in flight in the store.
func TestVoicemailPageInputClosed(t *testing.T) {
	d := newPagedFlow(t)
	out := d.voicemail(t)
	wants(t, out, "📞 page call to L1 primary", "(input closed: the engineer does not answer)",
		"✉  text to L1 primary", "page 1 is still open: nobody acknowledged it; its next step is due at")
	p, atts := d.page(t)
	if p.Status != pager.Open {
		t.Errorf("page %+v, want open", p)
	}
	for _, a := range atts {
		if a.Open() {
			t.Errorf("attempt %+v left in the outbox", a)
		}
	}
}

func TestReadbackAndTicketAtTheGreeting(t *testing.T) {
	f, _ := newFlow(t)
	out := call(t, f, "+74996383867", "+15550001111",
		"1001#", // the ticket, typed during the greeting
		"h")
	// The pause after the number shows as a comma.
	for _, want := range []string{"caller hears [ru]: Заявка номер 1001, приоритет критический. Пожалуйста, оставайтесь на линии",
		"ringing L2 primary"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Введите номер вашей заявки") {
		t.Errorf("asked for the ticket typed during the greeting:\n%s", out)
	}

	f, _ = newFlow(t)
	out = call(t, f, "+12025952118", "", "", "*", "2", "h")
	if want := "caller hears [en]: We will register your request with urgent priority. Your new ticket number is 2001. Please stay on the line"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

func TestHoldKeyLeavesAMessage(t *testing.T) {
	f, d := newFlow(t)
	out := call(t, f, "+12025952118", "",
		"",      // stay in English
		"1001#", // the ticket
		"1",     // on hold, while L2 primary's phone rings: leave a message
		"The database is down again")
	for _, want := range []string{"press 1 at any time", "the service stops ringing", "recording", "call finished: voicemail"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if pages := d.Pages.Pages(); len(pages) != 1 || pages[0].TicketID != "1001" || pages[0].VoicemailURL == "" {
		t.Errorf("pages %+v, want one page for ticket 1001 with the voicemail", pages)
	}
}
