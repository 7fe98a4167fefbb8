package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// fakeTwilio serves the fake Twilio REST API on loopback, for trying the
// Twilio driver without an account: point serve at it with
// IVR_TWILIO_API_URL and the same account SID and auth token. With
// --console, the person at the terminal plays every phone.
func fakeTwilio(ctx context.Context, args []string, env environ) error {
	var (
		c       common
		opts    faketwilio.Options
		addr    string
		console bool
	)
	fs := flag.NewFlagSet("fake-twilio", flag.ContinueOnError)
	c.register(fs, env)
	fs.StringVar(&addr, "addr", "127.0.0.1:8089", "loopback address to listen on")
	fs.StringVar(&opts.AccountSID, "account-sid", envOr(env, "TWILIO_ACCOUNT_SID", faketwilio.DefaultAccountSID), "account SID the fake accepts")
	fs.StringVar(&opts.AuthToken, "auth-token", envOr(env, "TWILIO_AUTH_TOKEN", faketwilio.DefaultAuthToken), "auth token the fake accepts and signs callbacks with")
	fs.StringVar(&opts.SpecPath, "spec", envOr(env, faketwilio.SpecEnv, ""), "Twilio's OpenAPI description (twilio_api_v2010.json); default: $IVR_TWILIO_SPEC, else ../shared/specs/twilio/ beside the clone")
	fs.StringVar(&opts.VoiceWebhookURL, "voice-url", "http://127.0.0.1:8080/webhooks/twilio/voice", "the service's voice webhook (the number's Voice URL)")
	fs.StringVar(&opts.VoiceFallbackURL, "fallback-url", "http://127.0.0.1:8080/webhooks/twilio/fallback", "the service's Fallback URL (the number's \"Primary handler fails\"), requested when a voice webhook fails")
	fs.StringVar(&opts.VoiceStatusCallbackURL, "status-url", "http://127.0.0.1:8080/webhooks/twilio/voice/status", "the service's call status webhook")
	fs.StringVar(&opts.SMSWebhookURL, "sms-url", "http://127.0.0.1:8080/webhooks/twilio/sms", "the service's SMS webhook (the number's \"A message comes in\"), where engineers' replies go")
	fs.BoolVar(&console, "console", false, "play the phones from this terminal: dial a line, press keys, answer engineers' calls and page calls, read and answer texts")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	if console && c.logLevel == "info" {
		c.logLevel = "warn" // the terminal is for the phones
	}
	log, err := newLogger(c.logLevel, env)
	if err != nil {
		return err
	}
	opts.Logger = log
	if opts.ServiceNumber == "" {
		opts.ServiceNumber = ivr.DefaultConfig().Lines[0].Number
	}
	// The person at the console reads every text: each is delivered.
	opts.AutoDeliver = console
	if opts.SpecPath == "" {
		p, err := specBesideClone()
		switch {
		case errors.Is(err, faketwilio.ErrNoSpec):
			log.Warn("running unchecked: requests and answers are not checked against Twilio's API description; give --spec or IVR_TWILIO_SPEC to check them",
				zap.Error(err))
			opts.Unchecked = true
		case err != nil:
			return err
		default:
			opts.SpecPath = p
		}
	}
	s, err := faketwilio.New(opts)
	if err != nil {
		return err
	}
	if !console {
		return s.Serve(ctx, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if env.onListen != nil {
		env.onListen(ln.Addr().String())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.ServeListener(ctx, ln) }()
	err = s.Console(ctx, faketwilio.ConsoleOptions{In: env.stdin, Out: env.stdout, Describe: describePlay,
		Kind: callKind, Who: demo.NameOf, HoldEvery: 8 * time.Second})
	cancel()
	if serr := <-served; err == nil {
		err = serr
	}
	return err
}

// specBesideClone is Twilio's OpenAPI description beside the clone the
// command runs in (faketwilio.SpecBesideModule of the working directory).
func specBesideClone() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return faketwilio.SpecBesideModule(wd)
}

// callKind tells a page call (the pager's /webhooks/twilio/page/{attempt}/answer)
// from an engineer's call of the ring plan.
func callKind(u string) string {
	if p, err := url.Parse(u); err == nil && strings.Contains(p.Path, "/twilio/page/") {
		return "page call"
	}
	return "engineer call"
}

// describePlay turns a prompt's audio URL back into its text for the
// console: /sounds/<lang>/<name>.wav is prompt name in lang.
func describePlay(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	dir, file := path.Split(p.Path)
	name := strings.TrimSuffix(file, ".wav")
	lang := path.Base(strings.TrimSuffix(dir, "/"))
	if text := ivr.Text(ivr.Prompt{Name: name, Lang: oncall.Language(lang)}); text != "" {
		return text
	}
	if strings.Contains(p.Path, "/hold") {
		return "♫"
	}
	return u
}
