package store_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func TestTokens(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			ann := mustEngineer(t, db, "Ann")
			admin, err := db.CreateToken(ctx, actor, access.Token{Name: "Алиса", Role: access.Admin, Hash: access.HashSecret("a")})
			if err != nil {
				t.Fatal(err)
			}
			want := access.Token{Name: "ann's phone", Role: access.Engineer, EngineerID: ann.ID, Hash: access.HashSecret("b")}
			eng, err := db.CreateToken(ctx, actor, want)
			if err != nil {
				t.Fatal(err)
			}
			want.ID, want.CreatedAt = eng.ID, t0
			equal(t, "CreateToken", eng, want)

			got, err := db.TokenByHash(ctx, access.HashSecret("b"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "TokenByHash", got, want)

			at := t0.Add(time.Hour + 500*time.Nanosecond)
			if err := db.RevokeToken(ctx, actor, admin.ID, at); err != nil {
				t.Fatal(err)
			}
			admin.RevokedAt = ptr(at.Truncate(time.Microsecond))
			got, err = db.TokenByHash(ctx, admin.Hash) // revoked ones too
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "TokenByHash (revoked)", got, admin)

			list, err := db.Tokens(ctx)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Tokens", list, []access.Token{admin, want})
		})
	})

	t.Run("ErrRevoke", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			tok, err := db.CreateToken(ctx, actor, access.Token{Name: "ci", Role: access.Admin, Hash: access.HashSecret("a")})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.RevokeToken(ctx, actor, tok.ID, t0); err != nil {
				t.Fatal(err)
			}
			wantErr(t, db.RevokeToken(ctx, actor, tok.ID, t0.Add(time.Hour)), errs.Conflict, "")
			wantErr(t, db.RevokeToken(ctx, actor, 999, t0), errs.NotFound, "")
			_, err = db.TokenByHash(ctx, access.HashSecret("nope"))
			wantErr(t, err, errs.NotFound, "")
		})
	})

	t.Run("ErrCreate", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			if _, err := db.CreateToken(ctx, actor, access.Token{Name: "ci", Role: access.Admin, Hash: access.HashSecret("a")}); err != nil {
				t.Fatal(err)
			}
			before := auditLog(t, db)
			// The hash's uniqueness is the schema's: this exercises the
			// constraint name mapping of each back end.
			_, err := db.CreateToken(ctx, actor, access.Token{Name: "twin", Role: access.Admin, Hash: access.HashSecret("a")})
			wantErr(t, err, errs.Conflict, "")
			_, err = db.CreateToken(ctx, actor, access.Token{Name: "ghost", Role: access.Engineer, EngineerID: 42, Hash: access.HashSecret("b")})
			wantErr(t, err, errs.Invalid, "engineer_id")
			equal(t, "audit log", auditLog(t, db), before)
		})
	})
}

func TestPolicies(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			list, err := db.Policies(ctx)
			if err != nil || len(list) != 0 {
				t.Fatalf("Policies = %v, %v; want none", list, err)
			}
			setClock(db, t0)
			low := oncall.DefaultPolicy(oncall.Low)
			low.Steps = low.Steps[:2]
			if _, err := db.PutPolicy(ctx, actor, low); err != nil {
				t.Fatal(err)
			}
			critical := oncall.DefaultPolicy(oncall.Critical)
			critical.Steps[0].Channels = []oncall.Channel{oncall.SMS}
			got, err := db.PutPolicy(ctx, actor, critical)
			if err != nil {
				t.Fatal(err)
			}
			critical.UpdatedAt, low.UpdatedAt = t0, t0
			equal(t, "PutPolicy", got, critical)

			setClock(db, t0.Add(time.Hour))
			critical.Steps = critical.Steps[1:]
			if _, err := db.PutPolicy(ctx, actor, critical); err != nil {
				t.Fatal(err)
			}
			critical.UpdatedAt = t0.Add(time.Hour)
			list, err = db.Policies(ctx)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Policies", list, []oncall.Policy{critical, low})
		})
	})
}

// TestReplaceTokens: the bootstrap token replaces its predecessors in one
// transaction, audited, and leaves other tokens alone.
func TestReplaceTokens(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		setClock(db, t0)
		const prefix = "bootstrap (IVR_ADMIN_TOKEN"
		old, err := db.CreateToken(ctx, actor, access.Token{Name: prefix + ")", Role: access.Admin, Hash: access.HashSecret("old")})
		if err != nil {
			t.Fatal(err)
		}
		other, err := db.CreateToken(ctx, actor, access.Token{Name: "ops", Role: access.Admin, Hash: access.HashSecret("ops")})
		if err != nil {
			t.Fatal(err)
		}
		auditBefore := len(auditLog(t, db))
		at := t0.Add(time.Hour)
		next := access.Token{Name: prefix + " …abcdef)", Role: access.Admin, Hash: access.HashSecret("new")}
		kept, created, revoked, err := db.ReplaceTokens(ctx, "IVR_ADMIN_TOKEN", prefix, next, at)
		if err != nil {
			t.Fatal(err)
		}
		if !created || kept.ID == 0 || kept.Name != next.Name || len(revoked) != 1 || revoked[0].ID != old.ID {
			t.Fatalf("ReplaceTokens: kept %+v created %v revoked %+v; want the new one created and %d revoked", kept, created, revoked, old.ID)
		}
		if got := len(auditLog(t, db)) - auditBefore; got != 2 {
			t.Errorf("%d audit entries, want 2 (a create, a revocation)", got)
		}
		for _, c := range []struct {
			hash    string
			revoked bool
		}{{old.Hash, true}, {other.Hash, false}, {next.Hash, false}} {
			tok, err := db.TokenByHash(ctx, c.hash)
			if err != nil || (tok.RevokedAt != nil) != c.revoked {
				t.Errorf("token %q: %+v %v, want revoked %v", tok.Name, tok, err, c.revoked)
			}
		}

		// Again: nothing to do.
		kept2, created, revoked, err := db.ReplaceTokens(ctx, "IVR_ADMIN_TOKEN", prefix, next, at)
		if err != nil || created || kept2.ID != kept.ID || len(revoked) != 0 {
			t.Errorf("second ReplaceTokens: %+v %v %+v %v; want the same token kept, nothing revoked", kept2, created, revoked, err)
		}
		// Revoking only.
		if _, _, revoked, err = db.ReplaceTokens(ctx, "IVR_ADMIN_TOKEN", prefix, access.Token{}, at); err != nil || len(revoked) != 1 || revoked[0].ID != kept.ID {
			t.Errorf("ReplaceTokens without a token: %+v %v; want %d revoked", revoked, err, kept.ID)
		}
		// A revoked hash cannot come back.
		_, _, _, err = db.ReplaceTokens(ctx, "IVR_ADMIN_TOKEN", prefix, next, at)
		wantErr(t, err, errs.Conflict, "")
	})
}
