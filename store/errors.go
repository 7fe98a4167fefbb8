package store

import (
	"database/sql"
	"errors"

	"github.com/supportdesk/ivr/errs"
)

// constraintErrors maps the schema's constraint names (the same in both
// schemas; each dialect finds the name in its driver's error) to the error a
// caller sees. The store checks these rules itself first, with messages
// that name what is in the way; the schema is the guarantee when two
// writers race.
var constraintErrors = map[string]*errs.Error{
	"overrides_no_overlap":        errs.E(errs.Conflict, "", "overlaps another override of the same level and layer"),
	"overrides_end_after_start":   errs.E(errs.Invalid, "end", "must be after start"),
	"overrides_engineer_id_fkey":  errs.E(errs.Invalid, "engineer_id", "is not an engineer"),
	"tokens_engineer_id_fkey":     errs.E(errs.Invalid, "engineer_id", "is not an engineer"),
	"tokens_hash_key":             errs.E(errs.Conflict, "", "a token with this secret already exists"),
	"rotation_versions_pkey":      errs.E(errs.Conflict, "", "the rotation was changed at the same time; reload it and try again"),
	"ticket_notes_ticket_id_fkey": errs.E(errs.NotFound, "", "the ticket does not exist"),
	"call_states_pkey":            errs.E(errs.Conflict, "", "the call has a state already"),
	"page_attempts_provider_id":   errs.E(errs.Conflict, "", "another attempt has this provider id"),
}

// userError returns the *errs.Error a constraint violation stands for, or
// err itself.
func (d *dialect) userError(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := constraintErrors[d.constraint(err)]; ok {
		c := *e
		return &c
	}
	return err
}

// notFound returns the NotFound error for entity id when err is
// sql.ErrNoRows, and err otherwise.
func notFound(err error, entity string, id any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, "", "%s %v does not exist", entity, id)
	}
	return err
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
