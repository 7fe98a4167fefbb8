package httpjson_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets/httpjson"
)

// FuzzResponses has a ticket system answer the client's three requests
// with any status and body: the client never panics, fails only with
// errs.NotFound or errs.Unavailable (what the flow handles), and a ticket
// it returns has a valid priority and level (and an id, when opened).
func FuzzResponses(f *testing.F) {
	f.Add(uint8(0), uint16(200), `{"id":"12345","subject":"Database down","priority":"critical","level":"L2"}`)
	f.Add(uint8(0), uint16(200), `{"id":12345,"priority":"urgent","level":3}`)
	f.Add(uint8(0), uint16(200), `{"id":"1","priority":"","level":"2"}`)
	f.Add(uint8(0), uint16(200), `{"priority":"LOW","level":null}`)
	f.Add(uint8(0), uint16(200), `{"id":1e3,"priority":"high","level":"L9"}`)
	f.Add(uint8(0), uint16(204), ``)
	f.Add(uint8(0), uint16(404), `{"error":"not found"}`)
	f.Add(uint8(0), uint16(500), `<html>oops</html>`)
	f.Add(uint8(1), uint16(201), `{"id":"90210","level":"L1"}`)
	f.Add(uint8(1), uint16(200), `{"id":"","priority":"normal"}`)
	f.Add(uint8(1), uint16(200), `{"id":[1],"priority":7}`)
	f.Add(uint8(1), uint16(404), ``)
	f.Add(uint8(2), uint16(201), `{}`)
	f.Add(uint8(2), uint16(302), `{}`)
	f.Add(uint8(0), uint16(200), `{"id":"12345","priority":"critical"`)
	f.Add(uint8(0), uint16(200), "\xff\xfe{\"id\":\"\u0000\"}")

	var (
		mu     sync.Mutex
		status int
		body   string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s, b := status, body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s)
		_, _ = io.WriteString(w, b)
	}))
	f.Cleanup(srv.Close)
	c, err := httpjson.New(srv.URL+"/ivr/", token, 5*time.Second)
	if err != nil {
		f.Fatal(err)
	}
	c.HTTPClient = srv.Client()
	c.HTTPClient.Timeout = 5 * time.Second
	// Redirects are answered like any other status: the fake's Location
	// is empty, so a 3xx is never followed anywhere.
	c.HTTPClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	f.Fuzz(func(t *testing.T, op uint8, st uint16, b string) {
		mu.Lock()
		status, body = 200+int(st)%400, b
		mu.Unlock()
		ctx := context.Background()
		var (
			tk     ivr.Ticket
			err    error
			ticket bool
		)
		switch op % 3 {
		case 0:
			tk, err = c.Ticket(ctx, "12345")
			ticket = true
		case 1:
			tk, err = c.OpenTicket(ctx, ivr.NewTicket{Priority: oncall.Normal, CallerPhone: "+79161234567",
				Language: oncall.Russian, Line: "Moscow"})
			ticket = true
			if err == nil && tk.ID == "" {
				t.Errorf("OpenTicket returned a ticket without an id")
			}
		case 2:
			err = c.AddNote(ctx, "12345", "a note")
		}
		if err != nil {
			if code := errs.CodeOf(err); code != errs.NotFound && code != errs.Unavailable {
				t.Fatalf("status %d body %q: error %v has code %q, want not-found or unavailable", status, b, err, code)
			}
			if op%3 == 1 && errs.CodeOf(err) == errs.NotFound {
				t.Errorf("OpenTicket failed with not-found (%v): a 404 there is a misconfigured system", err)
			}
			return
		}
		if ticket && (!tk.Priority.Valid() || !tk.Level.Valid()) {
			t.Fatalf("status %d body %q: ticket %+v has an invalid priority or level", status, b, tk)
		}
	})
}
