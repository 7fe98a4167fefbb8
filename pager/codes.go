package pager

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// Codes that confirm an engineer's number (package verify) leave through
// the pages' outbox, so that a code asked for is sent off the request
// path and survives a crash like any page: an attempt of PurposeCode,
// owned by its code (neither a page nor a call), by text (KindSMS, the
// whole message) or by a call that reads the code (KindVoice, the code's
// digits). Its Body is sealed (AES-GCM under the Sealer's key): the store
// keeps only the code's hash and this sealed body, never the code in
// clear. The engine opens it just before a channel sends it, and Attempt
// returns it open to the telephony that speaks it; no log carries it.

// PurposeCode is a code that confirms an engineer's number.
const PurposeCode Purpose = "code"

// Sealer seals and opens the bodies of code attempts.
type Sealer struct{ aead cipher.AEAD }

// SealKeySize is the size of a Sealer's key (AES-256).
const SealKeySize = 32

// NewSealer returns a Sealer under key (SealKeySize random bytes, the
// same on every instance).
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != SealKeySize {
		return nil, fmt.Errorf("pager: a sealing key is %d bytes, not %d", SealKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pager: sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pager: sealing key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns plain sealed, as text a Body holds.
func (s *Sealer) Seal(plain string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("pager: seal: %w", err)
	}
	return base64.RawStdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(plain), nil)), nil
}

// Open returns what Seal sealed; an error if sealed was not sealed under
// this key.
func (s *Sealer) Open(sealed string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("pager: not a sealed body")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], nil)
	if err != nil {
		return "", errors.New("pager: a sealed body that this key does not open")
	}
	return string(plain), nil
}

// CodeText is the text that carries code to an engineer speaking lang,
// valid for ttl.
func CodeText(lang oncall.Language, code string, ttl time.Duration) string {
	mins := int(ttl / time.Minute)
	return fmt.Sprintf(pick(lang,
		"Дежурная служба поддержки: код подтверждения номера %s. Действует %d мин. Если вы его не запрашивали, ничего не делайте.",
		"Support pager: your code to confirm this number is %s. It is valid for %d minutes. If you did not ask for it, do nothing."),
		code, mins)
}

// CodeCallPrompts is what a call that carries code says to an engineer
// speaking lang: the pager's intro, then the code digit by digit, twice,
// then goodbye, in the recorded voice of the page calls.
func CodeCallPrompts(lang oncall.Language, code string) []ivr.Prompt {
	lang = voiceLang(lang)
	ps := prompts(lang, "page_intro", "code_intro")
	ps = append(ps, digitPrompts(lang, code)...)
	ps = append(ps, prompt(lang, "code_again"))
	ps = append(ps, digitPrompts(lang, code)...)
	return append(ps, prompt(lang, "page_goodbye"))
}

// reveal returns attempt a with its body opened, when it is a code's; any
// other attempt comes back as it is.
func (e *Engine) reveal(a Attempt) (Attempt, error) {
	if a.Purpose != PurposeCode {
		return a, nil
	}
	if e.cfg.Sealer == nil {
		return a, errors.New("no sealing key is configured to open a code's message")
	}
	body, err := e.cfg.Sealer.Open(a.Body)
	if err != nil {
		return a, err
	}
	a.Body = body
	return a, nil
}

// endCode ends code attempt a with o: it belongs to no page, so nothing
// escalates.
func (e *Engine) endCode(ctx context.Context, log *zap.Logger, a Attempt, o Outcome, detail string) {
	ended, err := e.cfg.Store.EndAttempt(ctx, a.ID, o, detail, Intended, Sending, Sent, InDoubt)
	if err != nil {
		log.Error("could not record how a code's attempt ended", zap.String(keyOutcome, string(o)), zap.Error(err))
		return
	}
	if ended {
		e.cfg.Observer.Ended(a.Kind, o)
		if !o.Reached() {
			log.Warn("a code to confirm a number did not reach it", zap.String(keyOutcome, string(o)))
		}
		wake(e.sendWake) // its number is free for the next voice call
	}
}
