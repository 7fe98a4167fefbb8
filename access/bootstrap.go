package access

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// The bootstrap token is the admin token an operator gets in with before
// any token exists: serve registers the secret of IVR_ADMIN_TOKEN (its
// hash). There is one at a time: a new value of the variable replaces the
// token of the old one, and with the variable unset the last one stops
// working, as an operator who removes a secret from the environment
// expects. With several instances on PostgreSQL, each start applies its own
// IVR_ADMIN_TOKEN: give them all the same value (or none).

// BootstrapActor names IVR_ADMIN_TOKEN in the audit log.
const BootstrapActor = "IVR_ADMIN_TOKEN"

// BootstrapPrefix starts the name of every token registered from
// IVR_ADMIN_TOKEN (before fingerprints, it was the whole name but the
// closing bracket); Issue refuses names that start with it.
const BootstrapPrefix = "bootstrap (IVR_ADMIN_TOKEN"

// MinBootstrapSecret is the shortest IVR_ADMIN_TOKEN accepted: a bearer
// secret shorter than this is guessable.
const MinBootstrapSecret = 24

// BootstrapName is the name of the token registered from the secret whose
// hash this is: the prefix and the hash's last six hex digits, so that the
// tokens of successive values can be told apart in the token list and the
// audit log. `printf %s "$IVR_ADMIN_TOKEN" | sha256sum | cut -c59-64` shows
// a value's six; they say nothing usable about the secret.
func BootstrapName(hash string) string {
	return BootstrapPrefix + " …" + hash[max(0, len(hash)-6):] + ")"
}

// IsBootstrap reports whether t was registered from IVR_ADMIN_TOKEN.
func IsBootstrap(t Token) bool { return t.Role == Admin && strings.HasPrefix(t.Name, BootstrapPrefix) }

// BootstrapStore is a Store that replaces tokens in one transaction.
type BootstrapStore interface {
	Store
	// ReplaceTokens, in one transaction, stores t (Hash set) unless a token
	// has its hash already, and revokes at at every other unrevoked admin
	// token whose name starts with prefix, writing an audit entry for actor
	// for each change. It returns the token with t's hash (stored now when
	// created is true) and the tokens it revoked. With t.Hash empty it only
	// revokes. Conflict if the token with t's hash is revoked, or if
	// another transaction stores the same hash at the same time.
	ReplaceTokens(ctx context.Context, actor, prefix string, t Token, at time.Time) (kept Token, created bool, revoked []Token, err error)
}

// BootstrapResult is what Bootstrap did.
type BootstrapResult struct {
	Token   Token   // the token IVR_ADMIN_TOKEN names; zero with the variable unset
	Created bool    // Token was registered now
	Revoked []Token // the earlier bootstrap tokens, revoked now
}

// Bootstrap makes secret, the value of IVR_ADMIN_TOKEN, the one bootstrap
// token: registered as an admin token if new, every other bootstrap token
// revoked at now. An empty secret revokes them all. The secret itself is
// never stored. Errors name IVR_ADMIN_TOKEN: a secret shorter than
// MinBootstrapSecret, or one whose token was revoked or is not an admin
// token.
func Bootstrap(ctx context.Context, store BootstrapStore, secret string, now time.Time) (BootstrapResult, error) {
	secret = strings.TrimSpace(secret)
	var tok Token
	if secret != "" {
		if len(secret) < MinBootstrapSecret {
			return BootstrapResult{}, fmt.Errorf("IVR_ADMIN_TOKEN is %d characters long; use at least %d random characters (e.g. from `openssl rand -hex 32`)",
				len(secret), MinBootstrapSecret)
		}
		tok = Token{Role: Admin, Hash: HashSecret(secret)}
		tok.Name = BootstrapName(tok.Hash)
	}
	for attempt := 0; ; attempt++ {
		if tok.Hash != "" {
			old, err := store.TokenByHash(ctx, tok.Hash)
			switch {
			case err == nil && old.RevokedAt != nil:
				return BootstrapResult{}, fmt.Errorf("IVR_ADMIN_TOKEN names token %d, which was revoked; choose a new secret", old.ID)
			case err == nil && old.Role != Admin:
				return BootstrapResult{}, fmt.Errorf("IVR_ADMIN_TOKEN names token %d, an %s token, not an admin one", old.ID, old.Role)
			case err != nil && !errs.Is(err, errs.NotFound):
				return BootstrapResult{}, fmt.Errorf("look up IVR_ADMIN_TOKEN: %w", err)
			}
		}
		kept, created, revoked, err := store.ReplaceTokens(ctx, BootstrapActor, BootstrapPrefix, tok, now)
		if errs.Is(err, errs.Conflict) && attempt == 0 {
			continue // another instance registered or revoked it meanwhile: look again
		}
		if err != nil {
			return BootstrapResult{}, fmt.Errorf("register IVR_ADMIN_TOKEN: %w", err)
		}
		return BootstrapResult{Token: kept, Created: created, Revoked: revoked}, nil
	}
}

// Log keys of ApplyBootstrap.
const (
	logTokenID   = "token_id"
	logTokenName = "token_name"
)

// ApplyBootstrap is Bootstrap at start: it makes secret, the value of
// IVR_ADMIN_TOKEN, the one bootstrap token, and logs what changed: each
// token revoked, with why (the variable changed, or is not set), as a
// warning, and the token registered now. Errors are Bootstrap's.
func ApplyBootstrap(ctx context.Context, store BootstrapStore, secret string, now time.Time, log *zap.Logger) error {
	res, err := Bootstrap(ctx, store, secret, now)
	if err != nil {
		return err
	}
	why := "IVR_ADMIN_TOKEN changed"
	if res.Token.ID == 0 {
		why = "IVR_ADMIN_TOKEN is not set"
	}
	for _, tok := range res.Revoked {
		log.Warn("bootstrap admin token revoked: "+why, zap.Int64(logTokenID, tok.ID), zap.String(logTokenName, tok.Name))
	}
	if res.Created {
		log.Info("admin token from IVR_ADMIN_TOKEN registered", zap.Int64(logTokenID, res.Token.ID), zap.String(logTokenName, res.Token.Name))
	}
	return nil
}
