package faketwilio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// A call's Fallback URL, as Twilio documents it ("Availability and
// Reliability"): "If Twilio is unable to retrieve or execute TwiML from
// your web server, a request is immediately made to the number's Fallback
// URL", with ErrorCode and ErrorUrl. The Fallback URL is the FallbackUrl
// of Calls.create for outbound calls and the number's VoiceFallbackUrl
// (Options.VoiceFallbackURL) for inbound ones. The fake requests it for
// any document the call goes on to execute (its Url, an action, a
// <Redirect>, a redirect through the API) that fails: an answer other
// than 2xx (11200), no connection or no answer within the webhook timeout,
// 15 s at Twilio (11205), or an answer that is no TwiML (12100). The
// failure is still recorded (Unexpected), as Twilio's debugger reports it:
// a test provoking one takes it with TakeUnexpected. Without a Fallback
// URL, or when it fails too, the failure fails the test as before.

// Error codes Twilio reports for a TwiML request that failed.
const (
	codeHTTPRetrieval  = 11200 // the URL answered other than 2xx
	codeHTTPConnection = 11205 // no connection, or no answer within 15 s
	codeDocumentParse  = 12100 // the answer is no TwiML document
)

// DefaultWebhookTimeout is how long Twilio waits for a webhook's answer.
const DefaultWebhookTimeout = 15 * time.Second

// webhookError is a TwiML request that failed, with Twilio's error code.
type webhookError struct {
	code int
	url  string
	err  error
}

func (e *webhookError) Error() string { return e.err.Error() }
func (e *webhookError) Unwrap() error { return e.err }

// FallbackURL is the FallbackUrl the call was created with, or for an
// inbound call Options.VoiceFallbackURL ("" if none): where Twilio turns
// when the call's TwiML cannot be fetched or run.
func (h *CallHandle) FallbackURL() string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.c.fallbackURL
}

// fetchCallTwiML fetches a document call c goes on to execute; when that
// fails and the call has a Fallback URL, it records the failure and
// fetches the Fallback URL instead, with the same parameters plus
// ErrorCode and ErrorUrl.
func (s *Server) fetchCallTwiML(c *call, method, target string, extra url.Values) (*TwiML, error) {
	doc, err := s.fetchTwiML(c, method, target, extra)
	var we *webhookError
	if err == nil || !errors.As(err, &we) {
		return doc, err
	}
	s.mu.Lock()
	fb, fbMethod := c.fallbackURL, orDefault(c.fallbackMethod, http.MethodPost)
	s.mu.Unlock()
	if fb == "" {
		return doc, err
	}
	s.unexpectedf("call %s: TwiML request failed (%d), Twilio requests the Fallback URL: %v", c.sid, we.code, err)
	p := url.Values{}
	for k, v := range extra {
		p[k] = v
	}
	p.Set("ErrorCode", strconv.Itoa(we.code))
	p.Set("ErrorUrl", we.url)
	s.log.Info("requesting the fallback URL", zap.String(keyCallSid, c.sid), zap.String(keyURL, fb), zap.Int(keyCode, we.code))
	out, ferr := s.fetchTwiML(c, fbMethod, fb, p)
	if ferr != nil {
		return out, fmt.Errorf("%w; and its Fallback URL: %w", err, ferr)
	}
	return out, nil
}
