package store_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/team"
)

// teamState reads the stored team as the admin API gives it to team.
func teamState(t *testing.T, db *store.DB) team.State {
	t.Helper()
	ctx := t.Context()
	var st team.State
	var err error
	if st.Engineers, err = db.Engineers(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Rotations, err = db.Rotations(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Overrides, err = db.Overrides(ctx, time.Unix(0, 0), t0.AddDate(100, 0, 0)); err != nil {
		t.Fatal(err)
	}
	edited, err := db.Policies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range oncall.Priorities {
		pol := oncall.DefaultPolicy(p)
		for _, e := range edited {
			if e.Priority == p {
				pol = e
			}
		}
		st.Policies = append(st.Policies, pol)
	}
	return st
}

// teamPlan exports the stored team, edits it with fn and plans its import.
func teamPlan(t *testing.T, db *store.DB, fn func(doc string) string) team.Plan {
	t.Helper()
	st := teamState(t, db)
	out, err := team.Export(st, t0, "")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := team.Decode([]byte(fn(string(out))))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	p, err := team.Compare(doc, st, t0)
	if err != nil {
		t.Fatalf("compare: %v", err)
	}
	return p
}

func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	if strings.Count(s, old) != 1 {
		t.Fatalf("%q is not once in:\n%s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}

// TestApplyTeam: an import's changes are written in one transaction with
// one audit entry that carries each object's before and after; what the
// store then holds exports as the file imported.
func TestApplyTeam(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			ann, bob := mustEngineer(t, db, "Ann"), mustEngineer(t, db, "Bob")
			rot := mustRotation(t, db, newRotation(t0.Add(-7*24*time.Hour), ann.ID, bob.ID))
			gone, err := db.CreateOverride(ctx, actor, newOverride(bob.ID, t0.Add(48*time.Hour), t0.Add(50*time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			moved, err := db.CreateOverride(ctx, actor, newOverride(ann.ID, t0.Add(24*time.Hour), t0.Add(26*time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			logged := len(auditLog(t, db))

			// Cara joins and takes Bob's place in the rotation; Bob's
			// override goes; Ann's override moves into the time it leaves
			// and Cara gets one; Bob leaves; the low policy changes.
			p := teamPlan(t, db, func(d string) string {
				d = replace(t, d, "rotations:\n", "  - name: Cara\n    level: L2\n    languages: [en]\n    time_zone: UTC\n    contacts:\n      - {phone: \"+12025550177\"}\nrotations:\n")
				i, j := strings.Index(d, "  - id: 2\n    name: Bob"), strings.Index(d, "  - name: Cara")
				d = d[:i] + d[j:]
				d = replace(t, d, "      - Bob\n", "      - Cara\n")
				i, j = strings.Index(d, "  - id: 1\n    level: L1"), strings.Index(d, "# The escalation")
				d = d[:i] + d[j:]
				d = replace(t, d, "start: 2026-03-30T03:30:00+03:00\n    end: 2026-03-30T05:30:00+03:00", "start: 2026-03-31T03:30:00+03:00\n    end: 2026-03-31T05:30:00+03:00")
				d = replace(t, d, "# The escalation", "  - level: L2\n    engineer: Cara\n    start: 2026-04-01T00:00:00Z\n    end: 2026-04-02T00:00:00Z\n# The escalation")
				i = strings.Index(d, "  low: #")
				return d[:i] + "  low:\n    - {level: L1, channels: [sms], delay: 1h}\n"
			})
			applied, err := db.ApplyTeam(ctx, actor, p)
			if err != nil {
				t.Fatalf("ApplyTeam: %v", err)
			}

			entries := auditLog(t, db)
			if len(entries) != logged+1 {
				t.Fatalf("%d audit entries after the import, want one more than %d", len(entries), logged)
			}
			e := entries[0]
			var before, after []team.AuditItem
			if json.Unmarshal(e.Before, &before) != nil || json.Unmarshal(e.After, &after) != nil {
				t.Fatalf("audit entry %+v: before and after are not lists", e)
			}
			if e.Entity != team.AuditEntity || e.Actor != actor || len(before) != 7 || len(after) != 7 {
				t.Fatalf("audit entry %s %s by %s with %d/%d items, want team by %s with 7: %s / %s", e.Entity, e.EntityID, e.Actor, len(before), len(after), actor, e.Before, e.After)
			}
			cara := applied.Engineers[0].After
			if cara.ID <= bob.ID || applied.Overrides[1].After.EngineerID != cara.ID {
				t.Errorf("the new engineer's id %d is not in place of the placeholder: %+v", cara.ID, applied.Overrides)
			}
			kinds := []string{}
			for _, it := range after {
				kinds = append(kinds, it.Entity+" "+it.Action)
			}
			if got := strings.Join(kinds, ", "); got != "policy update, engineer create, override update, override create, override delete, rotation update, engineer delete" {
				t.Errorf("audit items %s", got)
			}

			engineers, _ := db.Engineers(ctx)
			if len(engineers) != 2 || engineers[0].ID != ann.ID || engineers[1].Name != "Cara" {
				t.Errorf("engineers after the import: %+v, want Ann and Cara", engineers)
			}
			versions, _ := db.Rotation(ctx, rot.ID)
			if len(versions) != 2 || !versions[1].EffectiveFrom.Equal(t0) || versions[1].Participants[1] != cara.ID {
				t.Errorf("rotation after the import: %+v, want a version from now with Cara", versions)
			}
			if _, err := db.Override(ctx, gone.ID); !errs.Is(err, errs.NotFound) {
				t.Errorf("Bob's override: %v, want it deleted", err)
			}
			if o, _ := db.Override(ctx, moved.ID); !o.Start.Equal(t0.Add(48 * time.Hour)) {
				t.Errorf("Ann's override %+v, want it moved in place, keeping its id", o)
			}

			// The store now says what the file said: nothing to change.
			if again := teamPlan(t, db, func(d string) string { return d }); !again.Empty() {
				t.Errorf("after the import, its export plans %+v", again.Changes())
			}
			if _, err := db.ApplyTeam(ctx, actor, team.Plan{At: t0}); err != nil || len(auditLog(t, db)) != logged+1 {
				t.Errorf("an empty plan: %v, and it wrote to the audit log", err)
			}
		})
	})

	t.Run("Rotations", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			ann, bob := mustEngineer(t, db, "Ann"), mustEngineer(t, db, "Bob")
			week := 7 * 24 * time.Hour
			kept := mustRotation(t, db, newRotation(t0.Add(-week), ann.ID, bob.ID))
			next := newRotation(t0.Add(week), bob.ID, ann.ID)
			next.ID = kept.ID
			if _, err := db.UpdateRotation(ctx, actor, next); err != nil {
				t.Fatal(err)
			}
			later := newRotation(t0.Add(4*week), ann.ID)
			later.Name = "later"
			notStarted := mustRotation(t, db, later)
			now := newRotation(t0.Add(-week), bob.ID)
			now.Name, now.Layer = "ends", oncall.Secondary
			ending := mustRotation(t, db, now)

			// The version to come changes hands; the rotation that has not
			// started and the one in force are left out.
			p := teamPlan(t, db, func(d string) string {
				d = replace(t, d, "        participants:\n          - Bob\n          - Ann\n", "        participants:\n          - Bob\n")
				i, j := strings.Index(d, "  # later (rotation"), strings.Index(d, "# Overrides that end")
				return d[:i] + d[j:]
			})
			if _, err := db.ApplyTeam(ctx, actor, p); err != nil {
				t.Fatalf("ApplyTeam: %v", err)
			}
			versions, err := db.Rotation(ctx, kept.ID)
			if err != nil || len(versions) != 2 || !slices.Equal(versions[1].Participants, []int64{bob.ID}) ||
				!versions[1].EffectiveFrom.Equal(t0.Add(week)) || versions[0].EffectiveTo == nil || !versions[0].EffectiveTo.Equal(t0.Add(week)) {
				t.Errorf("the changed rotation: %v %+v; want version 1 kept and version 2 from a week on with Bob alone", err, versions)
			}
			if _, err := db.Rotation(ctx, notStarted.ID); !errs.Is(err, errs.NotFound) {
				t.Errorf("the rotation that had not started: %v, want it gone", err)
			}
			versions, err = db.Rotation(ctx, ending.ID)
			if err != nil || len(versions) != 1 || versions[0].EffectiveTo == nil || !versions[0].EffectiveTo.Equal(t0) {
				t.Errorf("the rotation in force that was left out: %v %+v; want it ended now, its history kept", err, versions)
			}
			if again := teamPlan(t, db, func(d string) string { return d }); !again.Empty() {
				t.Errorf("after the import, its export plans %+v", again.Changes())
			}
		})
	})

	t.Run("RefusedWritesNothing", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			ann := mustEngineer(t, db, "Ann")
			if _, err := db.CreateOverride(ctx, actor, newOverride(ann.ID, t0.Add(24*time.Hour), t0.Add(26*time.Hour))); err != nil {
				t.Fatal(err)
			}
			logged := len(auditLog(t, db))
			// A plan the validation would never make (a new engineer and
			// an override over Ann's) is refused whole by the store.
			dan := newEngineer("Dan")
			dan.ID = -1
			over := newOverride(-1, t0.Add(25*time.Hour), t0.Add(27*time.Hour))
			p := team.Plan{At: t0, Names: map[int64]string{-1: "Dan"},
				Engineers: []team.EngineerChange{{Action: team.Create, After: &dan}},
				Overrides: []team.OverrideChange{{Action: team.Create, After: &over}}}
			_, err := db.ApplyTeam(ctx, actor, p)
			wantErr(t, err, errs.Conflict, "overrides")

			// A plan made before someone else changed an engineer.
			stale := teamPlan(t, db, func(d string) string { return replace(t, d, "name: Ann\n    level: L2", "name: Ann\n    level: L1") })
			ann.Level = oncall.L3
			if _, err := db.UpdateEngineer(ctx, actor, ann); err != nil {
				t.Fatal(err)
			}
			logged++
			_, err = db.ApplyTeam(ctx, actor, stale)
			wantErr(t, err, errs.Conflict, "")

			engineers, _ := db.Engineers(ctx)
			if len(engineers) != 1 || engineers[0].Name != "Ann" || len(auditLog(t, db)) != logged {
				t.Errorf("after refused imports: engineers %+v and %d audit entries, want Ann alone and %d", engineers, len(auditLog(t, db)), logged)
			}
		})
	})
}
