package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/admin"
	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/verify"
)

// TestOpenAPI keeps admin/openapi.json true: it is a valid OpenAPI 3
// document served without a token, it names exactly the routes the server
// registers, and real requests for every documented operation, and their
// answers, match it: each operation succeeds at least once and answers each
// error status it documents (but 500 and 503, which need a broken store).
func TestOpenAPI(t *testing.T) {
	db := storetest.OpenSQLite(t)
	s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
	// The traffic goes to a server with every optional part set, as serve
	// configures it, over the same store, schedule and admin token.
	cfg, codes := fullConfig(t, s)
	full := httptest.NewServer(admin.New(cfg))
	t.Cleanup(full.Close)
	s.url, s.client = full.URL, full.Client()

	res := s.do("GET", admin.OpenAPIPath, "", nil)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/json" || res.header.Get("Cache-Control") == "" {
		t.Fatalf("GET %s without a token: %d, Content-Type %q, Cache-Control %q; want 200, application/json and a Cache-Control",
			admin.OpenAPIPath, res.status, res.header.Get("Content-Type"), res.header.Get("Cache-Control"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(res.body)
	if err != nil {
		t.Fatalf("load the document: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}

	t.Run("Routes", func(t *testing.T) { checkRoutes(t, s, doc) })
	t.Run("Traffic", func(t *testing.T) {
		v := newSpecCheck(t, s, doc)
		v.codes = codes
		v.exercise(db)
		v.auth()
		v.coverage()
		v.unrouted()
	})
}

// gorillaVar matches a gorilla/mux path variable, with its optional
// pattern ({id:[0-9]+}), which OpenAPI writes as {id}.
var gorillaVar = regexp.MustCompile(`\{([^}:]+)(:[^}]*)?\}`)

// specPublicURL is the public URL the test's feeds' subscription URLs start
// with.
const specPublicURL = "https://ivr.example.com"

// fullConfig is the admin API over s's store and schedule with every
// optional part set, as serve configures it, so that each route it can
// register is registered; the codes that confirm numbers go out through
// the pager's outbox to the codeCatcher it returns.
func fullConfig(t *testing.T, s *apiServer) (admin.Config, *codeCatcher) {
	t.Helper()
	log := zaptest.NewLogger(t)
	key := bytes.Repeat([]byte{7}, pager.SealKeySize)
	sealer, err := pager.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	codes := &codeCatcher{}
	pages, err := pager.New(pager.Config{Store: s.db, Roster: pagerRoster{s.svc}, Policies: s.svc, Log: log, Sealer: sealer,
		Channels: map[pager.Kind]pager.Channel{pager.KindVoice: codes, pager.KindSMS: codes}})
	if err != nil {
		t.Fatal(err)
	}
	codes.pages = pages
	ver, err := verify.New(verify.Config{Store: s.db, Engineers: s.svc, Outbox: pages, Sealer: sealer, HashKey: key,
		Texts: true, Calls: true, Now: s.svc.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return admin.Config{
		OnCall: s.svc, Tokens: s.db, Audit: s.db, Ready: s.db.Ready,
		Registry: prometheus.NewRegistry(), Log: log, TokenCacheTTL: time.Minute,
		Tickets: s.db, Calls: s.db, Recordings: s.db, Pages: pages, OptOuts: s.db,
		CalendarFeeds: s.db, PublicURL: specPublicURL, Team: s.db, Verification: ver,
	}, codes
}

// codeCatcher is the pager's voice and text channel in the traffic test:
// it keeps what the last attempt it was given says (a code's digits, for
// a call).
type codeCatcher struct {
	pages *pager.Engine
	last  string
}

func (c *codeCatcher) Send(_ context.Context, a pager.Attempt) (string, error) {
	c.last = a.Body
	return fmt.Sprintf("SM%d", a.ID), nil
}

func (c *codeCatcher) Find(context.Context, pager.Attempt) (string, error) { return "", nil }

// code has the pager send what its outbox holds and returns the code the
// last attempt carried.
func (c *codeCatcher) code(ctx context.Context) string {
	c.pages.RunOnce(ctx)
	return c.last
}

// checkRoutes compares the router's routes with the document's operations,
// both ways.
func checkRoutes(t *testing.T, s *apiServer, doc *openapi3.T) {
	cfg, _ := fullConfig(t, s)
	api := admin.New(cfg)
	registered := map[string]bool{}
	err := api.Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			return fmt.Errorf("route %s has no methods: %w", tpl, err)
		}
		for _, m := range methods {
			registered[m+" "+gorillaVar.ReplaceAllString(tpl, "{$1}")] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the routes: %v", err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for _, r := range slices.Sorted(maps.Keys(registered)) {
		if !documented[r] {
			t.Errorf("route %s is registered but not in openapi.json", r)
		}
	}
	for _, d := range slices.Sorted(maps.Keys(documented)) {
		if !registered[d] {
			t.Errorf("operation %s is in openapi.json but no route serves it", d)
		}
	}
}

// exchange is one request of the traffic test and the status it must get.
type exchange struct {
	method, path string
	token        string            // bearer secret; "" for none
	body         any               // sent as JSON; a string as is
	header       map[string]string // more request headers
	status       int
	// refused: the request breaks the document itself (a missing required
	// field, a query value outside its schema, no token), so that request
	// validation must fail too.
	refused bool
}

// specCheck sends exchanges to the real server and validates each request
// and answer against the document.
type specCheck struct {
	t      *testing.T
	s      *apiServer
	doc    *openapi3.T
	router routers.Router
	// seen: operation id → statuses answered; ok: operation id → the
	// first exchange that succeeded, replayed by auth.
	seen map[string]map[int]bool
	ok   map[string]exchange
	eng  string // an engineer token's secret
	// codes catches the codes that confirm numbers.
	codes *codeCatcher
}

func newSpecCheck(t *testing.T, s *apiServer, doc *openapi3.T) *specCheck {
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route the document: %v", err)
	}
	return &specCheck{t: t, s: s, doc: doc, router: router, seen: map[string]map[int]bool{}, ok: map[string]exchange{}}
}

// specFormats gives the document's string formats their meaning: Go's
// time.Time writes RFC 3339 with fractions.
var specFormats = map[string]openapi3.StringFormatValidator{
	"date-time": openapi3.NewCallbackValidator(func(v string) error {
		_, err := time.Parse(time.RFC3339Nano, v)
		return err
	}),
	"date": openapi3.NewCallbackValidator(func(v string) error {
		_, err := time.Parse(time.DateOnly, v)
		return err
	}),
}

var errNoBearer = errors.New("no bearer token")

func specOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		SkipSettingDefaults:   true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			scheme, secret, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
			if !strings.EqualFold(scheme, "Bearer") || secret == "" {
				return errNoBearer
			}
			return nil
		},
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(specFormats)},
	}
}

