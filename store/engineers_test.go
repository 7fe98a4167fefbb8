package store_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/audit"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func TestEngineers(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			now := time.Date(2026, 3, 29, 2, 30, 0, 123456789, time.FixedZone("MSK", 3*3600))
			setClock(db, now)
			want := newEngineer("Łukasz Ёлкин 🎄 \"O'Brien\"")
			got, err := db.CreateEngineer(ctx, actor, want)
			if err != nil {
				t.Fatal(err)
			}
			want.ID = got.ID
			want.CreatedAt = time.Date(2026, 3, 28, 23, 30, 0, 123456000, time.UTC) // µs, UTC
			equal(t, "CreateEngineer", got, want)

			read, err := db.Engineer(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Engineer", read, want)

			other := mustEngineer(t, db, "Bob")
			list, err := db.Engineers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Engineers", list, []oncall.Engineer{want, other})

			setClock(db, now.Add(time.Hour))
			want.Name = "Lukas"
			want.Level = oncall.L3
			want.Languages = []oncall.Language{oncall.English}
			want.TimeZone = "America/New_York"
			want.Contacts = []oncall.ContactMethod{{Phone: "+12025550199", SMS: true}}
			upd := want
			upd.CreatedAt = time.Time{} // ignored: CreatedAt is kept
			got, err = db.UpdateEngineer(ctx, actor, upd)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "UpdateEngineer", got, want)
			read, err = db.Engineer(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Engineer after update", read, want)
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			_, err := db.Engineer(t.Context(), 99)
			wantErr(t, err, errs.NotFound, "")
			e := newEngineer("Ann")
			e.ID = 99
			_, err = db.UpdateEngineer(t.Context(), actor, e)
			wantErr(t, err, errs.NotFound, "")
			wantErr(t, db.DeleteEngineer(t.Context(), actor, 99, t0), errs.NotFound, "")
			if n := len(auditLog(t, db)); n != 0 {
				t.Fatalf("%d audit entries after failed calls", n)
			}
		})
	})

	t.Run("Delete", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann := mustEngineer(t, db, "Ann")
			bob := mustEngineer(t, db, "Bob")
			if err := db.DeleteEngineer(ctx, actor, ann.ID, t0); err != nil {
				t.Fatal(err)
			}
			list, err := db.Engineers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Engineers", list, []oncall.Engineer{bob})
			got, err := db.Engineer(ctx, ann.ID) // history still names her
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Engineer (deleted)", got, ann)
			_, err = db.UpdateEngineer(ctx, actor, ann)
			wantErr(t, err, errs.NotFound, "")
			wantErr(t, db.DeleteEngineer(ctx, actor, ann.ID, t0), errs.NotFound, "")
		})
	})

	t.Run("ErrInUseByOverride", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann := mustEngineer(t, db, "Ann")
			if _, err := db.CreateOverride(ctx, actor, newOverride(ann.ID, t0, t0.Add(8*time.Hour))); err != nil {
				t.Fatal(err)
			}
			before := len(auditLog(t, db))
			wantErr(t, db.DeleteEngineer(ctx, actor, ann.ID, t0.Add(8*time.Hour-time.Microsecond)), errs.Conflict, "")
			if n := len(auditLog(t, db)); n != before {
				t.Fatalf("audit grew from %d to %d on a refused delete", before, n)
			}
			// At the override's end it is no longer in the way.
			if err := db.DeleteEngineer(ctx, actor, ann.ID, t0.Add(8*time.Hour)); err != nil {
				t.Fatal(err)
			}
		})
	})

	t.Run("ErrInUseByRotation", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			ann := mustEngineer(t, db, "Ann")
			bob := mustEngineer(t, db, "Bob")
			r := mustRotation(t, db, newRotation(t0, bob.ID, ann.ID))
			wantErr(t, db.DeleteEngineer(ctx, actor, ann.ID, t0.Add(-time.Hour)), errs.Conflict, "") // version 1 not yet in force, but will be
			wantErr(t, db.DeleteEngineer(ctx, actor, ann.ID, t0.Add(time.Hour)), errs.Conflict, "")

			// Version 2 without Ann from t0+24h: she is in the way only
			// before then.
			v2 := r
			v2.Participants = []int64{bob.ID}
			v2.EffectiveFrom = t0.Add(24 * time.Hour)
			if _, err := db.UpdateRotation(ctx, actor, v2); err != nil {
				t.Fatal(err)
			}
			wantErr(t, db.DeleteEngineer(ctx, actor, ann.ID, t0.Add(24*time.Hour-time.Microsecond)), errs.Conflict, "")
			if err := db.DeleteEngineer(ctx, actor, ann.ID, t0.Add(24*time.Hour)); err != nil {
				t.Fatalf("delete after her last version: %v", err)
			}

			// Bob is in version 2 until the rotation ends.
			end := t0.Add(48 * time.Hour)
			if err := db.EndRotation(ctx, actor, r.ID, end); err != nil {
				t.Fatal(err)
			}
			wantErr(t, db.DeleteEngineer(ctx, actor, bob.ID, end.Add(-time.Microsecond)), errs.Conflict, "")
			if err := db.DeleteEngineer(ctx, actor, bob.ID, end); err != nil {
				t.Fatalf("delete at the rotation's end: %v", err)
			}
		})
	})
}

// TestDeleteEngineerRevokesTokens: a person who left keeps no way in.
func TestDeleteEngineerRevokesTokens(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		e := mustEngineer(t, db, "Leaver")
		keep := mustEngineer(t, db, "Stayer")
		gone, err := db.CreateToken(ctx, actor, access.Token{Name: "leaver's phone", Role: access.Engineer, EngineerID: e.ID, Hash: "h1"})
		if err != nil {
			t.Fatal(err)
		}
		kept, err := db.CreateToken(ctx, actor, access.Token{Name: "stayer's phone", Role: access.Engineer, EngineerID: keep.ID, Hash: "h2"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteEngineer(ctx, actor, e.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if tok, err := db.TokenByHash(ctx, gone.Hash); err != nil || tok.RevokedAt == nil {
			t.Errorf("token of the deleted engineer: %+v, %v; want revoked", tok, err)
		}
		if tok, err := db.TokenByHash(ctx, kept.Hash); err != nil || tok.RevokedAt != nil {
			t.Errorf("token of another engineer: %+v, %v; want untouched", tok, err)
		}
		entries, err := db.AuditLog(ctx, audit.Filter{Entity: audit.Token, EntityID: strconv.FormatInt(gone.ID, 10)})
		if err != nil || len(entries) != 2 || entries[0].Action != audit.Delete {
			t.Errorf("audit of the revoked token: %+v, %v; want create then delete", entries, err)
		}
	})
}
