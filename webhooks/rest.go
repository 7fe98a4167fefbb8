package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/pager"
)

// REST is the part of Twilio's REST API the driver uses. NewREST gives
// twilio-go's client; tests may give a fake that fails on purpose.
type REST interface {
	// CreateCall places an outbound call and returns its CallSid.
	CreateCall(ctx context.Context, c OutboundCall) (sid string, err error)
	// UpdateCall changes a live call: a Status ("canceled", "completed")
	// or a new TwiML URL to redirect it to.
	UpdateCall(ctx context.Context, sid string, u CallUpdate) error
	// FetchMedia downloads a recording's media (at most max bytes).
	FetchMedia(ctx context.Context, mediaURL string, max int64) (data []byte, contentType string, err error)
	// DeleteRecording deletes a recording at Twilio.
	DeleteRecording(ctx context.Context, sid string) error
	// CallStatus returns a call's status at Twilio ("in-progress",
	// "completed", …).
	CallStatus(ctx context.Context, sid string) (string, error)
	// Queues lists the account's call queues (queues.go).
	Queues(ctx context.Context) ([]Queue, error)
	// DeleteQueue deletes an empty queue by its sid (QU…); errs.NotFound
	// if Twilio has none such.
	DeleteQueue(ctx context.Context, sid string) error
	// RecentCalls lists the latest calls from from to to, newest first,
	// in any status: where a leg in doubt is looked for.
	RecentCalls(ctx context.Context, to, from string) ([]ProviderRecord, error)
}

// OutboundCall is a call to an engineer.
type OutboundCall struct {
	To, From       string // E.164; From is the line's number
	URL            string // TwiML fetched when answered
	StatusCallback string // gets the "completed" event
	// FallbackURL is fetched when the TwiML at URL (or after it) fails at
	// Twilio, instead of Twilio's application-error message.
	FallbackURL string
	Timeout     time.Duration
	// AMDCallback, when set, asks Twilio for answering-machine detection,
	// asynchronously: URL is fetched at the pick-up as without it, and
	// AMDCallback gets AnsweredBy (human, machine_start, fax or unknown)
	// once Twilio has decided.
	AMDCallback string
}

// machineDetectionTimeout bounds Twilio's answering-machine detection (its
// default is 30 s).
const machineDetectionTimeout = 8

// CallUpdate is a change to a live call: Status or URL.
type CallUpdate struct {
	Status string
	URL    string
}

// restClient is REST over twilio-go.
type restClient struct {
	api        *api.ApiService
	http       *http.Client
	sid, token string
	mediaHost  string // the host of the API URL, where media may be fetched too
}

// Client is all of Twilio's REST API the service uses: the voice driver's
// part, the pager's, and the look-up of the account's numbers.
type Client interface {
	REST
	PagerREST
	SenderLister
}

// NewREST returns twilio-go's REST client for s: its requests to Twilio's
// hosts go to s.APIURL instead when that is not Twilio's own, so that a
// compatible provider or a test double can stand in.
func NewREST(s Settings) (Client, error) {
	s.fill()
	base, err := url.Parse(s.APIURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, errs.InvalidField("IVR_TWILIO_API_URL", "%q is not an absolute http(s) URL", s.APIURL)
	}
	if s.AccountSID == "" || s.AuthToken == "" {
		return nil, errs.InvalidField("TWILIO_ACCOUNT_SID", "the Twilio account SID and auth token are both required for calls to engineers")
	}
	rt := http.DefaultTransport
	if strings.TrimSuffix(s.APIURL, "/") != DefaultAPIURL {
		rt = apiRewrite{base: base, next: http.DefaultTransport}
	}
	hc := &http.Client{Timeout: s.RESTTimeout, Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c := &client.Client{Credentials: client.NewCredentials(s.AccountSID, s.AuthToken), HTTPClient: hc}
	c.SetAccountSid(s.AccountSID)
	var bc client.BaseClient = c
	if strings.TrimSuffix(s.APIURL, "/") != DefaultAPIURL {
		bc = apiBaseClient{Client: c, base: base}
	}
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: bc})
	return &restClient{api: rc.Api, http: hc, sid: s.AccountSID, token: s.AuthToken, mediaHost: base.Host}, nil
}

// apiRewrite sends requests for Twilio's hosts to base.
type apiRewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t apiRewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	if !twilioHost(req.URL.Hostname()) {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, ""
	return t.next.RoundTrip(r)
}

func twilioHost(h string) bool { return h == "twilio.com" || strings.HasSuffix(h, ".twilio.com") }

func (c *restClient) CreateCall(_ context.Context, oc OutboundCall) (string, error) {
	p := &api.CreateCallParams{}
	p.SetTo(oc.To).SetFrom(oc.From).SetUrl(oc.URL).SetMethod(http.MethodPost).
		SetStatusCallback(oc.StatusCallback).SetStatusCallbackMethod(http.MethodPost).
		SetStatusCallbackEvent([]string{"completed"}).SetTimeout(seconds(oc.Timeout))
	if oc.FallbackURL != "" {
		p.SetFallbackUrl(oc.FallbackURL).SetFallbackMethod(http.MethodPost)
	}
	if oc.AMDCallback != "" {
		p.SetMachineDetection("Enable").SetMachineDetectionTimeout(machineDetectionTimeout).
			SetAsyncAmd("true").SetAsyncAmdStatusCallback(oc.AMDCallback).SetAsyncAmdStatusCallbackMethod(http.MethodPost)
	}
	call, err := c.api.CreateCall(p)
	if err != nil {
		return "", sendError(fmt.Errorf("twilio: create call to %s: %w", oc.To, err))
	}
	if call.Sid == nil || *call.Sid == "" {
		return "", &pager.SendError{Class: pager.Doubt, Err: fmt.Errorf("twilio: create call to %s: no sid in the answer", oc.To)}
	}
	return *call.Sid, nil
}