func (x exchange) request(t *testing.T, base string) *http.Request {
	t.Helper()
	var body io.Reader
	switch b := x.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), x.method, base+x.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if x.token != "" {
		req.Header.Set("Authorization", "Bearer "+x.token)
	}
	for k, v := range x.header {
		req.Header.Set(k, v)
	}
	return req
}

// do sends x, checks its status, validates the request and the answer
// against the document, and returns the answer's body.
func (v *specCheck) do(x exchange) []byte {
	t := v.t
	t.Helper()
	what := x.method + " " + x.path

	req := x.request(t, v.s.url)
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s: not in the document: %v", what, err)
	}
	op := route.Operation.OperationID
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: specOptions()}
	err = openapi3filter.ValidateRequest(t.Context(), in)
	switch {
	case x.refused && err == nil:
		t.Errorf("%s (%s): the document accepts a request the test says breaks it", op, what)
	case !x.refused && err != nil:
		t.Errorf("%s (%s): the request does not match the document: %v", op, what, err)
	}

	res, err := v.s.client.Do(x.request(t, v.s.url))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		t.Fatalf("%s: read the answer: %v", what, err)
	}
	if res.StatusCode != x.status {
		t.Fatalf("%s (%s): status %d, want %d; body %s", op, what, res.StatusCode, x.status, body)
	}

	opts := specOptions()
	opts.ExcludeResponseBody = !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") &&
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain")
	in.Options = opts
	if err := openapi3filter.ValidateResponse(t.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	}); err != nil {
		t.Errorf("%s (%s): the %d answer does not match the document: %v\nbody %s", op, what, res.StatusCode, err, body)
	}

	if v.seen[op] == nil {
		v.seen[op] = map[int]bool{}
	}
	v.seen[op][res.StatusCode] = true
	if _, done := v.ok[op]; !done && res.StatusCode < 300 {
		v.ok[op] = x
	}
	return body
}

// feedID sends x, a calendar feed's creation, checks the subscription URL
// it answers, and returns the new feed's id.
func (v *specCheck) feedID(x exchange) string {
	v.t.Helper()
	var out struct {
		Feed struct {
			ID int64 `json:"id"`
		} `json:"feed"`
		URL string `json:"url"`
	}
	if err := json.Unmarshal(v.do(x), &out); err != nil {
		v.t.Fatalf("%s %s: %v", x.method, x.path, err)
	}
	if !strings.HasPrefix(out.URL, specPublicURL+"/calendar/") || !strings.HasSuffix(out.URL, ".ics") {
		v.t.Errorf("%s %s: subscription URL %q, want %s/calendar/<token>.ics", x.method, x.path, out.URL, specPublicURL)
	}
	return strconv.FormatInt(out.Feed.ID, 10)
}

