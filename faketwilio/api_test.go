package faketwilio_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

const (
	engineer = "+12025550101"
	ourLine  = "+12025550100"
)

var (
	callSID    = regexp.MustCompile(`^CA[0-9a-f]{32}$`)
	messageSID = regexp.MustCompile(`^SM[0-9a-f]{32}$`)
)

func TestNewLoadsSpecOncePerProcess(t *testing.T) {
	faketwilio.SkipWithoutSpec(t)
	t0 := time.Now()
	if _, err := faketwilio.New(faketwilio.Options{}); err != nil {
		t.Fatal(err)
	}
	first := time.Since(t0)
	t0 = time.Now()
	if _, err := faketwilio.New(faketwilio.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("New: first %v (loads the spec unless an earlier test did), second %v", first, time.Since(t0))
}

func TestNewBadSpecPath(t *testing.T) {
	if _, err := faketwilio.New(faketwilio.Options{SpecPath: t.TempDir() + "/none.json"}); err == nil {
		t.Fatal("New with a missing spec succeeded")
	}
}

func TestCreateFetchListUpdateCall(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)

	p := &api.CreateCallParams{}
	p.SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL + "/voice").SetStatusCallback(a.URL + "/status").
		SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"}).
		SetMachineDetection("Enable").SetTimeout(20)
	created, err := rc.Api.CreateCall(p)
	if err != nil {
		t.Fatal(err)
	}
	if !callSID.MatchString(*created.Sid) || *created.Status != "queued" || *created.To != engineer || *created.From != ourLine {
		t.Fatalf("created %+v", created)
	}
	call := s.Phone(engineer).ExpectCall()
	if call.SID() != *created.Sid {
		t.Fatalf("ExpectCall got %s, created %s", call.SID(), *created.Sid)
	}

	// A queued call has not been dialled: no start_time yet (the spec).
	got, err := rc.Api.FetchCall(*created.Sid, nil)
	if err != nil || *got.Status != "queued" || got.StartTime != nil || got.DateCreated == nil {
		t.Fatalf("FetchCall: %v %+v", err, got)
	}
	// The pager's lookup of an attempt in doubt: To and From; it compares
	// date_created itself.
	list, err := rc.Api.ListCall(&api.ListCallParams{To: ptr(engineer), From: ptr(ourLine)})
	if err != nil || len(list) != 1 || *list[0].Sid != *created.Sid || *list[0].DateCreated != *created.DateCreated {
		t.Fatalf("ListCall: %v %d calls", err, len(list))
	}
	// So a StartTime filter misses it.
	list, err = rc.Api.ListCall(&api.ListCallParams{To: ptr(engineer), StartTime: ptr(time.Now())})
	if err != nil || len(list) != 0 {
		t.Fatalf("ListCall by StartTime of a queued call: %v %d calls", err, len(list))
	}
	list, err = rc.Api.ListCall(&api.ListCallParams{To: ptr("+12025550999")})
	if err != nil || len(list) != 0 {
		t.Fatalf("ListCall other number: %v %d calls", err, len(list))
	}
	list, err = rc.Api.ListCall(&api.ListCallParams{StartTimeBefore: ptr(time.Now().AddDate(0, 0, -1))})
	if err != nil || len(list) != 0 {
		t.Fatalf("ListCall before yesterday: %v %d calls", err, len(list))
	}

	updated, err := rc.Api.UpdateCall(*created.Sid, (&api.UpdateCallParams{}).SetStatus("canceled"))
	if err != nil || *updated.Status != "canceled" {
		t.Fatalf("UpdateCall: %v %+v", err, updated)
	}
	select {
	case <-call.Canceled():
	default:
		t.Fatal("Canceled() not closed after the service canceled the call")
	}
	a.await(t) // the fake's own completed callback, sent in the background
}

