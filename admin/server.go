// Package admin owns the service's operator-facing HTTP surface: the JSON
// admin API under /api/v1 (engineers, rotations, overrides, escalation
// policies, tokens, audit log, who is on call; the built-in tickets, the
// call log, voicemail recordings and requested pages), bearer-token
// authentication, and the health, readiness and metrics endpoints. It maps
// domain errors to HTTP statuses in one place (Error) and holds no business
// rules: those live in the domain packages it calls.
package admin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/calendar"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/team"
	"github.com/supportdesk/ivr/tickets"
)

// Log keys used by this package.
const (
	keyMethod = "method"
	keyPath   = "path"
	keyStatus = "status"
	keyActor  = "actor"
	keyPageID = "page_id"

	keyEngineerID = "engineer_id"
	keyRotationID = "rotation_id"
	keyVersion    = "version"
	keyOverrideID = "override_id"
	keyPriority   = "priority"
	keyTokenID    = "token_id"
	keyRole       = "role"
	keyCallID     = "call_id"
	keyRecording  = "recording"
	keyPanic      = "panic"
	keyStack      = "stack"
)

// Config is what a Server needs.
type Config struct {
	OnCall   *oncall.Service
	Tokens   access.Store
	Audit    audit.Log
	Ready    func(ctx context.Context) error // nil error: ready to serve
	Registry *prometheus.Registry            // metrics are registered here and served at /metrics
	Log      *zap.Logger
	// TokenCacheTTL is how long a checked token is trusted without looking
	// it up again (a revocation on another instance takes effect within
	// it); default 10s.
	TokenCacheTTL time.Duration

	// The phone line's data. Each one left nil leaves its routes out.
	Tickets    tickets.Store // the built-in tickets: /api/v1/tickets
	Calls      CallLog       // /api/v1/calls
	Recordings Recordings    // /api/v1/recordings/{id}
	Pages      Pages         // /api/v1/pages
	// OptOuts, if set, shows on an engineer which of their numbers opted
	// out of texts (GET /api/v1/engineers/{id}: sms_opted_out).
	OptOuts SMSOptOuts
	// CalendarFeeds, if set, serves /api/v1/calendar-feeds; the feeds'
	// subscription URLs start with PublicURL (without one, the address a
	// request came to).
	CalendarFeeds calendar.Store
	PublicURL     string
	// Team, if set, serves the whole team as one YAML document:
	// GET /api/v1/team and POST /api/v1/team/import.
	Team team.Store
	// Verification, if set, serves /api/v1/engineers/{id}/contacts/
	// verification: codes that confirm the numbers engineers add.
	Verification Verification
}

// Server serves the admin API.
type Server struct {
	oncall  *oncall.Service
	tokens  *tokenCache
	store   access.Store
	audit   audit.Log
	ready   func(ctx context.Context) error
	log     *zap.Logger
	metrics *metrics
	router  *mux.Router
	reg     *prometheus.Registry

	tickets    tickets.Store
	calls      CallLog
	recordings Recordings
	pages      Pages
	optOuts    SMSOptOuts

	calendarFeeds calendar.Store
	publicURL     string
	verification  Verification
	team          team.Store
}

// New returns a Server with its routes registered.
func New(cfg Config) *Server {
	if cfg.TokenCacheTTL == 0 {
		cfg.TokenCacheTTL = 10 * time.Second
	}
	s := &Server{
		oncall:  cfg.OnCall,
		store:   cfg.Tokens,
		audit:   cfg.Audit,
		ready:   cfg.Ready,
		log:     cfg.Log.Named("admin"),
		metrics: newMetrics(cfg.Registry),
		router:  mux.NewRouter(),
		reg:     cfg.Registry,

		tickets:    cfg.Tickets,
		calls:      cfg.Calls,
		recordings: cfg.Recordings,
		pages:      cfg.Pages,
		optOuts:    cfg.OptOuts,

		calendarFeeds: cfg.CalendarFeeds,
		publicURL:     cfg.PublicURL,
		verification:  cfg.Verification,
		team:          cfg.Team,
	}
	s.tokens = newTokenCache(cfg.Tokens, cfg.TokenCacheTTL, cfg.OnCall.Now)
	s.routes()
	return s
}

// Router is the server's router, so that other packages (the telephony
// webhooks) can add their routes beside the admin API.
func (s *Server) Router() *mux.Router { return s.router }

