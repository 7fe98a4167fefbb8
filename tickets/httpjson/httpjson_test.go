package httpjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets/httpjson"
)

const token = "secret-token"

// ticketSystem serves handler as a ticket system's API under /ivr, after
// checking the headers every request must carry; it returns a Client for
// it.
func ticketSystem(t *testing.T, handler http.HandlerFunc) *httpjson.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("Authorization %q", got)
		}
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("Accept %q", got)
		}
		if !strings.HasPrefix(r.URL.Path, "/ivr/") {
			t.Errorf("path %s, want it under the base URL's /ivr", r.URL.Path)
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/ivr")
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := httpjson.New(srv.URL+"/ivr/", token, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reply answers with status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body) // a client that went away fails its own test
	}
}

// wantUnavailable fails unless err is errs.Unavailable whose text says
// each of says.
func wantUnavailable(t *testing.T, err error, says ...string) {
	t.Helper()
	if !errs.Is(err, errs.Unavailable) {
		t.Fatalf("error %v (%s), want unavailable", err, errs.CodeOf(err))
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

func TestTicket(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, body string
		want       ivr.Ticket
	}{
		{"OK", `{"id": "1001", "subject": "VPN drops", "priority": "critical", "level": "L2"}`,
			ivr.Ticket{ID: "1001", Subject: "VPN drops", Priority: oncall.Critical, Level: oncall.L2}},
		{"NumbersAndCase", `{"id": 1001, "priority": "Urgent", "level": 3, "extra": {"ignored": true}}`,
			ivr.Ticket{ID: "1001", Priority: oncall.Urgent, Level: oncall.L3}},
		{"NoLevel", `{"id": "1001", "priority": "low", "level": null}`,
			ivr.Ticket{ID: "1001", Priority: oncall.Low, Level: oncall.L1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := ticketSystem(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.Path != "/tickets/1001" {
					t.Errorf("%s %s, want GET /tickets/1001", r.Method, r.URL.Path)
				}
				reply(http.StatusOK, c.body)(w, r)
			})
			got, err := cl.Ticket(ctx, "1001")
			if err != nil || got != c.want {
				t.Fatalf("Ticket = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		cl := ticketSystem(t, reply(http.StatusNotFound, `{"error": "no such ticket"}`))
		_, err := cl.Ticket(ctx, "4242")
		if !errs.Is(err, errs.NotFound) {
			t.Fatalf("error %v, want not_found", err)
		}
	})

	for _, c := range []struct {
		name    string
		handler http.HandlerFunc
		says    []string
	}{
		{"Err500", reply(http.StatusInternalServerError, "database\nis down"), []string{"status 500", "database is down"}},
		{"Err401", reply(http.StatusUnauthorized, ""), []string{"status 401"}},
		{"ErrGarbage", reply(http.StatusOK, `<html>maintenance</html>`), []string{"not the JSON expected"}},
		{"ErrTruncated", reply(http.StatusOK, `{"id": "1001", "priority": "crit`), []string{"not the JSON expected"}},
		{"ErrWrongPriority", reply(http.StatusOK, `{"id": "1001", "priority": "P1"}`), []string{`priority "P1"`}},
		{"ErrNoPriority", reply(http.StatusOK, `{"id": "1001"}`), []string{"no priority"}},
		{"ErrWrongLevel", reply(http.StatusOK, `{"id": "1001", "priority": "low", "level": "L4"}`), []string{"level"}},
		{"ErrWrongID", reply(http.StatusOK, `{"id": 10.5, "priority": "low"}`), []string{"id"}},
		{"ErrTooLarge", reply(http.StatusOK, `{"id": "1001", "priority": "low", "subject": "`+strings.Repeat("x", httpjson.MaxResponseBytes)+`"}`),
			[]string{"larger than"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ticketSystem(t, c.handler).Ticket(ctx, "1001")
			wantUnavailable(t, err, c.says...)
		})
	}

	t.Run("ErrDown", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		cl, err := httpjson.New(srv.URL, token, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cl.Ticket(ctx, "1001")
		wantUnavailable(t, err)
	})
}

// TestSlow: a ticket system that does not answer costs the caller no more
// than the flow's budget or the client's timeout.
func TestSlow(t *testing.T) {
	// hang answers when the client has gone (the server notices once the
	// body is read) or release is closed.
	hang := func(release chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}

	t.Run("ContextDeadline", func(t *testing.T) {
		release := make(chan struct{})
		cl := ticketSystem(t, hang(release))
		t.Cleanup(func() { close(release) }) // before the server closes
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := cl.Ticket(ctx, "1001")
		wantUnavailable(t, err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s", d)
		}
	})
	t.Run("ClientTimeout", func(t *testing.T) {
		release := make(chan struct{})
		cl := ticketSystem(t, hang(release))
		t.Cleanup(func() { close(release) }) // before the server closes
		cl.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
		start := time.Now()
		_, err := cl.OpenTicket(context.Background(), ivr.NewTicket{Priority: oncall.Low})
		wantUnavailable(t, err)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s", d)
		}
	})
}

func TestOpenTicket(t *testing.T) {
	ctx := context.Background()
	nt := ivr.NewTicket{CallerPhone: "+12025550150", Language: oncall.English, Priority: oncall.Urgent, Line: "+12025952118"}

	t.Run("OK", func(t *testing.T) {
		cl := ticketSystem(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/tickets" {
				t.Errorf("%s %s, want POST /tickets", r.Method, r.URL.Path)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var got map[string]any
			if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"subject": "Phone call from +12025550150", "priority": "urgent",
				"caller_phone": "+12025550150", "language": "en", "line": "+12025952118"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("body %s = %v, want %v", k, got[k], v)
				}
			}
			reply(http.StatusCreated, `{"id": 5321}`)(w, r) // only the id: the rest is assumed
		})
		got, err := cl.OpenTicket(ctx, nt)
		if err != nil || got != (ivr.Ticket{ID: "5321", Priority: oncall.Urgent, Level: oncall.L1}) {
			t.Fatalf("OpenTicket = %+v, %v", got, err)
		}
	})
	t.Run("Withheld", func(t *testing.T) {
		cl := ticketSystem(t, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if strings.Contains(string(b), "caller_phone") {
				t.Errorf("body %s names a caller phone", b)
			}
			reply(http.StatusOK, `{"id": "77", "priority": "critical", "level": "L2"}`)(w, r)
		})
		got, err := cl.OpenTicket(ctx, ivr.NewTicket{Language: oncall.Russian, Priority: oncall.Low, Line: "+74996383867"})
		if err != nil || got != (ivr.Ticket{ID: "77", Priority: oncall.Critical, Level: oncall.L2}) {
			t.Fatalf("OpenTicket = %+v, %v", got, err)
		}
	})
	t.Run("ErrNoID", func(t *testing.T) {
		_, err := ticketSystem(t, reply(http.StatusCreated, `{"priority": "urgent"}`)).OpenTicket(ctx, nt)
		wantUnavailable(t, err, "no id")
	})
	t.Run("Err404", func(t *testing.T) {
		_, err := ticketSystem(t, reply(http.StatusNotFound, ``)).OpenTicket(ctx, nt)
		wantUnavailable(t, err, "404")
	})
	t.Run("Err503", func(t *testing.T) {
		_, err := ticketSystem(t, reply(http.StatusServiceUnavailable, `busy`)).OpenTicket(ctx, nt)
		wantUnavailable(t, err, "503")
	})
}