// id sends x and returns the "id" of the object it answers.
func (v *specCheck) id(x exchange) string {
	v.t.Helper()
	var out struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(v.do(x), &out); err != nil {
		v.t.Fatalf("%s %s: %v", x.method, x.path, err)
	}
	return strings.Trim(string(out.ID), `"`)
}

// exercise drives every documented operation: a success, then its errors.
func (v *specCheck) exercise(db *store.DB) {
	t, a := v.t, v.s.admin
	const (
		ok, created, noContent = http.StatusOK, http.StatusCreated, http.StatusNoContent
		bad, forbidden         = http.StatusBadRequest, http.StatusForbidden
		notFound, conflict     = http.StatusNotFound, http.StatusConflict
	)
	engineer := func(name, phone string) map[string]any {
		return map[string]any{"name": name, "level": "L1", "languages": []string{"ru", "en"}, "time_zone": "Europe/Moscow",
			"contacts": []map[string]any{{"phone": phone, "sms": true}}}
	}

	// Public routes.
	for _, p := range []string{"/healthz", "/readyz", "/metrics", admin.OpenAPIPath} {
		v.do(exchange{method: "GET", path: p, status: ok})
	}

	// Engineers, and an engineer token for Alice.
	alice := v.id(exchange{method: "POST", path: "/api/v1/engineers", token: a, body: engineer("Alice", "+12025550101"), status: created})
	bob := v.id(exchange{method: "POST", path: "/api/v1/engineers", token: a, body: engineer("Bob", "+12025550102"), status: created})
	aliceID := mustID(t, alice)
	var tok struct {
		Token struct {
			ID int64 `json:"id"`
		} `json:"token"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(v.do(exchange{method: "POST", path: "/api/v1/tokens", token: a,
		body: map[string]any{"name": "alice's phone", "role": "engineer", "engineer_id": aliceID}, status: created}), &tok); err != nil {
		t.Fatal(err)
	}
	v.eng = tok.Secret
	v.do(exchange{method: "POST", path: "/api/v1/engineers", token: a, body: `{"name":"Carol","level":"L1","shoe_size":9}`, status: bad, refused: true})
	v.do(exchange{method: "POST", path: "/api/v1/engineers", token: a, body: engineer("Carol", "+1202555"), status: bad})
	v.do(exchange{method: "POST", path: "/api/v1/engineers", token: a, body: map[string]any{"name": "Dan", "level": "L3", "languages": []string{}, "time_zone": "UTC",
		"contacts": []map[string]any{{"phone": "+12025550104", "sms": true}}}, status: bad, refused: true})
	v.do(exchange{method: "PUT", path: "/api/v1/engineers/" + alice + "/contacts", token: v.eng, body: map[string]any{"contacts": []any{}}, status: bad, refused: true})
	v.do(exchange{method: "GET", path: "/api/v1/engineers", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/engineers/" + alice, token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/engineers/abc", token: v.eng, status: bad, refused: true})
	v.do(exchange{method: "GET", path: "/api/v1/engineers/999", token: v.eng, status: notFound})
	v.do(exchange{method: "PUT", path: "/api/v1/engineers/" + bob, token: a, body: engineer("Bob B.", "+12025550102"), status: ok})
	bad1 := engineer("Bob", "+12025550102")
	bad1["time_zone"] = "Mars/Olympus"
	v.do(exchange{method: "PUT", path: "/api/v1/engineers/" + bob, token: a, body: bad1, status: bad})
	v.do(exchange{method: "PUT", path: "/api/v1/engineers/999", token: a, body: engineer("Nobody", "+12025550199"), status: notFound})
	contacts := map[string]any{"contacts": []map[string]any{{"phone": "+12025550111", "sms": false}}}
	v.do(exchange{method: "PUT", path: "/api/v1/engineers/" + alice + "/contacts", token: v.eng, body: contacts, status: ok})
	v.do(exchange{method: "PUT", path: "/api/v1/engineers/" + bob + "/contacts", token: v.eng, body: contacts, status: forbidden})
	v.do(exchange{method: "PUT", path: "/api/v1/engineers/999/contacts", token: a, body: contacts, status: notFound})
	v.do(exchange{method: "PUT", path: "/api/v1/engineers/" + alice + "/contacts", token: a,
		body: map[string]any{"contacts": []map[string]any{{"phone": "555"}}}, status: bad})

	// The number Alice added for herself is confirmed with a code (by
	// call: it takes no texts).
	verification := "/api/v1/engineers/" + alice + "/contacts/verification"
	toConfirm := map[string]any{"phone": "+12025550111"}
	v.do(exchange{method: "POST", path: verification, token: v.eng, body: toConfirm, status: http.StatusAccepted})
	code := v.codes.code(t.Context())
	v.do(exchange{method: "POST", path: verification, token: v.eng, body: toConfirm, status: http.StatusTooManyRequests})
	v.do(exchange{method: "POST", path: verification, token: v.eng, body: map[string]any{"phone": "555"}, status: bad})
	v.do(exchange{method: "POST", path: verification, token: v.eng, body: map[string]any{}, status: bad, refused: true})
	v.do(exchange{method: "POST", path: verification, token: v.eng, body: map[string]any{"phone": "+12025550199"}, status: notFound})
	v.do(exchange{method: "POST", path: "/api/v1/engineers/" + bob + "/contacts/verification", token: v.eng,
		body: map[string]any{"phone": "+12025550102"}, status: forbidden})
	v.do(exchange{method: "POST", path: "/api/v1/engineers/" + bob + "/contacts/verification", token: a,
		body: map[string]any{"phone": "+12025550102"}, status: conflict})
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	confirm := verification + "/confirm"
	v.do(exchange{method: "POST", path: confirm, token: v.eng, body: map[string]any{"phone": "+12025550111", "code": wrong}, status: bad})
	v.do(exchange{method: "POST", path: confirm, token: v.eng, body: map[string]any{"phone": "+12025550111"}, status: bad, refused: true})
	v.do(exchange{method: "POST", path: confirm, token: v.eng, body: map[string]any{"phone": "+12025550199", "code": code}, status: notFound})
	v.do(exchange{method: "POST", path: "/api/v1/engineers/" + bob + "/contacts/verification/confirm", token: v.eng,
		body: map[string]any{"phone": "+12025550102", "code": code}, status: forbidden})
	v.do(exchange{method: "POST", path: confirm, token: v.eng, body: map[string]any{"phone": "+12025550111", "code": code}, status: ok})
	v.do(exchange{method: "POST", path: confirm, token: v.eng, body: map[string]any{"phone": "+12025550111", "code": code}, status: conflict})

	// Rotations.
	rotation := func(layer string) map[string]any {
		return map[string]any{"name": "L1 " + layer, "level": "L1", "layer": layer, "time_zone": "Europe/Moscow", "handoff": "09:00",
			"shift_length": map[string]any{"days": 7}, "start": "2026-05-25", "participants": []int64{aliceID, mustID(t, bob)}}
	}
	primary, secondary := rotation("primary"), rotation("secondary")
	r1 := v.id(exchange{method: "POST", path: "/api/v1/rotations", token: a, body: primary, status: created})
	r2 := v.id(exchange{method: "POST", path: "/api/v1/rotations", token: a, body: secondary, status: created})
	v.do(exchange{method: "POST", path: "/api/v1/rotations", token: a, body: map[string]any{"level": "L1", "start": "2026-05-25"}, status: bad, refused: true})
	ghost := rotation("primary")
	ghost["participants"] = []int64{999}
	v.do(exchange{method: "POST", path: "/api/v1/rotations", token: a, body: ghost, status: bad})
	v.do(exchange{method: "GET", path: "/api/v1/rotations", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/rotations/" + r1, token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/rotations/0", token: v.eng, status: bad, refused: true})
	v.do(exchange{method: "GET", path: "/api/v1/rotations/999", token: v.eng, status: notFound})
	next := rotation("primary")
	next["effective_from"] = "2026-06-03T00:00:00Z"
	v.do(exchange{method: "PUT", path: "/api/v1/rotations/" + r1, token: a, body: next, status: ok})
	v.do(exchange{method: "PUT", path: "/api/v1/rotations/999", token: a, body: next, status: notFound})
	early := rotation("primary")
	early["effective_from"] = "2026-06-02T00:00:00Z"
	v.do(exchange{method: "PUT", path: "/api/v1/rotations/" + r1, token: a, body: early, status: conflict})
	v.do(exchange{method: "PUT", path: "/api/v1/rotations/" + r1, token: a, body: map[string]any{"level": "L7", "handoff": "9", "start": "x"}, status: bad})
	v.do(exchange{method: "DELETE", path: "/api/v1/rotations/" + r2 + "?at=2026-06-05T00:00:00Z", token: a, status: noContent})
	v.do(exchange{method: "DELETE", path: "/api/v1/rotations/" + r2, token: a, status: conflict})
	v.do(exchange{method: "DELETE", path: "/api/v1/rotations/999", token: a, status: notFound})
	v.do(exchange{method: "DELETE", path: "/api/v1/rotations/" + r1 + "?at=tomorrow", token: a, status: bad, refused: true})

	// Overrides.
	override := map[string]any{"level": "L1", "engineer_id": mustID(t, bob), "start": "2026-06-10T00:00:00Z", "end": "2026-06-11T00:00:00Z", "reason": "swap"}
	o1 := v.id(exchange{method: "POST", path: "/api/v1/overrides", token: a, body: override, status: created})
	v.do(exchange{method: "POST", path: "/api/v1/overrides", token: a, body: override, status: bad})
	v.do(exchange{method: "POST", path: "/api/v1/overrides", token: a, body: map[string]any{"level": "L1", "start": "2026-06-10T00:00:00Z"}, status: bad, refused: true})
	v.do(exchange{method: "POST", path: "/api/v1/overrides", token: a, body: map[string]any{"level": "L1", "engineer_id": 999, "start": "2026-06-12T00:00:00Z", "end": "2026-06-13T00:00:00Z"}, status: bad})
	v.do(exchange{method: "GET", path: "/api/v1/overrides", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/overrides?from=2026-06-11T00:00:00Z&to=2026-06-10T00:00:00Z", token: v.eng, status: bad})
	v.do(exchange{method: "GET", path: "/api/v1/overrides?from=monday", token: v.eng, status: bad, refused: true})
	v.do(exchange{method: "DELETE", path: "/api/v1/overrides/" + o1, token: a, status: noContent})
	v.do(exchange{method: "DELETE", path: "/api/v1/overrides/999", token: a, status: notFound})
	v.do(exchange{method: "DELETE", path: "/api/v1/overrides/-1", token: a, status: bad, refused: true})
	started := map[string]any{"level": "L2", "engineer_id": mustID(t, bob), "start": "2026-06-01T11:00:00Z", "end": "2026-06-01T13:00:00Z"}
	o2 := v.id(exchange{method: "POST", path: "/api/v1/overrides", token: a, body: started, status: created})
	v.do(exchange{method: "DELETE", path: "/api/v1/overrides/" + o2, token: a, status: conflict})

	// Who is on call, shifts, gaps.
	for _, p := range []string{"/api/v1/oncall", "/api/v1/shifts", "/api/v1/gaps"} {
		v.do(exchange{method: "GET", path: p, token: v.eng, status: ok})
		v.do(exchange{method: "GET", path: p + "?level=L9", token: v.eng, status: bad})
	}
	v.do(exchange{method: "GET", path: "/api/v1/oncall?level=L1&at=2026-06-01T13:00:00%2B03:00", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/oncall?at=noon", token: v.eng, status: bad, refused: true})
	v.do(exchange{method: "GET", path: "/api/v1/shifts?level=L1&from=2026-06-01T00:00:00Z&to=2026-06-20T00:00:00Z", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/gaps?level=L3&from=2026-06-01T00:00:00Z&to=2027-12-01T00:00:00Z", token: v.eng, status: bad})

	// Escalation policies.
	v.do(exchange{method: "GET", path: "/api/v1/policies", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/policies/critical", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/policies/soon", token: v.eng, status: bad, refused: true})
	policy := map[string]any{"steps": []map[string]any{{"level": "L1", "channels": []string{"sms", "voice"}, "delay": "15m"}}}
	v.do(exchange{method: "PUT", path: "/api/v1/policies/low", token: a, body: policy, status: ok})
	v.do(exchange{method: "PUT", path: "/api/v1/policies/normal", token: a, body: map[string]any{"steps": []any{}}, status: bad, refused: true})
	v.do(exchange{method: "PUT", path: "/api/v1/policies/urgent", token: a, body: map[string]any{}, status: bad, refused: true})
	v.do(exchange{method: "PUT", path: "/api/v1/policies/low", token: a,
		body: map[string]any{"steps": []map[string]any{{"level": "L1", "channels": []string{"voice"}, "delay": "soon"}}}, status: bad})

	// Tokens and the audit log.
	v.do(exchange{method: "GET", path: "/api/v1/tokens", token: a, status: ok})
	spare := v.do(exchange{method: "POST", path: "/api/v1/tokens", token: a, body: map[string]any{"name": "spare", "role": "admin"}, status: created})
	var sp struct {
		Token struct {
			ID int64 `json:"id"`
		} `json:"token"`
	}
	if err := json.Unmarshal(spare, &sp); err != nil {
		t.Fatal(err)
	}
	v.do(exchange{method: "POST", path: "/api/v1/tokens", token: a, body: map[string]any{"name": "x", "role": "root"}, status: bad})
	v.do(exchange{method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", sp.Token.ID), token: a, status: noContent})
	v.do(exchange{method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", sp.Token.ID), token: a, status: conflict})
	v.do(exchange{method: "DELETE", path: "/api/v1/tokens/999", token: a, status: notFound})
	v.do(exchange{method: "DELETE", path: "/api/v1/tokens/x", token: a, status: bad, refused: true})
	v.do(exchange{method: "GET", path: "/api/v1/audit?entity=engineer&limit=10", token: a, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/audit?limit=0", token: a, status: bad, refused: true})

	// Calendar feeds: an admin makes any feed, an engineer only their own;
	// an engineer lists and revokes only their own.
	const feeds = "/api/v1/calendar-feeds"
	levelFeed := v.feedID(exchange{method: "POST", path: feeds, token: a, body: map[string]any{"kind": "level", "level": "L2"}, status: created})
	v.feedID(exchange{method: "POST", path: feeds, token: a, body: map[string]any{"kind": "engineer", "engineer_id": mustID(t, bob)}, status: created})
	v.do(exchange{method: "POST", path: feeds, token: a, body: map[string]any{"kind": "level"}, status: bad})
	v.do(exchange{method: "POST", path: feeds, token: a, body: map[string]any{"level": "L1"}, status: bad})
	v.do(exchange{method: "POST", path: feeds, token: a, body: map[string]any{"kind": "engineer", "engineer_id": 999}, status: bad})
	v.do(exchange{method: "POST", path: feeds, token: a, body: `{"kind":"level","level":"L1","token":"x"}`, status: bad, refused: true})
	v.do(exchange{method: "POST", path: feeds, token: a, body: `{"kind":"engineer","engineer_id":"bob"}`, status: bad, refused: true})
	own := v.feedID(exchange{method: "POST", path: feeds, token: v.eng, body: map[string]any{}, status: created})
	v.do(exchange{method: "POST", path: feeds, token: v.eng, body: map[string]any{"kind": "engineer", "engineer_id": mustID(t, bob)}, status: forbidden})
	v.do(exchange{method: "POST", path: feeds, token: v.eng, body: map[string]any{"kind": "level", "level": "L1"}, status: forbidden})
	var list struct {
		Feeds []struct {
			ID         int64 `json:"id"`
			EngineerID int64 `json:"engineer_id"`
		} `json:"feeds"`
	}
	if err := json.Unmarshal(v.do(exchange{method: "GET", path: feeds, token: v.eng, status: ok}), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Feeds) != 1 || strconv.FormatInt(list.Feeds[0].ID, 10) != own || list.Feeds[0].EngineerID != aliceID {
		t.Errorf("an engineer's feeds: %+v, want only their own, %s", list.Feeds, own)
	}
	v.do(exchange{method: "DELETE", path: feeds + "/" + levelFeed, token: v.eng, status: forbidden})
	v.do(exchange{method: "DELETE", path: feeds + "/" + own, token: v.eng, status: noContent})
	v.do(exchange{method: "DELETE", path: feeds + "/" + own, token: v.eng, status: conflict})
	v.do(exchange{method: "DELETE", path: feeds + "/" + levelFeed, token: a, status: noContent})
	v.do(exchange{method: "DELETE", path: feeds + "/999", token: a, status: notFound})
	v.do(exchange{method: "DELETE", path: feeds + "/x", token: a, status: bad, refused: true})
	var all struct {
		Feeds []struct {
			ID        int64      `json:"id"`
			RevokedAt *time.Time `json:"revoked_at"`
		} `json:"feeds"`
	}
	listed := v.do(exchange{method: "GET", path: feeds, token: a, status: ok})
	if err := json.Unmarshal(listed, &all); err != nil {
		t.Fatal(err)
	}
	if len(all.Feeds) != 3 || strconv.FormatInt(all.Feeds[0].ID, 10) != levelFeed || all.Feeds[0].RevokedAt == nil || all.Feeds[1].RevokedAt != nil {
		t.Errorf("an admin's feeds after revoking the level feed and Alice's: %s; want all three, those two with revoked_at", listed)
	}

	// Built-in tickets.
	ticket := v.id(exchange{method: "POST", path: "/api/v1/tickets", token: a,
		body: map[string]any{"subject": "Mail is down", "priority": "urgent", "caller_phone": "+12025550150", "language": "en"}, status: created})
	v.do(exchange{method: "POST", path: "/api/v1/tickets", token: a, body: map[string]any{"subject": "x", "priority": "soon"}, status: bad})
	v.do(exchange{method: "GET", path: "/api/v1/tickets", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/tickets?before=abc", token: v.eng, status: bad, refused: true})
	v.do(exchange{method: "POST", path: "/api/v1/tickets/" + ticket + "/notes", token: a, body: map[string]any{"text": "called back"}, status: created})
	v.do(exchange{method: "POST", path: "/api/v1/tickets/999999/notes", token: a, body: map[string]any{"text": "hello"}, status: notFound})
	v.do(exchange{method: "POST", path: "/api/v1/tickets/" + ticket + "/notes", token: a, body: map[string]any{"text": " "}, status: bad})
	v.do(exchange{method: "GET", path: "/api/v1/tickets/" + ticket, token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/tickets/999999", token: v.eng, status: notFound})
	v.do(exchange{method: "GET", path: "/api/v1/tickets/0x1", token: v.eng, status: bad, refused: true})

	// The call log and a voicemail.
	if err := db.SaveCall(t.Context(), callRecord("CA01", ticket, mustTime(t, "2026-06-01T09:00:00Z"))); err != nil {
		t.Fatal(err)
	}
	audio := append([]byte("RIFF\x00\x00\x00\x00WAVE"), bytes.Repeat([]byte{0, 0xff, 0x7f}, 100)...)
	if err := db.SaveRecording(t.Context(), calls.Recording{ID: "RECA01", CallID: "CA01", ContentType: "audio/wav", Data: audio, Seconds: 3}); err != nil {
		t.Fatal(err)
	}
	v.do(exchange{method: "GET", path: "/api/v1/calls?ticket=" + ticket, token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/calls?limit=5000", token: v.eng, status: bad, refused: true})
	v.do(exchange{method: "GET", path: "/api/v1/calls/CA01", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/calls/CA404", token: v.eng, status: notFound})
	v.do(exchange{method: "GET", path: "/api/v1/calls/" + strings.Repeat("C", 129), token: v.eng, status: bad, refused: true})
	v.do(exchange{method: "GET", path: "/api/v1/recordings/RECA01", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/recordings/RECA01", token: v.eng, header: map[string]string{"Range": "bytes=0-3"}, status: http.StatusPartialContent})
	v.do(exchange{method: "GET", path: "/api/v1/recordings/RE404", token: v.eng, status: notFound})
	v.do(exchange{method: "GET", path: "/api/v1/recordings/RECA01", token: v.eng, header: map[string]string{"Range": "bytes=100000-"}, status: http.StatusRequestedRangeNotSatisfiable})
	v.do(exchange{method: "GET", path: "/api/v1/recordings/RECA01", token: v.eng, header: map[string]string{"If-Modified-Since": "Sat, 01 Jan 2050 00:00:00 GMT"}, status: http.StatusNotModified})
	v.do(exchange{method: "GET", path: "/api/v1/recordings/RE.wav", token: v.eng, status: bad, refused: true})

	// Pages.
	raise := map[string]any{"priority": "critical", "level": "L2", "summary": "mail is down", "ticket_id": ticket, "key": "k1"}
	page := v.id(exchange{method: "POST", path: "/api/v1/pages", token: a, body: raise, status: created})
	v.do(exchange{method: "POST", path: "/api/v1/pages", token: a, body: raise, status: ok})
	v.do(exchange{method: "POST", path: "/api/v1/pages", token: a, body: map[string]any{"priority": "critical"}, status: bad, refused: true})
	v.do(exchange{method: "POST", path: "/api/v1/pages", token: a, body: map[string]any{"priority": "soon", "summary": "x"}, status: bad})
	v.do(exchange{method: "GET", path: "/api/v1/pages?status=open&limit=10", token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/pages?status=done", token: v.eng, status: bad, refused: true})
	v.do(exchange{method: "GET", path: "/api/v1/pages/" + page, token: v.eng, status: ok})
	v.do(exchange{method: "GET", path: "/api/v1/pages/999", token: v.eng, status: notFound})
	v.do(exchange{method: "GET", path: "/api/v1/pages/p1", token: v.eng, status: bad, refused: true})
	v.do(exchange{method: "POST", path: "/api/v1/pages/" + page + "/ack", token: v.eng, status: forbidden})
	v.do(exchange{method: "POST", path: "/api/v1/pages/" + page + "/ack", token: a, status: ok})
	v.do(exchange{method: "POST", path: "/api/v1/pages/999/ack", token: a, status: notFound})
	v.do(exchange{method: "POST", path: "/api/v1/pages/0/ack", token: a, status: bad, refused: true})
	v.do(exchange{method: "POST", path: "/api/v1/pages/" + page + "/resolve", token: v.eng, status: forbidden})
	v.do(exchange{method: "POST", path: "/api/v1/pages/" + page + "/resolve", token: a, status: ok})
	v.do(exchange{method: "POST", path: "/api/v1/pages/999/resolve", token: a, status: notFound})
	v.do(exchange{method: "POST", path: "/api/v1/pages/x/resolve", token: a, status: bad, refused: true})

	// The team as YAML: the export imports as no change; a document that
	// is not YAML breaks the description, one naming an unknown engineer
	// only the rules.
	yamlBody := map[string]string{"Content-Type": "application/yaml"}
	doc := string(v.do(exchange{method: "GET", path: "/api/v1/team", token: a, status: ok}))
	v.do(exchange{method: "POST", path: "/api/v1/team/import?dry_run=true", token: a, body: doc, header: yamlBody, status: ok})
	v.do(exchange{method: "POST", path: "/api/v1/team/import", token: a, body: doc, header: yamlBody, status: ok})
	v.do(exchange{method: "POST", path: "/api/v1/team/import", token: a, body: "engineers: [}", header: yamlBody, status: bad, refused: true})
	v.do(exchange{method: "POST", path: "/api/v1/team/import", token: a, body: strings.Replace(doc, "- Bob B.", "- Robert", 1), header: yamlBody, status: bad})

	// Deleting engineers: one in a rotation is refused.
	carol := v.id(exchange{method: "POST", path: "/api/v1/engineers", token: a, body: engineer("Carol", "+12025550103"), status: created})
	v.do(exchange{method: "DELETE", path: "/api/v1/engineers/" + carol, token: a, status: noContent})
	v.do(exchange{method: "DELETE", path: "/api/v1/engineers/" + alice, token: a, status: conflict})
	v.do(exchange{method: "DELETE", path: "/api/v1/engineers/999", token: a, status: notFound})
	v.do(exchange{method: "DELETE", path: "/api/v1/engineers/abc", token: a, status: bad, refused: true})
}

// auth replays each operation's first success without a token (401, which
// the document refuses too) and, for admin operations, with an engineer
// token (403). Operations of x-role engineer take any token and decide in
// the handler what an engineer may do (their own contacts, pages addressed
// to them, their own calendar feeds): exercise sends those 403s itself.
func (v *specCheck) auth() {
	for _, op := range slices.Sorted(maps.Keys(v.ok)) {
		x := v.ok[op]
		if x.token == "" {
			continue // public
		}
		x.token, x.status, x.refused = "", http.StatusUnauthorized, true
		v.do(x)
		x.token, x.refused = "ivr_forged", false
		v.do(x)
		if v.role(op) == "admin" {
			x.token, x.status = v.eng, http.StatusForbidden
			v.do(x)
		}
	}
}

// unrouted checks the answers the document describes only in words: a
// method a path does not allow (405) and an unknown path (404), both in the
// Error shape.
func (v *specCheck) unrouted() {
	schema := v.doc.Components.Schemas["Error"].Value
	for _, x := range []exchange{
		{method: "PATCH", path: "/api/v1/engineers", status: http.StatusMethodNotAllowed},
		{method: "DELETE", path: "/api/v1/oncall", status: http.StatusMethodNotAllowed},
		{method: "GET", path: "/api/v1/nothing", status: http.StatusNotFound},
	} {
		res := v.s.do(x.method, x.path, v.s.admin, nil)
		var body any
		if res.status != x.status || json.Unmarshal(res.body, &body) != nil {
			v.t.Errorf("%s %s: %d %s, want %d and a JSON error", x.method, x.path, res.status, res.body, x.status)
			continue
		}
		if err := schema.VisitJSON(body); err != nil {
			v.t.Errorf("%s %s: the %d answer is not the Error shape: %v", x.method, x.path, res.status, err)
		}
	}
}

// role is an operation's x-role.
func (v *specCheck) role(opID string) string {
	for _, item := range v.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID == opID {
				role, _ := op.Extensions["x-role"].(string)
				return role
			}
		}
	}
	return ""
}

// coverage checks that every documented operation succeeded and answered
// each error status it documents, but 500 and 503.
func (v *specCheck) coverage() {
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if _, ok := v.ok[op.OperationID]; !ok {
				v.t.Errorf("%s (%s %s): no request of the test succeeded", op.OperationID, method, path)
			}
			for code := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil || n == http.StatusInternalServerError || n == http.StatusServiceUnavailable {
					continue
				}
				if !v.seen[op.OperationID][n] {
					v.t.Errorf("%s (%s %s): documents %d, which no request of the test got", op.OperationID, method, path, n)
				}
			}
		}
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return n
}
