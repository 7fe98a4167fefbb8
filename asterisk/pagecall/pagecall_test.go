package pagecall_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/asterisk/pagecall"
	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/webhooks"
)

func TestMain(m *testing.M) { os.Exit(asterisktest.Main(m)) }

// rig is one test's pager: a real store with the demo team, a real
// engine over it whose voice channel calls through the test binary's
// Asterisk (as the application pagecall.DefaultApp, through arilink), and
// a stand-in for texts that records them.
type rig struct {
	ast *asterisktest.Asterisk
	// engineerID is the L1 engineer's, ua their phone.
	engineerID  int64
	ua          *asterisktest.UA
	client      *asterisktest.UA // with setup.client
	db          *store.DB
	svc         *oncall.Service
	eng         *pager.Engine
	ch          *pagecall.Channel
	events      *recorder
	changed     chan struct{} // a token after each attempt ends (the engine's observer)
	texts       *texts
	log         *zap.Logger
	cutter      *cutter      // with setup.cut
	reconnected atomic.Int64 // reconnections of the link
}

// observer wakes the test at each attempt's end.
type observer struct{ changed chan struct{} }

func (o observer) Sent(pager.Kind, time.Duration) {}
func (o observer) Ended(pager.Kind, pager.Outcome) {
	select {
	case o.changed <- struct{}{}:
	default:
	}
}

// texts is the text channel: it records what it is asked to send.
type texts struct {
	mu   sync.Mutex
	sent []pager.Attempt
}

func (s *texts) Send(_ context.Context, a pager.Attempt) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, a)
	return "SM" + strconv.FormatInt(a.ID, 10), nil
}

func (s *texts) Find(context.Context, pager.Attempt) (string, error) { return "", nil }

// setup is how a test's pager and engineer are made.
type setup struct {
	file    string        // the scenario the L1 engineer's phone runs (testdata/)
	ringFor time.Duration // how long page calls ring
	repeats int           // how often the page is asked; 0: the default
	// voice makes the engine's voice channel from the Asterisk one (and
	// the endpoints of the engineers' numbers); nil: the Asterisk one.
	voice func(ch *pagecall.Channel, endpoints map[string]string) pager.Channel
	// dial, if set, replaces the engineer's endpoint.
	dial string
	// cut puts a cutter between the link and Asterisk's events websocket.
	cut bool
	// client, if set, is the scenario of the client's phone (clientPhone),
	// for calls back.
	client string
}

// clientPhone is the number of the client who raised a page by calling.
const clientPhone = "+79161234567"

