package oncall

import (
	"context"
	"errors"
	"time"

	"github.com/supportdesk/ivr/errs"
)

// Engineers lists the engineers not deleted. Any caller.
func (s *Service) Engineers(ctx context.Context) ([]Engineer, error) { return s.store.Engineers(ctx) }

// Engineer returns one engineer; NotFound if unknown. Any caller.
func (s *Service) Engineer(ctx context.Context, id int64) (Engineer, error) {
	return s.store.Engineer(ctx, id)
}

// CreateEngineer validates and stores e; its numbers, entered by an
// admin, are verified. Admins only. Invalid naming the field for bad
// input.
func (s *Service) CreateEngineer(ctx context.Context, actor string, e Engineer) (Engineer, error) {
	e, err := e.Normalize()
	if err == nil {
		err = e.notServiceNumber(s.opts.ServiceNumbers)
	}
	if err != nil {
		return Engineer{}, err
	}
	e = e.trustContacts()
	e.ID = 0
	out, err := s.store.CreateEngineer(ctx, actor, e)
	if err != nil {
		return Engineer{}, err
	}
	s.afterChange(ctx)
	return out, nil
}

// CheckContacts refuses a normalised engineer one of whose numbers is the
// service's own (a line, the pager's caller id), as CreateEngineer and
// UpdateEngineer do: for edits that reach the store another way (a team
// import). Invalid naming contacts[i].phone.
func (s *Service) CheckContacts(e Engineer) error { return e.notServiceNumber(s.opts.ServiceNumbers) }

// UpdateEngineer replaces engineer e.ID; its numbers, entered by an
// admin, are verified. Admins only (an engineer changes its own contact
// methods with UpdateContacts). Invalid, NotFound.
func (s *Service) UpdateEngineer(ctx context.Context, actor string, e Engineer) (Engineer, error) {
	return s.updateEngineer(ctx, actor, e, func(e, _ Engineer) Engineer { return e.trustContacts() })
}

// updateEngineer normalises e, lets trust set which of its numbers are
// verified (given e normalised and the engineer as stored), and stores
// it.
func (s *Service) updateEngineer(ctx context.Context, actor string, e Engineer, trust func(e, before Engineer) Engineer) (Engineer, error) {
	e, err := e.Normalize()
	if err == nil {
		err = e.notServiceNumber(s.opts.ServiceNumbers)
	}
	if err != nil {
		return Engineer{}, err
	}
	before, err := s.store.Engineer(ctx, e.ID)
	if err != nil {
		return Engineer{}, err
	}
	out, err := s.store.UpdateEngineer(ctx, actor, trust(e, before))
	if err != nil {
		return Engineer{}, err
	}
	s.afterChange(ctx)
	return out, nil
}

// UpdateContacts replaces only the contact methods of engineer id, as the
// engineer themselves edits them: a number already verified on the
// engineer stays verified, and any other is stored unverified (no page or
// support call goes to it until a code sent to it is confirmed: package
// verify). Whatever Unverified the caller sets is ignored. For the
// engineer's own token (or session), and for admins who want the engineer
// to confirm a number; UpdateContactsAsAdmin trusts the numbers. Invalid
// (field contacts…), NotFound.
func (s *Service) UpdateContacts(ctx context.Context, actor string, id int64, contacts []ContactMethod) (Engineer, error) {
	return s.replaceContacts(ctx, actor, id, contacts, Engineer.keepVerified)
}

// UpdateContactsAsAdmin replaces only the contact methods of engineer id
// with numbers an admin enters, which are verified at once. Admins only.
// Invalid (field contacts…), NotFound.
func (s *Service) UpdateContactsAsAdmin(ctx context.Context, actor string, id int64, contacts []ContactMethod) (Engineer, error) {
	return s.replaceContacts(ctx, actor, id, contacts, func(e, _ Engineer) Engineer { return e.trustContacts() })
}

func (s *Service) replaceContacts(ctx context.Context, actor string, id int64, contacts []ContactMethod, trust func(e, before Engineer) Engineer) (Engineer, error) {
	e, err := s.store.Engineer(ctx, id)
	if err != nil {
		return Engineer{}, err
	}
	e.Contacts = contacts
	return s.updateEngineer(ctx, actor, e, trust)
}

// DeleteEngineer removes an engineer from lists from now on; history keeps
// naming them. Admins only. NotFound; Conflict while the engineer is in a
// rotation or has an override to come.
func (s *Service) DeleteEngineer(ctx context.Context, actor string, id int64) error {
	if err := s.store.DeleteEngineer(ctx, actor, id, s.opts.Now()); err != nil {
		return err
	}
	s.afterChange(ctx)
	return nil
}

// Rotations returns every version of every rotation. Any caller.
func (s *Service) Rotations(ctx context.Context) ([]Rotation, error) { return s.store.Rotations(ctx) }

// Rotation returns the versions of rotation id, oldest first. NotFound.
func (s *Service) Rotation(ctx context.Context, id int64) ([]Rotation, error) {
	return s.store.Rotation(ctx, id)
}

