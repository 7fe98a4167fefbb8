package admin

import (
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// listOverrides lists overrides touching ?from=…&to=… (default: from a day
// ago to 90 days ahead).
func (s *Server) listOverrides(w http.ResponseWriter, r *http.Request) {
	from, to, err := queryWindow(r, s.oncall.Now(), -24*time.Hour, 90*24*time.Hour)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	overrides, err := s.oncall.Overrides(r.Context(), from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "overrides": orEmpty(overrides)})
}

func (s *Server) createOverride(w http.ResponseWriter, r *http.Request) {
	var in overrideInput
	if err := decode(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	o, err := in.override()
	if err == nil {
		o, err = s.oncall.CreateOverride(r.Context(), actor(r), o)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.logChange(r, "override created", zap.Int64("override_id", o.ID))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/overrides/%d", o.ID))
	writeJSON(w, http.StatusCreated, o)
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = s.oncall.DeleteOverride(r.Context(), actor(r), id)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.logChange(r, "override deleted", zap.Int64("override_id", id))
	w.WriteHeader(http.StatusNoContent)
}
