package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
)

// The fake account owns the support lines (its default) and has verified
// one mobile as a caller id.
const (
	verifiedMobile = "+447700900123"
	strangerNumber = "+12025550199" // neither a number nor a caller id of the account
)

// senderEnv is serve's environment against fake, plus extra.
func senderEnv(t *testing.T, fake *faketwilio.Server, extra map[string]string) (environ, *syncBuffer) {
	t.Helper()
	vars := map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": fake.URL(), "TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none"}
	for k, v := range extra {
		vars[k] = v
	}
	env, _, errOut := testEnv(vars)
	return env, errOut
}

// serveRefused runs serve with env and returns the error it stops with
// before listening; it fails the test if serve starts.
func serveRefused(t *testing.T, env environ, errOut *syncBuffer) error {
	t.Helper()
	listening := make(chan string, 1)
	env.onListen = func(a string) { listening <- a }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, env) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("serve ended without an error; log:\n%s", errOut.String())
		}
		return err
	case <-listening:
		cancel()
		err := <-done
		t.Fatalf("serve started (stopped: %v); log:\n%s", err, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve neither started nor stopped within 30 s; log:\n%s", errOut.String())
	}
	return nil
}

func wantAll(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("the error does not say %q:\n%v", p, err)
		}
	}
}

// TestServeRefusesPagerCallerIDNotOurs: a pager caller id that is neither a
// Twilio number nor a verified caller id of the account, which Twilio
// would refuse on every page call, stops serve at start, naming it.
func TestServeRefusesPagerCallerIDNotOurs(t *testing.T) {
	fake := faketwilio.Start(t, faketwilio.Options{VerifiedCallerIDs: []string{verifiedMobile}})
	env, errOut := senderEnv(t, fake, map[string]string{"IVR_PAGER_CALLER_ID": strangerNumber})
	err := serveRefused(t, env, errOut)
	wantAll(t, err, "--pager-caller-id", strangerNumber, "neither a Twilio number of this account nor one of its verified caller ids", "21210")
	if strings.Contains(err.Error(), "--lines") {
		t.Errorf("the lines are the account's, yet: %v", err)
	}
}

// TestServeRefusesVerifiedCallerIDForTexts: a verified caller id may place
// page calls, never send page texts.
func TestServeRefusesVerifiedCallerIDForTexts(t *testing.T) {
	fake := faketwilio.Start(t, faketwilio.Options{VerifiedCallerIDs: []string{verifiedMobile}})
	env, errOut := senderEnv(t, fake, map[string]string{"IVR_PAGER_SMS_FROM": verifiedMobile})
	err := serveRefused(t, env, errOut)
	wantAll(t, err, "--pager-sms-from", verifiedMobile, "verified caller ids cannot send texts", "21606")
}

// TestServePagesFromVerifiedCallerID: with the caller id verified, serve
// starts and page calls come from it.
func TestServePagesFromVerifiedCallerID(t *testing.T) {
	fake := faketwilio.Start(t, faketwilio.Options{VerifiedCallerIDs: []string{verifiedMobile}})
	env, errOut := senderEnv(t, fake, map[string]string{"IVR_PAGER_CALLER_ID": verifiedMobile})
	clock := newTestClock()
	env.clock = clock
	r := &pagerRig{t: t, base: startWithEnv(t, env, errOut, "--demo", "--addr", "127.0.0.1:0"), fake: fake, clock: clock}
	_, phone := r.onCall("L1", "primary")
	p := r.raise("critical", "mail server rejects all mail")
	call := fake.Phone(phone).ExpectCall()
	if call.From() != verifiedMobile {
		t.Fatalf("page call from %s, want the caller id %s", call.From(), verifiedMobile)
	}
	call.Answer()
	call.Press("1")
	call.Hangup()
	if got := r.page(p.ID); got.Status != "acknowledged" || got.AckVia != "voice" {
		t.Errorf("page after 1: %+v, want acknowledged by voice", got)
	}
}

// TestServeStartsWhenTwilioCannotCheck: a Twilio outage at start must not
// keep the lines down: serve starts and warns what it could not check.
func TestServeStartsWhenTwilioCannotCheck(t *testing.T) {
	fake := faketwilio.Start(t, faketwilio.Options{})
	fake.Inject(faketwilio.Fault{Endpoint: "IncomingPhoneNumbers.list", Status: 503, Times: 100})
	env, errOut := senderEnv(t, fake, map[string]string{"IVR_PAGER_CALLER_ID": strangerNumber})
	startWithEnv(t, env, errOut, "--addr", "127.0.0.1:0")
	log := errOut.String()
	for _, want := range []string{"could not check with Twilio", "--pager-caller-id " + strangerNumber, "--lines (Moscow) +74996383867", "503"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
}
