// Package verify owns the confirmation of the phone numbers engineers add
// for themselves: a six-digit code sent to the number through the pager's
// outbox (by text when the number takes texts, else by a call that reads
// it), of which only a keyed hash is kept, valid for a while and for a few
// wrong tries, whose confirmation marks the number verified so that pages
// and support calls go there. The JSON API and the web page call the one
// Service. It is a domain package: it imports no transport, provider or
// database package; the store implements its Store.
package verify

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// Code is a code sent to confirm a number, as the store keeps it: its
// hash, never the code.
type Code struct {
	ID         int64      `json:"id"`
	EngineerID int64      `json:"engineer_id"`
	Phone      string     `json:"phone"` // E.164
	Hash       string     `json:"-"`     // hex HMAC-SHA256 of the engineer, the number and the code
	Kind       pager.Kind `json:"kind"`  // sms or voice: how it was sent
	Tries      int        `json:"tries"` // wrong codes given against it
	SentAt     time.Time  `json:"sent_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	// ClosedAt is when the code stopped counting (confirmed, voided by
	// wrong tries, or replaced by a newer one); nil while it is open.
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	Outcome  Outcome    `json:"outcome,omitempty"`
}

// Outcome is how a code closed.
type Outcome string

const (
	Confirmed Outcome = "confirmed" // the right code was given: the number is verified
	Voided    Outcome = "voided"    // too many wrong codes
	Replaced  Outcome = "replaced"  // a newer code was sent to the number
)

// Store keeps codes. Every method is one durable transaction.
type Store interface {
	// SendCode holds engineer c.EngineerID for the transaction (NotFound
	// if absent or deleted), reads the codes sent since since to c.Phone
	// (for any engineer) or for the engineer (to any number), newest
	// first, and calls check with them: its error refuses, and is
	// returned as it is. Else it closes the open
	// codes of the engineer's number as Replaced, stores c (ID set) and
	// attempt a, owned by c, in the pager's outbox, and announces it to
	// the pager's other instances. It returns c as stored.
	SendCode(ctx context.Context, c Code, a pager.Attempt, since time.Time, check func(recent []Code) error) (Code, error)
	// OpenCode returns the newest open code of engineer engineerID's
	// number phone; NotFound if there is none.
	OpenCode(ctx context.Context, engineerID int64, phone string) (Code, error)
	// MissCode counts a wrong code against open code id, closing it as
	// Voided at when its tries reach max, and returns it as stored;
	// Conflict if it was closed already.
	MissCode(ctx context.Context, id int64, max int, at time.Time) (Code, error)
	// UseCode closes open code id as Confirmed at and marks its number
	// verified on its engineer, with an audit entry for actor (an engineer
	// update, before and after), and returns the engineer as stored.
	// Conflict if the code was closed already; NotFound if the engineer
	// was deleted or no longer has the number.
	UseCode(ctx context.Context, actor string, id int64, at time.Time) (oncall.Engineer, error)
}

// Engineers reads engineers and refreshes the schedule's snapshot after
// a number is verified (oncall.Service implements it).
type Engineers interface {
	Engineer(ctx context.Context, id int64) (oncall.Engineer, error)
	Refresh(ctx context.Context) error
}

// Outbox wakes the pager's sender for a code just written (pager.Engine
// implements it).
type Outbox interface{ Wake() }

// OptOuts says which numbers opted out of texts (they texted STOP): Twilio
// refuses them texts, so their codes go by call. The store implements it.
type OptOuts interface {
	SMSOptOuts(ctx context.Context) (map[string]time.Time, error)
}

// Config is what a Service needs; zero values get the defaults described.
type Config struct {
	Store     Store     // required
	Engineers Engineers // required
	Outbox    Outbox    // required
	// Sealer seals the message of a code in the outbox (the pager's
	// engine opens it with the same key). Required.
	Sealer *pager.Sealer
	// HashKey keys the codes' hashes (at least 32 random bytes, the same
	// on every instance), so that a copy of the database alone does not
	// give the codes away by trying the million of them. Required.
	HashKey []byte
	// Texts and Calls say which of the pager's channels exist: a code
	// goes by text to a number that takes texts (and has not opted out of
	// them) when Texts, else by call when Calls; with neither, Send is
	// Unavailable.
	Texts, Calls bool
	// OptOuts, if set, says which numbers opted out of texts.
	OptOuts OptOuts
	Now     func() time.Time // default time.Now
	Log     *zap.Logger      // default none
	// TTL is how long a code is valid. Default 10 minutes.
	TTL time.Duration
	// MaxTries is how many wrong codes void a code. Default 5.
	MaxTries int
	// ResendGap is the least time between two codes sent to one number.
	// Default 1 minute.
	ResendGap time.Duration
	// PerHour is how many codes one number may be sent in an hour.
	// Default 5.
	PerHour int
	// EngineerPerHour is how many codes may be sent for one engineer, to
	// all their numbers together, in an hour: an engineer's token cannot
	// add numbers without end and have each called (the classic toll
	// fraud of verification calls to revenue-sharing numbers). Default 10.
	EngineerPerHour int
}

// Service sends and confirms codes.
type Service struct {
	cfg Config
	log *zap.Logger
}

// Log keys.
const (
	keyEngineer = "engineer_id"
	keyCode     = "code_id"
	keyKind     = "kind"
	keyActor    = "actor"
)

// New returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil, cfg.Engineers == nil, cfg.Outbox == nil:
		return nil, fmt.Errorf("verify: Store, Engineers and Outbox are required")
	case cfg.Sealer == nil:
		return nil, fmt.Errorf("verify: a Sealer is required")
	case len(cfg.HashKey) < 32:
		return nil, fmt.Errorf("verify: HashKey must be at least 32 bytes")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Minute
	}
	if cfg.MaxTries <= 0 {
		cfg.MaxTries = 5
	}
	if cfg.ResendGap <= 0 {
		cfg.ResendGap = time.Minute
	}
	if cfg.PerHour <= 0 {
		cfg.PerHour = 5
	}
	if cfg.EngineerPerHour <= 0 {
		cfg.EngineerPerHour = 10
	}
	return &Service{cfg: cfg, log: cfg.Log.Named("verify")}, nil
}

// CodeDigits is how many digits a code has.
const CodeDigits = 6

// Send sends a new code to number phone of engineer engineerID, which
// must be on the engineer and not verified yet; a code sent to it before
// stops counting. By text when the number takes texts (and the pager
// texts, and the number has not opted out of texts), else by a call that
// reads it twice, in the engineer's first language. It returns once the
// code is in the pager's outbox: it leaves off the request, and a crash
// does not lose it.
//
// Who may call: an admin for any engineer, an engineer for themselves
// (the transports check). Errors: Invalid (field phone) for a number not
// written in international form; NotFound for an unknown engineer or a
// number not theirs; Conflict for a number verified already; TooMany
// when the number was sent a code less than ResendGap ago or PerHour in
// the last hour, or the engineer's numbers EngineerPerHour (the message
// says when to ask again); Unavailable when the pager can neither text
// nor call the number.
func (s *Service) Send(ctx context.Context, actor string, engineerID int64, phone string) error {
	e, c, err := s.contact(ctx, engineerID, phone)
	if err != nil {
		return err
	}
	kind := pager.KindVoice
	switch {
	case c.SMS && s.cfg.Texts && !s.optedOut(ctx, c.Phone):
		kind = pager.KindSMS
	case !s.cfg.Calls:
		return errs.E(errs.Unavailable, "", "the pager can neither text nor call %s: it has no texting number or caller id, or the number opted out of texts", c.Phone)
	}
	code, err := newCode()
	if err != nil {
		return err
	}
	lang := oncall.English
	if len(e.Languages) > 0 && e.Languages[0].Valid() {
		lang = e.Languages[0]
	}
	body := code
	if kind == pager.KindSMS {
		body = pager.CodeText(lang, code, s.cfg.TTL)
	}
	sealed, err := s.cfg.Sealer.Seal(body)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	a := pager.Attempt{Key: "code", Kind: kind, Purpose: pager.PurposeCode, Rung: -1, EngineerID: e.ID, To: c.Phone,
		Language: lang, Body: sealed}
	stored, err := s.cfg.Store.SendCode(ctx, Code{EngineerID: e.ID, Phone: c.Phone, Hash: s.hash(e.ID, c.Phone, code), Kind: kind,
		SentAt: now, ExpiresAt: now.Add(s.cfg.TTL)}, a, now.Add(-time.Hour), func(recent []Code) error {
		return s.allowed(e.ID, c.Phone, recent, now)
	})
	if err != nil {
		return err
	}
	s.cfg.Outbox.Wake()
	s.log.Info("code sent to confirm a number", zap.Int64(keyEngineer, e.ID), zap.Int64(keyCode, stored.ID),
		zap.String(keyKind, string(kind)), zap.String(keyActor, actor))
	return nil
}

// allowed refuses a code to phone of engineer id when the number was
// sent one less than ResendGap ago or PerHour in the last hour, or the
// engineer's numbers EngineerPerHour (all: the codes of the last hour to
// the number or for the engineer, newest first).
func (s *Service) allowed(id int64, phone string, all []Code, now time.Time) error {
	var recent, engineer []Code
	for _, c := range all {
		if c.Phone == phone {
			recent = append(recent, c)
		}
		if c.EngineerID == id {
			engineer = append(engineer, c)
		}
	}
	if len(engineer) >= s.cfg.EngineerPerHour {
		oldest := engineer[s.cfg.EngineerPerHour-1]
		return errs.E(errs.TooMany, "phone", "%d codes were sent to this engineer's numbers in the last hour; ask for another in %s",
			len(engineer), roundUp(oldest.SentAt.Add(time.Hour).Sub(now)))
	}
	if len(recent) > 0 {
		if wait := recent[0].SentAt.Add(s.cfg.ResendGap).Sub(now); wait > 0 {
			return errs.E(errs.TooMany, "phone", "a code was sent to this number %s ago; ask for another in %s",
				roundUp(now.Sub(recent[0].SentAt)), roundUp(wait))
		}
	}
	if len(recent) >= s.cfg.PerHour {
		oldest := recent[s.cfg.PerHour-1]
		return errs.E(errs.TooMany, "phone", "this number was sent %d codes in the last hour; ask for another in %s",
			len(recent), roundUp(oldest.SentAt.Add(time.Hour).Sub(now)))
	}
	return nil
}

// Confirm checks code against the open code of number phone of engineer
// engineerID: the right one marks the number verified (pages and support
// calls go to it from then on; the audit log has the engineer's update,
// before and after); a wrong one counts against the code, which is void
// after MaxTries.
//
// Who may call: as Send. Errors: Invalid (field phone) for a number not
// in international form; Invalid (field code) for a code that is not
// six digits, a wrong code (the message says how many tries remain),
// no code open for the number, or one expired or voided (ask for a new
// one); NotFound for an unknown engineer or a number not theirs;
// Conflict for a number verified already.
func (s *Service) Confirm(ctx context.Context, actor string, engineerID int64, phone, code string) error {
	e, c, err := s.contact(ctx, engineerID, phone)
	if err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if !sixDigits(code) {
		return errs.InvalidField("code", "must be the %d digits of the code sent to %s", CodeDigits, c.Phone)
	}
	open, err := s.cfg.Store.OpenCode(ctx, e.ID, c.Phone)
	if errs.Is(err, errs.NotFound) {
		return errs.InvalidField("code", "no code is waiting for %s: ask for one", c.Phone)
	}
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	if !now.Before(open.ExpiresAt) {
		return errs.InvalidField("code", "the code sent to %s at %s has expired (codes are valid for %s): ask for a new one",
			c.Phone, open.SentAt.UTC().Format(time.RFC3339), s.cfg.TTL)
	}
	if !hmac.Equal([]byte(s.hash(e.ID, c.Phone, code)), []byte(open.Hash)) {
		missed, err := s.cfg.Store.MissCode(ctx, open.ID, s.cfg.MaxTries, now)
		if errs.Is(err, errs.Conflict) {
			return errs.InvalidField("code", "the code sent to %s is no longer valid: ask for a new one", c.Phone)
		}
		if err != nil {
			return err
		}
		left := s.cfg.MaxTries - missed.Tries
		s.log.Info("wrong code to confirm a number", zap.Int64(keyEngineer, e.ID), zap.Int64(keyCode, open.ID), zap.String(keyActor, actor))
		if left <= 0 {
			return errs.InvalidField("code", "wrong code; that was the last of %d tries, so the code is void: ask for a new one", s.cfg.MaxTries)
		}
		return errs.InvalidField("code", "wrong code; %d %s left", left, plural(left, "try", "tries"))
	}
	if _, err := s.cfg.Store.UseCode(ctx, actor, open.ID, now); err != nil {
		if errs.Is(err, errs.Conflict) {
			return errs.InvalidField("code", "the code sent to %s is no longer valid: ask for a new one", c.Phone)
		}
		return err
	}
	if err := s.cfg.Engineers.Refresh(ctx); err != nil {
		// Committed: the periodic refresh catches up.
		s.log.Error("refresh the schedule after a number was verified", zap.Error(err))
	}
	s.log.Info("number verified", zap.Int64(keyEngineer, e.ID), zap.Int64(keyCode, open.ID), zap.String(keyActor, actor))
	return nil
}

// optedOut reports whether phone opted out of texts; not when that cannot
// be told (a text Twilio refuses ends its attempt, and a new code may be
// asked for).
func (s *Service) optedOut(ctx context.Context, phone string) bool {
	if s.cfg.OptOuts == nil {
		return false
	}
	out, err := s.cfg.OptOuts.SMSOptOuts(ctx)
	if err != nil {
		s.log.Warn("could not read which numbers opted out of texts; texting the code", zap.Error(err))
		return false
	}
	_, ok := out[phone]
	return ok
}

// contact returns engineer engineerID and their contact method phone,
// which must not be verified.
func (s *Service) contact(ctx context.Context, engineerID int64, phone string) (oncall.Engineer, oncall.ContactMethod, error) {
	p, err := oncall.NormalizePhone(phone)
	if err != nil {
		return oncall.Engineer{}, oncall.ContactMethod{}, errs.InvalidField("phone", "%s", err)
	}
	e, err := s.cfg.Engineers.Engineer(ctx, engineerID)
	if err != nil {
		return e, oncall.ContactMethod{}, err
	}
	c, ok := e.Contact(p)
	switch {
	case !ok:
		return e, c, errs.E(errs.NotFound, "phone", "engineer %d has no number %s", engineerID, p)
	case c.Verified():
		return e, c, errs.E(errs.Conflict, "phone", "%s is verified already", p)
	}
	return e, c, nil
}

// hash is the stored form of code sent to engineer id's phone.
func (s *Service) hash(id int64, phone, code string) string {
	m := hmac.New(sha256.New, s.cfg.HashKey)
	m.Write([]byte(strconv.FormatInt(id, 10) + "\x00" + phone + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("verify: random code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func sixDigits(s string) bool {
	if len(s) != CodeDigits {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// roundUp is d in whole seconds, rounded up, at least one.
func roundUp(d time.Duration) time.Duration {
	return max(time.Second, (d + time.Second - 1).Truncate(time.Second))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