func TestAddNote(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		cl := ticketSystem(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/tickets/1001/notes" {
				t.Errorf("%s %s, want POST /tickets/1001/notes", r.Method, r.URL.Path)
			}
			var got struct{ Author, Text string }
			if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.Author != "IVR" || got.Text != "Звонок на линию Москва.\nЗаявка: 1001" {
				t.Errorf("note %+v", got)
			}
			w.WriteHeader(http.StatusNoContent)
		})
		if err := cl.AddNote(ctx, "1001", "Звонок на линию Москва.\nЗаявка: 1001"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		err := ticketSystem(t, reply(http.StatusNotFound, ``)).AddNote(ctx, "4242", "x")
		if !errs.Is(err, errs.NotFound) {
			t.Fatalf("error %v, want not_found", err)
		}
	})
	t.Run("Err500", func(t *testing.T) {
		wantUnavailable(t, ticketSystem(t, reply(http.StatusInternalServerError, ``)).AddNote(ctx, "1001", "x"), "500")
	})
	t.Run("PathEscaped", func(t *testing.T) {
		cl := ticketSystem(t, func(w http.ResponseWriter, r *http.Request) {
			if got := r.RequestURI; got != "/ivr/tickets/a%2Fb/notes" {
				t.Errorf("path %q, want the id escaped", got)
			}
			w.WriteHeader(http.StatusOK)
		})
		if err := cl.AddNote(ctx, "a/b", "x"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNew(t *testing.T) {
	for _, u := range []string{"", "tickets.example.com", "ftp://tickets.example.com", "https://", "https://t.example.com/?a=1"} {
		if _, err := httpjson.New(u, token, 0); !errs.Is(err, errs.Invalid) {
			t.Errorf("New(%q): %v, want invalid base_url", u, err)
		}
	}
	c, err := httpjson.New("https://tickets.example.com/ivr", token, 0)
	if err != nil || c.HTTPClient.Timeout != httpjson.DefaultTimeout {
		t.Fatalf("New = %+v, %v; want the default timeout", c, err)
	}
}
