package admin

import (
	"net/http"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
)

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	policies, err := s.oncall.Policies(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"policies": orEmpty(policies)})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := oncall.ParsePriority(mux.Vars(r)["priority"])
	if err != nil {
		s.Error(w, r, err)
		return
	}
	pol, err := s.oncall.Policy(r.Context(), p)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pol)
}

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := oncall.ParsePriority(mux.Vars(r)["priority"])
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var in policyInput
	if err := decode(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	pol, err := in.policy(p)
	if err == nil {
		pol, err = s.oncall.PutPolicy(r.Context(), actor(r), pol)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.logChange(r, "escalation policy updated", zap.String("priority", string(p)))
	writeJSON(w, http.StatusOK, pol)
}
