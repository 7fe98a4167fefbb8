package main

import (
	"flag"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/webhooks"
)

// twilioFromEnv reads the Twilio settings from the environment, with the
// defaults filled in: IVR_PUBLIC_URL (its trailing slash dropped),
// TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, IVR_TWILIO_API_URL (default
// webhooks.DefaultAPIURL) and IVR_TWILIO_TIMEOUT (default
// webhooks.DefaultRESTTimeout). A bad IVR_TWILIO_TIMEOUT is errs.Invalid
// naming it.
func twilioFromEnv(env environ) (webhooks.Settings, error) {
	s := webhooks.Settings{
		PublicURL:   strings.TrimSuffix(env.getenv("IVR_PUBLIC_URL"), "/"),
		AccountSID:  env.getenv("TWILIO_ACCOUNT_SID"),
		AuthToken:   env.getenv("TWILIO_AUTH_TOKEN"),
		APIURL:      envOr(env, "IVR_TWILIO_API_URL", webhooks.DefaultAPIURL),
		RESTTimeout: webhooks.DefaultRESTTimeout,
	}
	if v := env.getenv("IVR_TWILIO_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return s, errs.InvalidField("IVR_TWILIO_TIMEOUT", "%q is not a positive duration such as 5s", v)
		}
		s.RESTTimeout = d
	}
	return s, nil
}

// registerTwilioFlags adds the Twilio settings' flags to fs with s's values
// (from twilioFromEnv) as defaults, so that a flag overrides the
// environment.
func registerTwilioFlags(fs *flag.FlagSet, s *webhooks.Settings) {
	fs.StringVar(&s.PublicURL, "public-url", s.PublicURL, "public base URL Twilio calls the webhooks at (IVR_PUBLIC_URL)")
	fs.StringVar(&s.AccountSID, "twilio-account-sid", s.AccountSID, "Twilio account SID (TWILIO_ACCOUNT_SID)")
	fs.StringVar(&s.AuthToken, "twilio-auth-token", s.AuthToken, "Twilio auth token (TWILIO_AUTH_TOKEN); without it the Twilio webhooks refuse every request")
	fs.StringVar(&s.APIURL, "twilio-api-url", s.APIURL, "base URL of Twilio's REST API or a compatible one (IVR_TWILIO_API_URL)")
	fs.DurationVar(&s.RESTTimeout, "twilio-timeout", s.RESTTimeout, "timeout of each Twilio REST request (IVR_TWILIO_TIMEOUT)")
}
