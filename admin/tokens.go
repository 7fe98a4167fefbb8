package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
)

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	tokens, err := s.store.Tokens(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": orEmpty(tokens)})
	return nil
}

// createToken makes a token and shows its secret once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name       string `json:"name"`
		Role       string `json:"role"`
		EngineerID int64  `json:"engineer_id"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	tok, secret, err := access.Issue(r.Context(), s.store, actor(r), in.Name, in.Role, in.EngineerID)
	if err != nil {
		return err
	}
	s.logChange(r, "token created", zap.Int64(keyTokenID, tok.ID), zap.String(keyRole, string(tok.Role)))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/tokens/%d", tok.ID))
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "secret": secret})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err == nil {
		err = s.store.RevokeToken(r.Context(), actor(r), id, s.oncall.Now())
	}
	if err != nil {
		return err
	}
	s.tokens.forget()
	s.logChange(r, "token revoked", zap.Int64(keyTokenID, id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listAudit pages through the audit log, newest first: ?entity=,
// ?entity_id=, ?before=<entry id>, ?limit= (at most 1000).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := audit.Filter{Entity: strings.TrimSpace(q.Get("entity")), EntityID: q.Get("entity_id")}
	var err error
	if v := q.Get("before"); v != "" {
		if f.BeforeID, err = strconv.ParseInt(v, 10, 64); err != nil || f.BeforeID <= 0 {
			return errs.InvalidField("before", "%q is not an audit entry id", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit <= 0 || f.Limit > 1000 {
			return errs.InvalidField("limit", "must be a whole number from 1 to 1000")
		}
	}
	entries, err := s.audit.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": orEmpty(entries)})
	return nil
}
