package webhooks

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// keyAccountSID logs the Twilio account a refused webhook named.
const keyAccountSID = "account_sid"

// webhook handles one verified request: form holds the POST parameters
// (each given once). It returns the TwiML to answer with ("" for an empty
// 204 answer), or an error.
type webhook func(ctx context.Context, r *http.Request, form url.Values) (string, error)

// signed is what checks Twilio's requests, shared by the voice driver and
// the pager's webhooks.
type signed struct {
	validator *client.RequestValidator // nil without an auth token
	base      string                   // the public URL the signature covers
	account   string                   // TWILIO_ACCOUNT_SID; "" checks no AccountSid
	maxBody   int64
	budget    time.Duration // bounds the handler's work
	log       *zap.Logger
}

func newSigned(authToken, accountSID, base string, maxBody int64, budget time.Duration, log *zap.Logger) signed {
	s := signed{base: base, account: accountSID, maxBody: maxBody, budget: budget, log: log}
	if authToken != "" {
		v := client.NewRequestValidator(authToken)
		s.validator = &v
	}
	return s
}

// verified checks a request before handler sees it: an auth token is
// configured (503), the body fits MaxBody (413), the signature is there
// (403), the body is a form (400) and the signature is Twilio's over the
// public URL and the parameters (403), and an AccountSid it carries is
// ours (403: an auth token shared with, or leaked from, another account
// does not let that account's calls in). A refused request changes nothing.
func (d *Driver) verified(h webhook) http.Handler { return d.sig.verified(h) }

func (d *signed) verified(h webhook) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				d.log.Error("webhook panic", zap.String(keyPath, r.URL.Path), zap.Any(keyPanic, p), zap.Stack(keyStack))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		// The refusals below answer for the request itself before any
		// handler runs, so they stay explicit rather than going through
		// fail: 413 has no errs code, the signature and account refusals
		// log their own reason, and without an auth token every webhook
		// answers 503 (Twilio then plays the Fallback URL) whatever the
		// request holds, logged once at start-up rather than per request.
		if d.validator == nil {
			http.Error(w, "Twilio webhooks are disabled: the service has no Twilio auth token (set TWILIO_AUTH_TOKEN)",
				http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, d.maxBody))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, "could not read the request body", http.StatusBadRequest)
			return
		}
		sig := r.Header.Get("X-Twilio-Signature")
		if sig == "" {
			http.Error(w, "missing X-Twilio-Signature", http.StatusForbidden)
			return
		}
		form, params, err := parseForm(r, body)
		if err != nil {
			d.fail(w, r, nil, err) // errs.Invalid: 400
			return
		}
		full := d.base + r.URL.RequestURI()
		if !d.validator.Validate(full, params, sig) {
			d.log.Warn("webhook with a bad signature refused", zap.String(keyPath, r.URL.Path))
			http.Error(w, "invalid X-Twilio-Signature", http.StatusForbidden)
			return
		}
		if acc, ok := params["AccountSid"]; ok && d.account != "" && acc != d.account {
			d.log.Warn("webhook of another Twilio account refused", zap.String(keyPath, r.URL.Path), zap.String(keyAccountSID, acc))
			http.Error(w, "AccountSid "+strconv.Quote(acc)+" is not this service's Twilio account (TWILIO_ACCOUNT_SID)", http.StatusForbidden)
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), d.budget)
		defer cancel()
		out, err := h(ctx, r, form)
		if err != nil {
			d.fail(w, r, form, err)
			return
		}
		if out == "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, out)
	})
}

// parseForm parses a form-encoded body; a parameter given twice is refused
// (Twilio never sends one, and the signature scheme of twilio-go's
// validator covers one value per name).
func parseForm(r *http.Request, body []byte) (url.Values, map[string]string, error) {
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, nil, errs.E(errs.Invalid, "body", "the body is not a form (Content-Type %q)", ct)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, errs.E(errs.Invalid, "body", "the body is not a valid form")
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) != 1 {
			return nil, nil, errs.E(errs.Invalid, k, "parameter %q is given %d times", k, len(vs))
		}
		params[k] = vs[0]
	}
	return form, params, nil
}

// fail answers a handler's error with the status errs.HTTPStatus maps its
// code to, the one mapping the API uses too: 400 for a request without
// what it needs, 404 for an unknown call, 409 for a call another writer
// kept moving, 503 for a dependency that is down, 500 otherwise. Twilio
// plays the Fallback URL to a caller on any of them; the status tells the
// operator reading Twilio's debugger which failure it was. Only an
// *errs.Error's own text is sent, never what wraps it.
func (d *signed) fail(w http.ResponseWriter, r *http.Request, form url.Values, err error) {
	code := errs.CodeOf(err)
	status, msg := errs.HTTPStatus(code), "internal error"
	var e *errs.Error
	if code != errs.Internal && errors.As(err, &e) {
		msg = e.Error()
	}
	if status >= http.StatusInternalServerError {
		d.log.Error("webhook failed", zap.String(keyPath, r.URL.Path), zap.String(keyCallSid, form.Get("CallSid")),
			zap.Int(keyStatus, status), zap.Error(err))
	} else {
		d.log.Info("webhook refused", zap.String(keyPath, r.URL.Path), zap.Int(keyStatus, status), zap.String(keyReason, msg))
	}
	http.Error(w, msg, status)
}

// callSid returns the request's CallSid; errs.Invalid if it has none or
// one that is not a Twilio call SID (it goes into URLs).
func callSid(form url.Values) (string, error) {
	sid := form.Get("CallSid")
	if sid == "" {
		return "", errs.E(errs.Invalid, "CallSid", "the request has no CallSid")
	}
	if !validCallSid(sid) {
		return "", errs.E(errs.Invalid, "CallSid", "%q is not a Twilio call SID (CA and 32 hex digits)", sid)
	}
	return sid, nil
}

// validCallSid reports whether sid has a Twilio call SID's shape: CA and
// 32 hex digits. Only such a SID is put into a URL.
func validCallSid(sid string) bool {
	if len(sid) != 34 || sid[:2] != "CA" {
		return false
	}
	for _, c := range sid[2:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