func (c *restClient) UpdateCall(_ context.Context, sid string, u CallUpdate) error {
	if !validCallSid(sid) {
		return errs.E(errs.Invalid, "CallSid", "%q is not a Twilio call SID (CA and 32 hex digits)", sid)
	}
	p := &api.UpdateCallParams{}
	if u.Status != "" {
		p.SetStatus(u.Status)
	}
	if u.URL != "" {
		p.SetUrl(u.URL).SetMethod(http.MethodPost)
	}
	if _, err := c.api.UpdateCall(sid, p); err != nil {
		return fmt.Errorf("twilio: update call %s: %w", sid, err)
	}
	return nil
}

// CallStatus returns errs.NotFound when Twilio knows no such call (404):
// that is no temporary failure.
func (c *restClient) CallStatus(_ context.Context, sid string) (string, error) {
	if !validCallSid(sid) {
		return "", errs.E(errs.Invalid, "CallSid", "%q is not a Twilio call SID (CA and 32 hex digits)", sid)
	}
	call, err := c.api.FetchCall(sid, &api.FetchCallParams{})
	var re *client.TwilioRestError
	if errors.As(err, &re) && re.Status == http.StatusNotFound {
		return "", errs.E(errs.NotFound, "CallSid", "Twilio knows no call %s (%s)", sid, re.Message)
	}
	if err != nil {
		return "", fmt.Errorf("twilio: fetch call %s: %w", sid, err)
	}
	if call.Status == nil {
		return "", fmt.Errorf("twilio: call %s has no status", sid)
	}
	return *call.Status, nil
}

func (c *restClient) DeleteRecording(_ context.Context, sid string) error {
	if err := c.api.DeleteRecording(sid, &api.DeleteRecordingParams{}); err != nil {
		return fmt.Errorf("twilio: delete recording %s: %w", sid, err)
	}
	return nil
}

// mediaRedirects is how many redirects a media download follows: Twilio
// answers a recording's media URL with one to its storage.
const mediaRedirects = 3

// FetchMedia downloads mediaURL with the account's credentials. The URL
// must be on one of Twilio's hosts or the configured API host. Redirects
// (Twilio's to its storage) are followed up to mediaRedirects times, to
// http(s) URLs only, and the credentials go only to those hosts, never to
// the redirect's other host. The API calls follow no redirect: only the
// download has this policy.
func (c *restClient) FetchMedia(ctx context.Context, mediaURL string, max int64) ([]byte, string, error) {
	u, err := url.Parse(mediaURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, "", fmt.Errorf("twilio: recording URL %q is not an http(s) URL", mediaURL)
	}
	if !c.credentialHost(u) {
		return nil, "", fmt.Errorf("twilio: refusing to fetch a recording from %s: not a Twilio host", u.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", err
	}
	req.SetBasicAuth(c.sid, c.token)
	media := *c.http
	media.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if len(via) > mediaRedirects {
			return fmt.Errorf("more than %d redirects", mediaRedirects)
		}
		if next.URL.Scheme != "https" && next.URL.Scheme != "http" {
			return fmt.Errorf("redirected to %q, not an http(s) URL", next.URL.Redacted())
		}
		if !c.credentialHost(next.URL) {
			next.Header.Del("Authorization")
		}
		return nil
	}
	resp, err := media.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("twilio: fetch recording: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // read path: ReadAll's error is the one that counts
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("twilio: fetch recording: %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, "", fmt.Errorf("twilio: fetch recording: %w", err)
	}
	if int64(len(data)) > max {
		return nil, "", fmt.Errorf("twilio: recording is larger than %d bytes", max)
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "audio/wav"
	}
	return data, ct, nil
}

// credentialHost says whether the account's credentials may be sent to
// u: one of Twilio's hosts, or the configured API host (port included).
func (c *restClient) credentialHost(u *url.URL) bool {
	return twilioHost(u.Hostname()) || u.Host == c.mediaHost
}

// seconds rounds d up to whole seconds, at least 1.
func seconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// Unconfigured is the REST of a service with no Twilio account: every
// request fails with errs.Unavailable naming the missing settings. With it
// (and no auth token) the service starts, and its webhooks refuse every
// request.
func Unconfigured() Client { return unconfigured{} }

type unconfigured struct{}

var errUnconfigured = errs.E(errs.Unavailable, "TWILIO_ACCOUNT_SID", "Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")

func (unconfigured) CreateCall(context.Context, OutboundCall) (string, error) {
	return "", errUnconfigured
}
func (unconfigured) UpdateCall(context.Context, string, CallUpdate) error { return errUnconfigured }
func (unconfigured) FetchMedia(context.Context, string, int64) ([]byte, string, error) {
	return nil, "", errUnconfigured
}
func (unconfigured) DeleteRecording(context.Context, string) error { return errUnconfigured }
func (unconfigured) CallStatus(context.Context, string) (string, error) {
	return "", errUnconfigured
}
