package rttest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/rttest"
)

func TestMain(m *testing.M) { os.Exit(rttest.Main(m)) }

// asAPI sends a REST 2 request with the API user's token, as the service
// would, and decodes the answer into out.
func asAPI(t *testing.T, rt *rttest.RT, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(t.Context(), method, rt.URL+"/REST/2.0"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+rt.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// ref is REST 2's reference to another record.
type ref struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	URL  string `json:"_url"`
}

// ticket is the part of GET /ticket/{id} the service reads.
type ticket struct {
	ID          int    `json:"id"`
	Subject     string `json:"Subject"`
	Status      string `json:"Status"`
	Priority    string `json:"Priority"`
	Queue       ref    `json:"Queue"`
	EffectiveId ref    `json:"EffectiveId"`
	Creator     ref    `json:"Creator"`
	Requestor   []ref  `json:"Requestor"`
	LastUpdated string `json:"LastUpdated"`
}

// page is a REST 2 collection answer.
type page[T any] struct {
	Total    int     `json:"total"`
	Count    int     `json:"count"`
	Page     int     `json:"page"`
	Pages    float64 `json:"pages"` // 0.0, a float, when nothing matched
	PerPage  int     `json:"per_page"`
	NextPage string  `json:"next_page"`
	Items    []T     `json:"items"`
}

type searchItem struct {
	ID          string `json:"id"`
	Queue       ref    `json:"Queue"`
	Priority    string `json:"Priority"`
	Status      string `json:"Status"`
	LastUpdated string `json:"LastUpdated"`
	Subject     string `json:"Subject"`
	EffectiveId string `json:"EffectiveId"`
}

type txn struct {
	ID   string `json:"id"`
	Type string `json:"Type"`
	// Kind takes the record's "type": "transaction". Without a field of
	// its own, encoding/json's case-insensitive match writes it into Type
	// whenever it comes after "Type" in the object.
	Kind     string `json:"type"`
	Field    string `json:"Field"`
	OldValue string `json:"OldValue"`
	NewValue string `json:"NewValue"`
	Created  string `json:"Created"`
	Creator  ref    `json:"Creator"`
}

// recorder is a testing.TB whose Fatalf records the failure and ends the
// goroutine, as t.Fatalf would.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatal runs act with a recorder and returns its failure, "" if none.
func fatal(t *testing.T, act func(testing.TB)) string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		act(r)
	}()
	<-done
	return r.msg
}

func queueID(t *testing.T, rt *rttest.RT, name string) string {
	t.Helper()
	var q struct {
		ID   int    `json:"id"`
		Name string `json:"Name"`
	}
	if code := rt.Do(t, http.MethodGet, "/queue/"+name, nil, &q); code != http.StatusOK || q.Name != name {
		t.Fatalf("queue %s: %d %+v", name, code, q)
	}
	return strconv.Itoa(q.ID)
}

func search(t *testing.T, rt *rttest.RT, query string) page[searchItem] {
	t.Helper()
	var p page[searchItem]
	path := "/tickets?" + url.Values{
		"query": {query}, "fields": {"Queue,Priority,Status,LastUpdated,Subject,EffectiveId"},
		"per_page": {"100"}, "page": {"1"},
	}.Encode()
	if code := asAPI(t, rt, http.MethodGet, path, nil, &p); code != http.StatusOK {
		t.Fatalf("search %q: %d", query, code)
	}
	return p
}

func history(t *testing.T, rt *rttest.RT, id int) []txn {
	t.Helper()
	var p page[txn]
	path := fmt.Sprintf("/ticket/%d/history?fields=Type,Field,OldValue,NewValue,Created,Creator&per_page=100", id)
	if code := asAPI(t, rt, http.MethodGet, path, nil, &p); code != http.StatusOK {
		t.Fatalf("history of %d: %d", id, code)
	}
	return p.Items
}

