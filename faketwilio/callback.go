package faketwilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // G505: Twilio signs webhooks with HMAC-SHA1, and so must its fake
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// Signature computes X-Twilio-Signature for a request to fullURL: base64 of
// HMAC-SHA1, keyed with the auth token, over the URL followed by every POST
// parameter as name+value, sorted by name (pass nil params for GET, whose
// parameters are in the URL).
//
// It is written here because twilio-go only verifies signatures: its
// client.RequestValidator exposes Validate and ValidateBody, and the signing
// step is unexported. The tests check that Validate accepts what this signs.
func Signature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ErrNotLoopback is returned for a callback URL whose host is not loopback.
var ErrNotLoopback = errors.New("faketwilio: callbacks go to loopback hosts only")

// checkLoopback admits http(s) URLs to 127.0.0.0/8, ::1 or localhost.
func checkLoopback(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: scheme of %q", ErrNotLoopback, u.Redacted())
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: refusing %q", ErrNotLoopback, u.Redacted())
}

// callbackClient copies c (or builds the default client) so that redirects
// to other hosts are refused too; the default client also refuses to dial a
// non-loopback address, whatever a name resolved to.
func callbackClient(c *http.Client) *http.Client {
	if c == nil {
		d := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("%w: dialling %s", ErrNotLoopback, address)
			}
			return nil
		}}
		// No client timeout: each request has Options.WebhookTimeout.
		c = &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 8,
			IdleConnTimeout:     30 * time.Second,
		}}
	} else {
		cp := *c
		c = &cp
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkLoopback(req.URL); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("faketwilio: too many redirects")
		}
		return nil
	}
	return c
}

// reply is a webhook's answer.
type reply struct {
	url    string
	status int
	body   string
}

// send makes a signed webhook request as Twilio would: form-encoded POST, or
// GET with the parameters in the query. A non-2xx answer is an error.
func (s *Server) send(ctx context.Context, method, rawURL string, params url.Values) (reply, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return reply{}, fmt.Errorf("faketwilio: callback URL %q: %w", rawURL, err)
	}
	if err := checkLoopback(u); err != nil {
		return reply{}, err
	}
	// Twilio waits 15 s for an answer, connecting included.
	ctx, cancel := context.WithTimeout(ctx, s.opts.WebhookTimeout)
	defer cancel()
	var req *http.Request
	if strings.EqualFold(method, http.MethodGet) {
		q := u.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err == nil {
			req.Header.Set("X-Twilio-Signature", Signature(s.opts.AuthToken, u.String(), nil))
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(params.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", Signature(s.opts.AuthToken, rawURL, params))
		}
	}
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", newSID(""))
	resp, err := s.client.Do(req)
	if err != nil {
		s.log.Warn("callback failed", zap.String(keyURL, rawURL), zap.Error(err))
		return reply{}, fmt.Errorf("faketwilio: %s %s: %w", req.Method, rawURL, err)
	}
	defer func() { _ = resp.Body.Close() }() // read path: ReadAll's error is the one that counts
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return reply{}, fmt.Errorf("faketwilio: %s %s: reading answer: %w", req.Method, rawURL, err)
	}
	s.log.Info("callback", zap.String(keyMethod, req.Method), zap.String(keyURL, rawURL),
		zap.String(keyParams, params.Encode()), zap.Int(keyStatus, resp.StatusCode))
	r := reply{url: rawURL, status: resp.StatusCode, body: string(body)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r, fmt.Errorf("faketwilio: %s %s answered %d: %.200s", req.Method, rawURL, resp.StatusCode, body)
	}
	return r, nil
}

// background runs fn for a callback the fake sends on its own initiative;
// Close waits for it.
func (s *Server) background(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}
