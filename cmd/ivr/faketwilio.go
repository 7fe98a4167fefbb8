package main

import (
	"context"
	"flag"

	"github.com/supportdesk/ivr/faketwilio"
)

// fakeTwilio serves the fake Twilio REST API on loopback, for trying the
// Twilio driver without an account: point serve at it with
// IVR_TWILIO_API_URL and the same account SID and auth token.
func fakeTwilio(ctx context.Context, args []string, env environ) error {
	var c common
	opts := faketwilio.Options{}
	var addr string
	fs := flag.NewFlagSet("fake-twilio", flag.ContinueOnError)
	c.register(fs, env)
	fs.StringVar(&addr, "addr", "127.0.0.1:8089", "loopback address to listen on")
	fs.StringVar(&opts.AccountSID, "account-sid", envOr(env, "TWILIO_ACCOUNT_SID", faketwilio.DefaultAccountSID), "account SID the fake accepts")
	fs.StringVar(&opts.AuthToken, "auth-token", envOr(env, "TWILIO_AUTH_TOKEN", faketwilio.DefaultAuthToken), "auth token the fake accepts and signs callbacks with")
	fs.StringVar(&opts.SpecPath, "spec", "", "Twilio's OpenAPI description (twilio_api_v2010.json); default: found in ../shared/specs")
	fs.StringVar(&opts.VoiceWebhookURL, "voice-url", "http://127.0.0.1:8080/webhooks/twilio/voice", "the service's voice webhook")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	log, err := newLogger(c.logLevel, env)
	if err != nil {
		return err
	}
	opts.Logger = log
	return faketwilio.Serve(ctx, addr, opts)
}