// ServeHTTP serves every route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) routes() {
	r := s.router
	r.Use(s.instrument)
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, errNoRoute(r))
	})
	noMethod := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.metrics.errors.WithLabelValues(string(errs.Invalid)).Inc()
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{
			Code: errs.Invalid, Message: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)}})
	})
	r.NotFoundHandler, r.MethodNotAllowedHandler = notFound, noMethod
	r.HandleFunc("/healthz", s.handleHealth).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.handleReady).Methods(http.MethodGet)
	r.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	r.HandleFunc(OpenAPIPath, s.handleOpenAPI).Methods(http.MethodGet)

	// Routes are registered on the root router with their full path: a
	// gorilla/mux subrouter answers 404 instead of 405 for a wrong method.
	const api = "/api/v1"
	read := func(path string, h apiHandler) {
		r.Handle(api+path, s.authenticate(access.Engineer, h)).Methods(http.MethodGet)
	}
	write := func(method, path string, h apiHandler) {
		r.Handle(api+path, s.authenticate(access.Admin, h)).Methods(method)
	}
	read("/engineers", s.listEngineers)
	write(http.MethodPost, "/engineers", s.createEngineer)
	read("/engineers/{id}", s.getEngineer)
	write(http.MethodPut, "/engineers/{id}", s.updateEngineer)
	write(http.MethodDelete, "/engineers/{id}", s.deleteEngineer)
	r.Handle(api+"/engineers/{id}/contacts", s.authenticate(access.Engineer, s.updateContacts)).Methods(http.MethodPut)
	if s.verification != nil { // an engineer for its own numbers; the handlers check whose
		r.Handle(api+"/engineers/{id}/contacts/verification", s.authenticate(access.Engineer, s.sendContactCode)).Methods(http.MethodPost)
		r.Handle(api+"/engineers/{id}/contacts/verification/confirm", s.authenticate(access.Engineer, s.confirmContactCode)).Methods(http.MethodPost)
	}

	read("/rotations", s.listRotations)
	write(http.MethodPost, "/rotations", s.createRotation)
	read("/rotations/{id}", s.getRotation)
	write(http.MethodPut, "/rotations/{id}", s.updateRotation)
	write(http.MethodDelete, "/rotations/{id}", s.endRotation)

	read("/overrides", s.listOverrides)
	write(http.MethodPost, "/overrides", s.createOverride)
	write(http.MethodDelete, "/overrides/{id}", s.deleteOverride)

	read("/oncall", s.getOnCall)
	read("/shifts", s.listShifts)
	read("/gaps", s.listGaps)

	read("/policies", s.listPolicies)
	read("/policies/{priority}", s.getPolicy)
	write(http.MethodPut, "/policies/{priority}", s.putPolicy)

	write(http.MethodGet, "/tokens", s.listTokens)
	write(http.MethodPost, "/tokens", s.createToken)
	write(http.MethodDelete, "/tokens/{id}", s.revokeToken)

	write(http.MethodGet, "/audit", s.listAudit)

	if s.calendarFeeds != nil { // engineers manage their own feeds; the handlers check whose
		r.Handle(api+"/calendar-feeds", s.authenticate(access.Engineer, s.listCalendarFeeds)).Methods(http.MethodGet)
		r.Handle(api+"/calendar-feeds", s.authenticate(access.Engineer, s.createCalendarFeed)).Methods(http.MethodPost)
		r.Handle(api+"/calendar-feeds/{id}", s.authenticate(access.Engineer, s.revokeCalendarFeed)).Methods(http.MethodDelete)
	}

	if s.team != nil {
		write(http.MethodGet, "/team", s.exportTeam)
		write(http.MethodPost, "/team/import", s.importTeam)
	}

	if s.tickets != nil {
		read("/tickets", s.listTickets)
		write(http.MethodPost, "/tickets", s.createTicket)
		read("/tickets/{id}", s.getTicket)
		write(http.MethodPost, "/tickets/{id}/notes", s.addTicketNote)
	}
	if s.calls != nil {
		read("/calls", s.listCalls)
		read("/calls/{id}", s.getCall)
	}
	if s.recordings != nil {
		read("/recordings/{id}", s.getRecording)
	}
	if s.pages != nil {
		read("/pages", s.listPages)
		write(http.MethodPost, "/pages", s.createPage)
		read("/pages/{id}", s.getPage)
		r.Handle(api+"/pages/{id}/ack", s.authenticate(access.Engineer, s.ackPage)).Methods(http.MethodPost)
		r.Handle(api+"/pages/{id}/resolve", s.authenticate(access.Engineer, s.resolvePage)).Methods(http.MethodPost)
	}
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.log.Warn("not ready", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// statusRecorder remembers the status a handler wrote, for metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// instrument counts and times every request by route template, and turns a
// handler panic into a logged internal error instead of a dropped
// connection.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		route := "unmatched"
		if cur := mux.CurrentRoute(r); cur != nil {
			if tpl, err := cur.GetPathTemplate(); err == nil {
				route = tpl
			}
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panic", zap.String(keyPath, r.URL.Path), zap.Any(keyPanic, p), zap.Stack(keyStack))
				s.Error(rec, r, errPanic)
			}
			s.metrics.requests.WithLabelValues(r.Method, route, strconv.Itoa(rec.status)).Inc()
			s.metrics.duration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}
