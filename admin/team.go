package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/team"
)

// Log keys of the team routes.
const keyChanges = "changes"

// teamImport is the answer of POST /api/v1/team/import.
type teamImport struct {
	DryRun  bool          `json:"dry_run"`
	Applied bool          `json:"applied"` // false for a dry run and when nothing changes
	Changes []team.Change `json:"changes"`
}

// exportTeam answers the whole team as the YAML document an import reads
// (GET /api/v1/team).
func (s *Server) exportTeam(w http.ResponseWriter, r *http.Request) error {
	st, err := s.teamState(r.Context())
	if err != nil {
		return err
	}
	body, err := team.Export(st, s.oncall.Now(), s.baseURL(r))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the status is out; a client gone away has nothing more to learn
	return nil
}

// importTeam reads a team document, checks all of it against the stored
// team and answers the changes; unless ?dry_run=true, it applies them in one
// transaction with one audit entry and refreshes the schedule.
func (s *Server) importTeam(w http.ResponseWriter, r *http.Request) error {
	dry := false
	if v := r.URL.Query().Get("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errs.InvalidField("dry_run", "%q is not true or false", v)
		}
		dry = b
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, team.MaxSize))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return errs.InvalidField("", "the document is larger than %d bytes", team.MaxSize)
	case err != nil:
		return errs.InvalidField("", "the body could not be read: %v", err)
	}
	doc, err := team.Decode(body)
	if err != nil {
		return err
	}
	if err := doc.CheckEngineers(s.oncall.CheckContacts); err != nil {
		return err // a number of the service's own: a page would call the IVR
	}
	ctx := r.Context()
	st, err := s.teamState(ctx)
	if err != nil {
		return err
	}
	plan, err := team.Compare(doc, st, s.oncall.Now())
	if err != nil {
		return err
	}
	out := teamImport{DryRun: dry}
	if !dry && !plan.Empty() {
		if plan, err = s.team.ApplyTeam(ctx, actor(r), plan); err != nil {
			return err
		}
		out.Applied = true
		if err := s.oncall.Refresh(ctx); err != nil {
			// Committed: the next periodic refresh catches up.
			s.log.Error("refresh schedule after a team import", zap.Error(err))
		}
		s.logChange(r, "team imported", zap.Int(keyChanges, len(plan.Changes())))
	}
	out.Changes = plan.Changes()
	writeJSON(w, http.StatusOK, out)
	return nil
}

// teamState reads the stored team through the on-call service.
func (s *Server) teamState(ctx context.Context) (team.State, error) {
	var (
		st  team.State
		err error
	)
	if st.Engineers, err = s.oncall.Engineers(ctx); err != nil {
		return st, err
	}
	if st.Rotations, err = s.oncall.Rotations(ctx); err != nil {
		return st, err
	}
	if st.Overrides, err = s.oncall.Overrides(ctx, time.Unix(0, 0), s.oncall.Now().Add(100*365*24*time.Hour)); err != nil {
		return st, err
	}
	if st.Policies, err = s.oncall.Policies(ctx); err != nil {
		return st, err
	}
	return st, nil
}

// baseURL is the public URL, or, without one, the address r came to.
func (s *Server) baseURL(r *http.Request) string {
	if base := strings.TrimRight(s.publicURL, "/"); base != "" {
		return base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s", scheme, r.Host)
}