func TestListCallPages(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	for range 5 {
		p := (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetTwiml("<Response><Hangup/></Response>")
		if _, err := rc.Api.CreateCall(p); err != nil {
			t.Fatal(err)
		}
		s.Phone(engineer).ExpectCall()
	}
	list, err := rc.Api.ListCall(&api.ListCallParams{PageSize: ptr(2)})
	if err != nil || len(list) != 5 {
		t.Fatalf("ListCall over 3 pages: %v, %d calls", err, len(list))
	}
}

func TestCreateMessage(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)

	p := &api.CreateMessageParams{}
	p.SetTo(engineer).SetFrom(ourLine).SetBody("Ticket 42: printer on fire").SetStatusCallback(a.URL + "/sms-status")
	m, err := rc.Api.CreateMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	if !messageSID.MatchString(*m.Sid) || *m.Status != "queued" || *m.Body != "Ticket 42: printer on fire" {
		t.Fatalf("created %+v", m)
	}
	msg := s.Phone(engineer).ExpectSMS("ticket 42", "FIRE")
	if msg.SID() != *m.Sid {
		t.Fatalf("ExpectSMS got %s, created %s", msg.SID(), *m.Sid)
	}
	// "sent" comes by itself, after the answer; delivery is the test's.
	msg.Delivered()
	a.expectHit(t, "/sms-status", map[string]string{"MessageSid": *m.Sid, "MessageStatus": "sent", "To": engineer, "From": ourLine})
	a.expectHit(t, "/sms-status", map[string]string{"MessageSid": *m.Sid, "MessageStatus": "delivered", "To": engineer, "From": ourLine})

	got, err := rc.Api.FetchMessage(*m.Sid, nil)
	if err != nil || *got.Status != "delivered" {
		t.Fatalf("FetchMessage: %v %+v", err, got)
	}
	list, err := rc.Api.ListMessage(&api.ListMessageParams{To: ptr(engineer), DateSent: ptr(time.Now())})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListMessage: %v %d", err, len(list))
	}
}

func TestMessagingServiceAndReply(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/sms", "<Response><Message>Acknowledged ticket 42</Message></Response>")
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	rc := faketwilio.RESTClient(s)
	p := (&api.CreateMessageParams{}).SetTo(engineer).SetMessagingServiceSid("MG0123456789abcdef0123456789abcdef").SetBody("Ticket 42: reply ACK")
	m, err := rc.Api.CreateMessage(p)
	if err != nil || *m.Status != "accepted" || m.From != nil {
		t.Fatalf("CreateMessage: %v %+v", err, m)
	}
	doc := s.Phone(engineer).ExpectSMS("ticket 42").ThenReply("ACK")
	a.expectHit(t, "/sms", map[string]string{"From": engineer, "To": ourLine, "Body": "ACK", "SmsStatus": "received"})
	if doc.First("Message") == nil {
		t.Fatalf("reply TwiML %s", doc)
	}
	s.Phone(engineer).ExpectSMS("acknowledged")
}

// rawRequest sends a request to the fake as a hand-written client would.
func rawRequest(t *testing.T, s *faketwilio.Server, method, path string, form url.Values, user, pass string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, resp.Header, body
}

func callsPath(s *faketwilio.Server) string {
	return "/2010-04-01/Accounts/" + s.AccountSID() + "/Calls.json"
}

