package admin

import (
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
)

// rotationView is a rotation as the API shows it: its latest version, with
// every version listed on request of one rotation.
type rotationView struct {
	oncall.Rotation
	Versions []oncall.Rotation `json:"versions,omitempty"`
}

func (s *Server) listRotations(w http.ResponseWriter, r *http.Request) error {
	all, err := s.oncall.Rotations(r.Context())
	if err != nil {
		return err
	}
	// all is ordered by rotation id then version: keep the last of each.
	latest := []oncall.Rotation{}
	for i, rot := range all {
		if i+1 == len(all) || all[i+1].ID != rot.ID {
			latest = append(latest, rot)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rotations": latest})
	return nil
}

func (s *Server) getRotation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	versions, err := s.oncall.Rotation(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rotationView{Rotation: versions[len(versions)-1], Versions: versions})
	return nil
}

func (s *Server) createRotation(w http.ResponseWriter, r *http.Request) error {
	var in rotationInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rot, err := in.rotation()
	if err == nil {
		rot, err = s.oncall.CreateRotation(r.Context(), actor(r), rot)
	}
	if err != nil {
		return err
	}
	s.logChange(r, "rotation created", zap.Int64(keyRotationID, rot.ID))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/rotations/%d", rot.ID))
	writeJSON(w, http.StatusCreated, rot)
	return nil
}

func (s *Server) updateRotation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in rotationInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rot, err := in.rotation()
	if err == nil {
		rot.ID = id
		rot, err = s.oncall.UpdateRotation(r.Context(), actor(r), rot)
	}
	if err != nil {
		return err
	}
	s.logChange(r, "rotation updated", zap.Int64(keyRotationID, rot.ID), zap.Int(keyVersion, rot.Version))
	writeJSON(w, http.StatusOK, rot)
	return nil
}

// endRotation ends a rotation from ?at= (default now); its history stays.
func (s *Server) endRotation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	at, err := queryTime(r, "at", time.Time{})
	if err == nil {
		err = s.oncall.EndRotation(r.Context(), actor(r), id, at)
	}
	if err != nil {
		return err
	}
	s.logChange(r, "rotation ended", zap.Int64(keyRotationID, id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
