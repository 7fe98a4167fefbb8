package faketwilio

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"go.uber.org/zap"
)

// Defaults used when Options leave a field empty. The token is alphanumeric
// because twilio-go refuses credentials with other characters.
const (
	DefaultAccountSID    = "ACfa4e0000000000000000000000000001"
	DefaultAuthToken     = "fa4e7e57a07470e4000000000000c0de"
	DefaultServiceNumber = "+15005550006"
	apiVersion           = "2010-04-01"
)

// Structured log keys.
const (
	keyMethod     = "method"
	keyPath       = "path"
	keyQuery      = "query"
	keyTook       = "took"
	keyEndpoint   = "endpoint"
	keyCallSid    = "call_sid"
	keyParentCall = "parent_call_sid"
	keyMsgSid     = "message_sid"
	keyRecording  = "recording_sid"
	keyTo         = "to"
	keyFrom       = "from"
	keyURL        = "url"
	keyParams     = "params"
	keyStatus     = "status"
	keyCode       = "code"
	keyKeyword    = "keyword"
	keyWhat       = "what"
	keyDelay      = "delay"
	keyAccountSID = "account_sid"
	keySpec       = "spec"
	keyLoadTime   = "load_time"
)

// Options configure a Server. Zero values get the defaults described.
type Options struct {
	// SpecPath is Twilio's OpenAPI description (twilio_api_v2010.json).
	// Default: DefaultSpecPath().
	SpecPath string
	// Unchecked, with no SpecPath, runs without Twilio's description: the
	// fake's operations are routed and authenticated, and no request or
	// answer is checked. For `ivr fake-twilio` when no spec is at hand.
	Unchecked bool
	// AccountSID and AuthToken are the credentials the REST API accepts
	// (HTTP basic auth) and the key callbacks are signed with.
	// Defaults: DefaultAccountSID, DefaultAuthToken.
	AccountSID string
	AuthToken  string
	// Logger receives one line per request and callback. Default: no-op.
	Logger *zap.Logger
	// HTTPClient sends callbacks. Default: dialling loopback addresses
	// only. Whatever the client, callbacks to a host that is not loopback
	// (127.0.0.0/8, ::1, localhost) are refused.
	HTTPClient *http.Client
	// WebhookTimeout bounds every webhook and callback request, connecting
	// included, as Twilio's 15 s do; a TwiML request that takes longer
	// fails (11205) and goes to the call's Fallback URL, if any.
	// Default: DefaultWebhookTimeout (15 s).
	WebhookTimeout time.Duration
	// SMSWebhookURL receives inbound SMS (Device.SendSMS, ThenReply), as
	// configured on a Twilio number's "A message comes in".
	SMSWebhookURL string
	// VoiceWebhookURL receives inbound calls (Device.Dial), as configured on
	// a Twilio number's "A call comes in".
	VoiceWebhookURL string
	// VoiceFallbackURL is the Twilio number's VoiceFallbackUrl ("Primary
	// handler fails"): inbound calls request it (POST, with ErrorCode and
	// ErrorUrl) when their TwiML cannot be fetched or run. Default: none.
	VoiceFallbackURL string
	// VoiceStatusCallbackURL gets the "completed" status callback of
	// inbound calls, as configured on a Twilio number's "Call status
	// changes".
	VoiceStatusCallbackURL string
	// ServiceNumber is the service's own number: the To of inbound SMS
	// answering a message that was sent through a messaging service, and the
	// default To of Device.Dial. Default: DefaultServiceNumber.
	ServiceNumber string
	// Numbers are the account's Twilio numbers besides ServiceNumber
	// (IncomingPhoneNumbers): Calls.create and Messages.create accept them
	// as From. Default (nil): this service's support lines, +74996383867
	// and +12025952118, since the fake is this service's double and its
	// demo dials those lines.
	Numbers []string
	// VerifiedCallerIDs are the account's verified caller ids
	// (OutgoingCallerIds): Calls.create accepts them as From, as Twilio
	// does; Messages.create does not (21606). Default: none.
	VerifiedCallerIDs []string
	// ExpectTimeout bounds ExpectCall, ExpectSMS and the other waits of the
	// fluent helpers. Default: 5 s.
	ExpectTimeout time.Duration
	// AutoDeliver delivers every message the service sends: after "sent",
	// the fake reports "delivered" at once by itself (the demo console's
	// phones read every text). Without it, delivery is the test's to
	// script (MessageHandle.Delivered, Undelivered, Failed).
	AutoDeliver bool
	// AdvancedOptOut says the service number belongs to a Messaging
	// Service with Advanced Opt-Out: inbound opt-out, opt-in and help
	// keywords then carry OptOutType (STOP, START, HELP) in the inbound
	// webhook. Twilio sends OptOutType only then; without it the service
	// must recognise the keyword in Body itself.
	AdvancedOptOut bool
	// Now is the clock for resource timestamps. Default: time.Now.
	Now func() time.Time
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	spec   *spec
	log    *zap.Logger
	client *http.Client
	// failf ends the test (set by Start) or panics; used by fluent helpers.
	failf func(format string, args ...any)
	wg    sync.WaitGroup // callbacks sent on the fake's own initiative

	// account is what the account owns: made by New, never changed.
	account *account

	mu          sync.Mutex
	url         string
	changed     chan struct{} // closed and replaced whenever calls or messages arrive
	calls       map[string]*call
	callList    []*call
	messages    map[string]*message
	messageList []*message
	recordings  map[string]*recording
	queues      map[string]*queueRec   // by sid: the account's queues (queues_api.go)
	phones      map[string]*phoneState // numbers marked by the test or opted out
	unexpected  []string
	faults      []*fault
	drop        Drop // status callbacks still to lose
	dropped     Drop // status callbacks lost so far
	// storage is where media is redirected (RedirectMedia); nil: served here.
	storage *MediaStorage
}

