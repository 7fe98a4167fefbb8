package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// signInView is the sign-in form.
type signInView struct {
	CSRF string
	Next string
	Done bool // just signed out
}

// localPath returns next when it is a path on this site, else "/": the
// sign-in form never sends a browser elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) showSignIn(w http.ResponseWriter, r *http.Request) {
	c := &request{lang: language(r), zone: time.UTC}
	if s.remember(w, r, c) {
		return
	}
	csrf, err := randomSecret()
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.SetCookie(w, s.cookie(signInCookie, csrf, time.Hour))
	s.renderStatus(w, r, http.StatusOK, c, "signin", signInView{CSRF: csrf, Next: localPath(r.URL.Query().Get("next")), Done: r.URL.Query().Has("out")})
}

// postSignIn exchanges the token typed in for a session. Failed tries are
// counted per address; beyond the limit every try is refused, the right
// token too, until the limit refills.
func (s *Server) postSignIn(w http.ResponseWriter, r *http.Request) {
	c := &request{lang: language(r), zone: time.UTC}
	if err := r.ParseForm(); err != nil {
		s.renderStatus(w, r, http.StatusBadRequest, c, "message", translate(c.lang, "csrf"))
		return
	}
	next := localPath(r.PostForm.Get("next"))
	cookie, err := r.Cookie(signInCookie)
	if err != nil || !sameSecret(r.PostForm.Get("csrf"), cookie.Value) {
		s.renderStatus(w, r, http.StatusForbidden, c, "message", translate(c.lang, "csrf"))
		return
	}
	addr, now := clientAddress(r), s.now()
	again := func(status int, fieldErrs map[string]string) {
		if err := s.renderForm(w, r, status, c, "signin", signInView{CSRF: cookie.Value, Next: next}, fieldErrs, nil); err != nil {
			s.log.Error("render failed", zap.String(keyPath, r.URL.Path), zap.Error(err))
		}
	}
	if ok, wait := s.limiter.allow(addr, now); !ok {
		s.log.Warn("sign-in refused: too many failed attempts", zap.String(keyAddr, addr))
		again(http.StatusTooManyRequests, map[string]string{"token": translate(c.lang, "too-many", max(wait, time.Second).String())})
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	err = s.signIn(w, r, secret)
	var e *errs.Error
	if errors.As(err, &e) && e.Code == errs.Unauthorized {
		s.limiter.failed(addr, now)
		s.log.Info("sign-in failed", zap.String(keyAddr, addr))
		again(http.StatusUnauthorized, map[string]string{"token": e.Message})
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.SetCookie(w, s.cookie(signInCookie, "", -1))
	http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // G710: next passed localPath, a path of this site only
}

// signOut ends the session here and in the store, so no instance accepts
// its cookie again.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request, c *request) error {
	if err := s.sessions.DeleteSession(r.Context(), c.viewer.session); err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/signin?out=1", http.StatusSeeOther)
	return nil
}
