package faketwilio_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// restError returns the Twilio error of err, failing the test if it is none.
func restError(t *testing.T, err error) *client.TwilioRestError {
	t.Helper()
	var te *client.TwilioRestError
	if !errors.As(err, &te) {
		t.Fatalf("error %v, want a Twilio error", err)
	}
	return te
}

func TestMarkedNumbersRefused(t *testing.T) {
	const (
		sms   = "SMS"
		voice = "voice"
	)
	for _, tc := range []struct {
		name    string
		mark    func(*faketwilio.Device) *faketwilio.Device
		refused map[string]int // channel -> code; a channel not listed works
	}{
		{"OptOut", (*faketwilio.Device).OptOut, map[string]int{sms: 21610}},
		{"Invalid", (*faketwilio.Device).Invalid, map[string]int{sms: 21211, voice: 21211}},
		{"Landline", (*faketwilio.Device).Landline, map[string]int{sms: 21614}},
		{"NoSMSPermission", (*faketwilio.Device).NoSMSPermission, map[string]int{sms: 21408}},
		{"NoVoicePermission", (*faketwilio.Device).NoVoicePermission, map[string]int{voice: 21215}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, nil, faketwilio.Options{})
			rc := faketwilio.RESTClient(s)
			tc.mark(s.Phone(engineer))
			_, err := rc.Api.CreateMessage(pageNoCallback())
			checkRefusal(t, s, sms, tc.refused[sms], err)
			_, err = rc.Api.CreateCall(newCall())
			checkRefusal(t, s, voice, tc.refused[voice], err)
			// Through a messaging service too.
			_, err = rc.Api.CreateMessage((&api.CreateMessageParams{}).SetTo(engineer).SetMessagingServiceSid(messagingService).SetBody("Ticket 42"))
			checkRefusal(t, s, sms, tc.refused[sms], err)
			// Twilio kept nothing it refused.
			msgs, _ := rc.Api.ListMessage(&api.ListMessageParams{To: ptr(engineer)})
			calls, _ := rc.Api.ListCall(&api.ListCallParams{To: ptr(engineer)})
			if _, ok := tc.refused[sms]; ok == (len(msgs) != 0) {
				t.Errorf("%d messages listed", len(msgs))
			}
			if _, ok := tc.refused[voice]; ok == (len(calls) != 0) {
				t.Errorf("%d calls listed", len(calls))
			}
			// Other numbers are not affected.
			if _, err := rc.Api.CreateMessage(pageNoCallback().SetTo("+12025550199")); err != nil {
				t.Fatal(err)
			}
			s.Phone("+12025550199").ExpectSMS("ticket")
		})
	}
}

// checkRefusal checks Twilio's 400 with code (0: the request must work,
// and the call or message is claimed).
func checkRefusal(t *testing.T, s *faketwilio.Server, channel string, code int, err error) {
	t.Helper()
	if code == 0 {
		if err != nil {
			t.Fatalf("%s: %v", channel, err)
		}
		if channel == "SMS" {
			s.Phone(engineer).ExpectSMS("ticket")
		} else {
			s.Phone(engineer).ExpectCall()
		}
		return
	}
	te := restError(t, err)
	if te.Status != 400 || te.Code != code || te.Message == "" || !strings.HasSuffix(te.MoreInfo, "/"+strconv.Itoa(code)) {
		t.Fatalf("%s: %d %d %q %s, want 400 %d", channel, te.Status, te.Code, te.Message, te.MoreInfo, code)
	}
	// A refusal is Twilio's answer, not a mistake of the service.
	if u := s.Unexpected(); len(u) != 0 {
		t.Fatalf("unexpected: %q", u)
	}
}
