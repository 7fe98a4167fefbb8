package store_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// decode unmarshals an audit entry's JSON value into a T.
func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

func TestAuditLog(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			tick := 0
			// Each write reads the clock once: entry n is at t0+n seconds.
			db.Now = func() time.Time { tick++; return t0.Add(time.Duration(tick) * time.Second) }

			ann := mustEngineer(t, db, "Ann") // 1
			upd := ann
			upd.Name = "Anna"
			if _, err := db.UpdateEngineer(ctx, "alice", upd); err != nil { // 2
				t.Fatal(err)
			}
			o, err := db.CreateOverride(ctx, actor, newOverride(ann.ID, t0, t0.Add(time.Hour))) // 3
			if err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteOverride(ctx, actor, o.ID); err != nil { // 4
				t.Fatal(err)
			}
			r := mustRotation(t, db, newRotation(t0, ann.ID)) // 5
			v2 := r
			v2.EffectiveFrom = t0.Add(time.Hour)
			if v2, err = db.UpdateRotation(ctx, actor, v2); err != nil { // 6
				t.Fatal(err)
			}
			end := t0.Add(2 * time.Hour)
			if err := db.EndRotation(ctx, actor, r.ID, end); err != nil { // 7
				t.Fatal(err)
			}
			p := oncall.DefaultPolicy(oncall.Urgent)
			if _, err := db.PutPolicy(ctx, actor, p); err != nil { // 8
				t.Fatal(err)
			}
			if _, err := db.PutPolicy(ctx, actor, p); err != nil { // 9
				t.Fatal(err)
			}
			tok, err := db.CreateToken(ctx, actor, access.Token{Name: "ci", Role: access.Admin, Hash: access.HashSecret("x")}) // 10
			if err != nil {
				t.Fatal(err)
			}
			if err := db.RevokeToken(ctx, actor, tok.ID, end); err != nil { // 11
				t.Fatal(err)
			}
			if err := db.DeleteEngineer(ctx, actor, ann.ID, end); err != nil { // 12
				t.Fatal(err)
			}

			id := func(n int64) string { return strconv.FormatInt(n, 10) }
			want := []struct{ action, entity, id string }{
				{audit.Delete, "engineer", id(ann.ID)},
				{audit.Delete, "token", id(tok.ID)},
				{audit.Create, "token", id(tok.ID)},
				{audit.Update, "policy", "urgent"},
				{audit.Create, "policy", "urgent"},
				{audit.Delete, "rotation", id(r.ID)},
				{audit.Update, "rotation", id(r.ID)},
				{audit.Create, "rotation", id(r.ID)},
				{audit.Delete, "override", id(o.ID)},
				{audit.Create, "override", id(o.ID)},
				{audit.Update, "engineer", id(ann.ID)},
				{audit.Create, "engineer", id(ann.ID)},
			}
			log := auditLog(t, db)
			if len(log) != len(want) {
				t.Fatalf("%d entries, want %d", len(log), len(want))
			}
			for i, e := range log {
				w := want[i]
				n := len(want) - i
				if e.Action != w.action || e.Entity != w.entity || e.EntityID != w.id {
					t.Errorf("entry %d = %s %s %s, want %s %s %s", n, e.Action, e.Entity, e.EntityID, w.action, w.entity, w.id)
				}
				if wantAt := t0.Add(time.Duration(n) * time.Second); !e.At.Equal(wantAt) || e.At.Location() != time.UTC {
					t.Errorf("entry %d at %s, want %s UTC", n, e.At, wantAt)
				}
				if wantActor := map[bool]string{true: "alice", false: actor}[n == 2]; e.Actor != wantActor {
					t.Errorf("entry %d actor %q, want %q", n, e.Actor, wantActor)
				}
				if i > 0 && e.ID >= log[i-1].ID {
					t.Errorf("entry %d has id %d, not below %d", n, e.ID, log[i-1].ID)
				}
			}

			// Before and after are the domain values.
			equal(t, "create engineer: before", log[11].Before, json.RawMessage(nil))
			equal(t, "create engineer: after", decode[oncall.Engineer](t, log[11].After), ann)
			equal(t, "update engineer: before", decode[oncall.Engineer](t, log[10].Before), ann)
			equal(t, "update engineer: after", decode[oncall.Engineer](t, log[10].After), upd)
			equal(t, "delete override: before", decode[oncall.Override](t, log[8].Before), o)
			equal(t, "delete override: after", log[8].After, json.RawMessage(nil))
			equal(t, "update rotation: before", decode[oncall.Rotation](t, log[6].Before), r)
			equal(t, "update rotation: after", decode[oncall.Rotation](t, log[6].After), v2)
			ended := v2
			ended.EffectiveTo = &end
			equal(t, "end rotation: after", decode[oncall.Rotation](t, log[5].After), ended)
			if got := decode[access.Token](t, log[1].After); got.RevokedAt == nil || !got.RevokedAt.Equal(end) {
				t.Errorf("revoke token: after.revoked_at = %v, want %s", got.RevokedAt, end)
			}
			if got := decode[oncall.Policy](t, log[3].Before); got.UpdatedAt.IsZero() {
				t.Errorf("update policy: before = %+v, want the first version", got)
			}
		})
	})

	t.Run("Filter", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			var engineers []oncall.Engineer
			for i := range 5 {
				engineers = append(engineers, mustEngineer(t, db, fmt.Sprint("E", i)))
			}
			a := engineers[2]
			a.Name = "changed"
			if _, err := db.UpdateEngineer(ctx, actor, a); err != nil {
				t.Fatal(err)
			}
			if _, err := db.PutPolicy(ctx, actor, oncall.DefaultPolicy(oncall.Low)); err != nil {
				t.Fatal(err)
			}

			get := func(f audit.Filter) []audit.Entry {
				t.Helper()
				got, err := db.AuditLog(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			if got := get(audit.Filter{}); len(got) != 7 {
				t.Fatalf("no filter: %d entries, want 7", len(got))
			}
			byEntity := get(audit.Filter{Entity: "engineer"})
			if len(byEntity) != 6 {
				t.Fatalf("entity engineer: %d entries, want 6", len(byEntity))
			}
			one := get(audit.Filter{Entity: "engineer", EntityID: strconv.FormatInt(a.ID, 10)})
			if len(one) != 2 || one[0].Action != audit.Update || one[1].Action != audit.Create {
				t.Fatalf("engineer %d: %+v, want update then create", a.ID, one)
			}
			page1 := get(audit.Filter{Entity: "engineer", Limit: 4})
			page2 := get(audit.Filter{Entity: "engineer", Limit: 4, BeforeID: page1[len(page1)-1].ID})
			equal(t, "pages", append(page1, page2...), byEntity)
			if got := get(audit.Filter{Entity: "rotation"}); len(got) != 0 {
				t.Fatalf("entity rotation: %d entries, want none", len(got))
			}
		})
	})
}
