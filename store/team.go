package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/team"
)

// ApplyTeam applies an import's plan (team.Compare's) in one transaction
// with one audit entry (entity team) whose before and after list each
// changed object's, and returns the plan with the new ids in place of the
// placeholders. Everything or nothing: the rules the plan was checked
// against are checked again here (an override overlapping another, an
// engineer that does not exist or is still in use, a version that is not
// to come), and what the plan was made from must not have changed
// (Conflict: read the team again). An empty plan writes nothing.
func (db *DB) ApplyTeam(ctx context.Context, actor string, p team.Plan) (team.Plan, error) {
	if p.Empty() {
		return p, nil
	}
	var out team.Plan
	err := db.update(ctx, func(t *tx) error {
		a := &teamApply{t: t, p: clonePlan(p), ids: map[int64]int64{}}
		for _, step := range []func(context.Context) error{a.policies, a.engineers, a.overrides, a.rotations, a.deletes} {
			if err := step(ctx); err != nil {
				return err
			}
		}
		for id, name := range p.Names {
			if real, ok := a.ids[id]; ok {
				a.p.Names[real] = name
			}
		}
		before, after := a.p.Audit()
		if err := t.audit(ctx, actor, audit.Update, team.AuditEntity, "import", before, after); err != nil {
			return err
		}
		out = a.p
		return nil
	})
	if err != nil {
		return team.Plan{}, fmt.Errorf("apply team: %w", err)
	}
	return out, nil
}

// clonePlan copies what ApplyTeam fills in (ids), so that the caller's plan
// is left as it was when the transaction is retried or refused.
func clonePlan(p team.Plan) team.Plan {
	b, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("team plan does not encode: %v", err)) // only plain values: a bug
	}
	var c team.Plan
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("team plan does not decode: %v", err))
	}
	c.At = p.At
	return c
}

type teamApply struct {
	t   *tx
	p   team.Plan
	ids map[int64]int64 // placeholder → the new engineer's id
}

func (a *teamApply) engineerID(id int64) (int64, error) {
	if id >= 0 {
		return id, nil
	}
	real, ok := a.ids[id]
	if !ok {
		return 0, errs.E(errs.Invalid, "engineers", "the plan names new engineer %d, which it does not create", id)
	}
	return real, nil
}

func (a *teamApply) engineerIDs(ids []int64) error {
	for i, id := range ids {
		real, err := a.engineerID(id)
		if err != nil {
			return err
		}
		ids[i] = real
	}
	return nil
}