// CreateRotation validates and stores a new rotation. Its EffectiveFrom
// (zero: now) may lie in the past only for a new rotation, so that history
// kept elsewhere can be entered. Admins only. Invalid naming the field.
func (s *Service) CreateRotation(ctx context.Context, actor string, r Rotation) (Rotation, error) {
	r, err := r.Normalize()
	if err != nil {
		return Rotation{}, err
	}
	if r.EffectiveFrom.IsZero() {
		r.EffectiveFrom = s.opts.Now()
	}
	r.EffectiveFrom = r.EffectiveFrom.UTC()
	r.ID, r.Version, r.EffectiveTo = 0, 1, nil
	out, err := s.store.CreateRotation(ctx, actor, r)
	if err != nil {
		return Rotation{}, err
	}
	s.afterChange(ctx)
	return out, nil
}

// UpdateRotation adds a version to rotation r.ID, in force from
// r.EffectiveFrom (zero: now; never in the past). Admins only. Invalid,
// NotFound, Conflict (rotation ended, or a later version exists).
func (s *Service) UpdateRotation(ctx context.Context, actor string, r Rotation) (Rotation, error) {
	r, err := r.Normalize()
	if err != nil {
		return Rotation{}, err
	}
	if r.EffectiveFrom, err = s.effective("effective_from", r.EffectiveFrom); err != nil {
		return Rotation{}, err
	}
	r.EffectiveTo = nil
	out, err := s.store.UpdateRotation(ctx, actor, r)
	if err != nil {
		return Rotation{}, err
	}
	s.afterChange(ctx)
	return out, nil
}

// EndRotation stops rotation id at at (zero: now; never in the past): no
// shifts from then on, those before stay. Admins only. NotFound, Conflict.
func (s *Service) EndRotation(ctx context.Context, actor string, id int64, at time.Time) error {
	at, err := s.effective("at", at)
	if err != nil {
		return err
	}
	if err := s.store.EndRotation(ctx, actor, id, at); err != nil {
		return err
	}
	s.afterChange(ctx)
	return nil
}

// Overrides lists overrides that touch [from, to). Any caller.
func (s *Service) Overrides(ctx context.Context, from, to time.Time) ([]Override, error) {
	return s.store.Overrides(ctx, from, to)
}

// CreateOverride validates and stores o. An override must end in the
// future: past cover is history. Admins only. Invalid (naming the field),
// also when it overlaps another override of the same level and layer (field
// start).
func (s *Service) CreateOverride(ctx context.Context, actor string, o Override) (Override, error) {
	o, err := o.Normalize()
	if err != nil {
		return Override{}, err
	}
	if !o.End.After(s.opts.Now()) {
		return Override{}, errs.InvalidField("end", "is in the past; an override covers time to come")
	}
	o.ID = 0
	out, err := s.store.CreateOverride(ctx, actor, o)
	var e *errs.Error
	if errors.As(err, &e) && e.Code == errs.Conflict {
		// An overlap is bad input, not a state clash: report it on the
		// field the admin has to change.
		return Override{}, errs.InvalidField("start", "%s", e.Message)
	}
	if err != nil {
		return Override{}, err
	}
	s.afterChange(ctx)
	return out, nil
}

// DeleteOverride removes an override that has not started yet; one that has
// started is history and stays (Conflict). Admins only. NotFound, Conflict.
func (s *Service) DeleteOverride(ctx context.Context, actor string, id int64) error {
	o, err := s.store.Override(ctx, id)
	if err != nil {
		return err
	}
	if !o.Start.After(s.opts.Now()) {
		return errs.E(errs.Conflict, "", "override %d started at %s and is part of the on-call history; it cannot be removed", id, o.Start.Format(time.RFC3339))
	}
	if err := s.store.DeleteOverride(ctx, actor, id); err != nil {
		return err
	}
	s.afterChange(ctx)
	return nil
}

// Policies returns the escalation policy of every priority, the default
// where none was edited, most pressing priority first. Any caller.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) {
	stored, err := s.store.Policies(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Policy, 0, len(Priorities))
	for _, p := range Priorities {
		pol := DefaultPolicy(p)
		for _, st := range stored {
			if st.Priority == p {
				pol = st
				pol.Deadline = Duration(p.ResponseTime())
			}
		}
		out = append(out, pol)
	}
	return out, nil
}

// Policy returns the escalation policy for p. Invalid for an unknown
// priority.
func (s *Service) Policy(ctx context.Context, p Priority) (Policy, error) {
	if !p.Valid() {
		return Policy{}, errs.InvalidField("priority", "%q is not a priority (critical, urgent, normal or low)", p)
	}
	all, err := s.Policies(ctx)
	if err != nil {
		return Policy{}, err
	}
	for _, pol := range all {
		if pol.Priority == p {
			return pol, nil
		}
	}
	return DefaultPolicy(p), nil
}

// PutPolicy validates and stores the policy for p.Priority. Admins only.
// Invalid when a field is bad or the steps cannot finish before the
// guaranteed response time.
func (s *Service) PutPolicy(ctx context.Context, actor string, p Policy) (Policy, error) {
	p, err := p.Normalize()
	if err != nil {
		return Policy{}, err
	}
	return s.store.PutPolicy(ctx, actor, p)
}
