package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// TestSMSOptOuts: the numbers that texted STOP, on both back ends.
func TestSMSOptOuts(t *testing.T) {
	const olga, ivan = "+12025550121", "+79161234567"

	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			optedOut := func(phone string, want bool) {
				t.Helper()
				got, err := db.SMSOptedOut(ctx, phone)
				if err != nil || got != want {
					t.Fatalf("SMSOptedOut(%s) = %v, %v; want %v", phone, got, err, want)
				}
			}
			optedOut(olga, false) // never heard of
			if err := db.SetSMSOptOut(ctx, olga, true, t0); err != nil {
				t.Fatal(err)
			}
			if err := db.SetSMSOptOut(ctx, ivan, true, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			optedOut(olga, true)
			all, err := db.SMSOptOuts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "SMSOptOuts", all, map[string]time.Time{olga: t0, ivan: t0.Add(time.Minute)})

			// START clears it; STOP again sets it.
			if err := db.SetSMSOptOut(ctx, olga, false, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			optedOut(olga, false)
			all, err = db.SMSOptOuts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "SMSOptOuts after START", all, map[string]time.Time{ivan: t0.Add(time.Minute)})
			if err := db.SetSMSOptOut(ctx, olga, true, t0.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			optedOut(olga, true)
		})
	})

	t.Run("OlderWordLoses", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			// START at t0+1h, then a refusal (21610) of a text sent
			// before it arrives late, stamped t0: the START stands.
			if err := db.SetSMSOptOut(ctx, olga, false, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := db.SetSMSOptOut(ctx, olga, true, t0); err != nil {
				t.Fatal(err)
			}
			if got, err := db.SMSOptedOut(ctx, olga); err != nil || got {
				t.Fatalf("SMSOptedOut after a late, older STOP = %v, %v; want false", got, err)
			}
			// The same instant twice: the last one written wins.
			if err := db.SetSMSOptOut(ctx, olga, true, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got, err := db.SMSOptedOut(ctx, olga); err != nil || !got {
				t.Fatalf("SMSOptedOut = %v, %v; want true", got, err)
			}
		})
	})

	t.Run("ErrPhone", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			wantErr(t, db.SetSMSOptOut(ctx, " ", true, t0), errs.Invalid, "phone")
			wantErr(t, db.SetSMSOptOut(ctx, "+1"+strings.Repeat("5", 40), true, t0), errs.Invalid, "phone")
		})
	})
}