// newRig starts the pager as s says, with the L1 engineer's phone a sipp
// user agent.
func newRig(t *testing.T, s setup) *rig {
	t.Helper()
	ast := asterisktest.Start(t)
	// Registered first, so run last: once the pager, the link, the store
	// and the phones have stopped, no goroutine is left of the test's.
	asterisktest.GoroutinesBack(t)
	log := zaptest.NewLogger(t)
	db, svc := storetest.OpenDemo(t, log)
	r := &rig{ast: ast, db: db, svc: svc, changed: make(chan struct{}, 1), texts: &texts{}, log: log}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Asterisk's log (the end):\n%s", ast.LogTail())
		}
	})
	endpoints := r.engineer(t, s.file)
	if s.dial != "" {
		for phone := range endpoints {
			endpoints[phone] = s.dial
		}
	}
	if s.client != "" {
		path, err := filepath.Abs(filepath.Join("testdata", s.client))
		if err != nil {
			t.Fatal(err)
		}
		name := "client-" + strconv.FormatInt(phones.Add(1), 10)
		r.client = ast.StartUA(t, name, "-sf", path)
		ast.AddEndpoint(t, name, r.client.Port)
		endpoints[clientPhone] = "PJSIP/" + name
	}
	if s.voice == nil {
		s.voice = func(ch *pagecall.Channel, _ map[string]string) pager.Channel { return ch }
	}

	// As serve wires it: the channel first, its client given by the
	// link at each connection, which also has it look for what a
	// reconnection's gap lost.
	var link *arilink.Link
	ch, err := pagecall.New(pagecall.Config{Endpoints: endpoints, SoundsDir: ast.Prompts(t),
		Ready: func() error { return link.Ready() }, RingFor: s.ringFor, KeyWait: 2 * time.Second, Repeats: s.repeats, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	r.ch = ch
	eventsURL := ast.EventsURL
	if s.cut {
		r.cutter = cutEvents(t, ast)
		eventsURL = "ws://" + r.cutter.ln.Addr().String() + "/ari/events"
	}
	connected := make(chan ari.Client, 1)
	link, err = arilink.New(arilink.Config{URL: ast.ARIURL, WebsocketURL: eventsURL,
		Username: ast.User, Password: ast.Password, Application: pagecall.DefaultApp, Log: log,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnConnect: func(_ context.Context, c arilink.Connection) {
			ch.SetClient(c.Client)
			if c.Seq > 1 {
				ch.Reconcile()
				r.reconnected.Add(1)
			}
			select {
			case connected <- c.Client:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	linkCtx, stopLink := context.WithCancel(context.Background())
	linked := make(chan error, 1)
	go func() { linked <- link.Run(linkCtx) }()
	t.Cleanup(func() {
		stopLink()
		if err := <-linked; err != nil {
			t.Errorf("arilink Run: %v", err)
		}
	})
	var client ari.Client
	select {
	case client = <-connected:
	case <-time.After(15 * time.Second):
		t.Fatalf("arilink did not connect within 15 s: %v", link.Ready())
	}
	r.events = record(t, client)

	r.eng, err = pager.New(pager.Config{Store: db, Roster: roster{svc}, Policies: svc, Log: log.Named("pager"),
		Channels: map[pager.Kind]pager.Channel{pager.KindVoice: s.voice(r.ch, endpoints), pager.KindSMS: r.texts},
		Observer: observer{r.changed}, DoubtGrace: 100 * time.Millisecond, RetryBase: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.ch.SetPages(r.eng)

	ctxRun, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.ch.Run(ctxRun); err != nil {
			t.Errorf("pagecall Run: %v", err)
		}
	})
	wg.Go(func() {
		if err := r.eng.Run(ctxRun); err != nil {
			t.Errorf("pager Run: %v", err)
		}
	})
	// Cleanups run last first: the channel and the engine stop before the
	// recorder and the link.
	t.Cleanup(func() {
		stop()
		wg.Wait()
		if n := r.ch.Calls(); n != 0 {
			t.Errorf("%d page calls still served after Run returned", n)
		}
	})
	return r
}

// roster answers the pager's on-call questions from the schedule, as
// cmd/ivr's does.
type roster struct{ svc *oncall.Service }

func (r roster) OnCall(level oncall.Level, layer oncall.Layer, t time.Time) (oncall.Engineer, bool) {
	a, ok := r.svc.OnCall(level, layer, t)
	return a.Engineer, ok
}

// phones numbers the engineers' user agents of the test binary.
var phones atomic.Int64

// engineer gives the L1 primary on call now a sipp user agent running
// scenario (testdata/<file>) as their phone; it returns the endpoints
// that ring it for each of their numbers.
func (r *rig) engineer(t *testing.T, file string) map[string]string {
	t.Helper()
	a, ok := r.svc.OnCall(oncall.L1, oncall.Primary, time.Now())
	if !ok || len(a.Engineer.Contacts) == 0 {
		t.Fatal("nobody with a number on call at L1")
	}
	path, err := filepath.Abs(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	name := "engineer-" + strconv.FormatInt(phones.Add(1), 10)
	ua := r.ast.StartUA(t, name, "-sf", path)
	r.ast.AddEndpoint(t, name, ua.Port)
	endpoints := map[string]string{}
	for _, c := range a.Engineer.Contacts {
		endpoints[c.Phone] = "PJSIP/" + name
	}
	r.engineerID, r.ua = a.Engineer.ID, ua
	return endpoints
}

// raise pages L1 about a critical matter (voice at any hour).
func (r *rig) raise(t *testing.T) pager.Page {
	t.Helper()
	p, _, err := r.eng.Raise(t.Context(), pager.Request{Key: "api:" + t.Name(), Source: pager.FromAPI,
		Priority: oncall.Critical, Level: oncall.L1, Summary: "the database is down", RaisedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitPage waits until page id satisfies ok, rechecking after each
// attempt's end, for at most within.
func (r *rig) waitPage(t *testing.T, id int64, within time.Duration, what string,
	ok func(pager.Page, []pager.Attempt) bool) (pager.Page, []pager.Attempt) {
	t.Helper()
	deadline := time.After(within)
	for {
		p, atts, err := r.eng.Page(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(p, atts) {
			return p, atts
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("%s: not within %s; the page is %s, its log %+v, its attempts %+v", what, within, p.Status, p.Log, atts)
		}
	}
}

// voiceAttempt is the page's voice attempt to engineer id.
func voiceAttempt(atts []pager.Attempt, id int64) (pager.Attempt, bool) {
	for _, a := range atts {
		if a.Kind == pager.KindVoice && a.Purpose == pager.PurposePage && a.EngineerID == id {
			return a, true
		}
	}
	return pager.Attempt{}, false
}

// noChannels checks that Asterisk has no channel left.
func (r *rig) noChannels(t *testing.T) {
	t.Helper()
	var chans []struct {
		ID string `json:"id"`
	}
	r.ast.ARI(t, "GET", "/channels", &chans)
	if len(chans) > 0 {
		t.Errorf("channels left in Asterisk: %+v", chans)
	}
}

// The page reaches the L1 engineer's phone through Asterisk: they hear the
// page (its intro plays), press 1, and the page is theirs, acknowledged by
// voice; they hear the thanks and the call ends.
func TestPageAcknowledgedByVoice(t *testing.T) {
	r := newRig(t, setup{file: "engineer_acks.xml", ringFor: 10 * time.Second})
	p := r.raise(t)
	got, atts := r.waitPage(t, p.ID, 30*time.Second, "the page acknowledged", func(p pager.Page, _ []pager.Attempt) bool {
		return p.Status == pager.Acknowledged
	})
	if got.AckedBy != r.engineerID || got.AckVia != pager.ViaVoice {
		t.Errorf("acknowledged by %d via %s, want %d (the L1 engineer) via voice", got.AckedBy, got.AckVia, r.engineerID)
	}
	a, ok := voiceAttempt(atts, r.engineerID)
	if !ok || a.Outcome != pager.Acked || !strings.HasPrefix(a.ProviderID, "ivr-page-") {
		t.Errorf("the voice attempt is %+v, want acknowledged with the Asterisk channel's id", a)
	}
	if err := r.ua.Wait(); err != nil { // the BYE came after the thanks
		t.Fatalf("%v\n%s", err, r.ua.Output())
	}
	r.events.waitDestroyed(t, a.ProviderID)
	if !r.events.played(a.ProviderID, "page_intro") {
		t.Errorf("the page call's intro was not played; playbacks: %v", r.events.playbacks(a.ProviderID))
	}
	if !r.events.played(a.ProviderID, "page_acked") {
		t.Errorf("the engineer was not thanked after the 1; playbacks: %v", r.events.playbacks(a.ProviderID))
	}
	if r.events.played(a.ProviderID, "page_press_ack") {
		// The 1, 1.5 s into the announcement, stopped it (barge-in).
		t.Errorf("the announcement played on after the key: %v", r.events.playbacks(a.ProviderID))
	}
	r.noChannels(t)
}

// An engineer who lets the page call ring out: the attempt ends no-answer
// and the page goes on by text to the same engineer.
func TestPageNoAnswerGoesOnByText(t *testing.T) {
	r := newRig(t, setup{file: "engineer_no_answer.xml", ringFor: 3 * time.Second})
	p := r.raise(t)
	_, atts := r.waitPage(t, p.ID, 30*time.Second, "a text after the unanswered call", func(_ pager.Page, atts []pager.Attempt) bool {
		for _, a := range atts {
			if a.Kind == pager.KindSMS && a.Purpose == pager.PurposePage && a.EngineerID == r.engineerID {
				return true
			}
		}
		return false
	})
	a, ok := voiceAttempt(atts, r.engineerID)
	if !ok || a.Outcome != pager.NoAnswer {
		t.Errorf("the voice attempt is %+v, want no-answer", a)
	}
	if err := r.ua.Wait(); err != nil { // the CANCEL came
		t.Fatalf("%v\n%s", err, r.ua.Output())
	}
	r.events.waitDestroyed(t, a.ProviderID)
	r.noChannels(t)
}

// With Twilio unreachable (its REST API on a port nobody listens on), the
// page call goes out through Asterisk, and the engineer's 1 acknowledges.
func TestPageFallsBackToAsteriskWhenTwilioIsUnreachable(t *testing.T) {
	twilio := unreachableTwilio(t)
	r := newRig(t, setup{file: "engineer_acks.xml", ringFor: 10 * time.Second, voice: func(ch *pagecall.Channel, _ map[string]string) pager.Channel {
		return pagecall.Fallback{Primary: twilio, Secondary: ch, Log: zaptest.NewLogger(t)}
	}})
	p := r.raise(t)
	got, atts := r.waitPage(t, p.ID, 30*time.Second, "the page acknowledged", func(p pager.Page, _ []pager.Attempt) bool {
		return p.Status == pager.Acknowledged
	})
	if got.AckedBy != r.engineerID || got.AckVia != pager.ViaVoice {
		t.Errorf("acknowledged by %d via %s, want %d via voice", got.AckedBy, got.AckVia, r.engineerID)
	}
	a, _ := voiceAttempt(atts, r.engineerID)
	if !strings.HasPrefix(a.ProviderID, "ivr-page-") || a.Tries != 1 {
		t.Errorf("the voice attempt is %+v, want made through Asterisk at the first try", a)
	}
	if err := r.ua.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, r.ua.Output())
	}
	r.events.waitDestroyed(t, a.ProviderID)
	r.noChannels(t)
}

// textFollows waits until page id has a page text to the L1 engineer,
// and returns the page's voice attempt to them.
func (r *rig) textFollows(t *testing.T, id int64) pager.Attempt {
	t.Helper()
	_, atts := r.waitPage(t, id, 60*time.Second, "a text after the page call", func(_ pager.Page, atts []pager.Attempt) bool {
		for _, a := range atts {
			if a.Kind == pager.KindSMS && a.Purpose == pager.PurposePage && a.EngineerID == r.engineerID {
				return true
			}
		}
		return false
	})
	a, _ := voiceAttempt(atts, r.engineerID)
	return a
}

// A busy engineer (486): the attempt ends busy and the page goes on by
// text.
func TestPageBusyGoesOnByText(t *testing.T) {
	r := newRig(t, setup{file: "engineer_busy.xml", ringFor: 10 * time.Second})
	p := r.raise(t)
	a := r.textFollows(t, p.ID)
	if a.Outcome != pager.Busy {
		t.Errorf("the voice attempt is %+v, want busy", a)
	}
	if err := r.ua.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, r.ua.Output())
	}
	r.events.waitDestroyed(t, a.ProviderID)
	r.noChannels(t)
}

// An engineer who answers and presses nothing hears the page asked again,
// then goodbye; the attempt ends answered without the key and the page
// goes on by text.
func TestPageAnsweredWithoutKey(t *testing.T) {
	r := newRig(t, setup{file: "engineer_silent.xml", ringFor: 10 * time.Second, repeats: 2})
	p := r.raise(t)
	a := r.textFollows(t, p.ID)
	if a.Outcome != pager.NoKey {
		t.Errorf("the voice attempt is %+v, want answered-no-key", a)
	}
	if err := r.ua.Wait(); err != nil { // hung up after the goodbye
		t.Fatalf("%v\n%s", err, r.ua.Output())
	}
	r.events.waitDestroyed(t, a.ProviderID)
	plays := r.events.playbacks(a.ProviderID)
	asks := 0
	for _, pl := range plays {
		if strings.HasSuffix(pl, "/page_press_ack") {
			asks++
		}
	}
	if asks != 2 || !r.events.played(a.ProviderID, "page_no_key") {
		t.Errorf("asked %d times (want 2), then the goodbye? playbacks: %v", asks, plays)
	}
	r.noChannels(t)
}

// A page call Asterisk cannot place (no such endpoint) fails, and the
// page goes on by text at once.
func TestPageCallThatCannotBePlacedFails(t *testing.T) {
	r := newRig(t, setup{file: "engineer_busy.xml", ringFor: 10 * time.Second, dial: "PJSIP/nobody-here"})
	p := r.raise(t)
	a := r.textFollows(t, p.ID)
	if a.Outcome != pager.Failed {
		t.Errorf("the voice attempt is %+v, want failed", a)
	}
	r.noChannels(t)
}

// lostAnswer is a voice channel whose requests reach Asterisk but whose
// answers are lost (a timeout, or an instance that died after the
// request): it originates the page call itself, as the Asterisk channel
// would, and reports the request in doubt; its look-ups are the Asterisk
// channel's.
type lostAnswer struct {
	*pagecall.Channel
	ast       *asterisktest.Asterisk
	endpoints map[string]string
}

func (l lostAnswer) Send(ctx context.Context, a pager.Attempt) (string, error) {
	id := strconv.FormatInt(a.ID, 10)
	q := url.Values{"endpoint": {l.endpoints[a.To]}, "app": {pagecall.DefaultApp}, "appArgs": {pagecall.ArgPage + "," + id},
		"channelId": {"ivr-page-" + id + "-lost"}, "timeout": {"10"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.ast.ARIURL+"/channels?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(l.ast.User, l.ast.Password)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("originate: %s", res.Status)
	}
	return "", &pager.SendError{Class: pager.Doubt, Err: errors.New("the answer of the originate was lost")}
}

// A page call made whose answer was lost: the engine looks for it before
// any resend, the Asterisk channel finds it in Asterisk and serves it, and
// the engineer's 1 acknowledges the page; the engineer is called once.
func TestPageCallInDoubtIsFoundAndServed(t *testing.T) {
	r := newRig(t, setup{file: "engineer_acks.xml", ringFor: 10 * time.Second,
		voice: func(ch *pagecall.Channel, endpoints map[string]string) pager.Channel {
			return lostAnswer{Channel: ch, ast: asterisktest.Start(t), endpoints: endpoints}
		}})
	p := r.raise(t)
	got, atts := r.waitPage(t, p.ID, 30*time.Second, "the page acknowledged", func(p pager.Page, _ []pager.Attempt) bool {
		return p.Status == pager.Acknowledged
	})
	if got.AckedBy != r.engineerID || got.AckVia != pager.ViaVoice {
		t.Errorf("acknowledged by %d via %s, want %d via voice", got.AckedBy, got.AckVia, r.engineerID)
	}
	a, _ := voiceAttempt(atts, r.engineerID)
	if a.ProviderID != fmt.Sprintf("ivr-page-%d-lost", a.ID) || a.Tries != 1 {
		t.Errorf("the voice attempt is %+v, want the call in doubt found (one try)", a)
	}
	if err := r.ua.Wait(); err != nil { // one call (sipp takes one), thanked and hung up
		t.Fatalf("%v\n%s", err, r.ua.Output())
	}
	r.events.waitDestroyed(t, a.ProviderID)
	if !r.events.played(a.ProviderID, "page_intro") {
		t.Errorf("the call found was not served: playbacks %v", r.events.playbacks(a.ProviderID))
	}
	r.noChannels(t)
}

// A page a client's voicemail raised: the engineer presses 1, hears the
// thanks and the offer to call the client back, presses 3, hears that
// the client is called, and is bridged with the client (called from the
// line they called); when the client hangs up the engineer hears the call
// ended. The page's log has the call back and how it went.
func TestPageCallBackTheClient(t *testing.T) {
	r := newRig(t, setup{file: "engineer_calls_back.xml", ringFor: 10 * time.Second, client: "client_answers.xml"})
	p, _, err := r.eng.Raise(t.Context(), pager.Request{Key: "call:" + t.Name(), Source: pager.FromCall, Priority: oncall.Critical,
		Level: oncall.L1, Line: asterisktest.Moscow, Caller: clientPhone, Language: oncall.Russian, RaisedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	r.waitPage(t, p.ID, 30*time.Second, "the page acknowledged", func(p pager.Page, _ []pager.Attempt) bool {
		return p.Status == pager.Acknowledged
	})
	for _, ua := range []*asterisktest.UA{r.client, r.ua} { // the client hung up, then the engineer was
		if err := ua.Wait(); err != nil {
			t.Fatalf("%v\n%s", err, ua.Output())
		}
	}
	got, atts, err := r.eng.Page(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var calling, called string
	for _, e := range got.Log {
		switch e.What {
		case "calling back":
			calling = e.Detail
		case "called back":
			called = e.Detail
		}
	}
	if calling == "" || !strings.Contains(called, "talked") || !strings.Contains(called, clientPhone) {
		t.Errorf("the page's log says %q then %q, want the call back to %s and that they talked; log %+v", calling, called, clientPhone, got.Log)
	}
	a, _ := voiceAttempt(atts, r.engineerID)
	r.events.waitDestroyed(t, a.ProviderID)
	// The thanks that lead to the offer (the 3, pressed during it, stops
	// it), that the client is called, that the call ended.
	for _, name := range []string{"page_acked_more", "page_calling_client", "page_call_ended"} {
		if !r.events.played(a.ProviderID, name) {
			t.Errorf("the engineer did not hear %s: %v", name, r.events.playbacks(a.ProviderID))
		}
	}
	r.noChannels(t)
}

// A client who is busy when called back: the engineer hears that the
// client did not answer and the offer again, then goodbye; the page's log
// says the client was not reached.
func TestPageCallBackClientBusy(t *testing.T) {
	r := newRig(t, setup{file: "engineer_calls_back.xml", ringFor: 10 * time.Second, repeats: 1, client: "engineer_busy.xml"})
	p, _, err := r.eng.Raise(t.Context(), pager.Request{Key: "call:" + t.Name(), Source: pager.FromCall, Priority: oncall.Critical,
		Level: oncall.L1, Line: asterisktest.Moscow, Caller: clientPhone, RaisedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, ua := range []*asterisktest.UA{r.client, r.ua} {
		if err := ua.Wait(); err != nil {
			t.Fatalf("%v\n%s", err, ua.Output())
		}
	}
	got, atts, err := r.eng.Page(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var called string
	for _, e := range got.Log {
		if e.What == "called back" {
			called = e.Detail
		}
	}
	if got.Status != pager.Acknowledged || !strings.Contains(called, "no answer (busy)") {
		t.Errorf("the page is %s, its call back logged %q; want acknowledged, no answer (busy)", got.Status, called)
	}
	a, _ := voiceAttempt(atts, r.engineerID)
	r.events.waitDestroyed(t, a.ProviderID)
	for _, name := range []string{"page_client_no_answer", "page_goodbye"} {
		if !r.events.played(a.ProviderID, name) {
			t.Errorf("the engineer did not hear %s: %v", name, r.events.playbacks(a.ProviderID))
		}
	}
	r.noChannels(t)
}

// unreachableTwilio is the Twilio driver's page-call channel with its REST
// API on a loopback port that refuses connections.
func unreachableTwilio(t *testing.T) pager.Channel {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	settings := webhooks.Settings{PublicURL: "http://127.0.0.1:1/", AccountSID: "AC" + strings.Repeat("0", 32),
		AuthToken: "testtoken0123456789", APIURL: "http://" + addr, RESTTimeout: 2 * time.Second}
	rest, err := webhooks.NewREST(settings)
	if err != nil {
		t.Fatal(err)
	}
	twp, err := webhooks.NewPager(webhooks.PagerConfig{PublicURL: settings.PublicURL, AuthToken: settings.AuthToken,
		AccountSID: settings.AccountSID, REST: rest, CallerID: asterisktest.Washington})
	if err != nil {
		t.Fatal(err)
	}
	return twp.Channels()[pager.KindVoice]
}

// recorder keeps the page calls' events the test looks at, from the
// channel's own client (a second websocket would take the application).
type recorder struct {
	mu     sync.Mutex
	events []ari.Event
	signal chan struct{}
}

func record(t *testing.T, client ari.Client) *recorder {
	r := &recorder{signal: make(chan struct{}, 1)}
	sub := client.Bus().Subscribe(ari.AppKey(pagecall.DefaultApp), ari.Events.PlaybackStarted, ari.Events.ChannelDestroyed)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for e := range sub.Events() {
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
			select {
			case r.signal <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		sub.Cancel()
		<-stopped
	})
	return r
}

// playbacks lists the prompts ("<lang>/<name>") played to channel id.
func (r *recorder) playbacks(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if p, ok := e.(*ari.PlaybackStarted); ok && p.Playback.TargetURI == "channel:"+id {
			uri := p.Playback.MediaURI
			parts := strings.Split(uri, "/")
			if len(parts) >= 2 {
				uri = parts[len(parts)-2] + "/" + parts[len(parts)-1]
			}
			out = append(out, uri)
		}
	}
	return out
}

// played reports whether prompt name played to channel id, in any
// language.
func (r *recorder) played(id, name string) bool {
	for _, p := range r.playbacks(id) {
		if strings.HasSuffix(p, "/"+name) {
			return true
		}
	}
	return false
}

// waitDestroyed waits for channel id's end.
func (r *recorder) waitDestroyed(t *testing.T, id string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if d, ok := e.(*ari.ChannelDestroyed); ok && d.Channel.ID == id {
				r.mu.Unlock()
				return
			}
		}
		r.mu.Unlock()
		select {
		case <-r.signal:
		case <-deadline:
			t.Fatalf("channel %s was not destroyed within 15 s", id)
		}
	}
}

// cutter relays TCP connections to Asterisk's HTTP port, for the events
// websocket, and cuts them on demand: the test's stand-in for a network
// that drops the websocket mid-call (as the driver's tests have it).
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool // refusing connections
	wg     sync.WaitGroup
}

func cutEvents(t *testing.T, ast *asterisktest.Asterisk) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(ast.ARIURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, target: u.Host}
	c.wg.Go(c.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		c.cut()
		c.wg.Wait()
	})
	return c
}

func (c *cutter) accept() {
	for {
		down, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		refusing := c.down
		c.mu.Unlock()
		if refusing {
			_ = down.Close()
			continue
		}
		up, err := net.Dial("tcp", c.target)
		if err != nil {
			_ = down.Close()
			continue
		}
		c.mu.Lock()
		c.conns = append(c.conns, down, up)
		c.mu.Unlock()
		for _, pair := range [][2]net.Conn{{up, down}, {down, up}} {
			c.wg.Go(func() {
				_, _ = io.Copy(pair[0], pair[1])
				_ = pair[0].Close()
				_ = pair[1].Close()
			})
		}
	}
}

// cut closes every relayed connection and refuses new ones until restore.
func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = true
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

func (c *cutter) restore() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = false
}

// pollARI checks cond against ARI every 50 ms until it holds, failing the
// test after within.
func pollARI(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("no %s within %v", what, within)
		case <-tick.C:
		}
	}
}

// The events websocket is cut while the page call rings, and the
// engineer answers in the gap: Asterisk, its application inactive, hangs
// the call up at once (its end never reaches the service). Once
// reconnected, the call looks at its channel, finds it gone, and ends the
// attempt, so that the page goes on by text; nothing is left behind.
func TestPageCallLostInAWebsocketGapEnds(t *testing.T) {
	r := newRig(t, setup{file: "engineer_answers_late.xml", ringFor: 15 * time.Second, cut: true})
	p := r.raise(t)
	var id string
	pollARI(t, 10*time.Second, "page call ringing", func() bool {
		var chans []struct {
			ID string `json:"id"`
		}
		r.ast.ARI(t, http.MethodGet, "/channels", &chans)
		for _, c := range chans {
			if strings.HasPrefix(c.ID, "ivr-page-") {
				id = c.ID
				return true
			}
		}
		return false
	})
	r.cutter.cut()
	pollARI(t, 10*time.Second, "the call hung up by Asterisk", func() bool {
		return r.ast.ARI(t, http.MethodGet, "/channels/"+id, nil) == http.StatusNotFound
	})
	if err := r.ua.Wait(); err != nil { // answered, then hung up
		t.Fatalf("%v\n%s", err, r.ua.Output())
	}
	r.cutter.restore()
	a := r.textFollows(t, p.ID)
	if a.ProviderID != id || a.Outcome != pager.NoAnswer || !strings.Contains(a.Detail, "gone") || r.reconnected.Load() == 0 {
		t.Errorf("the voice attempt is %+v after %d reconnections, want %s ended as gone after one", a, r.reconnected.Load(), id)
	}
	r.noChannels(t)
}
