package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

type noteJSON struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
}

type ticketJSON struct {
	ID          string     `json:"id"`
	Subject     string     `json:"subject"`
	Priority    string     `json:"priority"`
	Level       string     `json:"level"`
	CallerPhone string     `json:"caller_phone"`
	Language    string     `json:"language"`
	CreatedAt   time.Time  `json:"created_at"`
	Notes       []noteJSON `json:"notes"`
}

// engineerToken issues an engineer token for a new engineer and returns
// its secret.
func (s *apiServer) engineerToken() string {
	s.t.Helper()
	id := s.engineer("Eve", "L1", "+12025550109")
	_, secret, err := access.Issue(context.Background(), s.db, "test", "eve's phone", "engineer", id)
	if err != nil {
		s.t.Fatal(err)
	}
	return secret
}

func TestTicketsAPI(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
		eng := s.engineerToken()

		var first ticketJSON
		r := s.do("POST", "/api/v1/tickets", s.admin, map[string]any{"subject": "Mail server rejects all mail",
			"priority": "Critical", "level": "l2", "caller_phone": "+1 (202) 555-0150", "language": "ru"})
		if r.status != http.StatusCreated || r.header.Get("Location") != "/api/v1/tickets/1001" {
			t.Fatalf("POST /tickets: %d %s, Location %q", r.status, r.body, r.header.Get("Location"))
		}
		r.decode(t, &first)
		if first.ID != "1001" || first.Priority != "critical" || first.Level != "L2" || first.CallerPhone != "+12025550150" ||
			first.Language != "ru" || first.CreatedAt.IsZero() || first.Notes == nil || len(first.Notes) != 0 {
			t.Fatalf("created %+v", first)
		}
		var second ticketJSON
		s.mustDo("POST", "/api/v1/tickets", map[string]any{"subject": "How do I add a user?", "priority": "low"},
			http.StatusCreated, &second)
		if second.ID != "1002" || second.Level != "L1" || second.CallerPhone != "" {
			t.Fatalf("created %+v", second)
		}

		t.Run("Notes", func(t *testing.T) {
			var n noteJSON
			s.mustDo("POST", "/api/v1/tickets/1001/notes", map[string]any{"text": "Escalated to L2."}, http.StatusCreated, &n)
			if n.Author != "test admin" || n.Text != "Escalated to L2." || n.At.IsZero() {
				t.Fatalf("note %+v, want the token's name as author", n)
			}
			s.mustDo("POST", "/api/v1/tickets/1001/notes", map[string]any{"text": "Called back.", "author": "Olga Petrova"},
				http.StatusCreated, nil)
			var got ticketJSON
			r := s.do("GET", "/api/v1/tickets/1001", eng, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET: %d %s", r.status, r.body)
			}
			r.decode(t, &got)
			if len(got.Notes) != 2 || got.Notes[0].Text != "Escalated to L2." || got.Notes[1].Author != "Olga Petrova" {
				t.Fatalf("notes %+v", got.Notes)
			}
		})

		t.Run("List", func(t *testing.T) {
			for _, c := range []struct {
				query string
				want  []string
			}{
				{"", []string{"1002", "1001"}},
				{"?limit=1", []string{"1002"}},
				{"?before=1002", []string{"1001"}},
				{"?before=1001", []string{}},
			} {
				r := s.do("GET", "/api/v1/tickets"+c.query, eng, nil)
				var out struct {
					Tickets []ticketJSON `json:"tickets"`
				}
				if r.status != http.StatusOK {
					t.Fatalf("GET /tickets%s: %d %s", c.query, r.status, r.body)
				}
				r.decode(t, &out)
				var ids []string
				for _, tk := range out.Tickets {
					ids = append(ids, tk.ID)
				}
				if strings.Join(ids, ",") != strings.Join(c.want, ",") || out.Tickets == nil {
					t.Errorf("GET /tickets%s: %v, want %v", c.query, ids, c.want)
				}
				if strings.Contains(string(r.body), `"notes"`) {
					t.Errorf("GET /tickets%s lists notes: %s", c.query, r.body)
				}
			}
		})

		t.Run("Audit", func(t *testing.T) {
			var out struct {
				Entries []struct {
					Action   string `json:"action"`
					Actor    string `json:"actor"`
					EntityID string `json:"entity_id"`
				} `json:"entries"`
			}
			s.mustDo("GET", "/api/v1/audit?entity=ticket", nil, http.StatusOK, &out)
			var got []string
			for _, e := range out.Entries {
				got = append(got, e.Action+" "+e.EntityID)
				if !strings.Contains(e.Actor, "test admin") {
					t.Errorf("actor %q, want the admin token", e.Actor)
				}
			}
			if want := "update 1001,update 1001,create 1002,create 1001"; strings.Join(got, ",") != want {
				t.Fatalf("ticket audit entries %v, want %s", got, want)
			}
		})

		t.Run("ErrRoles", func(t *testing.T) {
			before := s.auditCount()
			s.do("POST", "/api/v1/tickets", eng, map[string]any{"subject": "x", "priority": "low"}).
				wantError(t, http.StatusForbidden, "forbidden", "")
			s.do("POST", "/api/v1/tickets/1001/notes", eng, map[string]any{"text": "x"}).
				wantError(t, http.StatusForbidden, "forbidden", "")
			s.do("GET", "/api/v1/tickets", "", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
			s.do("GET", "/api/v1/tickets/1001", "", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
			if got := s.auditCount(); got != before {
				t.Errorf("audit entries %d → %d after refused writes", before, got)
			}
		})

		t.Run("ErrInput", func(t *testing.T) {
			ticket := func(mod func(m map[string]any)) map[string]any {
				m := map[string]any{"subject": "Disk full", "priority": "urgent", "level": "L1",
					"caller_phone": "+12025550151", "language": "en"}
				mod(m)
				return m
			}
			before := s.auditCount()
			for _, c := range []struct {
				name, method, path string
				body               any
				field              string
			}{
				{"NoSubject", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { delete(m, "subject") }), "subject"},
				{"LongSubject", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { m["subject"] = strings.Repeat("x", 201) }), "subject"},
				{"NoPriority", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { delete(m, "priority") }), "priority"},
				{"BadPriority", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { m["priority"] = "asap" }), "priority"},
				{"BadLevel", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { m["level"] = "L4" }), "level"},
				{"LevelNumber", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { m["level"] = 2 }), "level"},
				{"BadPhone", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { m["caller_phone"] = "call me" }), "caller_phone"},
				{"LocalPhone", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { m["caller_phone"] = "202 555 0151" }), "caller_phone"},
				{"BadLanguage", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { m["language"] = "de" }), "language"},
				{"UnknownField", "POST", "/api/v1/tickets", ticket(func(m map[string]any) { m["id"] = "5" }), "id"},
				{"EmptyNote", "POST", "/api/v1/tickets/1001/notes", map[string]any{"text": "  "}, "text"},
				{"NoteAuthorLines", "POST", "/api/v1/tickets/1001/notes", map[string]any{"text": "x", "author": "a\nb"}, "author"},
				{"NoteBadID", "POST", "/api/v1/tickets/x1/notes", map[string]any{"text": "x"}, "id"},
				{"BadID", "GET", "/api/v1/tickets/abc", nil, "id"},
				{"LeadingZero", "GET", "/api/v1/tickets/01001", nil, "id"},
				{"BadBefore", "GET", "/api/v1/tickets?before=x", nil, "before"},
				{"BadLimit", "GET", "/api/v1/tickets?limit=0", nil, "limit"},
			} {
				t.Run(c.name, func(t *testing.T) {
					s.do(c.method, c.path, s.admin, c.body).wantError(t, http.StatusBadRequest, "invalid", c.field)
				})
			}
			s.do("GET", "/api/v1/tickets/9999", s.admin, nil).wantError(t, http.StatusNotFound, "not_found", "")
			s.do("POST", "/api/v1/tickets/9999/notes", s.admin, map[string]any{"text": "x"}).
				wantError(t, http.StatusNotFound, "not_found", "")
			if got := s.auditCount(); got != before {
				t.Errorf("audit entries %d → %d after refused requests", before, got)
			}
		})
	})
}
