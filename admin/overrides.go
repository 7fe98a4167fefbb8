package admin

import (
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// listOverrides lists overrides touching ?from=…&to=… (default: from a day
// ago to 90 days ahead).
func (s *Server) listOverrides(w http.ResponseWriter, r *http.Request) error {
	from, to, err := queryWindow(r, s.oncall.Now(), -24*time.Hour, 90*24*time.Hour)
	if err != nil {
		return err
	}
	overrides, err := s.oncall.Overrides(r.Context(), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "overrides": orEmpty(overrides)})
	return nil
}

func (s *Server) createOverride(w http.ResponseWriter, r *http.Request) error {
	var in overrideInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	o, err := in.override()
	if err == nil {
		o, err = s.oncall.CreateOverride(r.Context(), actor(r), o)
	}
	if err != nil {
		return err
	}
	s.logChange(r, "override created", zap.Int64(keyOverrideID, o.ID))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/overrides/%d", o.ID))
	writeJSON(w, http.StatusCreated, o)
	return nil
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err == nil {
		err = s.oncall.DeleteOverride(r.Context(), actor(r), id)
	}
	if err != nil {
		return err
	}
	s.logChange(r, "override deleted", zap.Int64(keyOverrideID, id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
