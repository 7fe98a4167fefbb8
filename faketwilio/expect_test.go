package faketwilio_test

import (
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
)

func TestExpectNothing(t *testing.T) {
	faketwilio.SkipWithoutSpec(t) // fakeTB cannot skip
	a := startApp(t, testToken)
	tb := &fakeTB{}
	s := faketwilio.Start(tb, faketwilio.Options{AuthToken: a.token, SMSWebhookURL: a.URL + "/sms", ServiceNumber: ourLine})
	defer tb.cleanup()
	rc := faketwilio.RESTClient(s)
	phone := s.Phone(engineer)
	phone.ExpectNothing()
	if _, err := rc.Api.CreateCall(newCall()); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Api.CreateMessage(pageNoCallback()); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Api.CreateMessage(pageNoCallback().SetTo("+12025550102")); err != nil {
		t.Fatal(err)
	}
	errs := fails(tb, func() { phone.ExpectNothing() })
	if len(errs) != 1 || !strings.Contains(errs[0], "call CA") || !strings.Contains(errs[0], "SMS SM") || strings.Contains(errs[0], "+12025550102") {
		t.Fatalf("ExpectNothing: %q", errs)
	}
	phone.ExpectCall().Busy()
	phone.ExpectSMS("ticket")
	phone.SendSMS(ourLine, "STOP") // Twilio's reply does not count
	a.next(t)
	if errs := fails(tb, func() { phone.ExpectNothing() }); len(errs) != 0 {
		t.Fatalf("ExpectNothing after claiming all: %q", errs)
	}
	s.Phone("+12025550102").ExpectSMS("ticket")
}
