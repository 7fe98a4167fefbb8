package admin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

func (s *Server) listEngineers(w http.ResponseWriter, r *http.Request) error {
	engineers, err := s.oncall.Engineers(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"engineers": orEmpty(engineers)})
	return nil
}

func (s *Server) getEngineer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	e, err := s.oncall.Engineer(r.Context(), id)
	if err != nil {
		return err
	}
	out := engineerView{Engineer: e}
	if s.optOuts != nil {
		opted, err := s.optOuts.SMSOptOuts(r.Context())
		if err != nil {
			return err
		}
		for _, c := range e.Contacts {
			if _, ok := opted[c.Phone]; ok {
				out.SMSOptedOut = append(out.SMSOptedOut, c.Phone)
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// SMSOptOuts says which numbers opted out of texts (they texted STOP, and
// not START since). The store implements it.
type SMSOptOuts interface {
	SMSOptOuts(ctx context.Context) (map[string]time.Time, error)
}

// engineerView is an engineer as GET /api/v1/engineers/{id} shows them:
// with their numbers that opted out of texts, to which the pager sends
// none (it pages them by voice) until they text START.
type engineerView struct {
	oncall.Engineer
	SMSOptedOut []string `json:"sms_opted_out,omitempty"`
}

func (s *Server) createEngineer(w http.ResponseWriter, r *http.Request) error {
	var in engineerInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := in.engineer()
	if err == nil {
		e, err = s.oncall.CreateEngineer(r.Context(), actor(r), e)
	}
	if err != nil {
		return err
	}
	s.logChange(r, "engineer created", zap.Int64(keyEngineerID, e.ID))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/engineers/%d", e.ID))
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) updateEngineer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in engineerInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := in.engineer()
	if err == nil {
		e.ID = id
		e, err = s.oncall.UpdateEngineer(r.Context(), actor(r), e)
	}
	if err != nil {
		return err
	}
	s.logChange(r, "engineer updated", zap.Int64(keyEngineerID, e.ID))
	writeJSON(w, http.StatusOK, e)
	return nil
}

// updateContacts lets an engineer token change its own engineer's phone
// numbers, and an admin anyone's. The numbers an admin enters are
// verified; those an engineer adds are not until a code sent to them is
// confirmed (sendContactCode, confirmContactCode).
func (s *Server) updateContacts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	tok := tokenOf(r)
	if tok.Role != access.Admin && tok.EngineerID != id {
		return errs.E(errs.Forbidden, "", "an engineer token may change only its own engineer's contacts")
	}
	var in struct {
		Contacts []contactInput `json:"contacts"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	update := s.oncall.UpdateContacts
	if tok.Role == access.Admin {
		update = s.oncall.UpdateContactsAsAdmin
	}
	e, err := update(r.Context(), actor(r), id, contacts(in.Contacts))
	if err != nil {
		return err
	}
	s.logChange(r, "engineer contacts updated", zap.Int64(keyEngineerID, e.ID))
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) deleteEngineer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err == nil {
		err = s.oncall.DeleteEngineer(r.Context(), actor(r), id)
	}
	if err != nil {
		return err
	}
	s.tokens.forget() // the store revoked the engineer's tokens
	s.logChange(r, "engineer deleted", zap.Int64(keyEngineerID, id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Verification sends and confirms the codes that verify the numbers
// engineers add for themselves (verify.Service).
type Verification interface {
	Send(ctx context.Context, actor string, engineerID int64, phone string) error
	Confirm(ctx context.Context, actor string, engineerID int64, phone, code string) error
}

// ownContacts refuses an engineer token another engineer's numbers.
func ownContacts(r *http.Request, id int64) error {
	if tok := tokenOf(r); tok.Role != access.Admin && tok.EngineerID != id {
		return errs.E(errs.Forbidden, "", "an engineer token may verify only its own engineer's numbers")
	}
	return nil
}

// ownContactsRequest reads the engineer {id} of a request about their
// numbers, refused for another engineer's token, and decodes its body
// into in.
func ownContactsRequest(w http.ResponseWriter, r *http.Request, in any) (int64, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, err
	}
	if err := ownContacts(r, id); err != nil {
		return 0, err
	}
	return id, decode(w, r, in)
}

// sendContactCode sends a code to one of engineer {id}'s unverified
// numbers: 202 once it is on its way.
func (s *Server) sendContactCode(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Phone string `json:"phone"`
	}
	id, err := ownContactsRequest(w, r, &in)
	if err != nil {
		return err
	}
	if err := s.verification.Send(r.Context(), actor(r), id, in.Phone); err != nil {
		return err
	}
	s.logChange(r, "code sent to confirm a number", zap.Int64(keyEngineerID, id))
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
	return nil
}

// confirmContactCode checks the code given for one of engineer {id}'s
// numbers: the right one verifies it, and the engineer comes back.
func (s *Server) confirmContactCode(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Phone string `json:"phone"`
		Code  string `json:"code"`
	}
	id, err := ownContactsRequest(w, r, &in)
	if err != nil {
		return err
	}
	if err := s.verification.Confirm(r.Context(), actor(r), id, in.Phone, in.Code); err != nil {
		return err
	}
	e, err := s.oncall.Engineer(r.Context(), id)
	if err != nil {
		return err
	}
	s.logChange(r, "number verified", zap.Int64(keyEngineerID, id))
	writeJSON(w, http.StatusOK, e)
	return nil
}
