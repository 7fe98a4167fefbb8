// Package web owns the staff's web page served at /: sign-in with an API
// token exchanged for a session, the board (who is on call now), the
// timeline of the next 14 days with its coverage gaps, the forms admins
// edit the schedule with and engineers their own contacts with, the call
// log with its voicemails, pages with their acknowledge button, and the
// audit log, in Russian and English. It is server-rendered (html/template,
// assets embedded) and readable without JavaScript. It calls the domain
// services (oncall, pager, the call log) directly, never the JSON API, and
// imports no provider, transport of the phone lines, or database package.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// Log keys.
const (
	keyTokenID = "token_id"
	keyPath    = "path"
	keyAddr    = "addr"
	keyField   = "field"
)

func zapTokenID(id int64) zap.Field { return zap.Int64(keyTokenID, id) }

// CallLog is the call log as the page reads it.
type CallLog interface {
	Calls(ctx context.Context, f calls.Filter) ([]ivr.CallRecord, error)
	// Call returns one call; NotFound if there is none.
	Call(ctx context.Context, id string) (ivr.CallRecord, error)
}

// Recordings are the voicemails' audio.
type Recordings interface {
	// Recording returns a recording with its audio; NotFound if none.
	Recording(ctx context.Context, id string) (calls.Recording, error)
}

// Pages are the pager's pages as the page reads and acknowledges them.
type Pages interface {
	Pages(ctx context.Context, f pager.Filter) ([]pager.Page, error)
	Page(ctx context.Context, id int64) (pager.Page, []pager.Attempt, error)
	Acknowledge(ctx context.Context, id int64, ack pager.Acknowledge) (pager.Page, error)
}

// Verifier confirms the numbers engineers add for themselves with a code
// sent to them.
type Verifier interface {
	// Send sends a new code to phone, one of the engineer's numbers.
	Send(ctx context.Context, actor string, engineerID int64, phone string) error
	// Confirm marks phone verified when code is the one sent.
	Confirm(ctx context.Context, actor string, engineerID int64, phone, code string) error
}

// Config is what a Server needs. Calls, Recordings and Pages may be nil:
// their parts of the page are left out.
type Config struct {
	OnCall     *oncall.Service
	Tokens     Tokens
	Sessions   SessionStore
	Audit      audit.Log
	Calls      CallLog
	Recordings Recordings
	Pages      Pages
	// Verifier, if set, offers a code to confirm each unverified number.
	Verifier Verifier
	Lines    []ivr.Line
	// SecureCookies marks the cookies Secure: set it whenever the page is
	// served over https (serve does when the public URL is https).
	SecureCookies bool
	// SignInBurst failed sign-ins from one address are allowed, then one
	// every SignInEvery (defaults 5 and 1 minute).
	SignInBurst int
	SignInEvery time.Duration
	Log         *zap.Logger
}

// Server serves the web page.
type Server struct {
	oncall     *oncall.Service
	tokens     Tokens
	sessions   SessionStore
	audit      audit.Log
	calls      CallLog
	recordings Recordings
	pages      Pages
	verifier   Verifier
	lines      []ivr.Line
	secure     bool
	limiter    *signInLimiter
	log        *zap.Logger
	views      map[string]*template.Template
}

//go:embed templates assets
var files embed.FS

// New returns a Server; Register mounts it.
func New(cfg Config) (*Server, error) {
	if cfg.SignInBurst == 0 {
		cfg.SignInBurst = 5
	}
	if cfg.SignInEvery == 0 {
		cfg.SignInEvery = time.Minute
	}
	views, err := parseViews()
	if err != nil {
		return nil, err
	}
	return &Server{
		oncall: cfg.OnCall, tokens: cfg.Tokens, sessions: cfg.Sessions, audit: cfg.Audit,
		calls: cfg.Calls, recordings: cfg.Recordings, pages: cfg.Pages, verifier: cfg.Verifier, lines: cfg.Lines,
		secure: cfg.SecureCookies, limiter: newSignInLimiter(cfg.SignInBurst, cfg.SignInEvery),
		log: cfg.Log.Named("web"), views: views,
	}, nil
}

