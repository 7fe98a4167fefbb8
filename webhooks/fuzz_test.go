package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // G505: Twilio signs webhooks with HMAC-SHA1; the test signs as Twilio does
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// fuzzAccount is the Twilio account the fuzzed handler serves.
const fuzzAccount = "AC0123456789abcdef0123456789abcdef"

// twilioSignature is X-Twilio-Signature computed as Twilio documents it,
// independently of the validator the service uses: HMAC-SHA1 with the auth
// token over the URL followed by every parameter's name and value, sorted
// by name, in base64.
func twilioSignature(token, u string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(u)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params[k])
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// FuzzVerified sends any body, Content-Type and signature to a webhook
// behind signed.verified: it never panics or answers 5xx, and the webhook
// runs only for a form whose parameters are each given once, signed by
// Twilio's scheme over the public URL and exactly those parameters, and
// naming our account if it names one; the webhook then sees exactly those
// parameters. A correctly
// signed valid form is always let through.
func FuzzVerified(f *testing.F) {
	f.Add("CallSid=CA1&From=%2B79161234567&Digits=12345", uint8(0), uint8(0), "")
	f.Add("CallSid=CA1&AccountSid="+fuzzAccount, uint8(1), uint8(0), "")
	f.Add("CallSid=CA1&AccountSid=ACother", uint8(0), uint8(0), "")
	f.Add("CallSid=CA1&Digits=1&Digits=2", uint8(0), uint8(0), "")
	f.Add("CallSid=CA1&Digits=%zz", uint8(0), uint8(0), "")
	f.Add("a=1;b=2", uint8(0), uint8(0), "")
	f.Add("", uint8(0), uint8(0), "")
	f.Add("", uint8(3), uint8(1), "")
	f.Add("CallSid=CA1", uint8(0), uint8(1), "bm90IGEgc2lnbmF0dXJl")
	f.Add("CallSid=CA1", uint8(0), uint8(2), "")
	f.Add("CallSid=CA1&Digits=9", uint8(0), uint8(3), "")
	f.Add(`{"CallSid":"CA1"}`, uint8(2), uint8(0), "")
	f.Add("CallSid=CA1&Digits=1", uint8(3), uint8(0), "")
	f.Add(strings.Repeat("x=1&", 2000), uint8(0), uint8(0), "")
	f.Add("Caller=%E2%80%AE%00&CallSid=CA%0A1", uint8(0), uint8(0), "")

	const (
		token   = "fuzz-auth-token"
		base    = "https://ivr.example.com"
		uri     = "/twilio/voice/gather?seq=3"
		maxBody = 4096
	)
	sig := newSigned(token, fuzzAccount, base, maxBody, time.Second, zap.NewNop())
	var got url.Values
	calls := 0
	h := sig.verified(func(ctx context.Context, r *http.Request, form url.Values) (string, error) {
		calls++
		got = form
		if form.Get("Digits") == "" {
			return "", nil
		}
		return "<Response/>", nil
	})

	f.Fuzz(func(t *testing.T, body string, ctKind, sigKind uint8, rawSig string) {
		ct := []string{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
			"application/json", ""}[ctKind%4]
		form, perr := url.ParseQuery(body)
		params := map[string]string{}
		dup := false
		for k, vs := range form {
			params[k] = vs[0]
			dup = dup || len(vs) > 1
		}
		header := rawSig
		switch sigKind % 4 {
		case 0:
			header = twilioSignature(token, base+uri, params)
		case 2: // the URL with the default port, which Twilio may sign
			header = twilioSignature(token, "https://ivr.example.com:443"+uri, params)
		case 3: // a signature over other parameters
			other := map[string]string{"Extra": "1"}
			for k, v := range params {
				other[k] = v
			}
			header = twilioSignature(token, base+uri, other)
		}
		req := httptest.NewRequest(http.MethodPost, uri, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if header != "" {
			req.Header.Set("X-Twilio-Signature", header)
		}
		calls, got = 0, nil
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		status := rec.Code

		if status >= 500 {
			t.Fatalf("status %d for body %q (%s): %s", status, body, ct, rec.Body)
		}
		validSig := header == twilioSignature(token, base+uri, params) ||
			header == twilioSignature(token, "https://ivr.example.com:443"+uri, params)
		acc, hasAcc := params["AccountSid"]
		shouldPass := perr == nil && !dup && len(body) <= maxBody &&
			(body == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded")) &&
			validSig && (!hasAcc || acc == fuzzAccount)
		if calls == 0 {
			if status != http.StatusBadRequest && status != http.StatusForbidden && status != http.StatusRequestEntityTooLarge {
				t.Fatalf("refused with status %d, want 400, 403 or 413: %s", status, rec.Body)
			}
			if shouldPass {
				t.Fatalf("a valid form signed correctly (%q, %s) was refused with %d: %s", body, ct, status, rec.Body)
			}
			return
		}
		if !shouldPass {
			t.Fatalf("accepted body %q (%s) with signature %q: parse error %v, repeated %v, valid signature %v, AccountSid %q",
				body, ct, header, perr, dup, validSig, acc)
		}
		if status != http.StatusOK && status != http.StatusNoContent {
			t.Fatalf("accepted with status %d", status)
		}
		if len(got) != len(params) {
			t.Fatalf("webhook saw %d parameters, the body has %d", len(got), len(params))
		}
		for k, v := range params {
			if vs := got[k]; len(vs) != 1 || vs[0] != v {
				t.Fatalf("webhook saw %s=%q, the body has %q", k, vs, v)
			}
		}
	})
}
