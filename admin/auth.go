package admin

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/errs"
)

type ctxKey int

const tokenKey ctxKey = iota

// tokenOf returns the token that authenticated r.
func tokenOf(r *http.Request) access.Token {
	t, _ := r.Context().Value(tokenKey).(access.Token)
	return t
}

// authenticate lets r through to next when it carries a valid, unrevoked
// bearer token whose role may do what the route needs: admin routes need an
// admin token, engineer routes any token. No or bad token: 401; wrong role:
// 403.
func (s *Server) authenticate(need access.Role, next apiHandler) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		h := r.Header.Get("Authorization")
		scheme, secret, _ := strings.Cut(h, " ")
		if h == "" {
			return errs.E(errs.Unauthorized, "", "an API token is required: send Authorization: Bearer <token>")
		}
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			return errs.E(errs.Unauthorized, "", "the Authorization header must be Bearer <token>")
		}
		tok, err := s.tokens.check(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			return err
		}
		if need == access.Admin && tok.Role != access.Admin {
			return errs.E(errs.Forbidden, "", "this needs an admin token; %q is an %s token", tok.Name, tok.Role)
		}
		return next(w, r.WithContext(context.WithValue(r.Context(), tokenKey, tok)))
	})
}

// tokenCache checks secrets against the store, remembering the answer for a
// short TTL so that a busy endpoint does not query the store per request.
type tokenCache struct {
	store access.Store
	ttl   time.Duration
	now   func() time.Time

	mu      sync.RWMutex
	entries map[string]cachedToken // by hash
}

type cachedToken struct {
	token   access.Token
	err     error
	expires time.Time
}

func newTokenCache(store access.Store, ttl time.Duration, now func() time.Time) *tokenCache {
	return &tokenCache{store: store, ttl: ttl, now: now, entries: map[string]cachedToken{}}
}

// maxCachedTokens bounds the cache so that a flood of random secrets cannot
// grow it without limit.
const maxCachedTokens = 10000

var errBadToken = errs.E(errs.Unauthorized, "", "the API token is not valid")

func (c *tokenCache) check(ctx context.Context, secret string) (access.Token, error) {
	hash := access.HashSecret(secret)
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[hash]
	c.mu.RUnlock()
	if !ok || now.After(e.expires) {
		tok, err := c.store.TokenByHash(ctx, hash)
		switch {
		case err == nil && tok.RevokedAt != nil:
			err = errs.E(errs.Unauthorized, "", "the API token was revoked")
		case errs.Is(err, errs.NotFound):
			err = errBadToken
		case err != nil:
			return access.Token{}, err // store trouble: not cached
		}
		e = cachedToken{token: tok, err: err, expires: now.Add(c.ttl)}
		c.mu.Lock()
		if len(c.entries) >= maxCachedTokens {
			clear(c.entries)
		}
		c.entries[hash] = e
		c.mu.Unlock()
	}
	return e.token, e.err
}

// forget drops every cached answer, after a token is revoked here, by
// itself or with its engineer.
func (c *tokenCache) forget() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// actor names the caller in the audit log and in logs.
func actor(r *http.Request) string { return tokenOf(r).Actor() }

func (s *Server) logChange(r *http.Request, what string, fields ...zap.Field) {
	s.log.Info(what, append(fields, zap.String(keyActor, actor(r)))...)
}