func TestRejectedRequests(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	good := func() url.Values {
		return url.Values{"To": {engineer}, "From": {ourLine}, "Url": {"http://127.0.0.1:9/voice"}}
	}
	with := func(k, v string) url.Values { f := good(); f.Set(k, v); return f }
	without := func(k string) url.Values { f := good(); f.Del(k); return f }
	acc, tok := s.AccountSID(), s.AuthToken()
	cases := []struct {
		name       string
		method     string
		path       string
		form       url.Values
		user, pass string
		status     int
		code       float64
	}{
		{"ErrToMissing", "POST", callsPath(s), without("To"), acc, tok, 400, 21201},
		{"ErrFromMissing", "POST", callsPath(s), without("From"), acc, tok, 400, 21603},
		{"ErrUrlMissing", "POST", callsPath(s), without("Url"), acc, tok, 400, 21205},
		{"ErrMachineDetectionBogus", "POST", callsPath(s), with("MachineDetection", "Bogus"), acc, tok, 400, 20001},
		{"ErrTimeoutNotInteger", "POST", callsPath(s), with("Timeout", "soon"), acc, tok, 400, 20001},
		{"ErrMethodBogus", "POST", callsPath(s), with("Method", "PUT"), acc, tok, 400, 20001},
		{"ErrStatusCallbackEventBogus", "POST", callsPath(s), with("StatusCallbackEvent", "exploded"), acc, tok, 400, 20001},
		{"ErrRelativeUrl", "POST", callsPath(s), with("Url", "/voice"), acc, tok, 400, 20001},
		{"ErrWrongToken", "POST", callsPath(s), good(), acc, "wrong", 401, 20003},
		{"ErrNoAuth", "POST", callsPath(s), good(), "", "", 401, 20003},
		{"ErrOtherAccount", "GET", "/2010-04-01/Accounts/AC00000000000000000000000000000000/Calls.json", nil, acc, tok, 404, 20404},
		{"ErrUnknownPath", "GET", "/2010-04-01/Accounts/" + acc + "/Faxes.json", nil, acc, tok, 404, 20404},
		{"ErrBadCallSid", "GET", "/2010-04-01/Accounts/" + acc + "/Calls/XX123.json", nil, acc, tok, 400, 20001},
		{"ErrUnimplemented", "DELETE", "/2010-04-01/Accounts/" + acc + "/Calls/CA0123456789abcdef0123456789abcdef.json", nil, acc, tok, 501, 20501},
		{"ErrMessageNoBody", "POST", "/2010-04-01/Accounts/" + acc + "/Messages.json", url.Values{"To": {engineer}, "From": {ourLine}}, acc, tok, 400, 21602},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := rawRequest(t, s, tc.method, tc.path, tc.form, tc.user, tc.pass)
			if status != tc.status || body["code"] != tc.code || body["status"] != float64(tc.status) ||
				body["message"] == "" || !strings.HasPrefix(body["more_info"].(string), "https://www.twilio.com/docs/errors/") {
				t.Errorf("got %d %v, want %d code %v", status, body, tc.status, tc.code)
			}
			if u := s.TakeUnexpected(); len(u) != 1 {
				t.Errorf("recorded as unexpected: %q, want one entry", u)
			}
		})
	}
}

func TestNotFoundIsNotUnexpected(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	_, err := faketwilio.RESTClient(s).Api.FetchCall("CA0123456789abcdef0123456789abcdef", nil)
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Status != 404 || te.Code != 20404 {
		t.Fatalf("FetchCall of an unknown call: %v", err)
	}
}

func TestTwilioGoSeesRejection(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	_, err := faketwilio.RESTClient(s).Api.CreateCall((&api.CreateCallParams{}).SetFrom(ourLine).SetUrl("http://127.0.0.1:9/v"))
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Status != 400 || te.Code != 21201 {
		t.Fatalf("CreateCall without To: %v", err)
	}
	if u := s.TakeUnexpected(); len(u) != 1 || !strings.Contains(u[0], "CreateCall") {
		t.Fatalf("unexpected: %q", u)
	}
}

func TestRecordings(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	wav := []byte("RIFF....WAVEfmt not really")
	sid, mediaURL := s.AddRecording("CA0123456789abcdef0123456789abcdef", wav)
	if mediaURL != s.URL()+"/2010-04-01/Accounts/"+s.AccountSID()+"/Recordings/"+sid {
		t.Fatalf("media URL %s", mediaURL)
	}
	rec, err := rc.Api.FetchRecording(sid, nil)
	if err != nil || *rec.Sid != sid || *rec.CallSid != "CA0123456789abcdef0123456789abcdef" || *rec.MediaUrl != mediaURL {
		t.Fatalf("FetchRecording: %v %+v", err, rec)
	}
	for _, u := range []string{mediaURL, mediaURL + ".wav"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != string(wav) || resp.Header.Get("Content-Type") != "audio/x-wav" {
			t.Fatalf("GET %s: %d %q", u, resp.StatusCode, body)
		}
	}
	if err := rc.Api.DeleteRecording(sid, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Api.FetchRecording(sid, nil); err == nil {
		t.Fatal("fetched a deleted recording")
	}
	if resp, err := http.Get(mediaURL + ".wav"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("media of a deleted recording: %v %v", err, resp)
	}
	if err := rc.Api.DeleteRecording(sid, nil); err == nil {
		t.Fatal("deleted a recording twice")
	}
}

func ptr[T any](v T) *T { return &v }
