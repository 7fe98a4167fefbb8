package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
)

// The page call after the key, and the paging number's dial-in, end to
// end: the real serve against the fake Twilio, a client's real call that
// ends in a voicemail, the engineer's keys.

const (
	moscowLine     = "+74996383867" // the first line: the pager's caller id by default
	washingtonLine = "+12025952118"
	clientPhone    = "+12025550151" // the client of demo ticket 1001
	stranger       = "+447700900123"
)

// startVoicemailRig is startPagerRig with the fake Twilio also sending the
// lines' calls to serve, so that a client can call one.
func startVoicemailRig(t *testing.T) *pagerRig {
	t.Helper()
	return startVoicemailRigWith(t, nil)
}

// startVoicemailRigWith is startVoicemailRig with more environment.
func startVoicemailRigWith(t *testing.T, extra map[string]string) *pagerRig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	fake := faketwilio.Start(t, faketwilio.Options{
		SMSWebhookURL:          base + "/webhooks/twilio/sms",
		VoiceWebhookURL:        base + "/webhooks/twilio/voice",
		VoiceStatusCallbackURL: base + "/webhooks/twilio/voice/status",
		ServiceNumber:          washingtonLine,
	})
	clock := newTestClock()
	vars := map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": fake.URL(), "TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none"}
	maps.Copy(vars, extra)
	env, _, errOut := testEnv(vars)
	env.clock = clock
	return &pagerRig{t: t, base: startWithEnv(t, env, errOut, "--demo", "--addr", addr), fake: fake, clock: clock}
}

// voicemailWAV is a short recording with something in it.
func voicemailWAV() []byte {
	data := bytes.Repeat([]byte{0x10, 0x20, 0x30, 0x40}, 8000) // 2 s of 8 kHz 16-bit mono
	h := []byte("RIFF")
	h = binary.LittleEndian.AppendUint32(h, uint32(36+len(data)))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint32(h, 8000)
	h = binary.LittleEndian.AppendUint32(h, 16000)
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(data)))
	return append(h, data...)
}

// leaveVoicemail is the client calling the Washington line about ticket
// 1001 (critical, L1): every engineer of the ring plan lets it ring out,
// and the client leaves wav. It returns the L1 primary engineer's name and
// phone: the one the page calls first.
func (r *pagerRig) leaveVoicemail(wav []byte) (name, phone string) {
	r.t.Helper()
	name, phone = r.onCall("L1", "primary")
	var rung []string
	seen := map[string]bool{}
	for _, lvl := range []string{"L1", "L2", "L3"} {
		for _, layer := range []string{"primary", "secondary"} {
			if _, p := r.onCall(lvl, layer); !seen[p] {
				seen[p] = true
				rung = append(rung, p)
			}
		}
	}
	in := r.fake.Phone(clientPhone).Dial(washingtonLine)
	if doc := in.Answer(); doc.Gather() == nil {
		r.t.Fatalf("the line's greeting asks nothing: %s", doc)
	}
	in.Silence()      // keep English
	in.Press("1001#") // the critical ticket
	for _, p := range rung {
		r.fake.Phone(p).ExpectCall().NoAnswer()
	}
	rec := in.WaitRedirect()
	if rec.First("Record") == nil {
		r.t.Fatalf("no voicemail after nobody answered: %s", rec)
	}
	in.Record(wav)
	if bye := in.WaitRedirect(); !bye.HangsUp() {
		r.t.Fatalf("after the message: %s, want goodbye", bye)
	}
	in.Hangup()
	return name, phone
}

// plays reports whether doc plays the prompt called name.
func plays(doc *faketwilio.TwiML, name string) bool {
	for _, u := range doc.Plays() {
		u, _, _ = strings.Cut(u, "?") // the audio's version
		if strings.HasSuffix(u, "/"+name+".wav") {
			return true
		}
	}
	return false
}

// signedRecording is the <Play> of doc that is a signed voicemail link.
func signedRecording(doc *faketwilio.TwiML) string {
	for _, u := range doc.Plays() {
		if strings.Contains(u, "/recordings/signed/") {
			return u
		}
	}
	return ""
}

type apiAttempt struct {
	Kind    string `json:"kind"`
	Purpose string `json:"purpose"`
	To      string `json:"to"`
	Body    string `json:"body"`
}

func (r *pagerRig) pageWithAttempts(id int64) (apiPage, []apiAttempt) {
	r.t.Helper()
	var out struct {
		Page     apiPage      `json:"page"`
		Attempts []apiAttempt `json:"attempts"`
	}
	if code := get(r.t, fmt.Sprintf("%s/api/v1/pages/%d", r.base, id), testAdminToken, &out); code != http.StatusOK {
		r.t.Fatalf("GET page %d: %d", id, code)
	}
	return out.Page, out.Attempts
}

