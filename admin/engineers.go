package admin

import (
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/errs"
)

func (s *Server) listEngineers(w http.ResponseWriter, r *http.Request) {
	list, err := s.oncall.Engineers(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"engineers": list})
}

func (s *Server) getEngineer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.oncall.Engineer(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) createEngineer(w http.ResponseWriter, r *http.Request) {
	var in engineerInput
	if err := decode(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := in.engineer()
	if err == nil {
		e, err = s.oncall.CreateEngineer(r.Context(), actor(r), e)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.logChange(r, "engineer created", zap.Int64("engineer_id", e.ID))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/engineers/%d", e.ID))
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) updateEngineer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var in engineerInput
	if err := decode(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := in.engineer()
	if err == nil {
		e.ID = id
		e, err = s.oncall.UpdateEngineer(r.Context(), actor(r), e)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.logChange(r, "engineer updated", zap.Int64("engineer_id", e.ID))
	writeJSON(w, http.StatusOK, e)
}

// updateContacts lets an engineer token change its own engineer's phone
// numbers, and an admin anyone's.
func (s *Server) updateContacts(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if tok := tokenOf(r); tok.Role != access.Admin && tok.EngineerID != id {
		s.Error(w, r, errs.E(errs.Forbidden, "", "an engineer token may change only its own engineer's contacts"))
		return
	}
	var in struct {
		Contacts []contactInput `json:"contacts"`
	}
	if err := decode(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.oncall.UpdateContacts(r.Context(), actor(r), id, contacts(in.Contacts))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.logChange(r, "engineer contacts updated", zap.Int64("engineer_id", e.ID))
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) deleteEngineer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = s.oncall.DeleteEngineer(r.Context(), actor(r), id)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.logChange(r, "engineer deleted", zap.Int64("engineer_id", id))
	w.WriteHeader(http.StatusNoContent)
}
