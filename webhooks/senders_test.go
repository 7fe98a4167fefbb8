package webhooks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/webhooks"
)

const (
	moscowLine     = "+74996383867"
	washingtonLine = "+12025952118"
	verifiedMobile = "+447700900123" // a verified caller id of the account
	strangerNumber = "+12025550199"  // neither
	msgService     = "MG0123456789abcdef0123456789abcdef"
)

// senderREST returns the REST client of a fake account that owns the
// support lines (the fake's default) and has verifiedMobile verified.
func senderREST(t *testing.T, timeout time.Duration) (webhooks.Client, *faketwilio.Server) {
	t.Helper()
	fake := faketwilio.Start(t, faketwilio.Options{VerifiedCallerIDs: []string{verifiedMobile}})
	rest, err := webhooks.NewREST(webhooks.Settings{APIURL: fake.URL(), AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), RESTTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return rest, fake
}

func TestCheckSenders(t *testing.T) {
	rest, _ := senderREST(t, 0)
	lines := map[string]string{"--lines (Moscow)": moscowLine, "--lines (Washington)": washingtonLine}
	with := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for a, b := range m {
			out[a] = b
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		callerIDs map[string]string
		smsFrom   map[string]string
		want      []string // in the error, in this order; none: no error
	}{
		{"OK", lines, map[string]string{"--pager-sms-from": washingtonLine}, nil},
		{"VerifiedCallerIDCalls", with(lines, "--pager-caller-id", verifiedMobile), nil, nil},
		{"MessagingServiceNotChecked", lines, map[string]string{"--pager-sms-from": msgService}, nil},
		{"CallerIDNotOurs", with(lines, "--pager-caller-id", strangerNumber), nil,
			[]string{"--pager-caller-id", strangerNumber, "neither a Twilio number of this account nor one of its verified caller ids", "21210", "Verified Caller IDs"}},
		// Twilio's filter also finds numbers that contain the one asked
		// for; only the number itself counts.
		{"PartOfANumberIsNotIt", map[string]string{"--lines (Washington)": "+1202595211"}, nil,
			[]string{"--lines (Washington)", "+1202595211 is neither"}},
		{"VerifiedCallerIDTexts", lines, map[string]string{"--pager-sms-from": verifiedMobile},
			[]string{"--pager-sms-from", verifiedMobile, "verified caller ids cannot send texts", "21606", "Messaging Service"}},
		{"SMSFromNotOurs", lines, map[string]string{"--pager-sms-from": strangerNumber},
			[]string{"--pager-sms-from", strangerNumber + " is not a Twilio number of this account", "21606"}},
		{"EveryOneNamed", with(lines, "--pager-caller-id", strangerNumber), map[string]string{"--pager-sms-from": verifiedMobile},
			[]string{"--pager-caller-id", "21210", "--pager-sms-from", "21606"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webhooks.CheckSenders(context.Background(), rest, tc.callerIDs, tc.smsFrom)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var unchecked *webhooks.SendersUncheckedError
			if !errs.Is(err, errs.Invalid) || errors.As(err, &unchecked) {
				t.Fatalf("got %v, want a refusal", err)
			}
			rest := err.Error()
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("%q missing (in order %q) from:\n%v", w, tc.want, err)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// TestCheckSendersTwilioDown: when Twilio cannot answer, the check says
// which settings it could not check, and why, and refuses none.
func TestCheckSendersTwilioDown(t *testing.T) {
	callerIDs := map[string]string{"--lines (Moscow)": moscowLine, "--pager-caller-id": verifiedMobile}
	smsFrom := map[string]string{"--pager-sms-from": washingtonLine}
	for _, tc := range []struct {
		name  string
		fault faketwilio.Fault
		want  string
	}{
		{"5xx", faketwilio.Fault{Endpoint: "IncomingPhoneNumbers.list", Status: 503, Times: 10}, "503"},
		{"CallerIDs5xx", faketwilio.Fault{Endpoint: "OutgoingCallerIds.list", Status: 500, Times: 10}, "500"},
		{"Hangs", faketwilio.Fault{Endpoint: "IncomingPhoneNumbers.list", Delay: 3 * time.Second, Times: 10}, "no answer in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rest, fake := senderREST(t, time.Second)
			fake.Inject(tc.fault)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := webhooks.CheckSenders(ctx, rest, callerIDs, smsFrom)
			if took := time.Since(start); took > time.Second {
				t.Errorf("the check took %s, past its budget", took)
			}
			var unchecked *webhooks.SendersUncheckedError
			if !errors.As(err, &unchecked) || errs.Is(err, errs.Invalid) {
				t.Fatalf("got %v, want the check not made", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v does not say %q", err, tc.want)
			}
			// Only the senders that needed the broken look-up are named: a
			// verified caller id needs the second one too.
			named := strings.Join(unchecked.Settings, " ")
			if !strings.Contains(named, "--pager-caller-id "+verifiedMobile) {
				t.Errorf("unchecked %q, want --pager-caller-id among them", unchecked.Settings)
			}
			if tc.name == "CallerIDs5xx" && len(unchecked.Settings) != 1 {
				t.Errorf("unchecked %q, want only --pager-caller-id", unchecked.Settings)
			}
		})
	}
}

func TestCheckSendersUnconfigured(t *testing.T) {
	err := webhooks.CheckSenders(context.Background(), webhooks.Unconfigured(),
		map[string]string{"--pager-caller-id": strangerNumber}, map[string]string{"--pager-sms-from": strangerNumber})
	if err != nil {
		t.Fatalf("with no Twilio account, nothing is checked; got %v", err)
	}
}

// textless is an account whose one number takes no texts, which the fake
// Twilio does not model.
type textless struct{}

func (textless) TwilioNumbers(_ context.Context, n string) ([]webhooks.AccountNumber, error) {
	return []webhooks.AccountNumber{{Number: moscowLine, SMS: false}}, nil
}
func (textless) VerifiedCallerIDs(context.Context, string) ([]string, error) { return nil, nil }

func TestCheckSendersNumberWithoutTexts(t *testing.T) {
	err := webhooks.CheckSenders(context.Background(), textless{},
		map[string]string{"--lines (Moscow)": moscowLine}, map[string]string{"--pager-sms-from": moscowLine})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "--pager-sms-from") ||
		!strings.Contains(err.Error(), "takes no texts") || strings.Contains(err.Error(), "--lines") {
		t.Fatalf("got %v, want only --pager-sms-from refused: the line takes no texts but may call", err)
	}
}