// onlyPage returns the one page there is.
func (r *pagerRig) onlyPage() apiPage {
	r.t.Helper()
	var out struct {
		Pages []apiPage `json:"pages"`
	}
	if code := get(r.t, r.base+"/api/v1/pages", testAdminToken, &out); code != http.StatusOK || len(out.Pages) != 1 {
		r.t.Fatalf("GET /api/v1/pages: %d, %d pages; want one", code, len(out.Pages))
	}
	return out.Pages[0]
}

// ticketNotes returns the notes of ticket id.
func (r *pagerRig) ticketNotes(id string) []string {
	r.t.Helper()
	var out struct {
		Notes []struct {
			Text string `json:"text"`
		} `json:"notes"`
	}
	if code := get(r.t, r.base+"/api/v1/tickets/"+id, testAdminToken, &out); code != http.StatusOK {
		r.t.Fatalf("GET ticket %s: %d", id, code)
	}
	var notes []string
	for _, n := range out.Notes {
		notes = append(notes, n.Text)
	}
	return notes
}

// awaitNote waits for ticket id to get a note containing want. The note
// goes out through the pager's outbox, off the webhook that wrote it, so
// the test looks until it is there or within has passed.
func (r *pagerRig) awaitNote(id, want string, within time.Duration) {
	r.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, n := range r.ticketNotes(id) {
			if strings.Contains(n, want) {
				return
			}
		}
		select {
		case <-deadline.C:
			r.t.Fatalf("ticket %s has no note containing %q within %v: %q", id, want, within, r.ticketNotes(id))
		case <-tick.C:
		}
	}
}

func logged(p apiPage, what, contains string) bool {
	for _, e := range p.Log {
		if e.What == what && strings.Contains(e.Detail, contains) {
			return true
		}
	}
	return false
}

// TestVoicemailPageListenAndCallBack: a client's call ends in a voicemail
// on ticket 1001. The page call reaches the L1 engineer, who presses 1
// (acknowledged), 2 (hears the client's recording, played from a signed
// link that serves exactly that audio) and 3: the client's phone rings
// showing the line they called, they pick up and talk with the engineer,
// and the call back is logged on the page and noted on the ticket.
func TestVoicemailPageListenAndCallBack(t *testing.T) {
	r := startVoicemailRig(t)
	wav := voicemailWAV()
	name, phone := r.leaveVoicemail(wav)

	call := r.fake.Phone(phone).ExpectCall()
	if call.From() != moscowLine {
		t.Errorf("the page call comes from %s, want the pager's caller id %s", call.From(), moscowLine)
	}
	doc := call.Answer()
	if !plays(doc, "page_from_voicemail") || !plays(doc, "page_press_ack") {
		t.Fatalf("the page call does not announce a voicemail: %s", doc)
	}
	doc = call.Press("1")
	if !plays(doc, "page_acked_more") || !plays(doc, "page_press_listen") || !plays(doc, "page_press_callback") || doc.Gather() == nil {
		t.Fatalf("after 1: %s, want thanks and the menu", doc)
	}
	p := r.onlyPage()
	if p.Status != "acknowledged" || p.AckedByName != name || p.AckVia != "voice" {
		t.Fatalf("page after 1: %+v, want acknowledged by %s by voice", p, name)
	}

	// 2: the message, then the menu again.
	doc = call.Press("2")
	link := signedRecording(doc)
	if !plays(doc, "page_message") || link == "" || !strings.HasPrefix(link, r.base+"/recordings/signed/") || doc.Gather() == nil {
		t.Fatalf("after 2: %s, want the message from a signed link and the menu", doc)
	}
	res, err := http.Get(link) // as Twilio's <Play> fetches it: no token
	if err != nil {
		t.Fatal(err)
	}
	audio, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Equal(audio, wav) || !strings.HasPrefix(res.Header.Get("Content-Type"), "audio/") ||
		res.Header.Get("Cache-Control") != "private, no-store" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET the signed link: %d %q, %d bytes (want the %d recorded); headers %v",
			res.StatusCode, res.Header.Get("Content-Type"), len(audio), len(wav), res.Header)
	}
	if code, _ := fetch(t, http.MethodGet, link[:len(link)-2]+"xx"); code != http.StatusNotFound {
		t.Errorf("a changed link: %d, want 404", code)
	}

	// 3: the client is called from the line they called, and bridged.
	doc = call.Press("3")
	dial := doc.First("Dial")
	if !plays(doc, "page_calling_client") || dial == nil || dial.Attr("callerId") != washingtonLine {
		t.Fatalf("after 3: %s, want the client dialled from %s", doc, washingtonLine)
	}
	client := r.fake.Phone(clientPhone).ExpectCall()
	if client.From() != washingtonLine {
		t.Errorf("the client's phone shows %s, want the line they called, %s", client.From(), washingtonLine)
	}
	client.Answer()
	if !client.ConnectedTo(call) {
		t.Fatal("the client and the engineer are not talking")
	}
	client.Hangup()
	if after := call.TwiML(); !plays(after, "page_call_ended") || !after.HangsUp() {
		t.Errorf("the engineer's call after the client hung up: %s, want goodbye", after)
	}
	call.Hangup()

	p, atts := r.pageWithAttempts(p.ID)
	if !logged(p, "calling back", name+" is calling the client "+clientPhone+" from line Washington "+washingtonLine) ||
		!logged(p, "called back", "talked") {
		t.Errorf("the page's log does not tell of the call back: %+v", p.Log)
	}
	notes := 0
	for _, a := range atts {
		if a.Kind == "note" && a.To == "1001" && strings.Contains(a.Body, "called you back") {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d notes of the call back in the page's outbox, want 1: %+v", notes, atts)
	}
	r.awaitNote("1001", "On-call engineer "+name+" called you back", 5*time.Second)
	r.fake.Phone(clientPhone).ExpectNothing()
}