func (s *Server) now() time.Time { return s.oncall.Now() }

// AssetsPath is where the page's style sheet and script are served.
const AssetsPath = "/assets/"

// Register adds the page's routes to r.
func (s *Server) Register(r *mux.Router) {
	assets, _ := fs.Sub(files, "assets")
	r.PathPrefix(AssetsPath).Handler(http.StripPrefix(AssetsPath, http.FileServerFS(assets))).Methods(http.MethodGet)
	get := func(path string, h handler) { r.Handle(path, s.page(h, false)).Methods(http.MethodGet) }
	post := func(path string, h handler) { r.Handle(path, s.page(h, true)).Methods(http.MethodPost) }

	r.Handle("/signin", s.headers(http.HandlerFunc(s.showSignIn))).Methods(http.MethodGet)
	r.Handle("/signin", s.headers(http.HandlerFunc(s.postSignIn))).Methods(http.MethodPost)
	post("/signout", s.signOut)
	get("/", s.board)
	get("/timeline", s.timeline)
	get("/overrides", s.overrides)
	post("/overrides", s.addOverride)
	post("/overrides/{id:[0-9]+}/delete", s.removeOverride)
	post("/swap", s.swapShifts)
	get("/engineers", s.engineers)
	get("/engineers/{id:[0-9]+}/contacts", s.contacts)
	post("/engineers/{id:[0-9]+}/contacts", s.saveContacts)
	if s.verifier != nil {
		post("/engineers/{id:[0-9]+}/contacts/code", s.sendCode)
		post("/engineers/{id:[0-9]+}/contacts/confirm", s.confirmCode)
	}
	get("/rotations/{id:[0-9]+}", s.rotation)
	post("/rotations/{id:[0-9]+}", s.saveRotation)
	get("/audit", s.auditLog)
	if s.calls != nil {
		get("/calls", s.callList)
		get("/calls/{id}", s.call)
	}
	if s.recordings != nil {
		r.Handle("/voicemail/{id}", s.headers(http.HandlerFunc(s.voicemail))).Methods(http.MethodGet)
	}
	if s.pages != nil {
		get("/pages", s.pageList)
		get("/pages/{id:[0-9]+}", s.pageView)
		post("/pages/{id:[0-9]+}/ack", s.ackPage)
	}
}

// handler serves one signed-in request: it renders a view or redirects,
// or returns an error the page shows.
type handler func(w http.ResponseWriter, r *http.Request, c *request) error

// request is what a handler knows of its request: who asks, in which
// language and zone.
type request struct {
	viewer viewer
	lang   oncall.Language
	zone   *time.Location
	// zoneChosen says the zone was picked on the page (not the browser's
	// or the engineer's), so the script does not replace it.
	zoneChosen bool
	flash      string
	verifies   bool // codes can be sent to unverified numbers
}

// page wraps h: security headers, the viewer's session (else the sign-in
// page), the language and zone, CSRF on every POST, and errors shown as a
// page.
func (s *Server) page(h handler, post bool) http.Handler {
	return s.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok, err := s.viewerOf(r)
		if err != nil {
			s.fail(w, r, &request{lang: language(r), zone: time.UTC}, err)
			return
		}
		if !ok {
			if post {
				s.renderStatus(w, r, http.StatusForbidden, &request{lang: language(r), zone: time.UTC}, "message", translate(language(r), "csrf"))
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		c := &request{viewer: v, lang: language(r), verifies: s.verifier != nil}
		c.zone, c.zoneChosen = s.zoneOf(r, v)
		if s.remember(w, r, c) {
			return
		}
		if post {
			if err := r.ParseForm(); err != nil || !sameSecret(r.PostForm.Get("csrf"), v.CSRF) {
				s.log.Warn("form refused: no or wrong CSRF token", zap.String(keyPath, r.URL.Path), zapTokenID(v.Token.ID))
				s.renderStatus(w, r, http.StatusForbidden, c, "message", translate(c.lang, "csrf"))
				return
			}
		}
		c.flash = r.URL.Query().Get("done")
		if err := h(w, r, c); err != nil {
			s.fail(w, r, c, err)
		}
	}))
}