// changed is the Conflict of a plan made from a team that has changed
// since.
func changed(what string) error {
	return errs.E(errs.Conflict, "", "%s changed since the import was checked; run the import again", what)
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func (a *teamApply) policies(ctx context.Context) error {
	t := a.t
	for i := range a.p.Policies {
		c := &a.p.Policies[i]
		have := oncall.DefaultPolicy(c.After.Priority)
		old, err := scanPolicy(t.queryRow(ctx, "SELECT priority, steps, updated_at FROM policies WHERE priority = ?"+t.d.forUpdate, string(c.After.Priority)))
		switch {
		case err == nil:
			have = old
		case !isNoRows(err):
			return fmt.Errorf("read policy: %w", err)
		}
		if !reflect.DeepEqual(have.Steps, c.Before.Steps) {
			return changed(fmt.Sprintf("the %s policy", c.After.Priority))
		}
		pol, err := c.After.Normalize()
		if err != nil {
			return errs.Prefix("policies."+string(c.After.Priority), err)
		}
		steps, err := json.Marshal(pol.Steps)
		if err != nil {
			return fmt.Errorf("steps: %w", err)
		}
		c.After = pol
		c.After.UpdatedAt = t.now
		if _, err := t.exec(ctx, `INSERT INTO policies (priority, steps, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (priority) DO UPDATE SET steps = excluded.steps, updated_at = excluded.updated_at`,
			string(pol.Priority), string(steps), micros(t.now)); err != nil {
			return err
		}
	}
	return nil
}

// engineers creates and updates engineers; deletes wait until overrides
// and rotations no longer name them.
func (a *teamApply) engineers(ctx context.Context) error {
	t := a.t
	for i := range a.p.Engineers {
		c := &a.p.Engineers[i]
		switch c.Action {
		case team.Create:
			e, err := c.After.Normalize()
			if err != nil {
				return errs.Prefix("engineers", err)
			}
			langs, contacts, err := engineerJSON(e)
			if err != nil {
				return err
			}
			placeholder := c.After.ID
			e.CreatedAt = t.now
			e.ID, err = t.insert(ctx, `INSERT INTO engineers (name, level, languages, time_zone, contacts, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`, e.Name, int(e.Level), langs, e.TimeZone, contacts, micros(e.CreatedAt))
			if err != nil {
				return err
			}
			a.ids[placeholder] = e.ID
			*c.After = e
		case team.Update:
			before, err := t.lockEngineer(ctx, c.Before.ID)
			if err != nil {
				return err
			}
			if !sameJSON(before, *c.Before) {
				return changed(fmt.Sprintf("engineer %d", before.ID))
			}
			e, err := c.After.Normalize()
			if err != nil {
				return errs.Prefix("engineers", err)
			}
			langs, contacts, err := engineerJSON(e)
			if err != nil {
				return err
			}
			e.ID, e.CreatedAt = before.ID, before.CreatedAt
			if _, err := t.exec(ctx, `UPDATE engineers SET name = ?, level = ?, languages = ?, time_zone = ?, contacts = ?
				WHERE id = ?`, e.Name, int(e.Level), langs, e.TimeZone, contacts, e.ID); err != nil {
				return err
			}
			*c.After = e
		}
	}
	return nil
}

// overrides deletes, then moves and creates overrides, so that one moved
// into the time another left is not refused. A moved override is first
// parked at a stretch of 1969 of its own (with PostgreSQL, the no-overlap
// constraint holds after every statement).
func (a *teamApply) overrides(ctx context.Context) error {
	t := a.t
	lock := func(want oncall.Override) error {
		before, err := scanOverride(t.queryRow(ctx, "SELECT "+overrideColumns+" FROM overrides WHERE id = ?"+t.d.forUpdate, want.ID))
		if err != nil {
			if isNoRows(err) {
				return changed(fmt.Sprintf("override %d", want.ID))
			}
			return err
		}
		if !sameJSON(before, want) {
			return changed(fmt.Sprintf("override %d", want.ID))
		}
		if !before.Start.After(a.p.At) {
			return errs.E(errs.Conflict, "overrides", "override %d started at %s and is part of the on-call history; it cannot change", before.ID, before.Start.Format(time.RFC3339))
		}
		return nil
	}
	for _, c := range a.p.Overrides {
		if c.Action == team.Update || c.Action == team.Delete {
			if err := lock(*c.Before); err != nil {
				return err
			}
		}
		switch c.Action {
		case team.Delete:
			if _, err := t.exec(ctx, "DELETE FROM overrides WHERE id = ?", c.Before.ID); err != nil {
				return err
			}
		case team.Update:
			park := -2 * (c.Before.ID + 1)
			if _, err := t.exec(ctx, "UPDATE overrides SET start_at = ?, end_at = ? WHERE id = ?", park, park+1, c.Before.ID); err != nil {
				return err
			}
		}
	}
	for i := range a.p.Overrides {
		c := &a.p.Overrides[i]
		if c.Action == team.Delete {
			continue
		}
		o := *c.After
		var err error
		if o.EngineerID, err = a.engineerID(o.EngineerID); err != nil {
			return err
		}
		if o, err = o.Normalize(); err != nil {
			return errs.Prefix("overrides", err)
		}
		if !o.End.After(a.p.At) {
			return errs.E(errs.Invalid, "overrides", "an override ending at %s is in the past", o.End.Format(time.RFC3339))
		}
		if err := t.checkEngineers(ctx, []int64{o.EngineerID}, func(int) string { return "overrides" }); err != nil {
			return err
		}
		o.Start, o.End = roundTime(o.Start), roundTime(o.End)
		other, err := scanOverride(t.queryRow(ctx, "SELECT "+overrideColumns+` FROM overrides
			WHERE level = ? AND layer = ? AND start_at < ? AND end_at > ? ORDER BY start_at LIMIT 1`,
			int(o.Level), int(o.Layer), micros(o.End), micros(o.Start)))
		switch {
		case err == nil:
			return errs.E(errs.Conflict, "overrides", "an override of %s %s from %s to %s overlaps override %d from %s to %s",
				o.Level, o.Layer, o.Start.Format(time.RFC3339), o.End.Format(time.RFC3339),
				other.ID, other.Start.Format(time.RFC3339), other.End.Format(time.RFC3339))
		case !isNoRows(err):
			return fmt.Errorf("find overlaps: %w", err)
		}
		if c.Action == team.Create {
			o.CreatedAt = t.now
			if o.ID, err = t.insert(ctx, `INSERT INTO overrides (level, layer, engineer_id, start_at, end_at, reason, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, int(o.Level), int(o.Layer), o.EngineerID, micros(o.Start), micros(o.End), o.Reason, micros(o.CreatedAt)); err != nil {
				return err
			}
		} else {
			o.ID, o.CreatedAt = c.Before.ID, c.Before.CreatedAt
			if _, err := t.exec(ctx, `UPDATE overrides SET level = ?, layer = ?, engineer_id = ?, start_at = ?, end_at = ?, reason = ?
				WHERE id = ?`, int(o.Level), int(o.Layer), o.EngineerID, micros(o.Start), micros(o.End), o.Reason, o.ID); err != nil {
				return err
			}
		}
		*c.After = o
	}
	return nil
}

// rotations creates rotations, replaces their versions to come and sets
// their ends.
func (a *teamApply) rotations(ctx context.Context) error {
	t := a.t
	for i := range a.p.Rotations {
		c := &a.p.Rotations[i]
		var kept *oncall.Rotation
		if c.Action == team.Create {
			id, err := t.insert(ctx, "INSERT INTO rotations (created_at) VALUES (?)", micros(t.now))
			if err != nil {
				return err
			}
			c.ID = id
		} else {
			latest, err := t.lockRotation(ctx, c.ID)
			if err != nil {
				return err
			}
			if latest.Version != c.ExpectVersion || !sameTime(latest.EffectiveTo, c.ExpectEnd) {
				return changed(fmt.Sprintf("rotation %d", c.ID))
			}
			if c.KeepVersion > 0 {
				versions, err := loadRotations(ctx, t.runner, "r.id = ?", c.ID)
				if err != nil {
					return err
				}
				for _, v := range versions {
					if v.Version == c.KeepVersion {
						kept = &v
					}
				}
				if kept == nil {
					return changed(fmt.Sprintf("rotation %d", c.ID))
				}
			}
			var first int64
			err = t.queryRow(ctx, `SELECT COALESCE(MIN(effective_from), 0) FROM rotation_versions
				WHERE rotation_id = ? AND version > ?`, c.ID, c.KeepVersion).Scan(&first)
			if err != nil {
				return fmt.Errorf("versions to drop: %w", err)
			}
			if first != 0 && !fromMicros(first).After(a.p.At) {
				return errs.E(errs.Conflict, "rotations", "rotation %d: a version in force since %s is on-call history and cannot be replaced",
					c.ID, fromMicros(first).Format(time.RFC3339))
			}
			if _, err := t.exec(ctx, "DELETE FROM rotation_versions WHERE rotation_id = ? AND version > ?", c.ID, c.KeepVersion); err != nil {
				return err
			}
			if c.Action == team.Delete && c.KeepVersion == 0 {
				// It never took effect: nothing of it is history.
				if _, err := t.exec(ctx, "DELETE FROM rotations WHERE id = ?", c.ID); err != nil {
					return err
				}
				continue
			}
		}
		prev := time.Time{}
		if kept != nil {
			prev = kept.EffectiveFrom
		}
		for j := range c.Add {
			v := c.Add[j]
			if err := a.engineerIDs(v.Participants); err != nil {
				return err
			}
			v, err := v.Normalize()
			if err != nil {
				return errs.Prefix("rotations", err)
			}
			if err := t.checkEngineers(ctx, v.Participants, func(k int) string { return fmt.Sprintf("rotations.participants[%d]", k) }); err != nil {
				return err
			}
			v.ID, v.Version = c.ID, c.KeepVersion+j+1
			v.EffectiveFrom = roundTime(v.EffectiveFrom)
			if !prev.IsZero() && !v.EffectiveFrom.After(prev) {
				return errs.E(errs.Conflict, "rotations", "rotation %d: version %d must take effect after %s", c.ID, v.Version, prev.Format(time.RFC3339))
			}
			if (kept != nil || j > 0) && v.EffectiveFrom.Before(roundTime(a.p.At)) {
				return errs.E(errs.Invalid, "rotations", "rotation %d: version %d from %s would rewrite who was on call", c.ID, v.Version, v.EffectiveFrom.Format(time.RFC3339))
			}
			spec, err := specOf(v)
			if err != nil {
				return err
			}
			if _, err := t.exec(ctx, `INSERT INTO rotation_versions (rotation_id, version, effective_from, spec)
				VALUES (?, ?, ?, ?)`, v.ID, v.Version, micros(v.EffectiveFrom), spec); err != nil {
				return err
			}
			prev = v.EffectiveFrom
			v.EffectiveTo = nil
			c.Add[j] = v
		}
		var end any
		if c.End != nil {
			e := roundTime(*c.End)
			if !prev.IsZero() && e.Before(prev) {
				return errs.E(errs.Invalid, "rotations", "rotation %d cannot end at %s, before its last version takes effect", c.ID, e.Format(time.RFC3339))
			}
			end = micros(e)
		}
		if _, err := t.exec(ctx, "UPDATE rotations SET ended_at = ? WHERE id = ?", end, c.ID); err != nil {
			return err
		}
		for j := range c.After {
			c.After[j].ID = c.ID
			if err := a.engineerIDs(c.After[j].Participants); err != nil {
				return err
			}
		}
	}
	return nil
}

// deletes deletes the engineers left out, once nothing to come names them.
func (a *teamApply) deletes(ctx context.Context) error {
	t := a.t
	for _, c := range a.p.Engineers {
		if c.Action != team.Delete {
			continue
		}
		before, err := t.lockEngineer(ctx, c.Before.ID)
		if err != nil {
			return err
		}
		if !sameJSON(before, *c.Before) {
			return changed(fmt.Sprintf("engineer %d", before.ID))
		}
		if err := t.engineerInUse(ctx, before.ID, a.p.At); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "UPDATE engineers SET deleted_at = ? WHERE id = ?", micros(t.now), before.ID); err != nil {
			return err
		}
		// The tokens go with the engineer, as DeleteEngineer does; the
		// import's one audit entry records the engineer's deletion.
		if _, err := t.exec(ctx, "UPDATE tokens SET revoked_at = ? WHERE engineer_id = ? AND revoked_at IS NULL", micros(t.now), before.ID); err != nil {
			return err
		}
	}
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
