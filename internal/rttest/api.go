package rttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var (
	seq atomic.Int64
	// client is the helpers' HTTP client; RT answers on loopback within a
	// second, so 30 s means it hangs.
	client = &http.Client{Timeout: 30 * time.Second}
)

// Unique returns prefix followed by a number unique in this test binary,
// for names of users and subjects that no other test uses.
func (r *RT) Unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, seq.Add(1))
}

// Phone returns an E.164 number (+1 555 01x xxxx, fictional) unique in this
// test binary, for users whose phone a test matches.
func (r *RT) Phone() string {
	return fmt.Sprintf("+1555%07d", 100000+seq.Add(1))
}

// Do sends a REST 2 request as root to path (below /REST/2.0, e.g.
// "/ticket/7") and returns the status. A string body is sent as
// text/plain; charset=utf-8, any other non-nil body as JSON. When out is not
// nil it receives the JSON body of any answer that has one. A transport
// error or an undecodable body fails tb. Like every helper it sends with
// tb.Context(), so it cannot be used from tb's Cleanup.
func (r *RT) Do(tb testing.TB, method, path string, body, out any) int {
	tb.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, contentType = strings.NewReader(b), "text/plain; charset=utf-8"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("rttest: %s %s: encode body: %v", method, path, err)
		}
		rd, contentType = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, r.URL+"/REST/2.0"+path, rd)
	if err != nil {
		tb.Fatalf("rttest: %s %s: %v", method, path, err)
	}
	req.SetBasicAuth(RootUser, RootPassword)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("rttest: %s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("rttest: %s %s: read answer: %v", method, path, err)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("rttest: %s %s: answer %d %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// CreateTicket creates a ticket as root in queue (a name) with subject and
// priority, plus any other fields of RT's ticket create (Requestor, Owner,
// Status, …) in extra, and returns its id. RT opens it with status "new".
func (r *RT) CreateTicket(tb testing.TB, queue, subject string, priority int, extra map[string]any) int {
	tb.Helper()
	fields := maps.Clone(extra)
	if fields == nil {
		fields = map[string]any{}
	}
	fields["Queue"], fields["Subject"], fields["Priority"] = queue, subject, priority
	var created struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	if code := r.Do(tb, http.MethodPost, "/ticket", fields, &created); code != http.StatusCreated {
		tb.Fatalf("rttest: create ticket in %s: %d %s", queue, code, created.Message)
	}
	id, err := strconv.Atoi(created.ID)
	if err != nil {
		tb.Fatalf("rttest: create ticket in %s: id %q: %v", queue, created.ID, err)
	}
	return id
}

// RT answers 200 to a PUT whatever happened, with one message per field
// ("Ticket 7: Queue NoSuch does not exist"), and the messages do not say
// which succeeded. A change made reads "… changed from … to …" (or "… set
// to …"); any other message that matches failed is a change not made.
// SetTicket also reads the ticket back.
var (
	changed = regexp.MustCompile(`^Ticket \d+: .* (changed from|set to) `)
	failed  = regexp.MustCompile(`(?i)does ?n['o]t|denied|illegal|invalid|could ?n['o]t|can ?n['o]t|not allowed|failed|no such|isn't|unknown|no value`)
)

// SetTicket updates ticket id as root (PUT /ticket/{id}) and fails tb when
// RT did not make a change: a message of RT's says so, or the ticket read
// back has another Queue (a name or an id), Status, Subject, Owner (a user
// name) or Priority, FinalPriority, InitialPriority than fields asked for.
func (r *RT) SetTicket(tb testing.TB, id int, fields map[string]any) {
	tb.Helper()
	var messages []string
	path := "/ticket/" + strconv.Itoa(id)
	if code := r.Do(tb, http.MethodPut, path, fields, &messages); code != http.StatusOK {
		tb.Fatalf("rttest: update ticket %d: %d %q", id, code, messages)
	}
	for _, m := range messages {
		if !changed.MatchString(m) && failed.MatchString(m) {
			tb.Fatalf("rttest: update ticket %d with %v: RT says %q", id, fields, m)
		}
	}
	var t map[string]any
	if code := r.Do(tb, http.MethodGet, path, nil, &t); code != http.StatusOK {
		tb.Fatalf("rttest: read ticket %d back: %d", id, code)
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		want := fmt.Sprint(fields[k])
		var got string
		switch k {
		case "Queue":
			qid := ref(t["Queue"])
			if want == qid {
				continue
			}
			var q struct{ Name string }
			r.Do(tb, http.MethodGet, "/queue/"+qid, nil, &q)
			got = q.Name
		case "Owner":
			got = ref(t["Owner"])
		case "Status", "Subject", "Priority", "FinalPriority", "InitialPriority":
			got = fmt.Sprint(t[k])
		default:
			continue
		}
		if got != want {
			tb.Fatalf("rttest: update ticket %d: %s is %q after asking for %q; RT said %q", id, k, got, want, messages)
		}
	}
}

// ref returns the id of a REST 2 reference object {"id": …, "type": …}.
func ref(v any) string {
	m, _ := v.(map[string]any)
	return fmt.Sprint(m["id"])
}

// Comment adds text as a comment of root's on ticket id and returns the
// comment's transaction id.
func (r *RT) Comment(tb testing.TB, id int, text string) int {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost,
		fmt.Sprintf("%s/REST/2.0/ticket/%d/comment", r.URL, id),
		strings.NewReader(mustJSON(tb, map[string]string{"Content": text, "ContentType": "text/plain"})))
	if err != nil {
		tb.Fatalf("rttest: comment on %d: %v", id, err)
	}
	req.SetBasicAuth(RootUser, RootPassword)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("rttest: comment on %d: %v", id, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		tb.Fatalf("rttest: comment on %d: %d %s", id, resp.StatusCode, body)
	}
	// Location: /REST/2.0/transaction/<id>
	loc := resp.Header.Get("Location")
	txn, err := strconv.Atoi(loc[strings.LastIndexByte(loc, '/')+1:])
	if err != nil {
		tb.Fatalf("rttest: comment on %d: Location %q: %v", id, loc, err)
	}
	return txn
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// Merge merges ticket from into ticket into as root and fails tb unless
// from then resolves to into.
func (r *RT) Merge(tb testing.TB, from, into int) {
	tb.Helper()
	var messages []string
	if code := r.Do(tb, http.MethodPut, "/ticket/"+strconv.Itoa(from), map[string]any{"MergeInto": into}, &messages); code != http.StatusOK {
		tb.Fatalf("rttest: merge %d into %d: %d %q", from, into, code, messages)
	}
	var t struct{ EffectiveId struct{ ID string } }
	r.Do(tb, http.MethodGet, "/ticket/"+strconv.Itoa(from), nil, &t)
	if t.EffectiveId.ID != strconv.Itoa(into) {
		tb.Fatalf("rttest: merge %d into %d: its EffectiveId is %q; RT said %q", from, into, t.EffectiveId.ID, messages)
	}
}

// Resolve sets ticket id's status to resolved, as root.
func (r *RT) Resolve(tb testing.TB, id int) {
	tb.Helper()
	r.SetTicket(tb, id, map[string]any{"Status": "resolved"})
}

// CreateUser creates an unprivileged RT user (as a client would be) named
// name, with phone as its WorkPhone, MobilePhone and HomePhone and
// name@example.com as its address, as root. Use Unique and Phone for values
// no other test has.
func (r *RT) CreateUser(tb testing.TB, name, phone string) {
	tb.Helper()
	var answer struct {
		Message string `json:"message"`
	}
	code := r.Do(tb, http.MethodPost, "/user", map[string]any{
		"Name": name, "EmailAddress": name + "@example.com", "RealName": name,
		"WorkPhone": phone, "MobilePhone": phone, "HomePhone": phone,
	}, &answer)
	if code != http.StatusCreated {
		tb.Fatalf("rttest: create user %s: %d %s", name, code, answer.Message)
	}
}
