// Package links owns the service's signed links: short, unguessable URLs
// that act for someone without a login (an engineer acknowledging a page
// from a text, Twilio fetching a voicemail to play on a page call). A link
// names what it is for, the thing it acts on and when it expires, and
// carries an HMAC-SHA256 of all three under the service's link key; a link
// made for one purpose never works for another. It imports only the
// standard library.
package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// KeySize is the length of a link key, in bytes.
const KeySize = 32

// Signer makes and checks links under one key.
type Signer struct{ key []byte }

// New returns a Signer over key, which must be KeySize random bytes.
func New(key []byte) (*Signer, error) {
	if len(key) < KeySize {
		return nil, errors.New("links: the key must be at least 32 random bytes")
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// ErrInvalid is returned for a token that was not made by this key for
// that purpose, or was changed.
var ErrInvalid = errors.New("the link is not valid")

// ErrExpired is returned for a genuine token past its expiry.
var ErrExpired = errors.New("the link has expired")

// Token returns the token that lets its holder act on subject for purpose
// until expires: subject, expiry and signature, in URL-safe characters.
// Subjects are short ids (letters, digits, '-', '_' and ':').
func (s *Signer) Token(purpose, subject string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 36)
	return subject + "." + exp + "." + s.mac(purpose, subject, exp)
}

// Check returns the subject of token if it was made for purpose by this
// key and has not expired at now.
func (s *Signer) Check(purpose, token string, now time.Time) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" {
		return "", ErrInvalid
	}
	subject, exp, sig := parts[0], parts[1], parts[2]
	if !hmac.Equal([]byte(sig), []byte(s.mac(purpose, subject, exp))) {
		return "", ErrInvalid
	}
	unix, err := strconv.ParseInt(exp, 36, 64)
	if err != nil {
		return "", ErrInvalid
	}
	if !now.Before(time.Unix(unix, 0)) {
		return subject, ErrExpired
	}
	return subject, nil
}

// mac is the truncated HMAC of purpose, subject and expiry: 128 bits,
// more than enough against forgery and short enough for a text message.
func (s *Signer) mac(purpose, subject, exp string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(subject))
	m.Write([]byte{0})
	m.Write([]byte(exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// ParseKey reads a link key given as the hex or base64 (standard or URL
// alphabet, padded or not) of at least KeySize bytes, spaces around it
// ignored; nil when s is empty. The error names IVR_LINK_KEY, where the
// service takes the key from.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, decode := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
		if b, err := decode(s); err == nil && len(b) >= KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("IVR_LINK_KEY is not the hex or base64 of at least %d random bytes (make one with `openssl rand -hex 32`)", KeySize)
}
