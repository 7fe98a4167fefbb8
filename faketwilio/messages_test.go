package faketwilio_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

const messagingService = "MG0123456789abcdef0123456789abcdef"

func sendSMS(t *testing.T, s *faketwilio.Server, p *api.CreateMessageParams) *api.ApiV2010Message {
	t.Helper()
	m, err := faketwilio.RESTClient(s).Api.CreateMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func page(a *app) *api.CreateMessageParams {
	return pageNoCallback().SetStatusCallback(a.URL + "/sms-status")
}

func pageNoCallback() *api.CreateMessageParams {
	return (&api.CreateMessageParams{}).SetTo(engineer).SetFrom(ourLine).SetBody("Ticket 42: page")
}

func TestMessageStatusCallbacks(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	rc := faketwilio.RESTClient(s)

	t.Run("SentThenDelivered", func(t *testing.T) {
		m := sendSMS(t, s, page(a))
		if *m.Status != "queued" {
			t.Fatalf("created %s, want queued (no callback for it)", *m.Status)
		}
		// The fake posts "sent" by itself once the answer is out.
		h := a.await(t)
		for k, v := range map[string]string{"MessageSid": *m.Sid, "SmsSid": *m.Sid, "MessageStatus": "sent", "SmsStatus": "sent",
			"To": engineer, "From": ourLine, "AccountSid": s.AccountSID(), "ApiVersion": "2010-04-01"} {
			if h.Path != "/sms-status" || h.Form.Get(k) != v {
				t.Errorf("%s: %s=%q, want %q", h.Path, k, h.Form.Get(k), v)
			}
		}
		if h.Form.Has("ErrorCode") {
			t.Errorf("sent with ErrorCode %q", h.Form.Get("ErrorCode"))
		}
		msg := s.Phone(engineer).ExpectSMS("ticket 42")
		if msg.Status() != "sent" {
			t.Fatalf("Status() = %s", msg.Status())
		}
		msg.Delivered()
		a.expectHit(t, "/sms-status", map[string]string{"MessageSid": *m.Sid, "MessageStatus": "delivered"})
		a.expectNoHit(t)
		got, err := rc.Api.FetchMessage(*m.Sid, nil)
		if err != nil || *got.Status != "delivered" || got.ErrorCode != nil || got.ErrorMessage != nil || got.DateSent == nil {
			t.Fatalf("FetchMessage: %v %+v", err, got)
		}
	})

	for _, tc := range []struct {
		name, status string
		code         int
		text         string
		do           func(*faketwilio.MessageHandle, int) *faketwilio.MessageHandle
	}{
		{"Undelivered30034", "undelivered", 30034, "US A2P 10DLC - Message from an Unregistered Number", (*faketwilio.MessageHandle).Undelivered},
		{"Undelivered30003", "undelivered", 30003, "Unreachable destination handset", (*faketwilio.MessageHandle).Undelivered},
		{"Failed30001", "failed", 30001, "Queue overflow", (*faketwilio.MessageHandle).Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sendSMS(t, s, page(a))
			tc.do(s.Phone(engineer).ExpectSMS("ticket 42"), tc.code)
			a.expectHit(t, "/sms-status", map[string]string{"MessageStatus": "sent"})
			a.expectHit(t, "/sms-status", map[string]string{"MessageSid": *m.Sid, "MessageStatus": tc.status, "SmsStatus": tc.status,
				"ErrorCode": strconv.Itoa(tc.code)})
			got, err := rc.Api.FetchMessage(*m.Sid, nil)
			if err != nil || *got.Status != tc.status || got.ErrorCode == nil || *got.ErrorCode != tc.code ||
				got.ErrorMessage == nil || *got.ErrorMessage != tc.text {
				t.Fatalf("FetchMessage: %v %+v", err, got)
			}
		})
	}

	t.Run("MessagingService", func(t *testing.T) {
		m := sendSMS(t, s, (&api.CreateMessageParams{}).SetTo(engineer).SetMessagingServiceSid(messagingService).
			SetBody("Ticket 43").SetStatusCallback(a.URL+"/sms-status"))
		if *m.Status != "accepted" || m.From != nil {
			t.Fatalf("created %s from %v", *m.Status, m.From)
		}
		s.Phone(engineer).ExpectSMS("ticket 43").Delivered()
		a.expectHit(t, "/sms-status", map[string]string{"MessageStatus": "sent", "From": ourLine, "MessagingServiceSid": messagingService})
		a.expectHit(t, "/sms-status", map[string]string{"MessageStatus": "delivered", "MessagingServiceSid": messagingService})
	})

	t.Run("NoStatusCallback", func(t *testing.T) {
		m := sendSMS(t, s, pageNoCallback())
		s.Phone(engineer).ExpectSMS("ticket 42").Delivered()
		a.expectNoHit(t)
		if got, err := rc.Api.FetchMessage(*m.Sid, nil); err != nil || *got.Status != "delivered" {
			t.Fatalf("FetchMessage: %v %+v", err, got)
		}
	})
}

