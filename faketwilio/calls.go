package faketwilio

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// call is one call resource and the fake's script state for it. Fields are
// guarded by Server.mu.
type call struct {
	sid, parentSid       string
	from, to, direction  string
	url, method, twiml   string
	statusCallback       string
	statusCallbackMethod string
	events               map[string]bool // StatusCallbackEvent subscriptions
	machineDetection     string
	asyncAMD             bool
	asyncAMDCallback     string
	asyncAMDMethod       string
	fallbackURL          string // FallbackUrl (FallbackURL), or the number's VoiceFallbackUrl
	fallbackMethod       string
	timeout              int

	status, answeredBy               string
	lateAMD                          string // the AsyncAmd verdict SendAMD is to deliver
	holding                          bool   // callbacks are held (HoldCallbacks)
	held                             []heldCallback
	created, updated, started, ended time.Time
	answered                         time.Time
	seq                              int // status callback SequenceNumber
	rung                             bool

	claimed    bool
	endedByAPI chan struct{} // closed when the service ends the call through the API
	last       *TwiML        // the latest TwiML the call is executing
	typed      typed         // keys entered at its <Gather>, not submitted yet (Type)
	redirects  []*TwiML      // TwiML fetched after an update with Url or Twiml
	dial       *dialState    // set on a child call created by <Dial>
	queue      *queueState   // the queue the call waits in (<Enqueue>)
	lastQueue  *queueState   // the queue it was bridged out of
	bridge     *bridge       // set while bridged by <Dial><Queue>
	queueDial  *queueDial    // set while its <Dial><Queue> waits for a member
}

// terminal reports whether the call has ended.
func (c *call) terminal() bool {
	switch c.status {
	case "completed", "busy", "failed", "no-answer", "canceled":
		return true
	}
	return false
}

// duration is the billed duration in seconds: from answer to end.
func (c *call) duration() int {
	if c.ended.IsZero() || c.answered.IsZero() {
		return 0
	}
	return int(c.ended.Sub(c.answered).Round(time.Second) / time.Second)
}

// machineDetectionValues are the values Twilio documents for MachineDetection;
// the spec types the field as a free string.
var machineDetectionValues = map[string]bool{"Enable": true, "DetectMessageEnd": true}

func (s *Server) createCall(r *http.Request, p map[string]string) (result, *apiError) {
	f := r.PostForm
	c := &call{
		sid:                  newSID("CA"),
		from:                 f.Get("From"),
		to:                   f.Get("To"),
		direction:            "outbound-api",
		url:                  f.Get("Url"),
		method:               orDefault(f.Get("Method"), http.MethodPost),
		twiml:                f.Get("Twiml"),
		statusCallback:       f.Get("StatusCallback"),
		statusCallbackMethod: orDefault(f.Get("StatusCallbackMethod"), http.MethodPost),
		events:               map[string]bool{},
		machineDetection:     f.Get("MachineDetection"),
		asyncAMD:             f.Get("AsyncAmd") == "true",
		asyncAMDCallback:     f.Get("AsyncAmdStatusCallback"),
		asyncAMDMethod:       orDefault(f.Get("AsyncAmdStatusCallbackMethod"), http.MethodPost),
		fallbackURL:          f.Get("FallbackUrl"),
		fallbackMethod:       orDefault(f.Get("FallbackMethod"), http.MethodPost),
		timeout:              60,
		status:               "queued",
		endedByAPI:           make(chan struct{}),
	}
	if c.url == "" && c.twiml == "" && f.Get("ApplicationSid") == "" {
		return result{}, errInvalid(codeNoURL, "Url parameter is required (or Twiml or ApplicationSid)")
	}
	if f.Get("ApplicationSid") != "" && c.url == "" && c.twiml == "" {
		return result{}, errInvalid(codeInvalid, "faketwilio has no applications: use Url or Twiml")
	}
	if c.machineDetection != "" && !machineDetectionValues[c.machineDetection] {
		return result{}, errInvalid(codeInvalid, "MachineDetection must be Enable or DetectMessageEnd, not %q", c.machineDetection)
	}
	if v := f.Get("AsyncAmd"); v != "" && v != "true" && v != "false" {
		return result{}, errInvalid(codeInvalid, "AsyncAmd must be true or false, not %q", v)
	}
	for _, v := range f["StatusCallbackEvent"] {
		for _, ev := range strings.Fields(v) {
			if !s.spec.callEvents[ev] {
				return result{}, errInvalid(codeInvalid, "StatusCallbackEvent %q is not one of initiated, ringing, answered, completed", ev)
			}
			c.events[ev] = true
		}
	}
	if len(c.events) == 0 {
		c.events["completed"] = true
	}
	if v := f.Get("Timeout"); v != "" {
		c.timeout, _ = strconv.Atoi(v) // the spec checked it is an integer
	}
	if e := s.refuseCallFrom(c.from, c.to); e != nil {
		return result{}, e
	}
	// start_time stays empty until Twilio dials (the initiated event).
	now := s.now()
	c.created, c.updated = now, now
	s.mu.Lock()
	if e := s.refuseCallLocked(c.to); e != nil {
		s.mu.Unlock()
		s.log.Info("call refused", zap.String(keyTo, c.to), zap.Int(keyCode, e.Code))
		return result{}, e
	}
	s.calls[c.sid] = c
	s.callList = append(s.callList, c)
	s.notifyLocked()
	body := s.callJSON(c)
	s.mu.Unlock()
	s.log.Info("call created", zap.String(keyCallSid, c.sid), zap.String(keyTo, c.to), zap.String(keyFrom, c.from))
	return result{status: http.StatusCreated, body: body}, nil
}

