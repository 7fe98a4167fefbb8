// Package team owns the whole support team as one reviewable YAML document:
// engineers, rotations (their versions in force now and to come), overrides
// from now on and the four escalation policies. It writes the document
// (Export, with comments for a reviewer), reads it back with each value's
// line (Decode), and compares it with what is stored (Compare): every rule
// is checked first, and the result is a Plan of changes that a Store applies
// in one transaction with one audit entry.
//
// The document is declarative: what it leaves out is removed (a future
// override deleted, a rotation ended now, an engineer deleted), and the plan
// shows each removal before anything is written. It imports the on-call
// domain and the YAML library, no transport and no database.
package team

import (
	"context"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// AuditEntity is the entity of an import's one audit entry.
const AuditEntity = "team"

// Actions of a change.
const (
	Create = "create"
	Update = "update"
	Delete = "delete"
)

// State is the team as stored, as Export writes it and Compare reads it.
type State struct {
	Engineers []oncall.Engineer // not deleted, by id
	Rotations []oncall.Rotation // every version of every rotation, by id then version
	Overrides []oncall.Override // every override, past ones included
	Policies  []oncall.Policy   // the policy of each priority, the default where never edited
}

// Plan is what an import changes, in the order a Store applies it:
// policies, engineers created and updated, overrides, rotations, engineers
// deleted. A new engineer's id is a placeholder until applied: -1 for the
// first created, -2 for the second…, and rotations and overrides that name a
// new engineer carry that placeholder.
type Plan struct {
	At        time.Time        // the instant "now" meant when the plan was made
	Names     map[int64]string // engineers' names by id and placeholder, for showing the changes
	Policies  []PolicyChange
	Engineers []EngineerChange
	Overrides []OverrideChange
	Rotations []RotationChange
}

// Empty reports whether p changes nothing.
func (p Plan) Empty() bool {
	return len(p.Policies)+len(p.Engineers)+len(p.Overrides)+len(p.Rotations) == 0
}

// EngineerChange creates (Before nil), updates or deletes (After nil) an
// engineer.
type EngineerChange struct {
	Action string
	Before *oncall.Engineer
	After  *oncall.Engineer
}

// OverrideChange creates, updates (in place, keeping its id) or deletes an
// override that has not started.
type OverrideChange struct {
	Action string
	Before *oncall.Override
	After  *oncall.Override
}

// RotationChange creates, changes or ends a rotation. Before are its
// versions in force now or later as stored (EffectiveTo of the last: its
// end); After, as they will be. Applying keeps the stored versions up to
// KeepVersion (0: none, for a rotation that has not started), removes the
// later ones (all still to come), appends Add and sets the end to End. A
// rotation that is removed (Delete) ends at At, or, if it has not started,
// disappears with its versions: it never put anyone on call.
type RotationChange struct {
	Action      string
	ID          int64 // 0 for a new rotation until applied
	Before      []oncall.Rotation
	After       []oncall.Rotation
	KeepVersion int
	Add         []oncall.Rotation
	End         *time.Time
	// ExpectVersion and ExpectEnd are the stored latest version and end
	// the plan was made from; the store refuses the plan if they changed.
	ExpectVersion int
	ExpectEnd     *time.Time
}

// PolicyChange replaces the escalation policy of one priority.
type PolicyChange struct {
	Action string
	Before oncall.Policy
	After  oncall.Policy
}

// Store applies a plan: everything or nothing, in one transaction with one
// audit entry (entity AuditEntity) whose before and after carry each changed
// object's. It returns the plan with the new ids filled in. Conflict if what
// the plan was made from changed meanwhile; Invalid if a rule the plan
// should have kept is broken (an overlapping override, an unknown engineer):
// then nothing is written.
type Store interface {
	ApplyTeam(ctx context.Context, actor string, p Plan) (Plan, error)
}