// TestRT is the smoke test of the helper and the check of every shape the
// package documentation describes, against the real RT.
func TestRT(t *testing.T) {
	began := time.Now()
	rt := rttest.Start(t)
	t.Logf("RT started in %v at %s", time.Since(began).Round(time.Millisecond), rt.URL)
	l2, l3 := queueID(t, rt, "L2"), queueID(t, rt, "L3")

	subject := rt.Unique("smoke")
	id := rt.CreateTicket(t, "L2", subject, 90, nil)

	t.Run("ticket", func(t *testing.T) {
		var got ticket
		if code := asAPI(t, rt, http.MethodGet, "/ticket/"+strconv.Itoa(id), nil, &got); code != http.StatusOK {
			t.Fatalf("GET ticket: %d", code)
		}
		if got.ID != id || got.Subject != subject || got.Status != "new" || got.Priority != "90" {
			t.Errorf("ticket = %+v, want id %d, subject %q, status new, priority \"90\"", got, id, subject)
		}
		if got.Queue.ID != l2 || got.Queue.Type != "queue" {
			t.Errorf("Queue = %+v, want the reference to queue %s (L2)", got.Queue, l2)
		}
		if got.EffectiveId.ID != strconv.Itoa(id) || got.Creator.ID != rttest.RootUser || len(got.Requestor) != 0 {
			t.Errorf("EffectiveId %+v, Creator %+v, Requestor %+v", got.EffectiveId, got.Creator, got.Requestor)
		}
		if _, err := time.Parse("2006-01-02T15:04:05Z", got.LastUpdated); err != nil {
			t.Errorf("LastUpdated %q: %v", got.LastUpdated, err)
		}
	})

	t.Run("priority labels", func(t *testing.T) {
		// The site's four-level scale: RT's web UI labels 90 Critical.
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Jar: jar}
		resp, err := client.PostForm(rt.URL+"/NoAuth/Login.html", url.Values{"user": {rttest.RootUser}, "pass": {rttest.RootPassword}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = client.Get(fmt.Sprintf("%s/Ticket/Display.html?id=%d", rt.URL, id))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`ticket-info-priority-critical">Critical<`, `value="30" >Normal<`, `value="70" >Urgent<`, `value="0" >Low<`} {
			if !strings.Contains(string(page), want) {
				t.Errorf("the ticket's page lacks %s", want)
			}
		}
		if strings.Contains(string(page), ">Medium<") {
			t.Error("the ticket's page still offers RT's stock Medium")
		}
	})

	t.Run("update", func(t *testing.T) {
		var messages []string
		if code := rt.Do(t, http.MethodPut, "/ticket/"+strconv.Itoa(id), map[string]any{"Queue": "NoSuch"}, &messages); code != http.StatusOK ||
			len(messages) != 1 || messages[0] != fmt.Sprintf("Ticket %d: Queue NoSuch does not exist", id) {
			t.Errorf("PUT Queue NoSuch = %d %q", code, messages)
		}
		rt.Do(t, http.MethodPut, "/ticket/"+strconv.Itoa(id), map[string]any{"Queue": "L3", "Priority": 70}, &messages)
		want := []string{fmt.Sprintf("Ticket %d: Priority changed from 'Critical' to 'Urgent'", id), fmt.Sprintf("Ticket %d: Queue changed from L2 to L3", id)}
		if strings.Join(messages, "|") != strings.Join(want, "|") {
			t.Errorf("PUT Queue L3, Priority 70 = %q, want %q", messages, want)
		}
		rt.SetTicket(t, id, map[string]any{"Queue": "L2", "Priority": 90})
	})

	t.Run("helpers fail on what RT refused", func(t *testing.T) {
		for name, act := range map[string]func(tb testing.TB){
			"queue":  func(tb testing.TB) { rt.SetTicket(tb, id, map[string]any{"Queue": "NoSuch"}) },
			"status": func(tb testing.TB) { rt.SetTicket(tb, id, map[string]any{"Status": "bogus"}) },
			"merge":  func(tb testing.TB) { rt.Merge(tb, id, 999999) },
		} {
			if msg := fatal(t, act); msg == "" {
				t.Errorf("%s: the helper did not fail", name)
			} else {
				t.Logf("%s: %s", name, msg)
			}
		}
	})

	t.Run("history", func(t *testing.T) {
		rt.SetTicket(t, id, map[string]any{"Status": "open"})
		if code := asAPI(t, rt, http.MethodPost, fmt.Sprintf("/ticket/%d/comment", id),
			map[string]string{"Content": "call log ü", "ContentType": "text/plain"}, nil); code != http.StatusCreated {
			t.Fatalf("comment as the API user: %d", code)
		}
		h := history(t, rt, id)
		var got []string
		for _, x := range h {
			got = append(got, strings.Join([]string{x.Type, x.Field, x.OldValue, x.NewValue, x.Creator.ID}, ","))
			if _, err := strconv.Atoi(x.ID); err != nil || !strings.HasSuffix(x.Created, "Z") || x.Creator.Type != "user" {
				t.Errorf("transaction %+v: id not a numeric string, Created not UTC, or Creator not a user", x)
			}
		}
		want := []string{
			"Create,,,,root",
			"Set,Priority,90,70,root", "Set,Queue," + l2 + "," + l3 + ",root",
			"Set,Priority,70,90,root", "Set,Queue," + l3 + "," + l2 + ",root",
			"Status,Status,new,open,root",
			"Comment,,,," + rttest.APIUser,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// The comment's text, through the ticket's attachments.
		var atts page[struct {
			Content       string `json:"Content"`
			TransactionId string `json:"TransactionId"`
		}]
		asAPI(t, rt, http.MethodGet, fmt.Sprintf("/ticket/%d/attachments?fields=Content,TransactionId", id), nil, &atts)
		if len(atts.Items) != 1 || atts.Items[0].Content != "call log ü" || atts.Items[0].TransactionId != h[len(h)-1].ID {
			t.Errorf("attachments = %+v", atts.Items)
		}
	})

	t.Run("comment", func(t *testing.T) {
		txnID := rt.Comment(t, id, "a person's note")
		h := history(t, rt, id)
		if last := h[len(h)-1]; last.ID != strconv.Itoa(txnID) || last.Type != "Comment" || last.Creator.ID != rttest.RootUser {
			t.Errorf("last transaction %+v, want root's comment %d", last, txnID)
		}
		var answer struct {
			Message string `json:"message"`
		}
		if code := asAPI(t, rt, http.MethodPost, "/ticket/999999/comment", map[string]string{"Content": "x", "ContentType": "text/plain"}, &answer); code != http.StatusBadRequest || answer.Message != "Message could not be recorded" {
			t.Errorf("comment on a missing ticket = %d %q", code, answer.Message)
		}
		if code := asAPI(t, rt, http.MethodPost, fmt.Sprintf("/ticket/%d/comment", id), map[string]string{"Content": "x"}, &answer); code != http.StatusBadRequest || answer.Message != "ContentType is a required field for application/json" {
			t.Errorf("comment without ContentType = %d %q", code, answer.Message)
		}
	})

	t.Run("search", func(t *testing.T) {
		var got ticket
		asAPI(t, rt, http.MethodGet, "/ticket/"+strconv.Itoa(id), nil, &got)
		updated, _ := time.Parse("2006-01-02T15:04:05Z", got.LastUpdated)
		q := func(at time.Time, layout string) string {
			return fmt.Sprintf("Subject = '%s' AND LastUpdated >= '%s'", subject, at.Format(layout))
		}
		p := search(t, rt, q(updated, time.DateTime))
		if p.Total != 1 || len(p.Items) != 1 || p.Pages != 1 || p.NextPage != "" {
			t.Fatalf("search at LastUpdated = %+v", p)
		}
		it := p.Items[0]
		if it.ID != strconv.Itoa(id) || it.EffectiveId != it.ID || it.Queue.ID != l2 || it.Priority != "90" || it.Status != "open" || it.LastUpdated != got.LastUpdated || it.Subject != subject {
			t.Errorf("search item = %+v", it)
		}
		if p := search(t, rt, q(updated.Add(time.Second), time.DateTime)); p.Total != 0 || p.Pages != 0 || len(p.Items) != 0 {
			t.Errorf("search a second after LastUpdated = %+v, want none", p)
		}
		// With Z, RT reads the date alone: from midnight.
		if next := updated.Add(time.Second); next.Day() == updated.Day() {
			if p := search(t, rt, q(next, "2006-01-02T15:04:05Z")); p.Total != 1 {
				t.Errorf("search a second after LastUpdated with Z = %+v, want the ticket (RT drops the time)", p)
			}
		}
	})

	t.Run("merged and inactive", func(t *testing.T) {
		other := rt.CreateTicket(t, "L1", rt.Unique("merged"), 30, nil)
		rt.Merge(t, other, id)
		var got ticket
		if code := asAPI(t, rt, http.MethodGet, "/ticket/"+strconv.Itoa(other), nil, &got); code != http.StatusOK || got.ID != id || got.EffectiveId.ID != strconv.Itoa(id) {
			t.Errorf("GET merged ticket = %d, id %d, EffectiveId %+v; want the ticket it went into, %d", code, got.ID, got.EffectiveId, id)
		}
		if p := search(t, rt, "id = "+strconv.Itoa(other)); p.Total != 0 {
			t.Errorf("search for the merged ticket = %+v, want none", p)
		}
		if code := asAPI(t, rt, http.MethodGet, "/lifecycle/default", nil, nil); code != http.StatusNotFound {
			t.Errorf("GET /lifecycle/default = %d, want 404 (no lifecycle endpoint in 5.0.3)", code)
		}
		closed := rt.CreateTicket(t, "L1", rt.Unique("closed"), 30, nil)
		rt.Resolve(t, closed)
		for _, c := range []struct {
			status string
			ids    string
		}{{"__Inactive__", strconv.Itoa(closed)}, {"__Active__", strconv.Itoa(id)}} {
			p := search(t, rt, fmt.Sprintf("(id = %d OR id = %d) AND Status = '%s'", closed, id, c.status))
			if len(p.Items) != 1 || p.Items[0].ID != c.ids {
				t.Errorf("Status = '%s': %+v, want ticket %s", c.status, p.Items, c.ids)
			}
		}
	})

	t.Run("users and requestors", func(t *testing.T) {
		name, phone := rt.Unique("client"), rt.Phone()
		rt.CreateUser(t, name, phone)
		for _, field := range []string{"MobilePhone", "WorkPhone", "HomePhone"} {
			var p page[struct {
				ID          string `json:"id"`
				Name        string `json:"Name"`
				MobilePhone string `json:"MobilePhone"`
			}]
			code := asAPI(t, rt, http.MethodPost, "/users?fields=Name,MobilePhone",
				[]map[string]string{{"field": field, "value": phone}}, &p)
			if code != http.StatusOK || len(p.Items) != 1 || p.Items[0].ID != name || p.Items[0].Name != name || p.Items[0].MobilePhone != "" {
				t.Errorf("users with %s %s = %d %+v, want %s alone, its phone hidden", field, phone, code, p.Items, name)
			}
		}
		var created struct {
			ID string `json:"id"`
		}
		asAPI(t, rt, http.MethodPost, "/ticket", map[string]any{"Queue": "L1", "Subject": rt.Unique("by phone"), "Priority": 30, "Requestor": name}, &created)
		var got ticket
		asAPI(t, rt, http.MethodGet, "/ticket/"+created.ID, nil, &got)
		if len(got.Requestor) != 1 || got.Requestor[0].ID != name || got.Creator.ID != rttest.APIUser {
			t.Errorf("ticket with Requestor %s: Requestor %+v, Creator %+v", name, got.Requestor, got.Creator)
		}
		asAPI(t, rt, http.MethodPost, "/ticket", map[string]any{"Queue": "L1", "Subject": rt.Unique("nobody"), "Priority": 30}, &created)
		asAPI(t, rt, http.MethodGet, "/ticket/"+created.ID, nil, &got)
		if len(got.Requestor) != 0 {
			t.Errorf("ticket without Requestor: Requestor %+v, want none", got.Requestor)
		}
	})

	t.Run("stop and restart", func(t *testing.T) {
		rt.Stop(t)
		_, err := http.Get(rt.URL + "/REST/2.0/queues/all")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("GET while stopped: %v, want connection refused", err)
		}
		stopped := time.Now()
		rt.Restart(t)
		t.Logf("restarted in %v", time.Since(stopped).Round(time.Millisecond))
		var got ticket
		if code := asAPI(t, rt, http.MethodGet, "/ticket/"+strconv.Itoa(id), nil, &got); code != http.StatusOK || got.Subject != subject {
			t.Errorf("ticket after restart = %d %+v", code, got)
		}
	})
	t.Logf("whole cycle %v", time.Since(began).Round(time.Millisecond))
}
