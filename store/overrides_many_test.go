package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// CreateOverrides writes all of its overrides or none: the second
// overlapping a stored one leaves the first unwritten too.
func TestCreateOverridesAllOrNone(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		setClock(db, t0)
		ann, bob := mustEngineer(t, db, "Ann"), mustEngineer(t, db, "Bob")
		at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
		if _, err := db.CreateOverride(ctx, actor, oncall.Override{Level: oncall.L1, Layer: oncall.Primary, EngineerID: ann.ID, Start: at(10), End: at(12)}); err != nil {
			t.Fatal(err)
		}
		_, err := db.CreateOverrides(ctx, actor, []oncall.Override{
			{Level: oncall.L2, Layer: oncall.Primary, EngineerID: bob.ID, Start: at(1), End: at(2)},
			{Level: oncall.L1, Layer: oncall.Primary, EngineerID: bob.ID, Start: at(11), End: at(13)},
		})
		var e *errs.Error
		if !errs.Is(err, errs.Conflict) || !errors.As(err, &e) || !strings.HasPrefix(e.Field, "overrides[1]") {
			t.Fatalf("the second overlapping: %v, want Conflict on overrides[1]", err)
		}
		if got, _ := db.Overrides(ctx, at(0), at(24)); len(got) != 1 {
			t.Errorf("overrides after the refused pair: %d, want only the first one stored before", len(got))
		}
		out, err := db.CreateOverrides(ctx, actor, []oncall.Override{
			{Level: oncall.L1, Layer: oncall.Primary, EngineerID: bob.ID, Start: at(1), End: at(2)},
			{Level: oncall.L1, Layer: oncall.Primary, EngineerID: ann.ID, Start: at(2), End: at(3)},
		})
		if err != nil || len(out) != 2 || out[0].ID == 0 || out[1].ID == 0 {
			t.Fatalf("a good pair: %+v, %v", out, err)
		}
	})
}
