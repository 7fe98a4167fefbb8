package store_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func TestOverrides(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			ann := mustEngineer(t, db, "Ann")
			moscow := time.FixedZone("MSK", 3*3600)
			want := oncall.Override{
				Level:      oncall.L3,
				Layer:      oncall.Secondary,
				EngineerID: ann.ID,
				Start:      time.Date(2026, 3, 29, 9, 0, 0, 1_999, moscow),
				End:        time.Date(2026, 3, 29, 21, 0, 0, 0, moscow),
				Reason:     "подмена — врач",
			}
			got, err := db.CreateOverride(ctx, actor, want)
			if err != nil {
				t.Fatal(err)
			}
			want.ID = got.ID
			want.Start = time.Date(2026, 3, 29, 6, 0, 0, 1_000, time.UTC)
			want.End = time.Date(2026, 3, 29, 18, 0, 0, 0, time.UTC)
			want.CreatedAt = t0
			equal(t, "CreateOverride", got, want)
			read, err := db.Override(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Override", read, want)
		})
	})

	t.Run("Window", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann := mustEngineer(t, db, "Ann")
			h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
			create := func(layer oncall.Layer, start, end time.Time) oncall.Override {
				o := newOverride(ann.ID, start, end)
				o.Layer = layer
				o, err := db.CreateOverride(ctx, actor, o)
				if err != nil {
					t.Fatalf("CreateOverride %s %s–%s: %v", layer, start, end, err)
				}
				return o
			}
			// Created out of order; adjacent ones do not overlap.
			c := create(oncall.Primary, h(4), h(6))
			a := create(oncall.Primary, h(0), h(2))
			b := create(oncall.Primary, h(2), h(4))
			s := create(oncall.Secondary, h(1), h(5)) // another layer

			for _, tc := range []struct {
				name     string
				from, to time.Time
				want     []oncall.Override
			}{
				{"All", h(-1), h(7), []oncall.Override{a, s, b, c}},
				{"EndAtFromExcluded", h(2), h(3), []oncall.Override{s, b}},
				{"StartAtToExcluded", h(3), h(4), []oncall.Override{s, b}},
				{"Inside", h(5), h(5).Add(time.Microsecond), []oncall.Override{c}},
				{"Before", h(-2), h(0), nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got, err := db.Overrides(ctx, tc.from, tc.to)
					if err != nil {
						t.Fatal(err)
					}
					equal(t, "Overrides", got, tc.want)
				})
			}
		})
	})

	t.Run("ErrOverlap", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann := mustEngineer(t, db, "Ann")
			first, err := db.CreateOverride(ctx, actor, newOverride(ann.ID, t0, t0.Add(8*time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			before := auditLog(t, db)
			for _, o := range []oncall.Override{
				newOverride(ann.ID, t0.Add(7*time.Hour), t0.Add(9*time.Hour)),
				newOverride(ann.ID, t0.Add(-time.Hour), t0.Add(time.Microsecond)),
				newOverride(ann.ID, t0.Add(time.Hour), t0.Add(2*time.Hour)),
				newOverride(ann.ID, t0.Add(-time.Hour), t0.Add(9*time.Hour)),
			} {
				_, err := db.CreateOverride(ctx, actor, o)
				wantErr(t, err, errs.Conflict, "")
			}
			list, err := db.Overrides(ctx, t0.Add(-24*time.Hour), t0.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Overrides", list, []oncall.Override{first})
			equal(t, "audit log", auditLog(t, db), before)
		})
	})

	t.Run("ErrEngineer", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann := mustEngineer(t, db, "Ann")
			if err := db.DeleteEngineer(ctx, actor, ann.ID, t0); err != nil {
				t.Fatal(err)
			}
			before := auditLog(t, db)
			for _, id := range []int64{ann.ID, 999} {
				_, err := db.CreateOverride(ctx, actor, newOverride(id, t0, t0.Add(time.Hour)))
				wantErr(t, err, errs.Invalid, "engineer_id")
			}
			equal(t, "audit log", auditLog(t, db), before)
		})
	})

	t.Run("Delete", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann := mustEngineer(t, db, "Ann")
			o, err := db.CreateOverride(ctx, actor, newOverride(ann.ID, t0, t0.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteOverride(ctx, actor, o.ID); err != nil {
				t.Fatal(err)
			}
			_, err = db.Override(ctx, o.ID)
			wantErr(t, err, errs.NotFound, "")
			wantErr(t, db.DeleteOverride(ctx, actor, o.ID), errs.NotFound, "")
			// The slot is free again, and the new override gets a new id.
			again, err := db.CreateOverride(ctx, actor, newOverride(ann.ID, t0, t0.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			if again.ID == o.ID {
				t.Fatalf("override id %d reused", o.ID)
			}
		})
	})
}
