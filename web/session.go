package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// Session is a signed-in browser: the cookie carries a secret whose hash is
// Hash, exchanged once for the API token whose hash is TokenHash. Forms
// carry CSRF.
type Session struct {
	Hash      string
	TokenHash string
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionStore keeps sessions, so that any instance serves any of them.
type SessionStore interface {
	// CreateSession stores s and deletes sessions that expired before
	// s.CreatedAt.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with this hash; NotFound if none.
	Session(ctx context.Context, hash string) (Session, error)
	// DeleteSession removes a session; no error if it is gone already.
	DeleteSession(ctx context.Context, hash string) error
}

// Tokens finds the API token a session stands for.
type Tokens interface {
	// TokenByHash returns the token with this hash, revoked or not;
	// NotFound if none.
	TokenByHash(ctx context.Context, hash string) (access.Token, error)
}

const (
	sessionCookie = "ivr_session"
	// signInCookie carries the sign-in form's own CSRF secret (double
	// submit): there is no session yet to keep it in.
	signInCookie = "ivr_signin"
	// SessionLength is how long a sign-in lasts: a night's shift and then
	// some; signing out or revoking the token ends it sooner.
	SessionLength = 12 * time.Hour
)

// viewer is who is looking at a page: their token, the engineer it belongs
// to (zero for an admin token without one) and the session's form secret.
type viewer struct {
	Token    access.Token
	Engineer oncall.Engineer
	CSRF     string
	session  string // the session's hash
}

// Admin reports whether the viewer may edit everything.
func (v viewer) Admin() bool { return v.Token.Role == access.Admin }

// Name is how the page names the viewer.
func (v viewer) Name() string {
	if v.Engineer.ID != 0 {
		return v.Engineer.Name
	}
	return v.Token.Name
}

// Actor names the viewer in the audit log: the token, as the API does, so
// that the log names one person the same way whichever way they came in.
func (v viewer) Actor() string { return v.Token.Actor() + " via web" }

func randomSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// sameSecret compares two secrets in constant time.
func sameSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// viewerOf reads the session cookie of r. ok is false when there is none,
// it is unknown or expired, or its token was revoked (or its engineer
// deleted, which revokes their tokens); err is a store failure.
func (s *Server) viewerOf(r *http.Request) (v viewer, ok bool, err error) {
	c, cerr := r.Cookie(sessionCookie)
	if cerr != nil || c.Value == "" || len(c.Value) > 100 {
		return viewer{}, false, nil
	}
	hash := access.HashSecret(c.Value)
	sess, err := s.sessions.Session(r.Context(), hash)
	switch {
	case errs.Is(err, errs.NotFound):
		return viewer{}, false, nil
	case err != nil:
		return viewer{}, false, err
	case !s.now().Before(sess.ExpiresAt):
		return viewer{}, false, nil
	}
	tok, err := s.tokens.TokenByHash(r.Context(), sess.TokenHash)
	switch {
	case errs.Is(err, errs.NotFound):
		return viewer{}, false, nil
	case err != nil:
		return viewer{}, false, err
	case tok.RevokedAt != nil:
		return viewer{}, false, nil
	}
	v = viewer{Token: tok, CSRF: sess.CSRF, session: hash}
	if tok.EngineerID != 0 {
		e, err := s.oncall.Engineer(r.Context(), tok.EngineerID)
		if err != nil {
			return viewer{}, false, err
		}
		v.Engineer = e
	}
	return v, true, nil
}

// signIn exchanges an API token's secret for a new session, whose cookie it
// sets. Unauthorized for a secret that names no token or a revoked one.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, secret string) error {
	tok, err := s.tokens.TokenByHash(r.Context(), access.HashSecret(secret))
	switch {
	case errs.Is(err, errs.NotFound):
		return errs.E(errs.Unauthorized, "token", "is not a valid API token")
	case err != nil:
		return err
	case tok.RevokedAt != nil:
		return errs.E(errs.Unauthorized, "token", "was revoked; ask an admin for a new one")
	}
	cookie, err := randomSecret()
	if err != nil {
		return err
	}
	csrf, err := randomSecret()
	if err != nil {
		return err
	}
	now := s.now()
	sess := Session{Hash: access.HashSecret(cookie), TokenHash: tok.Hash, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(SessionLength)}
	if err := s.sessions.CreateSession(r.Context(), sess); err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(sessionCookie, cookie, SessionLength))
	s.log.Info("signed in", zapTokenID(tok.ID))
	return nil
}

// cookie is one of the page's cookies: HttpOnly, SameSite=Lax (Strict
// would drop the session on a link followed from a page's text message),
// Secure when the page is served over https. maxAge < 0 deletes it.
func (s *Server) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode} //nolint:gosec // G124: Secure follows the public URL's scheme; plain http is for loopback demos and tests
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}

// signInLimiter refuses sign-in attempts from an address that failed too
// often: Burst failures, then one more every Every. It is per instance (a
// guesser spread over several instances gets a few more tries each; an API
// token has 256 random bits, so the limit is against noise and log floods
// more than against guessing).
type signInLimiter struct {
	burst int
	every time.Duration

	mu   sync.Mutex
	seen map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

const maxLimitedAddresses = 10000

func newSignInLimiter(burst int, every time.Duration) *signInLimiter {
	return &signInLimiter{burst: burst, every: every, seen: map[string]bucket{}}
}

// allow reports whether addr may try now, and if not, how long until it may.
func (l *signInLimiter) allow(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(addr, now)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.every)).Round(time.Second)
}

// failed spends one try of addr.
func (l *signInLimiter) failed(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(addr, now)
	b.tokens = max(0, b.tokens-1)
	if len(l.seen) >= maxLimitedAddresses {
		clear(l.seen)
	}
	l.seen[addr] = b
}

func (l *signInLimiter) refill(addr string, now time.Time) bucket {
	b, ok := l.seen[addr]
	if !ok {
		return bucket{tokens: float64(l.burst), at: now}
	}
	b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	return b
}

// clientAddress is the address sign-in attempts are counted by: the peer's
// IP (a proxy in front makes every client one address, which the limit
// then covers together; the page does not trust X-Forwarded-For, which any
// client can set).
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