// remember turns ?lang= and ?tz= into cookies and redirects to the page
// without them, so that links and reloads keep the choice.
func (s *Server) remember(w http.ResponseWriter, r *http.Request, c *request) bool {
	q := r.URL.Query()
	lang, hasLang := q["lang"]
	tz, hasTZ := q["tz"]
	if r.Method != http.MethodGet || (!hasLang && !hasTZ) {
		return false
	}
	if hasLang && oncall.Language(lang[0]).Valid() {
		http.SetCookie(w, s.cookie(langCookie, lang[0], 365*24*time.Hour))
	}
	if hasTZ {
		if tz[0] == "" || tz[0] == "browser" {
			http.SetCookie(w, s.cookie(zoneCookie, "", -1))
		} else if _, err := oncall.LoadZone(tz[0]); err == nil {
			http.SetCookie(w, s.cookie(zoneCookie, tz[0], 365*24*time.Hour))
		}
	}
	q.Del("lang")
	q.Del("tz")
	u := *r.URL
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther) //nolint:gosec // G710: the request's own path, its query less two keys
	return true
}

const (
	langCookie = "ivr_lang"
	zoneCookie = "ivr_tz"
	// browserZoneCookie is set by the page's script to the browser's zone.
	browserZoneCookie = "ivr_browser_tz"
)

// zoneOf picks the zone times are shown in: the one chosen on the page,
// else the browser's (when its script ran), else the engineer's stored
// zone, else UTC.
func (s *Server) zoneOf(r *http.Request, v viewer) (*time.Location, bool) {
	if c, err := r.Cookie(zoneCookie); err == nil {
		if loc, err := oncall.LoadZone(c.Value); err == nil {
			return loc, true
		}
	}
	if c, err := r.Cookie(browserZoneCookie); err == nil {
		if name, err := url.QueryUnescape(c.Value); err == nil {
			if loc, err := oncall.LoadZone(name); err == nil {
				return loc, false
			}
		}
	}
	if v.Engineer.TimeZone != "" {
		if loc, err := oncall.LoadZone(v.Engineer.TimeZone); err == nil {
			return loc, false
		}
	}
	return time.UTC, false
}

// headers sets what every answer of the page carries: no framing, no
// sniffing, scripts from the page itself only, nothing cached.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Inline style attributes place the timeline's bars; scripts come
		// only from /assets/.
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// fail shows err as a page: a field error is the handler's to show next
// to its field, so what reaches here is a refusal, a missing thing or a
// failure.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c *request, err error) {
	var e *errs.Error
	status, msg := http.StatusInternalServerError, translate(c.lang, "broken")
	switch {
	case errors.As(err, &e) && e.Code == errs.Forbidden:
		status, msg = http.StatusForbidden, e.Message
	case errors.As(err, &e) && e.Code == errs.NotFound:
		status, msg = http.StatusNotFound, translate(c.lang, "not-found")
	case errors.As(err, &e) && e.Code != errs.Internal && e.Code != errs.Unavailable:
		status, msg = errs.HTTPStatus(e.Code), e.Message
	default:
		s.log.Error("web page failed", zap.String(keyPath, r.URL.Path), zap.Error(err))
	}
	s.renderStatus(w, r, status, c, "message", msg)
}

// forbidden is the refusal of an admin form to an engineer.
func forbidden(c *request, key string) error {
	return errs.E(errs.Forbidden, "", "%s", translate(c.lang, key))
}

// needAdmin refuses engineers.
func needAdmin(c *request) error {
	if !c.viewer.Admin() {
		return forbidden(c, "forbidden")
	}
	return nil
}

// redirectDone sends the browser to path with a message key to show.
func redirectDone(w http.ResponseWriter, r *http.Request, path, done string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	http.Redirect(w, r, path+sep+"done="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}
