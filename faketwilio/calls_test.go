package faketwilio_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// pageCall is the pager's page call: initiated and completed subscribed.
func pageCall(a *app) *api.CreateCallParams {
	return (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL + "/page").
		SetStatusCallback(a.URL + "/status").SetStatusCallbackEvent([]string{"initiated", "completed"})
}

func TestInitiatedBeforeEverything(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/page", `<Response><Gather numDigits="1" action="/ack"><Say>Press 1 to acknowledge</Say></Gather></Response>`)
	clk := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	s := start(t, a, faketwilio.Options{Now: clk.Now})
	rc := faketwilio.RESTClient(s)

	sid := createCall(t, rc, pageCall(a))
	call := s.Phone(engineer).ExpectCall()
	a.expectNoHit(t) // nothing until the phone rings
	clk.Add(2 * time.Second)
	call.Ring()
	a.expectHit(t, "/status", map[string]string{"CallSid": sid, "CallStatus": "initiated", "SequenceNumber": "0",
		"CallbackSource": "call-progress-events", "To": engineer, "From": ourLine, "Direction": "outbound-api"})
	a.expectNoHit(t) // ringing was not subscribed
	got, err := rc.Api.FetchCall(sid, nil)
	if err != nil || *got.Status != "ringing" || got.StartTime == nil || *got.StartTime != "Mon, 04 May 2026 10:00:02 +0000" {
		t.Fatalf("FetchCall: %v %+v", err, got)
	}
	call.Answer()
	a.expectHit(t, "/page", map[string]string{"CallStatus": "in-progress"})
	clk.Add(7 * time.Second)
	// Answered, then hung up without pressing: no <Gather> action.
	call.Hangup()
	a.expectHit(t, "/status", map[string]string{"CallStatus": "completed", "CallDuration": "7", "SequenceNumber": "1", "SipResponseCode": "200"})
	a.expectNoHit(t)
	got, err = rc.Api.FetchCall(sid, nil)
	if err != nil || *got.Status != "completed" || got.Duration == nil || *got.Duration != "7" {
		t.Fatalf("FetchCall: %v %+v", err, got)
	}
}

func TestFinalStatuses(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	all := []string{"initiated", "ringing", "answered", "completed"}
	for _, tc := range []struct {
		name   string
		do     func(*faketwilio.CallHandle)
		events []string // CallStatus of each callback
		sip    string
	}{
		{"Busy", (*faketwilio.CallHandle).Busy, []string{"initiated", "busy"}, "486"},
		{"NoAnswer", (*faketwilio.CallHandle).NoAnswer, []string{"initiated", "ringing", "no-answer"}, "487"},
		{"Fail", (*faketwilio.CallHandle).Fail, []string{"initiated", "failed"}, "404"},
		{"RingThenNoAnswer", func(h *faketwilio.CallHandle) { h.Ring(); h.NoAnswer() }, []string{"initiated", "ringing", "no-answer"}, "487"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sid := createCall(t, rc, pageCall(a).SetStatusCallbackEvent(all))
			tc.do(s.Phone(engineer).ExpectCall())
			for i, st := range tc.events {
				want := map[string]string{"CallSid": sid, "CallStatus": st, "SequenceNumber": strconv.Itoa(i)}
				if i == len(tc.events)-1 {
					want["CallDuration"], want["SipResponseCode"] = "0", tc.sip
				}
				a.expectHit(t, "/status", want)
			}
			a.expectNoHit(t)
			got, err := rc.Api.FetchCall(sid, nil)
			final := tc.events[len(tc.events)-1]
			// The spec: duration is empty for busy, failed, unanswered calls.
			if err != nil || *got.Status != final || got.Duration != nil || got.EndTime == nil {
				t.Fatalf("FetchCall: %v %+v", err, got)
			}
		})
	}
}

