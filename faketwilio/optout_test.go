package faketwilio_test

import (
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

func TestOptOutKeywords(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	rc := faketwilio.RESTClient(s)
	phone := s.Phone(engineer)

	// Keywords are the whole body, trimmed, in any case.
	for _, body := range []string{"stop please", "please cancel", "STOP NOW", "starting"} {
		phone.SendSMS(ourLine, body)
		if phone.OptedOut() {
			t.Fatalf("%q opted out", body)
		}
		if h := a.expectHit(t, "/sms", map[string]string{"Body": body}); h.Form.Has("OptOutType") {
			t.Errorf("%q: OptOutType %q", body, h.Form.Get("OptOutType"))
		}
	}
	phone.ExpectNothing()

	for _, stop := range []string{" stop ", "STOPALL", "Unsubscribe", "cancel", "END", "quit", "revoke", "OptOut"} {
		for _, start := range []string{"START", "yes", "unstop"} {
			phone.SendSMS(ourLine, stop)
			// Twilio passes the message on all the same; OptOutType only
			// with Advanced Opt-Out.
			if h := a.expectHit(t, "/sms", map[string]string{"Body": stop, "From": engineer, "To": ourLine}); h.Form.Has("OptOutType") {
				t.Errorf("%q: OptOutType without AdvancedOptOut", stop)
			}
			if !phone.OptedOut() {
				t.Fatalf("%q did not opt out", stop)
			}
			if r := phone.ExpectSMS("unsubscribed", "reply start"); r.From() != ourLine {
				t.Errorf("opt-out reply from %s", r.From())
			}
			_, err := rc.Api.CreateMessage(pageNoCallback())
			if te := restError(t, err); te.Code != 21610 {
				t.Fatalf("after %q: code %d", stop, te.Code)
			}
			// HELP from an opted-out number gets no reply.
			phone.SendSMS(ourLine, "help")
			a.expectHit(t, "/sms", map[string]string{"Body": "help"})
			phone.ExpectNothing()

			phone.SendSMS(ourLine, start)
			a.expectHit(t, "/sms", map[string]string{"Body": start})
			if phone.OptedOut() {
				t.Fatalf("%q did not opt in", start)
			}
			phone.ExpectSMS("re-subscribed")
			sendSMS(t, s, pageNoCallback())
			phone.ExpectSMS("ticket 42")
		}
	}
	phone.SendSMS(ourLine, "Help")
	a.expectHit(t, "/sms", map[string]string{"Body": "Help"})
	phone.ExpectSMS("reply stop to unsubscribe")

	// Twilio's replies are not the service's: not listed, and nobody must
	// claim them.
	phone.SendSMS(ourLine, "STOP")
	a.next(t)
	msgs, err := rc.Api.ListMessage(&api.ListMessageParams{To: ptr(engineer), From: ptr(ourLine)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if strings.Contains(*m.Body, "subscribed") || strings.Contains(*m.Body, "Reply STOP") {
			t.Errorf("Twilio's reply listed: %q", *m.Body)
		}
	}
	phone.ExpectNothing()
}

func TestAdvancedOptOutType(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine, AdvancedOptOut: true})
	phone := s.Phone(engineer)
	for body, want := range map[string]string{"stop": "STOP", "UNSTOP": "START", "info": "HELP", "hello": ""} {
		phone.SendSMS(ourLine, body)
		h := a.expectHit(t, "/sms", map[string]string{"Body": body, "OptOutType": want})
		if want == "" && h.Form.Has("OptOutType") {
			t.Errorf("%q: OptOutType %q", body, h.Form.Get("OptOutType"))
		}
	}
}

func TestReplyToOptOutFailsTest(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	a := startApp(t, testToken)
	a.twiml("/sms", "<Response><Message>Sorry to see you go</Message></Response>")
	tb := &fakeTB{}
	s := faketwilio.Start(tb, faketwilio.Options{AuthToken: a.token, SMSWebhookURL: a.URL + "/sms", ServiceNumber: ourLine})
	defer tb.cleanup()
	rc := faketwilio.RESTClient(s)
	if _, err := rc.Api.CreateMessage(pageNoCallback()); err != nil {
		t.Fatal(err)
	}
	msg := s.Phone(engineer).ExpectSMS("ticket 42")
	if errs := fails(tb, func() { msg.ThenReply(" Stop ") }); len(errs) != 1 || !strings.Contains(errs[0], "opted-out") {
		t.Fatalf("a <Message> answer to STOP: %q", errs)
	}
	a.next(t) // the webhook was delivered
	if !s.Phone(engineer).OptedOut() {
		t.Fatal("ThenReply(STOP) did not opt out")
	}
	// Answering an opted-out number's plain text with a <Message> is as bad.
	if errs := fails(tb, func() { s.Phone(engineer).SendSMS(ourLine, "why?") }); len(errs) != 1 {
		t.Fatalf("a <Message> answer to an opted-out number: %q", errs)
	}
	a.next(t)
	// Once opted in, the service may answer again.
	if errs := fails(tb, func() { s.Phone(engineer).SendSMS(ourLine, "start") }); len(errs) != 0 {
		t.Fatalf("a <Message> answer after START: %q", errs)
	}
	a.next(t)
	s.Phone(engineer).ExpectSMS("re-subscribed")
	s.Phone(engineer).ExpectSMS("sorry to see you go")
}