// New loads the spec (once per process and path) and returns a Server that is
// not listening yet: serve Handler() yourself, or use Start or Serve. Without
// Start, the fluent helpers (ExpectCall, Answer, …) panic on failure; use
// WaitCall and WaitSMS where that will not do.
func New(opts Options) (*Server, error) {
	if opts.SpecPath == "" && !opts.Unchecked {
		p, err := DefaultSpecPath()
		if err != nil {
			return nil, err
		}
		opts.SpecPath = p
	}
	if opts.AccountSID == "" {
		opts.AccountSID = DefaultAccountSID
	}
	if opts.AuthToken == "" {
		opts.AuthToken = DefaultAuthToken
	}
	if opts.ServiceNumber == "" {
		opts.ServiceNumber = DefaultServiceNumber
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = DefaultWebhookTimeout
	}
	if opts.ExpectTimeout <= 0 {
		opts.ExpectTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	var sp *spec
	var err error
	if opts.SpecPath == "" {
		sp, err = uncheckedSpec()
	} else {
		sp, err = loadSpec(opts.SpecPath)
	}
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:       opts,
		spec:       sp,
		log:        opts.Logger.Named("faketwilio"),
		client:     callbackClient(opts.HTTPClient),
		changed:    make(chan struct{}),
		calls:      map[string]*call{},
		messages:   map[string]*message{},
		recordings: map[string]*recording{},
		phones:     map[string]*phoneState{},
	}
	s.account = newAccount(opts, s.now())
	s.failf = func(format string, args ...any) { panic(fmt.Sprintf("faketwilio: "+format, args...)) }
	s.log.Debug("spec loaded", zap.String(keyPath, opts.SpecPath), zap.Duration(keyLoadTime, sp.loadTime))
	return s, nil
}

// Handler returns the fake REST API as an http.Handler.
func (s *Server) Handler() http.Handler { return s }

// AccountSID returns the account the fake accepts.
func (s *Server) AccountSID() string { return s.opts.AccountSID }

// AuthToken returns the token the fake accepts and signs callbacks with.
func (s *Server) AuthToken() string { return s.opts.AuthToken }

// URL returns the base URL the fake is served at ("" until Start, Serve or
// SetURL).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// SetURL records where Handler() is served when you serve it yourself; it is
// used for recording media URLs.
func (s *Server) SetURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.url = strings.TrimSuffix(u, "/")
}

// Unexpected lists what went wrong so far: requests the spec rejects, wrong
// credentials, unimplemented endpoints, failed callbacks.
func (s *Server) Unexpected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unexpected...)
}

// TakeUnexpected returns Unexpected() and forgets it, for tests that provoke
// a rejection on purpose and check it.
func (s *Server) TakeUnexpected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.unexpected
	s.unexpected = nil
	return u
}

