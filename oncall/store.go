package oncall

import (
	"context"
	"time"
)

// Store keeps the on-call data. Every method that changes something writes
// an audit entry for actor in the same transaction, so a change and its
// record are never separated; a failed call changes nothing.
//
// Errors are *errs.Error with these codes where the cause is the caller's:
// NotFound for an unknown id, Invalid (naming the field) for a reference to
// an engineer that does not exist, Conflict for an overlapping override or an
// engineer still in use. Anything else is internal.
type Store interface {
	// Engineers lists engineers not deleted, by id.
	Engineers(ctx context.Context) ([]Engineer, error)
	// Engineer returns one engineer, deleted ones included (history names
	// them); NotFound if the id was never used.
	Engineer(ctx context.Context, id int64) (Engineer, error)
	// CreateEngineer stores a normalised engineer and returns it with ID and
	// CreatedAt set.
	CreateEngineer(ctx context.Context, actor string, e Engineer) (Engineer, error)
	// UpdateEngineer replaces the engineer with e.ID; NotFound if absent or
	// deleted.
	UpdateEngineer(ctx context.Context, actor string, e Engineer) (Engineer, error)
	// DeleteEngineer hides an engineer from lists. Conflict if the engineer
	// is a participant of a rotation version in force at or after at, or has
	// an override ending after at.
	DeleteEngineer(ctx context.Context, actor string, id int64, at time.Time) error

	// Rotations returns every version of every rotation, ended ones
	// included, ordered by rotation id then version. EffectiveTo is set on
	// every version but a rotation's last one that has not ended.
	Rotations(ctx context.Context) ([]Rotation, error)
	// Rotation returns the versions of one rotation, oldest first; NotFound
	// if absent.
	Rotation(ctx context.Context, id int64) ([]Rotation, error)
	// CreateRotation stores version 1 of a new rotation, in force from
	// r.EffectiveFrom. Invalid (field participants[i]) if a participant is
	// not an existing, undeleted engineer.
	CreateRotation(ctx context.Context, actor string, r Rotation) (Rotation, error)
	// UpdateRotation adds a version to rotation r.ID in force from
	// r.EffectiveFrom, which must be later than the latest version's start
	// (Conflict otherwise) and before the rotation's end. Versions whose
	// start lies after r.EffectiveFrom are not allowed (Conflict).
	UpdateRotation(ctx context.Context, actor string, r Rotation) (Rotation, error)
	// EndRotation ends rotation id at instant at (no shifts from then on);
	// NotFound if absent, Conflict if it has already ended or at is before
	// its latest version's start.
	EndRotation(ctx context.Context, actor string, id int64, at time.Time) error

	// Overrides returns the overrides that end after from and start before
	// to, by start.
	Overrides(ctx context.Context, from, to time.Time) ([]Override, error)
	// Override returns one override; NotFound if absent.
	Override(ctx context.Context, id int64) (Override, error)
	// CreateOverride stores o. Conflict if it overlaps an override of the
	// same level and layer; Invalid (field engineer_id) if the engineer does
	// not exist or is deleted.
	CreateOverride(ctx context.Context, actor string, o Override) (Override, error)
	// CreateOverrides stores every one of os in one transaction, or none:
	// CreateOverride's errors, the field prefixed overrides[i].
	CreateOverrides(ctx context.Context, actor string, os []Override) ([]Override, error)
	// DeleteOverride removes an override; NotFound if absent.
	DeleteOverride(ctx context.Context, actor string, id int64) error

	// Policies returns the escalation policies that were edited, by
	// priority; priorities never edited are absent (their default applies).
	Policies(ctx context.Context) ([]Policy, error)
	// PutPolicy stores p for p.Priority, replacing any earlier one.
	PutPolicy(ctx context.Context, actor string, p Policy) (Policy, error)
}
