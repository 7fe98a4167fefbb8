// Package access owns who may use the admin API: bearer tokens, their roles
// and how a secret is checked. Secrets are long random strings shown once;
// only their SHA-256 hash is stored (a slow password hash would slow every
// request, and a 256-bit random secret needs no stretching). It imports no
// transport or database package.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// Role says what a token may do.
type Role string

const (
	Admin    Role = "admin"    // reads and edits everything
	Engineer Role = "engineer" // reads schedules, edits its own engineer's contact methods
)

// ParseRole accepts admin or engineer.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case Admin, Engineer:
		return r, nil
	}
	return "", fmt.Errorf("%q is not a role (admin or engineer)", s)
}

// Token is a stored API token. The secret itself is never stored.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	EngineerID int64      `json:"engineer_id,omitempty"` // for role engineer: whose contacts it may edit
	Hash       string     `json:"-"`                     // hex SHA-256 of the secret
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Actor names the token in the audit log.
func (t Token) Actor() string { return fmt.Sprintf("token:%d (%s)", t.ID, t.Name) }

// SecretPrefix starts every secret so that a leaked one is easy to recognise
// in logs and by secret scanners.
const SecretPrefix = "ivr_"

// NewSecret returns a fresh secret (256 random bits) and its hash.
func NewSecret() (secret, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("read random bytes: %w", err)
	}
	secret = SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret), nil
}

// HashSecret returns the hex SHA-256 of secret, the form stored and looked up.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Store keeps tokens. CreateToken and RevokeToken write an audit entry for
// actor in the same transaction.
type Store interface {
	// CreateToken stores t (Hash set, ID and CreatedAt filled in). Invalid
	// (field engineer_id) if an engineer token names no existing engineer.
	CreateToken(ctx context.Context, actor string, t Token) (Token, error)
	// TokenByHash returns the token with this hash, revoked or not; NotFound
	// if none.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Tokens lists every token, revoked ones included, by id.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks a token revoked at at; NotFound if absent, Conflict
	// if already revoked.
	RevokeToken(ctx context.Context, actor string, id int64, at time.Time) error
}

// Issue validates a request for a new token, stores it and returns it with
// its secret, which is shown this once. Invalid naming the field for a
// missing name, one with control characters or one that starts like the
// bootstrap token's, an unknown role, or an engineer token without an
// engineer.
func Issue(ctx context.Context, store Store, actor, name, role string, engineerID int64) (Token, string, error) {
	name, err := oncall.CheckName("name", name)
	if err != nil {
		return Token{}, "", err
	}
	if strings.HasPrefix(name, BootstrapPrefix) {
		return Token{}, "", errs.InvalidField("name", "names starting %q are kept for the token IVR_ADMIN_TOKEN registers", BootstrapPrefix)
	}
	r, err := ParseRole(role)
	if err != nil {
		return Token{}, "", errs.InvalidField("role", "%s", err)
	}
	switch {
	case r == Engineer && engineerID <= 0:
		return Token{}, "", errs.InvalidField("engineer_id", "an engineer token needs the id of its engineer")
	case r == Admin && engineerID != 0:
		return Token{}, "", errs.InvalidField("engineer_id", "an admin token is not tied to an engineer")
	}
	secret, hash, err := NewSecret()
	if err != nil {
		return Token{}, "", err
	}
	tok, err := store.CreateToken(ctx, actor, Token{Name: name, Role: r, EngineerID: engineerID, Hash: hash})
	if err != nil {
		return Token{}, "", err
	}
	return tok, secret, nil
}
