package webhooks

import (
	"net/http"
	"net/url"

	"github.com/twilio/twilio-go/client"
)

// apiBaseClient is twilio-go's client with its requests for Twilio's hosts
// built for base (IVR_TWILIO_API_URL) instead: the request's URL, and so
// every error and log line about it, names the host really talked to, not
// api.twilio.com.
type apiBaseClient struct {
	*client.Client
	base *url.URL
}

func (c apiBaseClient) SendRequest(method, rawURL string, data url.Values, headers map[string]any, body ...byte) (*http.Response, error) {
	if u, err := url.Parse(rawURL); err == nil && twilioHost(u.Hostname()) {
		u.Scheme, u.Host = c.base.Scheme, c.base.Host
		rawURL = u.String()
	}
	return c.Client.SendRequest(method, rawURL, data, headers, body...)
}