// TestVoicemailPageClientNoAnswer: the client does not pick up the call
// back; the engineer hears so and gets the menu again, and the ticket's
// note says the engineer tried.
func TestVoicemailPageClientNoAnswer(t *testing.T) {
	r := startVoicemailRig(t)
	name, phone := r.leaveVoicemail(voicemailWAV())
	call := r.fake.Phone(phone).ExpectCall()
	call.Answer()
	call.Press("1")
	call.Press("3")
	r.fake.Phone(clientPhone).ExpectCall().NoAnswer()
	doc := call.TwiML()
	if !plays(doc, "page_client_no_answer") || !plays(doc, "page_press_callback") || doc.Gather() == nil {
		t.Fatalf("after the client did not answer: %s, want that and the menu", doc)
	}
	// Nothing more: the menu asks twice again, then goodbye.
	call.Silence()
	call.Silence()
	if bye := call.Silence(); !plays(bye, "page_goodbye") || !bye.HangsUp() {
		t.Errorf("after the menu got no key: %s, want goodbye", bye)
	}
	call.Hangup()
	r.awaitNote("1001", "On-call engineer "+name+" tried to call you back", 5*time.Second)
	if p := r.onlyPage(); !logged(p, "called back", "no answer (no-answer)") {
		t.Errorf("the page's log: %+v", p.Log)
	}
}

// dialPager calls the paging number from phone: the number of its own
// that the README has an operator set up, whose Voice URL is the pager's
// (a second fake account number, signed with the same auth token).
func (r *pagerRig) dialPager(phone string) *faketwilio.CallHandle {
	r.t.Helper()
	paging := faketwilio.Start(r.t, faketwilio.Options{AuthToken: r.fake.AuthToken(), AccountSID: r.fake.AccountSID(),
		VoiceWebhookURL: r.base + "/webhooks/twilio/pager/voice", ServiceNumber: moscowLine})
	return paging.Phone(phone).Dial("")
}

// TestDialInAcknowledges: the engineer misses a page call and calls the
// paging number back: they hear that they have one open page and what it
// is, and 1 acknowledges it. Calling again, they have none; a stranger is
// told the number is for engineers.
func TestDialInAcknowledges(t *testing.T) {
	r := startPagerRig(t)
	name, phone := r.onCall("L1", "primary")
	p := r.raise("critical", "mail server rejects all mail")
	r.fake.Phone(phone).ExpectCall().NoAnswer()
	r.fake.Phone(phone).ExpectSMS(fmt.Sprint(p.ID))

	in := r.dialPager(phone)
	doc := in.Answer()
	if !plays(doc, "page_intro") || !plays(doc, "page_you_have") || !plays(doc, "num_1") || !plays(doc, "page_open_one") ||
		!plays(doc, "priority_critical") || !plays(doc, "page_press_ack") || doc.Gather() == nil {
		t.Fatalf("the dial-in says: %s, want one open page, the page and press 1", doc)
	}
	if doc := in.Press("7"); !plays(doc, "page_you_have") || doc.Gather() == nil {
		t.Fatalf("after a wrong key: %s, want the pages again", doc)
	}
	doc = in.Press("1")
	if !plays(doc, "page_acked") || !doc.HangsUp() {
		t.Errorf("after 1: %s, want thanks and goodbye", doc)
	}
	in.Hangup()
	if got := r.page(p.ID); got.Status != "acknowledged" || got.AckedByName != name || got.AckVia != "voice" {
		t.Errorf("page after 1 on the dial-in: %+v, want acknowledged by %s by voice", got, name)
	}

	again := r.dialPager(phone)
	if doc := again.Answer(); !plays(doc, "page_none_open") || !doc.HangsUp() {
		t.Errorf("calling again: %s, want no open pages and goodbye", doc)
	}
	again.Hangup()

	who := r.dialPager(stranger)
	if doc := who.Answer(); !plays(doc, "page_not_engineer") || !doc.HangsUp() {
		t.Errorf("a stranger: %s, want engineers only", doc)
	}
	who.Hangup()
}
