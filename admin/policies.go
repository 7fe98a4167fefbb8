package admin

import (
	"net/http"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
)

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	policies, err := s.oncall.Policies(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"policies": orEmpty(policies)})
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := oncall.ParsePriority(mux.Vars(r)["priority"])
	if err != nil {
		return err
	}
	pol, err := s.oncall.Policy(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pol)
	return nil
}

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := oncall.ParsePriority(mux.Vars(r)["priority"])
	if err != nil {
		return err
	}
	var in policyInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	pol, err := in.policy(p)
	if err == nil {
		pol, err = s.oncall.PutPolicy(r.Context(), actor(r), pol)
	}
	if err != nil {
		return err
	}
	s.logChange(r, "escalation policy updated", zap.String(keyPriority, string(p)))
	writeJSON(w, http.StatusOK, pol)
	return nil
}