func TestMessageOutcomeOnceAndWithCode(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	a := startApp(t, testToken)
	tb := &fakeTB{}
	opts := faketwilio.Options{AuthToken: a.token, SMSWebhookURL: a.URL + "/sms", Numbers: testNumbers}
	s := faketwilio.Start(tb, opts)
	defer tb.cleanup()
	sendSMS(t, s, page(a))
	msg := s.Phone(engineer).ExpectSMS("ticket")
	msg.Delivered()
	if errs := fails(tb, func() { msg.Undelivered(30003) }); len(errs) != 1 || !strings.Contains(errs[0], "delivered already") {
		t.Fatalf("Undelivered after Delivered: %q", errs)
	}
	sendSMS(t, s, page(a))
	msg = s.Phone(engineer).ExpectSMS("ticket")
	if errs := fails(tb, func() { msg.Failed(0) }); len(errs) != 1 || !strings.Contains(errs[0], "error code") {
		t.Fatalf("Failed(0): %q", errs)
	}
}

func TestAutoDeliver(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{AutoDeliver: true})
	m := sendSMS(t, s, page(a))
	a.await(t)
	h := a.await(t)
	if h.Form.Get("MessageStatus") != "delivered" || h.Form.Get("MessageSid") != *m.Sid {
		t.Fatalf("second callback %v", h.Form)
	}
	msg := s.Phone(engineer).ExpectSMS("ticket 42")
	if msg.Status() != "delivered" {
		t.Fatalf("Status() = %s", msg.Status())
	}
	if got, err := faketwilio.RESTClient(s).Api.FetchMessage(*m.Sid, nil); err != nil || *got.Status != "delivered" {
		t.Fatalf("FetchMessage: %v %+v", err, got)
	}
}

func TestListMessagesFilters(t *testing.T) {
	a := startApp(t, testToken)
	clk := &clock{t: time.Date(2026, 5, 4, 23, 59, 0, 0, time.UTC)}
	s := start(t, a, faketwilio.Options{Now: clk.Now, ServiceNumber: ourLine})
	rc := faketwilio.RESTClient(s)
	first := sendSMS(t, s, pageNoCallback())
	clk.Add(2 * time.Minute) // the next UTC day
	second := sendSMS(t, s, pageNoCallback())
	other := sendSMS(t, s, pageNoCallback().SetTo("+12025550102"))
	s.Phone(engineer).ExpectSMS("ticket")
	s.Phone(engineer).ExpectSMS("ticket")
	s.Phone("+12025550102").ExpectSMS("ticket")
	s.Phone(engineer).SendSMS(ourLine, "ack")
	a.next(t)
	may4, may5 := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		p    *api.ListMessageParams
		want int
		sids []string
	}{
		{"ToFrom", &api.ListMessageParams{To: ptr(engineer), From: ptr(ourLine)}, 2, []string{*second.Sid, *first.Sid}},
		{"ToDay", &api.ListMessageParams{To: ptr(engineer), DateSent: ptr(may4)}, 1, []string{*first.Sid}},
		{"OnOrAfter", &api.ListMessageParams{From: ptr(ourLine), DateSentAfter: ptr(may5)}, 2, []string{*other.Sid, *second.Sid}},
		{"OnOrBefore", &api.ListMessageParams{To: ptr(engineer), DateSentBefore: ptr(may4)}, 1, []string{*first.Sid}},
		{"Inbound", &api.ListMessageParams{From: ptr(engineer)}, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := rc.Api.ListMessage(tc.p)
			if err != nil || len(msgs) != tc.want {
				t.Fatalf("ListMessage: %v, %d messages", err, len(msgs))
			}
			for i, sid := range tc.sids {
				if *msgs[i].Sid != sid || msgs[i].DateSent == nil || msgs[i].DateCreated == nil {
					t.Errorf("message %d: %s, want %s", i, *msgs[i].Sid, sid)
				}
			}
		})
	}
}
