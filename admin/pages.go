package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// Pages is the pager as the API uses it.
type Pages interface {
	// Raise pages; a request whose key names an existing page returns it
	// with created false.
	Raise(ctx context.Context, r pager.Request) (p pager.Page, created bool, err error)
	// Pages lists pages newest first.
	Pages(ctx context.Context, f pager.Filter) ([]pager.Page, error)
	// Page returns one page with its attempts; NotFound if there is none.
	Page(ctx context.Context, id int64) (pager.Page, []pager.Attempt, error)
	// Acknowledge takes a page; a closed page is left as it is.
	Acknowledge(ctx context.Context, id int64, ack pager.Acknowledge) (pager.Page, error)
	// Resolve closes a page.
	Resolve(ctx context.Context, id int64, by string) (pager.Page, error)
}

// pageInput is the body of POST /api/v1/pages.
type pageInput struct {
	Priority oncall.Priority `json:"priority"`
	Level    oncall.Level    `json:"level"`
	Summary  string          `json:"summary"`
	TicketID string          `json:"ticket_id"`
	// Key makes the request idempotent: the same key again returns the
	// page it raised. Default: a new page each time.
	Key string `json:"key"`
}

// maxPageKey bounds a client's idempotency key.
const maxPageKey = 100

// createPage raises a page from the API: admins only.
func (s *Server) createPage(w http.ResponseWriter, r *http.Request) error {
	var in pageInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	in.Summary = strings.TrimSpace(in.Summary)
	switch {
	case in.Priority == "":
		return errs.InvalidField("priority", "is required (critical, urgent, normal or low)")
	case in.Summary == "":
		return errs.InvalidField("summary", "is required: one line saying what the page is about")
	case len(in.Key) > maxPageKey:
		return errs.InvalidField("key", "is longer than %d characters", maxPageKey)
	}
	key := "api:" + in.Key
	if in.Key == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		key = "api:" + hex.EncodeToString(b[:])
	}
	p, created, err := s.pages.Raise(r.Context(), pager.Request{
		Key: key, Source: pager.FromAPI, TicketID: strings.TrimSpace(in.TicketID), Priority: in.Priority, Level: in.Level,
		Summary: in.Summary, RaisedAt: s.oncall.Now(),
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.logChange(r, "page raised", zap.Int64(keyPageID, p.ID))
	}
	writeJSON(w, status, p)
	return nil
}

// listPages lists pages newest first: ?status=open|acknowledged|resolved|
// expired, ?before=<id>, ?limit= (at most 1000, default 100).
func (s *Server) listPages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := pager.Filter{Status: pager.Status(q.Get("status"))}
	var err error
	switch f.Status {
	case "", pager.Open, pager.Acknowledged, pager.Resolved, pager.Expired:
	default:
		err = errs.InvalidField("status", "%q is not a page status (open, acknowledged, resolved or expired)", f.Status)
	}
	if v := q.Get("before"); v != "" && err == nil {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before <= 0 {
			err = errs.InvalidField("before", "%q is not a page id", v)
		}
	}
	if err == nil {
		f.Limit, err = queryLimit(r)
	}
	var list []pager.Page
	if err == nil {
		list, err = s.pages.Pages(r.Context(), f)
	}
	if err != nil {
		return err
	}
	if list == nil {
		list = []pager.Page{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"pages": list})
	return nil
}

// getPage returns a page with its whole log and its attempts.
func (s *Server) getPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	var (
		p    pager.Page
		atts []pager.Attempt
	)
	if err == nil {
		p, atts, err = s.pages.Page(r.Context(), id)
	}
	if err != nil {
		return err
	}
	if atts == nil {
		atts = []pager.Attempt{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"page": p, "attempts": atts})
	return nil
}

// ackPage acknowledges a page: an admin, or an engineer the page was
// addressed to.
func (s *Server) ackPage(w http.ResponseWriter, r *http.Request) error {
	return s.closePage(w, r, "page acknowledged", func(ctx context.Context, id int64, who pager.Acknowledge) (pager.Page, error) {
		return s.pages.Acknowledge(ctx, id, who)
	})
}

// resolvePage closes a page: an admin, or an engineer it was addressed to.
func (s *Server) resolvePage(w http.ResponseWriter, r *http.Request) error {
	return s.closePage(w, r, "page resolved", func(ctx context.Context, id int64, who pager.Acknowledge) (pager.Page, error) {
		return s.pages.Resolve(ctx, id, who.Name)
	})
}

func (s *Server) closePage(w http.ResponseWriter, r *http.Request, what string,
	do func(ctx context.Context, id int64, who pager.Acknowledge) (pager.Page, error)) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	who := pager.Acknowledge{Name: tokenOf(r).Name, Via: pager.ViaAPI} // the token's name reads well in a text; the log has the actor
	if tok := tokenOf(r); tok.Role != access.Admin {
		p, _, err := s.pages.Page(r.Context(), id)
		if err != nil {
			return err
		}
		addressed := slices.ContainsFunc(p.Paged, func(t pager.Target) bool { return t.EngineerID == tok.EngineerID })
		if tok.EngineerID == 0 || !addressed {
			return errs.E(errs.Forbidden, "", "an engineer token may act only on pages addressed to its engineer")
		}
		who.EngineerID = tok.EngineerID
		if e, err := s.oncall.Engineer(r.Context(), tok.EngineerID); err == nil {
			who.Name = e.Name
		}
	}
	p, err := do(r.Context(), id, who)
	if err != nil {
		return err
	}
	s.logChange(r, what, zap.Int64(keyPageID, p.ID))
	writeJSON(w, http.StatusOK, p)
	return nil
}