// ExpectNoMore returns an error naming everything unexpected: Unexpected()
// plus calls and messages that no ExpectCall or ExpectSMS claimed (Twilio's
// own opt-out replies excepted: the service did not send them). Start runs
// it at cleanup.
func (s *Server) ExpectNoMore() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	problems := append([]string(nil), s.unexpected...)
	for _, c := range s.callList {
		if !c.claimed {
			problems = append(problems, fmt.Sprintf("unexpected call %s to %s from %s", c.sid, c.to, c.from))
		}
	}
	for _, m := range s.messageList {
		if !m.claimed && !m.auto {
			problems = append(problems, fmt.Sprintf("unexpected SMS %s to %s: %q", m.sid, m.to, m.body))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("faketwilio: " + strings.Join(problems, "; "))
}

// Close waits for callbacks the fake sent on its own initiative (after a
// cancel through the API, for example). Start calls it at cleanup.
func (s *Server) Close() { s.wg.Wait() }

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

func (s *Server) unexpectedf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.log.Warn("unexpected", zap.String(keyWhat, msg))
	s.mu.Lock()
	s.unexpected = append(s.unexpected, msg)
	s.mu.Unlock()
}

// notifyLocked wakes every waiter of ExpectCall and ExpectSMS. s.mu is held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func newSID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// mediaPath is a recording's media (…/Recordings/RE….wav); Twilio serves it
// beside the JSON resource but the spec does not describe it.
var mediaPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Recordings/(RE[0-9a-fA-F]{32})(\.wav|\.mp3)?$`)

// ServeHTTP routes, validates against the spec, applies faults and serves.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw}
	start := time.Now()
	defer func() {
		s.log.Info("request", zap.String(keyMethod, r.Method), zap.String(keyPath, r.URL.Path),
			zap.String(keyQuery, r.URL.RawQuery), zap.Int(keyStatus, w.status), zap.Duration(keyTook, time.Since(start)))
	}()
	if m := mediaPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodGet {
		s.serveMedia(w, r, m[1], m[2], m[3])
		return
	}
	route, params, err := s.spec.router.FindRoute(r)
	if err != nil {
		what := fmt.Sprintf("%s %s", r.Method, r.URL.Path)
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			s.reject(w, &apiError{Status: 405, Code: 20004, Message: "Method not allowed"}, what)
			return
		}
		s.reject(w, errNotFound(r.URL.Path), what+": no such path in the spec")
		return
	}
	op := route.Operation.OperationID
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: s.requestOptions()}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		var sec *openapi3filter.SecurityRequirementsError
		if errors.As(err, &sec) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			s.reject(w, &apiError{Status: 401, Code: 20003, Message: "Authenticate"}, op+": wrong or missing credentials")
			return
		}
		e := validationError(err)
		s.reject(w, e, fmt.Sprintf("%s rejected by the spec: %s", op, e.Message))
		return
	}
	if params["AccountSid"] != s.opts.AccountSID {
		s.reject(w, errNotFound(r.URL.Path), fmt.Sprintf("%s for account %s, not %s", op, params["AccountSid"], s.opts.AccountSID))
		return
	}
	ep, ok := endpoints[op]
	if !ok {
		s.reject(w, &apiError{Status: 501, Code: 20501, Message: "faketwilio does not implement " + op}, op+": not implemented by the fake")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.reject(w, &apiError{Status: 400, Code: codeInvalid, Message: err.Error()}, op+": unreadable form")
		return
	}
	f := s.takeFault(ep.name, op)
	if f != nil && !f.Committed {
		if f.serve(w, r) {
			return
		}
	}
	res, apiErr := ep.handle(s, r, params)
	if res.after != nil {
		// What Twilio does next on its own (a message's "sent"), once the
		// answer is out, whatever a committed fault makes of the answer.
		defer s.background(res.after)
	}
	if f != nil && f.Committed && f.serve(w, r) {
		return
	}
	if apiErr != nil {
		if apiErr.unexpected {
			s.reject(w, apiErr, fmt.Sprintf("%s: %s", op, apiErr.Message))
		} else {
			writeError(w, apiErr)
		}
		return
	}
	s.writeResult(w, in, ep.name, res)
}

// reject answers with a Twilio error and records the request as unexpected.
func (s *Server) reject(w http.ResponseWriter, e *apiError, what string) {
	s.unexpectedf("%s (answered %d)", what, e.Status)
	writeError(w, e)
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
