package faketwilio_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/twilio/twilio-go"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func createCall(t *testing.T, rc *twilio.RestClient, p *api.CreateCallParams) string {
	t.Helper()
	c, err := rc.Api.CreateCall(p)
	if err != nil {
		t.Fatal(err)
	}
	return *c.Sid
}

func TestAnswerPressHangup(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Gather numDigits="1" action="/ack"><Say>Ticket 42. Press 1 to accept.</Say></Gather><Say>Bye</Say></Response>`)
	a.twiml("/ack", `<Response><Say>Thank you</Say><Hangup/></Response>`)
	clk := &clock{t: time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC)}
	s := start(t, a, faketwilio.Options{Now: clk.Now})
	rc := faketwilio.RESTClient(s)
	sid := createCall(t, rc, (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/voice").
		SetStatusCallback(a.URL+"/status").SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"}))

	call := s.Phone(engineer).ExpectCall()
	doc := call.Answer()
	if says := doc.Says(); len(says) != 2 || says[0] != "Ticket 42. Press 1 to accept." {
		t.Fatalf("Says() = %q", says)
	}
	common := map[string]string{"CallSid": sid, "AccountSid": s.AccountSID(), "From": ourLine, "To": engineer,
		"Direction": "outbound-api", "ApiVersion": "2010-04-01"}
	a.expectHit(t, "/status", merge(common, map[string]string{"CallStatus": "initiated", "SequenceNumber": "0", "CallbackSource": "call-progress-events"}))
	a.expectHit(t, "/status", merge(common, map[string]string{"CallStatus": "ringing", "SequenceNumber": "1"}))
	a.expectHit(t, "/status", merge(common, map[string]string{"CallStatus": "in-progress", "SequenceNumber": "2"}))
	a.expectHit(t, "/voice", merge(common, map[string]string{"CallStatus": "in-progress", "AnsweredBy": ""}))

	doc = call.Press("1")
	a.expectHit(t, "/ack", merge(common, map[string]string{"Digits": "1", "FinishedOnKey": ""}))
	if !doc.HangsUp() || call.TwiML() != doc {
		t.Fatalf("after Press: %s", doc)
	}
	clk.Add(42 * time.Second)
	call.Hangup()
	a.expectHit(t, "/status", merge(common, map[string]string{"CallStatus": "completed", "CallDuration": "42", "SequenceNumber": "3"}))
	a.expectNoHit(t)

	got, err := rc.Api.FetchCall(sid, nil)
	if err != nil || *got.Status != "completed" || *got.Duration != "42" || got.EndTime == nil {
		t.Fatalf("FetchCall: %v %+v", err, got)
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestUnansweredOutcomes(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	for _, tc := range []struct {
		name, status, sip string
		do                func(*faketwilio.CallHandle)
	}{
		{"NoAnswer", "no-answer", "487", (*faketwilio.CallHandle).NoAnswer},
		{"Busy", "busy", "486", (*faketwilio.CallHandle).Busy},
		{"Fail", "failed", "404", (*faketwilio.CallHandle).Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sid := createCall(t, rc, (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/voice").SetStatusCallback(a.URL+"/status"))
			tc.do(s.Phone(engineer).ExpectCall())
			// Only "completed" was subscribed (the default).
			a.expectHit(t, "/status", map[string]string{"CallSid": sid, "CallStatus": tc.status, "SipResponseCode": tc.sip, "CallDuration": "0"})
			a.expectNoHit(t)
			if got, err := rc.Api.FetchCall(sid, nil); err != nil || *got.Status != tc.status {
				t.Fatalf("FetchCall: %v %+v", err, got)
			}
		})
	}
}

func TestMachineDetection(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", "<Response><Say>Hello</Say></Response>")
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)

	createCall(t, rc, (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/voice").SetMachineDetection("Enable"))
	s.Phone(engineer).ExpectCall().AnswerByMachine()
	a.expectHit(t, "/voice", map[string]string{"AnsweredBy": "machine_start"})

	createCall(t, rc, (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/voice").SetMachineDetection("DetectMessageEnd"))
	s.Phone(engineer).ExpectCall().Answer()
	a.expectHit(t, "/voice", map[string]string{"AnsweredBy": "human"})

	createCall(t, rc, (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/voice").
		SetMachineDetection("Enable").SetAsyncAmd("true").SetAsyncAmdStatusCallback(a.URL+"/amd"))
	s.Phone(engineer).ExpectCall().AnswerByMachine()
	a.expectHit(t, "/voice", map[string]string{"AnsweredBy": ""})
	a.expectHit(t, "/amd", map[string]string{"AnsweredBy": "machine_start"})

	// Without MachineDetection the service cannot tell.
	createCall(t, rc, (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/voice"))
	s.Phone(engineer).ExpectCall().AnswerByMachine()
	a.expectHit(t, "/voice", map[string]string{"AnsweredBy": ""})
}

func TestRedirectLiveCall(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Gather action="/g"><Say>Menu</Say></Gather></Response>`)
	a.twiml("/moved", `<Response><Say>Moved</Say></Response>`)
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	sid := createCall(t, rc, (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/voice"))
	call := s.Phone(engineer).ExpectCall()
	call.Answer()
	a.next(t)
	if _, err := rc.Api.UpdateCall(sid, (&api.UpdateCallParams{}).SetUrl(a.URL+"/moved")); err != nil {
		t.Fatal(err)
	}
	if doc := call.WaitRedirect(); len(doc.Says()) != 1 || doc.Says()[0] != "Moved" {
		t.Fatalf("after redirect: %s", doc)
	}
	a.await(t)
}

func TestRedirectVerbAndRelativeURLs(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/ivr/start", `<Response><Say>Hi</Say><Redirect method="GET">menu?lang=en</Redirect></Response>`)
	a.twiml("/ivr/menu", `<Response><Gather finishOnKey="#"><Say>Ticket number?</Say></Gather></Response>`)
	a.twiml("/ivr/done", `<Response><Hangup/></Response>`)
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	createCall(t, rc, (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/ivr/start"))
	call := s.Phone(engineer).ExpectCall()
	if doc := call.Answer(); doc.Gather() == nil {
		t.Fatalf("Answer did not follow <Redirect>: %s", doc)
	}
	a.expectHit(t, "/ivr/start", nil)
	h := a.expectHit(t, "/ivr/menu", map[string]string{"lang": "en"})
	if h.Method != "GET" {
		t.Errorf("redirect method %s", h.Method)
	}
	a.twiml("/ivr/menu", `<Response><Redirect>done</Redirect></Response>`)
	// No action: the Gather posts back to its own document, with the query.
	call.Press("12345#")
	h = a.expectHit(t, "/ivr/menu", map[string]string{"Digits": "12345", "FinishedOnKey": "#"})
	if h.Method != "POST" || h.Query.Get("lang") != "en" {
		t.Errorf("Gather posted %s ?%s", h.Method, h.Query.Encode())
	}
	a.expectHit(t, "/ivr/done", nil)
	call.Hangup()
}

func TestSilence(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Gather action="/g"><Say>Ticket?</Say></Gather><Say>Again</Say><Redirect>/voice2</Redirect></Response>`)
	a.twiml("/voice2", `<Response><Gather action="/g" actionOnEmptyResult="true"/></Response>`)
	a.twiml("/g", `<Response><Say>Nothing heard</Say></Response>`)
	s := start(t, a, faketwilio.Options{})
	createCall(t, faketwilio.RESTClient(s), (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL+"/voice"))
	call := s.Phone(engineer).ExpectCall()
	call.Answer()
	a.expectHit(t, "/voice", nil)
	// Without actionOnEmptyResult the call goes on after the Gather.
	if doc := call.Silence(); doc.Gather() == nil || doc.URL != a.URL+"/voice2" {
		t.Fatalf("after Silence: %s", doc)
	}
	a.expectHit(t, "/voice2", nil)
	if doc := call.Silence(); len(doc.Says()) != 1 {
		t.Fatalf("after Silence: %s", doc)
	}
	a.expectHit(t, "/g", map[string]string{"Digits": ""})
	call.Hangup()
}

func TestInboundCallDialsEngineer(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Say>Connecting</Say><Dial action="/dialed" timeout="20"><Number url="/whisper">`+engineer+`</Number></Dial></Response>`)
	a.twiml("/whisper", `<Response><Gather numDigits="1" action="/screen"><Say>Customer on the line, press 1</Say></Gather></Response>`)
	a.twiml("/screen", `<Response><Say>Connecting you</Say></Response>`)
	a.twiml("/dialed", `<Response><Say>The engineer left</Say><Hangup/></Response>`)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	customer := "+442071234567"

	in := s.Phone(customer).Dial("")
	if doc := in.Answer(); doc.First("Dial") == nil {
		t.Fatalf("inbound TwiML %s", doc)
	}
	a.expectHit(t, "/voice", map[string]string{"CallStatus": "ringing", "Direction": "inbound", "From": customer, "To": ourLine})

	leg := s.Phone(engineer).ExpectCall()
	if leg.From() != customer {
		t.Errorf("child call from %s, want the caller %s", leg.From(), customer)
	}
	leg.Answer()
	a.expectHit(t, "/whisper", map[string]string{"ParentCallSid": in.SID(), "Direction": "outbound-dial", "To": engineer})
	leg.Press("1")
	a.expectHit(t, "/screen", map[string]string{"Digits": "1"})
	leg.Hangup()
	a.expectHit(t, "/dialed", map[string]string{"CallSid": in.SID(), "DialCallStatus": "completed", "DialCallSid": leg.SID()})
	if !in.TwiML().HangsUp() {
		t.Fatalf("parent TwiML after the dial: %s", in.TwiML())
	}
	in.Hangup()
}

func TestDialNoAnswer(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Dial action="/dialed">`+engineer+`</Dial></Response>`)
	a.twiml("/dialed", `<Response><Record action="/recorded" maxLength="60"/></Response>`)
	a.twiml("/recorded", `<Response><Hangup/></Response>`)
	s := start(t, a, faketwilio.Options{})
	in := s.Phone("+442071234567").Dial("")
	in.Answer()
	a.next(t)
	s.Phone(engineer).ExpectCall().NoAnswer()
	a.expectHit(t, "/dialed", map[string]string{"DialCallStatus": "no-answer"})
	wav := append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"), make([]byte, 16000*3)...)
	in.Record(wav)
	h := a.expectHit(t, "/recorded", map[string]string{"RecordingDuration": "3"})
	if !strings.HasPrefix(h.Form.Get("RecordingUrl"), s.URL()+"/2010-04-01/Accounts/") {
		t.Errorf("RecordingUrl %q", h.Form.Get("RecordingUrl"))
	}
	in.Hangup()
}

func TestConcurrentCallsAndMessages(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		number := "+1202555020" + string(rune('0'+i))
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := rc.Api.CreateCall((&api.CreateCallParams{}).SetTo(number).SetFrom(ourLine).SetTwiml("<Response/>"))
			if err == nil {
				_, err = rc.Api.CreateMessage((&api.CreateMessageParams{}).SetTo(number).SetFrom(ourLine).SetBody("page"))
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			ctx := t.Context()
			_, err := s.Phone(number).WaitCall(ctx)
			if err == nil {
				_, err = s.Phone(number).WaitSMS(ctx, "page")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
