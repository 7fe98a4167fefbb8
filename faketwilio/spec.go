package faketwilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Where Twilio's OpenAPI description is looked for, in order: the path in
// SpecEnv, then specRelPath beside the root of this module (the folder with
// its go.mod), i.e. ../shared/specs/twilio of a clone. No other folder is
// searched.
const (
	// SpecEnv names the file explicitly (the --spec flag of `ivr
	// fake-twilio` wins over it).
	SpecEnv = "IVR_TWILIO_SPEC"
	// SpecRequireEnv=require makes Start fail instead of skipping the test
	// when no spec is found, as CI does.
	SpecRequireEnv = "IVR_TEST_SPEC"

	specRelPath = "../shared/specs/twilio/twilio_api_v2010.json"
	modulePath  = "github.com/supportdesk/ivr"
)

// ErrNoSpec is returned (wrapped) by DefaultSpecPath and New when no spec is
// found in the documented places.
var ErrNoSpec = errors.New("no Twilio OpenAPI description")

// DefaultSpecPath is where tests find the spec: the path in
// $IVR_TWILIO_SPEC, or else SpecBesideModule of the working directory
// (tests run in their package directory). Start, SkipWithoutSpec and New
// without a SpecPath use it. It is the one place the fake reads the
// environment besides IVR_TEST_SPEC, and it is a test hook: a command reads
// its own settings and passes SpecPath (`ivr fake-twilio --spec`). An error
// wrapping ErrNoSpec says what to set.
func DefaultSpecPath() (string, error) {
	if p := os.Getenv(SpecEnv); p != "" {
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return SpecBesideModule(wd)
}

// SpecBesideModule returns ../shared/specs/twilio/twilio_api_v2010.json
// relative to the root of this module that holds the folder wd (found as
// the go command finds it, from the nearest go.mod at or above wd), if the
// file is there. An error wrapping ErrNoSpec says what to set.
func SpecBesideModule(wd string) (string, error) {
	hint := fmt.Sprintf("set %s=/path/to/twilio_api_v2010.json (--spec for `ivr fake-twilio`), or place the project's shared/ folder beside the clone", SpecEnv)
	root, ok := moduleRoot(wd)
	if !ok {
		return "", fmt.Errorf("faketwilio: %w: %s is not inside the %s module; %s", ErrNoSpec, wd, modulePath, hint)
	}
	p := filepath.Join(root, filepath.FromSlash(specRelPath))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("faketwilio: %w at %s; %s", ErrNoSpec, p, hint)
	}
	return p, nil
}

// moduleRoot returns the folder of the go.mod nearest above dir if that
// go.mod is this module's.
func moduleRoot(dir string) (string, bool) {
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			return dir, goModModule(data) == modulePath
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// goModModule returns the module path of a go.mod's module line.
func goModModule(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// spec is a loaded, read-only OpenAPI document with its router. One spec is
// shared by every Server of the process that names the same file.
type spec struct {
	doc    *openapi3.T
	router routers.Router
	// callEvents are the values StatusCallbackEvent may take (call_enum_event).
	callEvents map[string]bool
	loadTime   time.Duration
}

type specEntry struct {
	once sync.Once
	spec *spec
	err  error
}

var specCache sync.Map // absolute path -> *specEntry

// loadSpec loads the document at path once per process: it is ~1.9 MB and
// takes most of a second to load, far longer than a test should wait twice.
func loadSpec(path string) (*spec, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	v, _ := specCache.LoadOrStore(abs, &specEntry{})
	e := v.(*specEntry)
	e.once.Do(func() { e.spec, e.err = readSpec(abs) })
	return e.spec, e.err
}

func readSpec(path string) (*spec, error) {
	start := time.Now()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("faketwilio: %w", err)
	}
	// Loader.LoadFromFile would first parse the JSON as YAML too (to index
	// source positions for its messages), which makes loading this document
	// ~40% slower (measured: 0.73 s against 0.42 s; 2.7 s against 1.9 s with
	// -race). The document is JSON: decode it, then let the loader resolve
	// its (internal) references, which is the rest of what LoadFromFile does.
	doc := &openapi3.T{}
	if err := json.Unmarshal(data, doc); err != nil {
		return nil, fmt.Errorf("faketwilio: decode %s: %w", path, err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(doc, &url.URL{Path: filepath.ToSlash(path)}); err != nil {
		return nil, fmt.Errorf("faketwilio: resolve references in %s: %w", path, err)
	}
	// The document, each path and each operation name https://api.twilio.com
	// as their server; the router would then match only that host. The fake
	// answers on 127.0.0.1:port, so every servers list is dropped and routes
	// match on path alone.
	doc.Servers = nil
	for _, item := range doc.Paths.Map() {
		item.Servers = nil
		for _, op := range item.Operations() {
			op.Servers = nil
		}
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("faketwilio: route %s: %w", path, err)
	}
	sp := &spec{doc: doc, router: router, callEvents: map[string]bool{}}
	if ref := doc.Components.Schemas["call_enum_event"]; ref != nil && ref.Value != nil {
		for _, v := range ref.Value.Enum {
			if s, ok := v.(string); ok {
				sp.callEvents[s] = true
			}
		}
	}
	if len(sp.callEvents) == 0 {
		return nil, fmt.Errorf("faketwilio: %s has no call_enum_event schema", path)
	}
	sp.loadTime = time.Since(start)
	return sp, nil
}

// requestFormats and responseFormats give meaning to the spec's string
// formats for validation, scoped to this document (kin-openapi's global
// format table is left alone). Formats not listed (endpoint, phone-number,
// http-method, twiml, currency, uri-map) are not checked, as before.
var (
	requestFormats = map[string]openapi3.StringFormatValidator{
		// Twilio documents and accepts a bare date ("2009-07-06") for
		// StartTime, EndTime and DateSent although the spec says date-time;
		// twilio-go sends RFC 3339 timestamps. Both are accepted.
		"date-time": openapi3.NewCallbackValidator(func(v string) error {
			_, err := parseTwilioDate(v)
			return err
		}),
		// Callback URLs must be absolute http(s) URLs.
		"uri": openapi3.NewCallbackValidator(absoluteURL),
	}
	responseFormats = map[string]openapi3.StringFormatValidator{
		"date-time-rfc-2822": openapi3.NewCallbackValidator(func(v string) error {
			_, err := time.Parse(time.RFC1123Z, v)
			return err
		}),
		// List responses carry page URIs relative to the API host.
		"uri": openapi3.NewCallbackValidator(func(v string) error {
			if len(v) > 0 && v[0] == '/' {
				return nil
			}
			return absoluteURL(v)
		}),
	}
)

func absoluteURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return nil
}

// parseTwilioDate reads a date filter: YYYY-MM-DD or an RFC 3339 timestamp.
func parseTwilioDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}

// errUnauthorized is returned by the authentication function; the handler
// turns it into Twilio's 401.
var errUnauthorized = errors.New("authenticate")

func (s *Server) requestOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		AuthenticationFunc: s.authenticate,
		// Defaults from the spec would be written back into the form body;
		// Twilio applies its defaults itself, so neither does the fake.
		SkipSettingDefaults:     true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(requestFormats)},
	}
}

