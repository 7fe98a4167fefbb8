package faketwilio_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

const (
	otherNumber    = "+12025550103" // testNumbers' second line
	verifiedMobile = "+447700900123"
	strangerNumber = "+12025550199"
)

// pnSID is the sid of a Twilio number or a verified caller id.
var pnSID = regexp.MustCompile(`^PN[0-9a-f]{32}$`)

func TestAccountNumbersListed(t *testing.T) {
	a := startApp(t, testToken)
	s := start(t, a, faketwilio.Options{VerifiedCallerIDs: []string{verifiedMobile}})
	rc := faketwilio.RESTClient(s)
	numbers := func(p *api.ListIncomingPhoneNumberParams) []string {
		t.Helper()
		list, err := rc.Api.ListIncomingPhoneNumber(p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range list {
			if n.Sid == nil || !pnSID.MatchString(*n.Sid) || n.VoiceUrl == nil || *n.VoiceUrl != a.URL+"/voice" ||
				n.SmsUrl == nil || *n.SmsUrl != a.URL+"/sms" || n.Capabilities == nil || !n.Capabilities.Voice || !n.Capabilities.Sms {
				t.Errorf("number %+v", n)
			}
			out = append(out, *n.PhoneNumber)
		}
		return out
	}
	callerIDs := func(p *api.ListOutgoingCallerIdParams) []string {
		t.Helper()
		list, err := rc.Api.ListOutgoingCallerId(p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range list {
			if c.Sid == nil || !pnSID.MatchString(*c.Sid) {
				t.Errorf("caller id %+v", c)
			}
			out = append(out, *c.PhoneNumber)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		// The service number is always one of the account's.
		{"All", numbers(&api.ListIncomingPhoneNumberParams{}), []string{faketwilio.DefaultServiceNumber, ourLine, otherNumber}},
		// Pages of one are followed to the end.
		{"Paged", numbers((&api.ListIncomingPhoneNumberParams{}).SetPageSize(1)), []string{faketwilio.DefaultServiceNumber, ourLine, otherNumber}},
		{"Exact", numbers((&api.ListIncomingPhoneNumberParams{}).SetPhoneNumber(ourLine)), []string{ourLine}},
		// Twilio takes part of a number, '*' for any digit.
		{"Partial", numbers((&api.ListIncomingPhoneNumberParams{}).SetPhoneNumber("555010")), []string{ourLine, otherNumber}},
		{"Wildcard", numbers((&api.ListIncomingPhoneNumberParams{}).SetPhoneNumber("+1202555010*")), []string{ourLine, otherNumber}},
		// A verified caller id is not a Twilio number, and the other way round.
		{"NotOurs", numbers((&api.ListIncomingPhoneNumberParams{}).SetPhoneNumber(verifiedMobile)), nil},
		{"CallerIDs", callerIDs(&api.ListOutgoingCallerIdParams{}), []string{verifiedMobile}},
		{"CallerID", callerIDs((&api.ListOutgoingCallerIdParams{}).SetPhoneNumber(verifiedMobile)), []string{verifiedMobile}},
		{"TwilioNumberIsNoCallerID", callerIDs((&api.ListOutgoingCallerIdParams{}).SetPhoneNumber(ourLine)), nil},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestDefaultNumbersAreTheSupportLines(t *testing.T) {
	faketwilio.SkipWithoutSpec(t)
	s, err := faketwilio.New(faketwilio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{faketwilio.DefaultServiceNumber, "+74996383867", "+12025952118"}
	if got := s.Numbers(); !slices.Equal(got, want) {
		t.Fatalf("Numbers() = %q, want %q", got, want)
	}
	if got := s.VerifiedCallerIDs(); len(got) != 0 {
		t.Fatalf("VerifiedCallerIDs() = %q, want none", got)
	}
}

func TestSendersTwilioRefuses(t *testing.T) {
	const (
		sms   = "SMS"
		voice = "voice"
	)
	for _, tc := range []struct {
		name    string
		from    string
		refused map[string]int // channel -> code; a channel not listed works
	}{
		{"TwilioNumber", ourLine, nil},
		{"VerifiedCallerID", verifiedMobile, map[string]int{sms: 21606}},
		{"Stranger", strangerNumber, map[string]int{sms: 21606, voice: 21210}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, nil, faketwilio.Options{VerifiedCallerIDs: []string{verifiedMobile}})
			rc := faketwilio.RESTClient(s)
			_, err := rc.Api.CreateMessage(pageNoCallback().SetFrom(tc.from))
			checkRefusal(t, s, sms, tc.refused[sms], err)
			_, err = rc.Api.CreateCall(newCall().SetFrom(tc.from))
			checkRefusal(t, s, voice, tc.refused[voice], err)
			// A Messaging Service picks a sender of its own.
			_, err = rc.Api.CreateMessage((&api.CreateMessageParams{}).SetTo(engineer).SetMessagingServiceSid(messagingService).SetBody("Ticket 42"))
			checkRefusal(t, s, sms, 0, err)
			// Twilio kept nothing it refused.
			msgs, _ := rc.Api.ListMessage(&api.ListMessageParams{From: ptr(tc.from)})
			calls, _ := rc.Api.ListCall(&api.ListCallParams{From: ptr(tc.from)})
			if _, ok := tc.refused[sms]; ok == (len(msgs) != 0) {
				t.Errorf("%d messages listed", len(msgs))
			}
			if _, ok := tc.refused[voice]; ok == (len(calls) != 0) {
				t.Errorf("%d calls listed", len(calls))
			}
		})
	}
}
