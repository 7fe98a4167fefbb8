package faketwilio_test

import (
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
)

func TestDropMessageStatusCallbacks(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{})
	s.DropCallbacks(faketwilio.Drop{MessageStatus: 1})
	m := sendSMS(t, s, page(a))
	msg := s.Phone(engineer).ExpectSMS("ticket 42")
	msg.Delivered() // waits for the (lost) "sent"
	a.expectHit(t, "/sms-status", map[string]string{"MessageSid": *m.Sid, "MessageStatus": "delivered"})
	a.expectNoHit(t)
	if d := s.Dropped(); d != (faketwilio.Drop{MessageStatus: 1}) {
		t.Fatalf("Dropped() = %+v", d)
	}
	// A message without a StatusCallback uses up no drop.
	s.DropCallbacks(faketwilio.Drop{MessageStatus: 1})
	sendSMS(t, s, pageNoCallback())
	s.Phone(engineer).ExpectSMS("ticket 42").Delivered()
	sendSMS(t, s, page(a))
	s.Phone(engineer).ExpectSMS("ticket 42").Undelivered(30003)
	a.expectHit(t, "/sms-status", map[string]string{"MessageStatus": "undelivered", "ErrorCode": "30003"})
	a.expectNoHit(t)
}

func TestDropCallStatusCallbacks(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/page", "<Response><Say>Page</Say></Response>")
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	s.DropCallbacks(faketwilio.Drop{CallStatus: 1})
	sid := createCall(t, rc, pageCall(a))
	call := s.Phone(engineer).ExpectCall()
	call.Answer()
	a.expectHit(t, "/page", nil) // the voice request is never lost
	call.Hangup()
	// initiated was lost; completed keeps its SequenceNumber.
	a.expectHit(t, "/status", map[string]string{"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "1"})
	a.expectNoHit(t)

	s.DropCallbacks(faketwilio.Drop{CallStatus: 2, MessageStatus: 1})
	sid = createCall(t, rc, pageCall(a))
	s.Phone(engineer).ExpectCall().NoAnswer()
	a.expectNoHit(t)
	if got, err := rc.Api.FetchCall(sid, nil); err != nil || *got.Status != "no-answer" {
		t.Fatalf("FetchCall: %v %+v", err, got)
	}
	if d := s.Dropped(); d != (faketwilio.Drop{CallStatus: 3}) {
		t.Fatalf("Dropped() = %+v", d)
	}
	// The message drop is still to be used.
	sendSMS(t, s, page(a))
	s.Phone(engineer).ExpectSMS("ticket").Delivered()
	a.expectHit(t, "/sms-status", map[string]string{"MessageStatus": "delivered"})
	if d := s.Dropped(); d != (faketwilio.Drop{CallStatus: 3, MessageStatus: 1}) {
		t.Fatalf("Dropped() = %+v", d)
	}
}