func (s *Server) fetchCall(_ *http.Request, p map[string]string) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[p["Sid"]]
	if c == nil {
		return result{}, errNotFound("Call " + p["Sid"])
	}
	return result{status: http.StatusOK, body: s.callJSON(c)}, nil
}

func (s *Server) updateCall(r *http.Request, p map[string]string) (result, *apiError) {
	f := r.PostForm
	s.mu.Lock()
	c := s.calls[p["Sid"]]
	if c == nil {
		s.mu.Unlock()
		return result{}, errNotFound("Call " + p["Sid"])
	}
	newURL, newTwiml := f.Get("Url"), f.Get("Twiml")
	if c.terminal() && (newURL != "" || newTwiml != "") {
		s.mu.Unlock()
		return result{}, &apiError{Status: 400, Code: codeNotInProgess, Message: "Call is not in-progress. Cannot redirect."}
	}
	if v := f.Get("StatusCallback"); v != "" {
		c.statusCallback = v
		c.statusCallbackMethod = orDefault(f.Get("StatusCallbackMethod"), http.MethodPost)
	}
	ended := false
	switch st := f.Get("Status"); {
	case st == "" || c.terminal():
	case c.status == "in-progress" && st == "completed":
		c.status, ended = "completed", true
	case c.status != "in-progress":
		// Twilio cancels a queued or ringing call; an in-progress call
		// ignores Status=canceled.
		c.status, ended = "canceled", true
	}
	redirect := !ended && !c.terminal() && (newURL != "" || newTwiml != "")
	var leftQueue *queueState // the queue a redirect takes the call out of
	if redirect {
		leftQueue = c.queue
	}
	if redirect || ended {
		c.queue = nil     // a redirected or ended call leaves its queue
		c.queueDial = nil // and stops waiting for a member of one
	}
	if redirect {
		c.url, c.twiml = newURL, newTwiml
		c.method = orDefault(f.Get("Method"), http.MethodPost)
	}
	c.updated = s.now()
	if ended {
		c.ended = c.updated
		close(c.endedByAPI)
		s.notifyLocked()
	}
	live := c.status == "in-progress"
	body := s.callJSON(c)
	s.mu.Unlock()
	if ended {
		s.log.Info("call ended by the service", zap.String(keyCallSid, c.sid), zap.String(keyStatus, c.status))
		s.background(func() {
			if err := s.statusEvent(c, "completed"); err != nil {
				s.unexpectedf("call %s ended through the API: %v", c.sid, err)
			}
			if err := s.dialDone(c); err != nil {
				s.unexpectedf("call %s ended through the API: <Dial> action: %v", c.sid, err)
			}
			if err := s.endBridge(c); err != nil {
				s.unexpectedf("call %s ended through the API: bridge: %v", c.sid, err)
			}
		})
	}
	if redirect && live {
		s.background(func() {
			if leftQueue != nil {
				// Twilio requests the <Enqueue> action with QueueResult
				// redirected, then the new TwiML.
				if _, err := s.leftQueue(c, leftQueue, "redirected"); err != nil {
					s.unexpectedf("redirect of queued call %s: <Enqueue> action: %v", c.sid, err)
				}
			}
			s.redirect(c)
		})
	}
	return result{status: http.StatusOK, body: body}, nil
}