func TestListCallsFilters(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	const other, otherLine = "+12025550102", "+12025550103"
	queued := createCall(t, rc, pageCall(a))
	ringing := createCall(t, rc, pageCall(a).SetFrom(otherLine))
	elsewhere := createCall(t, rc, pageCall(a).SetTo(other))
	s.Phone(engineer).ExpectCall()
	s.Phone(engineer).ExpectCall().Ring()
	s.Phone(other).ExpectCall().Busy()
	for range 3 {
		a.next(t) // initiated, initiated, busy
	}
	for _, tc := range []struct {
		name string
		p    *api.ListCallParams
		want []string // newest first
	}{
		{"To", &api.ListCallParams{To: ptr(engineer)}, []string{ringing, queued}},
		{"ToFrom", &api.ListCallParams{To: ptr(engineer), From: ptr(ourLine)}, []string{queued}},
		{"From", &api.ListCallParams{From: ptr(otherLine)}, []string{ringing}},
		{"StatusQueued", &api.ListCallParams{Status: ptr("queued")}, []string{queued}},
		{"StatusRinging", &api.ListCallParams{Status: ptr("ringing")}, []string{ringing}},
		{"StatusBusy", &api.ListCallParams{Status: ptr("busy")}, []string{elsewhere}},
		// start_time is set once dialled: the queued call has none.
		{"StartTimeToday", &api.ListCallParams{StartTime: ptr(time.Now())}, []string{elsewhere, ringing}},
		{"EndTimeToday", &api.ListCallParams{EndTime: ptr(time.Now())}, []string{elsewhere}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, err := rc.Api.ListCall(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range calls {
				got = append(got, *c.Sid)
				if c.DateCreated == nil {
					t.Errorf("%s has no date_created", *c.Sid)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("listed %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAnsweringMachineOutcomes(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/page", "<Response><Say>Page</Say></Response>")
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	for _, tc := range []struct {
		mode, answeredBy string
		answer           func(*faketwilio.CallHandle) *faketwilio.TwiML
	}{
		{"Enable", "human", (*faketwilio.CallHandle).Answer},
		{"Enable", "machine_start", (*faketwilio.CallHandle).AnswerByMachine},
		{"Enable", "fax", (*faketwilio.CallHandle).AnswerByFax},
		{"Enable", "unknown", (*faketwilio.CallHandle).AnswerUndetected},
		{"DetectMessageEnd", "machine_end_beep", (*faketwilio.CallHandle).AnswerByMachine},
		{"DetectMessageEnd", "machine_end_silence", func(h *faketwilio.CallHandle) *faketwilio.TwiML {
			return h.AnswerAs(faketwilio.AnsweredByMachineEndSilence)
		}},
		{"DetectMessageEnd", "machine_end_other", func(h *faketwilio.CallHandle) *faketwilio.TwiML {
			return h.AnswerAs(faketwilio.AnsweredByMachineEndOther)
		}},
		{"DetectMessageEnd", "fax", (*faketwilio.CallHandle).AnswerByFax},
	} {
		for _, async := range []bool{false, true} {
			name := tc.mode + "/" + tc.answeredBy
			if async {
				name += "/async"
			}
			t.Run(name, func(t *testing.T) {
				p := (&api.CreateCallParams{}).SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL + "/page").SetMachineDetection(tc.mode)
				if async {
					p.SetAsyncAmd("true").SetAsyncAmdStatusCallback(a.URL + "/amd")
				}
				sid := createCall(t, rc, p)
				call := s.Phone(engineer).ExpectCall()
				tc.answer(call)
				if async {
					a.expectHit(t, "/page", map[string]string{"AnsweredBy": ""})
					a.expectHit(t, "/amd", map[string]string{"CallSid": sid, "AnsweredBy": tc.answeredBy})
				} else {
					a.expectHit(t, "/page", map[string]string{"AnsweredBy": tc.answeredBy})
				}
				call.Hangup()
				got, err := rc.Api.FetchCall(sid, nil)
				if err != nil || got.AnsweredBy == nil || *got.AnsweredBy != tc.answeredBy {
					t.Fatalf("FetchCall: %v %+v", err, got)
				}
			})
		}
	}
}

func TestAnswerAsWrongModeFailsTest(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	tb := &fakeTB{}
	s := faketwilio.Start(tb, faketwilio.Options{Numbers: testNumbers})
	defer tb.cleanup()
	rc := faketwilio.RESTClient(s)
	for mode, value := range map[string]string{"Enable": "machine_end_beep", "DetectMessageEnd": "machine_start", "": "a robot"} {
		p := newCall()
		if mode != "" {
			p.SetMachineDetection(mode)
		}
		if _, err := rc.Api.CreateCall(p); err != nil {
			t.Fatal(err)
		}
		call := s.Phone(engineer).ExpectCall()
		if errs := fails(tb, func() { call.AnswerAs(value) }); len(errs) != 1 || !strings.Contains(errs[0], value) {
			t.Errorf("AnswerAs(%q) with %q: %q", value, mode, errs)
		}
		call.Busy()
	}
}
