package store_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func TestRotations(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann, bob := mustEngineer(t, db, "Ann"), mustEngineer(t, db, "Bob")
			from := time.Date(2026, 3, 2, 9, 0, 0, 999, time.FixedZone("MSK", 3*3600)) // ns dropped, UTC kept

			v1 := newRotation(from, ann.ID, bob.ID)
			got, err := db.CreateRotation(ctx, actor, v1)
			if err != nil {
				t.Fatal(err)
			}
			v1.ID, v1.Version, v1.EffectiveFrom = got.ID, 1, time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
			equal(t, "CreateRotation", got, v1)
			versions, err := db.Rotation(ctx, v1.ID)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Rotation", versions, []oncall.Rotation{v1})

			// Version 2 changes everything but the id.
			v2 := oncall.Rotation{
				ID:            v1.ID,
				Name:          "L3 nights",
				Level:         oncall.L3,
				Layer:         oncall.Secondary,
				TimeZone:      "America/New_York",
				Handoff:       22*60 + 30,
				ShiftLength:   oncall.ShiftLength{Hours: 12},
				Start:         oncall.Date{Year: 2026, Month: time.April, Day: 1},
				Participants:  []int64{bob.ID, ann.ID, bob.ID},
				EffectiveFrom: v1.EffectiveFrom.Add(7 * 24 * time.Hour),
			}
			got, err = db.UpdateRotation(ctx, actor, v2)
			if err != nil {
				t.Fatal(err)
			}
			v2.Version = 2
			equal(t, "UpdateRotation", got, v2)

			other := mustRotation(t, db, newRotation(from, bob.ID))
			end := v2.EffectiveFrom.Add(time.Hour)
			if err := db.EndRotation(ctx, actor, v1.ID, end); err != nil {
				t.Fatal(err)
			}

			v1.EffectiveTo = ptr(v2.EffectiveFrom)
			v2.EffectiveTo = ptr(end)
			versions, err = db.Rotation(ctx, v1.ID)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Rotation after update and end", versions, []oncall.Rotation{v1, v2})
			all, err := db.Rotations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Rotations", all, []oncall.Rotation{v1, v2, other})
		})
	})

	t.Run("UpdateEndedBeforeEnd", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ann := mustEngineer(t, db, "Ann")
			r := mustRotation(t, db, newRotation(t0, ann.ID))
			end := t0.Add(48 * time.Hour)
			if err := db.EndRotation(t.Context(), actor, r.ID, end); err != nil {
				t.Fatal(err)
			}
			r.EffectiveFrom = t0.Add(24 * time.Hour)
			got, err := db.UpdateRotation(t.Context(), actor, r)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 2 || got.EffectiveTo == nil || !got.EffectiveTo.Equal(end) {
				t.Fatalf("UpdateRotation = version %d to %v, want version 2 to %s", got.Version, got.EffectiveTo, end)
			}
		})
	})

	t.Run("ErrEffectiveFrom", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann := mustEngineer(t, db, "Ann")
			r := mustRotation(t, db, newRotation(t0, ann.ID))
			for _, from := range []time.Time{t0, t0.Add(-time.Hour)} {
				next := r
				next.EffectiveFrom = from
				_, err := db.UpdateRotation(ctx, actor, next)
				wantErr(t, err, errs.Conflict, "effective_from")
			}
			end := t0.Add(time.Hour)
			if err := db.EndRotation(ctx, actor, r.ID, end); err != nil {
				t.Fatal(err)
			}
			for _, from := range []time.Time{end, end.Add(time.Hour)} {
				next := r
				next.EffectiveFrom = from
				_, err := db.UpdateRotation(ctx, actor, next)
				wantErr(t, err, errs.Conflict, "effective_from")
			}
			versions, err := db.Rotation(ctx, r.ID)
			if err != nil || len(versions) != 1 {
				t.Fatalf("Rotation: %d versions, %v; want 1", len(versions), err)
			}
		})
	})

	t.Run("ErrEnd", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann := mustEngineer(t, db, "Ann")
			r := mustRotation(t, db, newRotation(t0, ann.ID))
			wantErr(t, db.EndRotation(ctx, actor, r.ID, t0.Add(-time.Microsecond)), errs.Conflict, "")
			if err := db.EndRotation(ctx, actor, r.ID, t0); err != nil { // at its start: allowed
				t.Fatal(err)
			}
			wantErr(t, db.EndRotation(ctx, actor, r.ID, t0.Add(time.Hour)), errs.Conflict, "")
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			_, err := db.Rotation(ctx, 7)
			wantErr(t, err, errs.NotFound, "")
			r := newRotation(t0, 1)
			r.ID = 7
			_, err = db.UpdateRotation(ctx, actor, r)
			wantErr(t, err, errs.NotFound, "")
			wantErr(t, db.EndRotation(ctx, actor, 7, t0), errs.NotFound, "")
			all, err := db.Rotations(ctx)
			if err != nil || len(all) != 0 {
				t.Fatalf("Rotations = %v, %v; want none", all, err)
			}
		})
	})

	t.Run("ErrUnknownParticipant", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann, bob := mustEngineer(t, db, "Ann"), mustEngineer(t, db, "Bob")
			if err := db.DeleteEngineer(ctx, actor, bob.ID, t0); err != nil {
				t.Fatal(err)
			}
			before := auditLog(t, db)

			_, err := db.CreateRotation(ctx, actor, newRotation(t0, ann.ID, ann.ID, 999))
			wantErr(t, err, errs.Invalid, "participants[2]")
			_, err = db.CreateRotation(ctx, actor, newRotation(t0, bob.ID, ann.ID))
			wantErr(t, err, errs.Invalid, "participants[0]")
			all, err := db.Rotations(ctx)
			if err != nil || len(all) != 0 {
				t.Fatalf("Rotations = %v, %v; want none", all, err)
			}
			equal(t, "audit log after refused creates", auditLog(t, db), before)

			r := mustRotation(t, db, newRotation(t0, ann.ID))
			before = auditLog(t, db)
			next := r
			next.EffectiveFrom = t0.Add(time.Hour)
			next.Participants = []int64{ann.ID, bob.ID}
			_, err = db.UpdateRotation(ctx, actor, next)
			wantErr(t, err, errs.Invalid, "participants[1]")
			versions, err := db.Rotation(ctx, r.ID)
			if err != nil || len(versions) != 1 {
				t.Fatalf("Rotation: %d versions, %v; want 1", len(versions), err)
			}
			equal(t, "audit log after a refused update", auditLog(t, db), before)
		})
	})
}