func (s *Server) responseOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus:   true,
		MultiError:              true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(responseFormats)},
	}
}

// authenticate checks HTTP basic auth, the spec's only security scheme
// (accountSid_authToken), against the configured account SID and token.
func (s *Server) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || in.SecurityScheme.Scheme != "basic" {
		return fmt.Errorf("unsupported security scheme %q", in.SecuritySchemeName)
	}
	user, pass, ok := in.RequestValidationInput.Request.BasicAuth()
	if !ok || user != s.opts.AccountSID || pass != s.opts.AuthToken {
		return errUnauthorized
	}
	return nil
}

// uncheckedOps are the paths of the operations the fake implements (each
// of endpoints), for running without Twilio's description: routed,
// authenticated, and nothing else checked.
var uncheckedOps = []struct{ method, path, id string }{
	{"POST", "/Calls.json", "CreateCall"},
	{"GET", "/Calls.json", "ListCall"},
	{"GET", "/Calls/{Sid}.json", "FetchCall"},
	{"POST", "/Calls/{Sid}.json", "UpdateCall"},
	{"POST", "/Messages.json", "CreateMessage"},
	{"GET", "/Messages.json", "ListMessage"},
	{"GET", "/Messages/{Sid}.json", "FetchMessage"},
	{"GET", "/Recordings/{Sid}.json", "FetchRecording"},
	{"DELETE", "/Recordings/{Sid}.json", "DeleteRecording"},
	{"GET", "/Queues/{Sid}.json", "FetchQueue"},
	{"GET", "/Queues.json", "ListQueue"},
	{"DELETE", "/Queues/{Sid}.json", "DeleteQueue"},
	{"GET", "/IncomingPhoneNumbers.json", "ListIncomingPhoneNumber"},
	{"GET", "/OutgoingCallerIds.json", "ListOutgoingCallerId"},
}

// uncheckedSpec is a stand-in for Twilio's description (Options.Unchecked):
// it routes uncheckedOps behind basic auth and declares no schema, so that
// no request or answer is checked.
func uncheckedSpec() (*spec, error) {
	const scheme = "accountSid_authToken"
	doc := &openapi3.T{
		OpenAPI: "3.0.1",
		Info:    &openapi3.Info{Title: "Twilio REST API, unchecked", Version: "2010-04-01"},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{SecuritySchemes: openapi3.SecuritySchemes{
			scheme: &openapi3.SecuritySchemeRef{Value: openapi3.NewSecurityScheme().WithType("http").WithScheme("basic")},
		}},
		Security: openapi3.SecurityRequirements{openapi3.NewSecurityRequirement().Authenticate(scheme)},
	}
	for _, o := range uncheckedOps {
		path := "/2010-04-01/Accounts/{AccountSid}" + o.path
		item := doc.Paths.Value(path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(path, item)
		}
		op := &openapi3.Operation{OperationID: o.id, Responses: openapi3.NewResponses()}
		for _, name := range []string{"AccountSid", "Sid"} {
			if strings.Contains(path, "{"+name+"}") {
				op.Parameters = append(op.Parameters, &openapi3.ParameterRef{
					Value: openapi3.NewPathParameter(name).WithSchema(openapi3.NewStringSchema())})
			}
		}
		item.SetOperation(o.method, op)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("faketwilio: route the unchecked API: %w", err)
	}
	sp := &spec{doc: doc, router: router, callEvents: map[string]bool{}}
	for _, ev := range []string{"initiated", "ringing", "answered", "completed"} {
		sp.callEvents[ev] = true
	}
	return sp, nil
}