func (s *Server) listCalls(r *http.Request, p map[string]string) (result, *apiError) {
	q := r.URL.Query()
	s.mu.Lock()
	var match []any
	for i := len(s.callList) - 1; i >= 0; i-- { // newest first, as Twilio lists
		c := s.callList[i]
		if !eqFilter(q, "To", c.to) || !eqFilter(q, "From", c.from) || !eqFilter(q, "Status", c.status) ||
			!eqFilter(q, "ParentCallSid", c.parentSid) || !dayFilter(q, "StartTime", c.started) || !dayFilter(q, "EndTime", c.ended) {
			continue
		}
		match = append(match, s.callJSON(c))
	}
	s.mu.Unlock()
	return result{status: http.StatusOK, body: page(r, p, "calls", match)}, nil
}

// callJSON renders the api.v2010.account.call schema. s.mu is held.
func (s *Server) callJSON(c *call) map[string]any {
	base := "/2010-04-01/Accounts/" + s.opts.AccountSID + "/Calls/" + c.sid
	sub := map[string]any{}
	for _, k := range []string{"notifications", "recordings", "payments", "events", "siprec", "streams", "transcriptions", "user_defined_message_subscriptions", "user_defined_messages"} {
		sub[k] = base + "/" + snakeToCamel(k) + ".json"
	}
	// The spec: duration "is empty for busy, failed, unanswered, or
	// ongoing calls".
	var duration any
	if c.status == "completed" {
		duration = strconv.Itoa(c.duration())
	}
	return map[string]any{
		"sid":              c.sid,
		"date_created":     rfc2822(c.created),
		"date_updated":     rfc2822(c.updated),
		"parent_call_sid":  nullable(c.parentSid),
		"account_sid":      s.opts.AccountSID,
		"to":               c.to,
		"to_formatted":     c.to,
		"from":             c.from,
		"from_formatted":   c.from,
		"phone_number_sid": nil,
		"status":           c.status,
		"start_time":       rfc2822(c.started),
		"end_time":         rfc2822(c.ended),
		"duration":         duration,
		"price":            nil,
		"price_unit":       "USD",
		"direction":        c.direction,
		"answered_by":      nullable(c.answeredBy),
		"api_version":      apiVersion,
		"forwarded_from":   nil,
		"group_sid":        nil,
		"caller_name":      nil,
		"queue_time":       "0",
		"trunk_sid":        nil,
		"uri":              base + ".json",
		"subresource_uris": sub,
	}
}

// snakeToCamel turns user_defined_messages into UserDefinedMessages.
func snakeToCamel(s string) string {
	parts := strings.Split(s, "_")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, "")
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// rfc2822 formats t as Twilio does ("Tue, 31 Aug 2010 20:36:28 +0000"); the
// zero time is null.
func rfc2822(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC1123Z)
}

func eqFilter(q url.Values, key, v string) bool {
	want := q.Get(key)
	return want == "" || want == v
}

// dayFilter applies Twilio's date filters key (on that day), key< (on or
// before) and key> (on or after). Twilio compares whole UTC days, also when
// given a full timestamp, and so does the fake.
func dayFilter(q url.Values, key string, t time.Time) bool {
	for _, op := range []string{"", "<", ">"} {
		v := q.Get(key + op)
		if v == "" {
			continue
		}
		if t.IsZero() {
			return false
		}
		want, err := parseTwilioDate(v)
		if err != nil {
			return false
		}
		day := t.UTC().Format(time.DateOnly)
		w := want.UTC().Format(time.DateOnly)
		if (op == "" && day != w) || (op == "<" && day > w) || (op == ">" && day < w) {
			return false
		}
	}
	return true
}

// page renders one page of a list response under key.
func page(r *http.Request, p map[string]string, key string, items []any) map[string]any {
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("PageSize"))
	if size <= 0 {
		size = 50
	}
	n, _ := strconv.Atoi(q.Get("Page"))
	start := min(n*size, len(items))
	end := min(start+size, len(items))
	uri := func(page int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("PageSize", strconv.Itoa(size))
		v.Set("Page", strconv.Itoa(page))
		v.Del("PageToken")
		return r.URL.Path + "?" + v.Encode()
	}
	var next, prev any
	if end < len(items) {
		next = uri(n + 1)
	}
	if n > 0 {
		prev = uri(n - 1)
	}
	out := items[start:end]
	if out == nil {
		out = []any{}
	}
	return map[string]any{
		key:                 out,
		"end":               max(end-1, 0),
		"first_page_uri":    uri(0),
		"next_page_uri":     next,
		"page":              n,
		"page_size":         size,
		"previous_page_uri": prev,
		"start":             start,
		"uri":               uri(n),
	}
}
