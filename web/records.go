package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/pager"
)

// callRow is a call with its voicemail's id, which the page plays from
// /voicemail/{id}.
type callRow struct {
	ivr.CallRecord
	Voicemail string
}

func callRowOf(c ivr.CallRecord) callRow {
	row := callRow{CallRecord: c}
	if c.VoicemailURL != "" {
		row.Voicemail = path.Base(c.VoicemailURL) // the API's /api/v1/recordings/{id}
	}
	return row
}

func (s *Server) callList(w http.ResponseWriter, r *http.Request, c *request) error {
	list, err := s.calls.Calls(r.Context(), calls.Filter{Limit: 100})
	if err != nil {
		return err
	}
	rows := make([]callRow, len(list))
	for i, cr := range list {
		rows[i] = callRowOf(cr)
	}
	return s.render(w, r, c, "calls", rows)
}

func (s *Server) call(w http.ResponseWriter, r *http.Request, c *request) error {
	id := mux.Vars(r)["id"]
	if len(id) > 200 {
		return errs.E(errs.NotFound, "", "no such call")
	}
	cr, err := s.calls.Call(r.Context(), id)
	if err != nil {
		return err
	}
	return s.render(w, r, c, "call", callRowOf(cr))
}

// voicemail serves a recording's audio to a signed-in viewer, with ranges
// (an <audio> element seeks by them).
func (s *Server) voicemail(w http.ResponseWriter, r *http.Request) {
	c := &request{lang: language(r), zone: time.UTC}
	_, ok, err := s.viewerOf(r)
	switch {
	case err != nil:
		s.fail(w, r, c, err)
		return
	case !ok:
		s.renderStatus(w, r, http.StatusUnauthorized, c, "message", translate(c.lang, "sign-in"))
		return
	}
	rec, err := s.recordings.Recording(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Type", rec.ContentType)
	http.ServeContent(w, r, "", rec.CreatedAt, bytes.NewReader(rec.Data))
}

func (s *Server) pageList(w http.ResponseWriter, r *http.Request, c *request) error {
	list, err := s.pages.Pages(r.Context(), pager.Filter{Limit: 100})
	if err != nil {
		return err
	}
	return s.render(w, r, c, "pages", list)
}

type pageView struct {
	Page     pager.Page
	Attempts []pager.Attempt
	CanAck   bool
}

// mayAct reports whether the viewer may acknowledge p: an admin, or an
// engineer it was addressed to, as the API has it.
func mayAct(c *request, p pager.Page) bool {
	if c.viewer.Admin() {
		return true
	}
	id := c.viewer.Token.EngineerID
	return id != 0 && slices.ContainsFunc(p.Paged, func(t pager.Target) bool { return t.EngineerID == id })
}

func (s *Server) pageView(w http.ResponseWriter, r *http.Request, c *request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, attempts, err := s.pages.Page(r.Context(), id)
	if err != nil {
		return err
	}
	return s.render(w, r, c, "page", pageView{Page: p, Attempts: attempts, CanAck: !p.Status.Closed() && p.Status != pager.Acknowledged && mayAct(c, p)})
}

func (s *Server) ackPage(w http.ResponseWriter, r *http.Request, c *request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, _, err := s.pages.Page(r.Context(), id)
	if err != nil {
		return err
	}
	if !mayAct(c, p) {
		return errs.E(errs.Forbidden, "", "an engineer may acknowledge only pages addressed to them")
	}
	who := pager.Acknowledge{EngineerID: c.viewer.Token.EngineerID, Name: c.viewer.Name(), Via: pager.ViaWeb}
	if _, err := s.pages.Acknowledge(r.Context(), id, who); err != nil {
		return err
	}
	s.log.Info("page acknowledged", zap.Int64("page_id", id), zapTokenID(c.viewer.Token.ID))
	return redirectDone(w, r, "/pages/"+strconv.FormatInt(id, 10), "acked")
}

// auditRow is an entry with its before and after indented for reading.
type auditRow struct {
	audit.Entry
	BeforeText, AfterText string
}

type auditView struct {
	Rows  []auditRow
	Older int64 // ?before= of the next page; 0: none
}

const auditPage = 50

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, c *request) error {
	if err := needAdmin(c); err != nil {
		return err
	}
	f := audit.Filter{Limit: auditPage}
	if v := r.URL.Query().Get("before"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errs.InvalidField("before", "must be an entry id")
		}
		f.BeforeID = id
	}
	entries, err := s.audit.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	var v auditView
	for _, e := range entries {
		v.Rows = append(v.Rows, auditRow{Entry: e, BeforeText: indent(e.Before), AfterText: indent(e.After)})
	}
	if len(entries) == auditPage {
		v.Older = entries[len(entries)-1].ID
	}
	return s.render(w, r, c, "audit", v)
}

func indent(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}
