package store_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/verify"
)

// engineerWithNewNumber stores an engineer whose second number they added
// themselves and has not been confirmed.
func engineerWithNewNumber(t *testing.T, db *store.DB) oncall.Engineer {
	t.Helper()
	e := newEngineer("Ann")
	e.Contacts[1].Unverified = true
	e, err := db.CreateEngineer(t.Context(), actor, e)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func codeFor(e oncall.Engineer, phone, hash string, at time.Time) (verify.Code, pager.Attempt) {
	return verify.Code{EngineerID: e.ID, Phone: phone, Hash: hash, Kind: pager.KindSMS, SentAt: at, ExpiresAt: at.Add(10 * time.Minute)},
		pager.Attempt{Key: "code", Kind: pager.KindSMS, Purpose: pager.PurposeCode, Rung: -1, EngineerID: e.ID, To: phone,
			Language: oncall.Russian, Body: "sealed " + hash}
}

func TestContactCodes(t *testing.T) {
	const phone = "+12025550142"
	allow := func([]verify.Code) error { return nil }

	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			e := engineerWithNewNumber(t, db)

			c, a := codeFor(e, phone, "h1", t0)
			first, err := db.SendCode(ctx, c, a, t0.Add(-time.Hour), allow)
			if err != nil {
				t.Fatal(err)
			}
			// The message is in the pager's outbox, as given (sealed by the
			// caller), owned by no page.
			atts, err := db.ClaimAttempts(ctx, "test", time.Minute, 10, t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(atts) != 1 || atts[0].Purpose != pager.PurposeCode || atts[0].To != phone || atts[0].Body != "sealed h1" ||
				atts[0].PageID != 0 || atts[0].Kind != pager.KindSMS || atts[0].Language != oncall.Russian {
				t.Fatalf("outbox after SendCode: %+v", atts)
			}

			// A second code: check sees the first; the first stops counting.
			var seen []verify.Code
			c2, a2 := codeFor(e, phone, "h2", t0.Add(2*time.Minute))
			second, err := db.SendCode(ctx, c2, a2, t0.Add(-time.Hour), func(recent []verify.Code) error { seen = recent; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != 1 || seen[0].ID != first.ID || !seen[0].SentAt.Equal(t0) {
				t.Fatalf("check saw %+v, want the first code", seen)
			}
			open, err := db.OpenCode(ctx, e.ID, phone)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "OpenCode", open, second)

			// A code for the engineer's other number counts for them too.
			const other = "+79161234567"
			c4, a4 := codeFor(e, other, "h4", t0.Add(2*time.Minute))
			if _, err := db.SendCode(ctx, c4, a4, t0.Add(-time.Hour), func(recent []verify.Code) error { seen = recent; return nil }); err != nil {
				t.Fatal(err)
			}
			if len(seen) != 2 || seen[0].ID != second.ID || seen[1].ID != first.ID {
				t.Fatalf("check of a code to the engineer's other number saw %+v, want the engineer's two codes", seen)
			}

			// A refused send stores nothing.
			c3, a3 := codeFor(e, phone, "h3", t0.Add(3*time.Minute))
			refusal := errs.E(errs.TooMany, "phone", "too soon")
			if _, err := db.SendCode(ctx, c3, a3, t0.Add(-time.Hour), func([]verify.Code) error { return refusal }); !errors.Is(err, refusal) {
				t.Fatalf("SendCode refused by check: %v", err)
			}
			if open, err = db.OpenCode(ctx, e.ID, phone); err != nil || open.ID != second.ID {
				t.Fatalf("OpenCode after a refusal: %+v, %v", open, err)
			}

			// A wrong code counts; the right one verifies the number, audited.
			if missed, err := db.MissCode(ctx, second.ID, 5, t0.Add(4*time.Minute)); err != nil || missed.Tries != 1 || missed.ClosedAt != nil {
				t.Fatalf("MissCode: %+v, %v", missed, err)
			}
			got, err := db.UseCode(ctx, actor, second.ID, t0.Add(5*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			want := e
			want.Contacts = []oncall.ContactMethod{e.Contacts[0], {Phone: phone}}
			equal(t, "UseCode", got, want)
			if stored, err := db.Engineer(ctx, e.ID); err != nil || !stored.Contacts[1].Verified() {
				t.Fatalf("engineer after UseCode: %+v, %v", stored, err)
			}
			entry := auditLog(t, db)[0]
			var before, after oncall.Engineer
			if err := json.Unmarshal(entry.Before, &before); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(entry.After, &after); err != nil {
				t.Fatal(err)
			}
			if entry.Entity != audit.Engineer || entry.Action != audit.Update || entry.Actor != actor ||
				before.Contacts[1].Verified() || !after.Contacts[1].Verified() {
				t.Fatalf("audit of the confirmation: %+v", entry)
			}
			_, err = db.OpenCode(ctx, e.ID, phone)
			wantErr(t, err, errs.NotFound, "code")
			_, err = db.UseCode(ctx, actor, second.ID, t0.Add(6*time.Minute))
			wantErr(t, err, errs.Conflict, "code")
		})
	})

	t.Run("VoidAfterMaxTries", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			e := engineerWithNewNumber(t, db)
			c, a := codeFor(e, phone, "h", t0)
			code, err := db.SendCode(ctx, c, a, t0.Add(-time.Hour), allow)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 3; i++ {
				missed, err := db.MissCode(ctx, code.ID, 3, t0.Add(time.Minute))
				if err != nil || missed.Tries != i || (missed.ClosedAt != nil) != (i == 3) {
					t.Fatalf("wrong code %d: %+v, %v", i, missed, err)
				}
			}
			_, err = db.MissCode(ctx, code.ID, 3, t0.Add(time.Minute))
			wantErr(t, err, errs.Conflict, "code")
			_, err = db.OpenCode(ctx, e.ID, phone)
			wantErr(t, err, errs.NotFound, "code")
			_, err = db.UseCode(ctx, actor, code.ID, t0.Add(time.Minute))
			wantErr(t, err, errs.Conflict, "code")
			if stored, _ := db.Engineer(ctx, e.ID); stored.Contacts[1].Verified() {
				t.Fatal("a void code verified the number")
			}
		})
	})

	t.Run("ErrEngineerNotFound", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			c, a := codeFor(oncall.Engineer{ID: 999}, phone, "h", t0)
			_, err := db.SendCode(t.Context(), c, a, t0.Add(-time.Hour), allow)
			wantErr(t, err, errs.NotFound, "")
		})
	})

	t.Run("ErrNumberRemoved", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			e := engineerWithNewNumber(t, db)
			c, a := codeFor(e, phone, "h", t0)
			code, err := db.SendCode(ctx, c, a, t0.Add(-time.Hour), allow)
			if err != nil {
				t.Fatal(err)
			}
			e.Contacts = e.Contacts[:1]
			if _, err := db.UpdateEngineer(ctx, actor, e); err != nil {
				t.Fatal(err)
			}
			_, err = db.UseCode(ctx, actor, code.ID, t0.Add(time.Minute))
			wantErr(t, err, errs.NotFound, "phone")
		})
	})
}
