package faketwilio

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
)

// Transport returns a RoundTripper that sends requests for Twilio's hosts
// (api.twilio.com and any other *.twilio.com) to the fake instead, and
// refuses every other host, so a client under test cannot reach Twilio.
// The server must have been started (URL() set).
func (s *Server) Transport() http.RoundTripper {
	base, err := url.Parse(s.URL())
	if err != nil || base.Host == "" {
		s.failf("Transport: the server has no URL yet (use Start, Serve or SetURL)")
		return nil
	}
	next := http.DefaultTransport.(*http.Transport).Clone()
	next.Proxy = nil
	return rewrite{base: base, next: next}
}

type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if host != "twilio.com" && !strings.HasSuffix(host, ".twilio.com") {
		return nil, fmt.Errorf("faketwilio: refusing a request to %s: only Twilio's hosts are redirected to the fake", req.URL.Host)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, ""
	return t.next.RoundTrip(r)
}

// RESTClient returns twilio-go's REST client talking to s with s's
// credentials, through Transport, with a 10 s timeout (change it with
// Client.SetTimeout, through RESTClientWith).
func RESTClient(s *Server) *twilio.RestClient {
	rc, _ := RESTClientWith(s, 10*time.Second)
	return rc
}

// RESTClientWith is RESTClient with a given timeout; it also returns the
// underlying client.Client.
func RESTClientWith(s *Server, timeout time.Duration) (*twilio.RestClient, *client.Client) {
	c := &client.Client{
		Credentials: client.NewCredentials(s.AccountSID(), s.AuthToken()),
		HTTPClient: &http.Client{
			Timeout:   timeout,
			Transport: s.Transport(),
			// As twilio-go's default client: the last response, no redirects.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(s.AccountSID())
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}), c
}
