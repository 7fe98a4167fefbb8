package rt_test

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/internal/rttest"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets/rt"
)

func TestMain(m *testing.M) { os.Exit(rttest.Main(m)) }

// client is the adapter as serve builds it: the service's own RT user's
// token, the default mapping.
func client(t *testing.T, site *rttest.RT) *rt.Client {
	t.Helper()
	c, err := rt.New(rt.Config{URL: site.URL, Token: site.Token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTicketLookUp: the priority comes from RT's number by the thresholds
// and the level from the queue, on the four-level scale and on RT's stock
// Low/Medium/High numbers alike.
func TestTicketLookUp(t *testing.T) {
	site := rttest.Start(t)
	c := client(t, site)
	for _, tc := range []struct {
		queue    string
		priority int
		want     oncall.Priority
		level    oncall.Level
	}{
		{"L2", 90, oncall.Critical, oncall.L2},
		{"L3", 70, oncall.Urgent, oncall.L3},
		{"L1", 30, oncall.Normal, oncall.L1},
		{"L1", 0, oncall.Low, oncall.L1},
		{"L2", 100, oncall.Critical, oncall.L2}, // stock High
		{"L2", 50, oncall.Normal, oncall.L2},    // stock Medium
		{"General", 95, oncall.Critical, oncall.L1},
	} {
		subject := site.Unique("lookup")
		id := strconv.Itoa(site.CreateTicket(t, tc.queue, subject, tc.priority, nil))
		got, err := c.Ticket(t.Context(), id)
		if err != nil {
			t.Fatalf("Ticket(%s): %v", id, err)
		}
		want := ivr.Ticket{ID: id, Subject: subject, Priority: tc.want, Level: tc.level}
		if got != want {
			t.Errorf("%s at %d: got %+v, want %+v", tc.queue, tc.priority, got, want)
		}
	}
	if _, err := c.Ticket(t.Context(), "987654"); !errs.Is(err, errs.NotFound) {
		t.Errorf("a ticket RT does not have: %v, want not found", err)
	}
}

// TestMergedAndClosedTickets: a merged ticket reads as the one it went
// into; resolved, rejected and deleted tickets read as closed, open and
// stalled ones do not.
func TestMergedAndClosedTickets(t *testing.T) {
	site := rttest.Start(t)
	c := client(t, site)
	into := site.CreateTicket(t, "L3", site.Unique("survivor"), 90, nil)
	from := site.CreateTicket(t, "L1", site.Unique("duplicate"), 0, nil)
	site.Merge(t, from, into)
	got, err := c.Ticket(t.Context(), strconv.Itoa(from))
	if err != nil || got.ID != strconv.Itoa(into) || got.Level != oncall.L3 || got.Priority != oncall.Critical {
		t.Errorf("merged ticket %d: %+v, %v; want ticket %d, critical at L3", from, got, err, into)
	}
	for status, closed := range map[string]bool{"resolved": true, "rejected": true, "open": false, "stalled": false} {
		id := site.CreateTicket(t, "L2", site.Unique(status), 70, nil)
		site.SetTicket(t, id, map[string]any{"Status": status})
		got, err := c.Ticket(t.Context(), strconv.Itoa(id))
		if err != nil || got.Closed != closed {
			t.Errorf("%s ticket: %+v, %v; want closed %v", status, got, err, closed)
		}
	}
	id := site.CreateTicket(t, "L2", site.Unique("deleted"), 70, nil)
	if code := site.Do(t, http.MethodDelete, "/ticket/"+strconv.Itoa(id), nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if got, err := c.Ticket(t.Context(), strconv.Itoa(id)); err != nil || !got.Closed {
		t.Errorf("deleted ticket: %+v, %v; want closed", got, err)
	}
}

// ticketRecord is what the tests read back of a ticket.
type ticketRecord struct {
	Subject   string
	Priority  string
	Queue     struct{ ID string }
	Requestor []struct{ ID string }
	Creator   struct{ ID string }
}

func readTicket(t *testing.T, site *rttest.RT, id string) ticketRecord {
	t.Helper()
	var r ticketRecord
	if code := site.Do(t, http.MethodGet, "/ticket/"+id, nil, &r); code != http.StatusOK {
		t.Fatalf("GET ticket %s: %d", id, code)
	}
	return r
}

// TestOpenTicket: a caller's ticket goes to L1 at their priority's number,
// with the number in the subject; its requestor is the RT user with the
// caller's phone, or nobody when no user has it. A ticket opened in place of
// a closed one refers to it.
func TestOpenTicket(t *testing.T) {
	site := rttest.Start(t)
	c := client(t, site)
	known := site.Phone()
	user := site.Unique("client")
	site.CreateUser(t, user, known)

	got, err := c.OpenTicket(t.Context(), ivr.NewTicket{CallerPhone: known, Language: oncall.English,
		Priority: oncall.Urgent, Line: "+12025952118"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Priority != oncall.Urgent || got.Level != oncall.L1 || got.ID == "" {
		t.Errorf("opened %+v", got)
	}
	r := readTicket(t, site, got.ID)
	if r.Priority != "70" || r.Subject != "Phone call from "+known || r.Creator.ID != rttest.APIUser {
		t.Errorf("RT holds %+v; want priority 70, the caller's number in the subject, made by %s", r, rttest.APIUser)
	}
	if len(r.Requestor) != 1 || r.Requestor[0].ID != user {
		t.Errorf("requestors %+v, want the user %s whose phone called", r.Requestor, user)
	}

	stranger := site.Phone()
	got, err = c.OpenTicket(t.Context(), ivr.NewTicket{CallerPhone: stranger, Language: oncall.Russian,
		Priority: oncall.Critical, Line: "+74996383867", Follows: got.ID})
	if err != nil {
		t.Fatal(err)
	}
	r = readTicket(t, site, got.ID)
	if len(r.Requestor) != 0 || r.Subject != "Звонок с номера "+stranger || r.Priority != "90" {
		t.Errorf("RT holds %+v; want no requestor, the number in a Russian subject, priority 90", r)
	}
	var links struct {
		Hyperlinks []struct {
			Ref string `json:"ref"`
			ID  any    `json:"id"`
		} `json:"_hyperlinks"`
	}
	site.Do(t, http.MethodGet, "/ticket/"+got.ID, nil, &links)
	refers := false
	for _, l := range links.Hyperlinks {
		refers = refers || l.Ref == "refers-to"
	}
	if !refers {
		t.Errorf("the ticket opened after a closed one has no refers-to link: %+v", links.Hyperlinks)
	}
}

// TestAddNote: the call's note is a comment (not a correspondence), by the
// service's user, its Russian text intact; a ticket RT does not have is
// refused for good.
func TestAddNote(t *testing.T) {
	site := rttest.Start(t)
	c := client(t, site)
	id := strconv.Itoa(site.CreateTicket(t, "L2", site.Unique("noted"), 70, nil))
	note := "Звонок на линию Москва (+74996383867).\nЗаявка: " + id + ", названа клиентом."
	if err := c.AddNote(t.Context(), id, note); err != nil {
		t.Fatal(err)
	}
	var hist struct {
		Items []struct {
			Type    string `json:"Type"`
			Kind    string `json:"type"`
			Creator struct{ ID string }
		}
	}
	site.Do(t, http.MethodGet, "/ticket/"+id+"/history?fields=Type,Creator", nil, &hist)
	last := hist.Items[len(hist.Items)-1]
	if last.Type != "Comment" || last.Creator.ID != rttest.APIUser {
		t.Errorf("the last transaction is %+v, want a comment by %s", last, rttest.APIUser)
	}
	var att struct {
		Items []struct{ Content, ContentType string }
	}
	site.Do(t, http.MethodGet, "/ticket/"+id+"/attachments?fields=Content,ContentType", nil, &att)
	found := false
	for _, a := range att.Items {
		found = found || strings.TrimSpace(a.Content) == note
	}
	if !found {
		t.Errorf("no attachment holds the note as sent: %+v", att.Items)
	}
	if err := c.AddNote(t.Context(), "987654", note); !errs.Is(err, errs.Invalid) && !errs.Is(err, errs.NotFound) {
		t.Errorf("a note on a ticket RT does not have: %v, want refused (not found or invalid), not retried", err)
	}
}

// TestRTStopped: with RT down, look-ups and notes fail as unavailable (the
// flow keeps the keyed id, the note is owed); once RT is back they work.
func TestRTStopped(t *testing.T) {
	site := rttest.Start(t)
	c := client(t, site)
	id := strconv.Itoa(site.CreateTicket(t, "L2", site.Unique("down"), 90, nil))
	site.Stop(t)
	if _, err := c.Ticket(t.Context(), id); !errs.Is(err, errs.Unavailable) {
		t.Errorf("look-up with RT down: %v, want unavailable", err)
	}
	if err := c.AddNote(t.Context(), id, "a note"); !errs.Is(err, errs.Unavailable) || !errors.Is(err, ivr.ErrNotDelivered) {
		t.Errorf("note with RT down: %v, want unavailable and not delivered (so tried until RT is back)", err)
	}
	site.Restart(t)
	if got, err := c.Ticket(t.Context(), id); err != nil || got.Priority != oncall.Critical {
		t.Errorf("look-up with RT back: %+v, %v", got, err)
	}
}

// TestBadCredentials: a wrong token is RT unavailable, saying to check
// the token, never "no such ticket".
func TestBadCredentials(t *testing.T) {
	site := rttest.Start(t)
	c, err := rt.New(rt.Config{URL: site.URL, Token: "not-a-token"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Ticket(t.Context(), "1")
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "token") {
		t.Errorf("wrong token: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg   rt.Config
		field string
	}{
		{rt.Config{URL: "rt.example.com", Token: "x"}, "url"},
		{rt.Config{URL: "https://rt.example.com"}, "token"},
		{rt.Config{URL: "https://rt.example.com", Token: "x", Thresholds: rt.Thresholds{Critical: 50, Urgent: 70, Normal: 30}}, "priorities"},
	} {
		_, err := rt.New(tc.cfg)
		var e *errs.Error
		if !errors.As(err, &e) || e.Field != tc.field {
			t.Errorf("New(%+v): %v, want invalid %s", tc.cfg, err, tc.field)
		}
	}
}
