package team

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// Compare checks doc against the stored team st at now and returns what an
// import of doc changes; an empty plan when doc says what is stored. Every
// rule is checked before anything is planned: the first broken one is an
// Invalid error naming the field by its path and the line
// ("rotations[1].participants[0]", "line 14: there is no engineer named …").
func Compare(doc *Document, st State, now time.Time) (Plan, error) {
	c := &comparison{doc: doc, st: st, now: now, plan: Plan{At: now, Names: map[int64]string{}}}
	for _, step := range []func() error{c.engineers, c.rotations, c.overrides, c.policies} {
		if err := step(); err != nil {
			return Plan{}, err
		}
	}
	c.plan.Engineers = append(c.plan.Engineers, c.deletes...)
	return c.plan, nil
}

type comparison struct {
	doc  *Document
	st   State
	now  time.Time
	plan Plan

	ids     map[string]int64 // engineer name → id (a placeholder for a new one)
	deletes []EngineerChange // engineers left out, applied last
}

func (c *comparison) engineers() error {
	live := map[int64]oncall.Engineer{}
	for _, e := range c.st.Engineers {
		live[e.ID] = e
		c.plan.Names[e.ID] = e.Name
	}
	c.ids = map[string]int64{}
	names := map[string]int{} // name → index in the document
	seen := map[int64]int{}   // id → index in the document
	placeholder := int64(0)
	// An engineer without an id is the stored one of the same name, when
	// the file lists that one by no id: a file kept without ids imports
	// the same way twice.
	claimed := map[int64]bool{}
	for _, d := range c.doc.Engineers {
		claimed[d.Engineer.ID] = true
	}
	byName := map[string]int64{}
	for _, e := range c.st.Engineers {
		if !claimed[e.ID] {
			if _, twice := byName[e.Name]; twice {
				byName[e.Name] = 0 // two of that name: neither is meant
			} else {
				byName[e.Name] = e.ID
			}
		}
	}
	for i, d := range c.doc.Engineers {
		e := d.Engineer
		if id := byName[e.Name]; e.ID == 0 && id > 0 {
			e.ID = id
		}
		nameNode := d.node.find("name")
		if j, dup := names[e.Name]; dup {
			return nameNode.fail("%q is also the name of engineers[%d] (line %d): names must be unique in the file, since rotations and overrides name engineers by name",
				e.Name, j, c.doc.Engineers[j].node.line())
		}
		names[e.Name] = i
		if e.ID == 0 {
			placeholder--
			e.ID = placeholder
			c.ids[e.Name] = e.ID
			c.plan.Names[e.ID] = e.Name
			after := e
			c.plan.Engineers = append(c.plan.Engineers, EngineerChange{Action: Create, After: &after})
			continue
		}
		idNode := d.node.find("id")
		if j, dup := seen[e.ID]; dup {
			return idNode.fail("engineer %d is listed twice, here and as engineers[%d] (line %d)", e.ID, j, c.doc.Engineers[j].node.line())
		}
		seen[e.ID] = i
		before, ok := live[e.ID]
		if !ok {
			return idNode.fail("there is no engineer %d (deleted, or never created); leave the id out for a new engineer", e.ID)
		}
		c.ids[e.Name] = e.ID
		c.plan.Names[e.ID] = e.Name
		e.CreatedAt = before.CreatedAt
		if !sameEngineer(before, e) {
			b, a := before, e
			c.plan.Engineers = append(c.plan.Engineers, EngineerChange{Action: Update, Before: &b, After: &a})
		}
	}
	for _, e := range c.st.Engineers {
		if _, ok := seen[e.ID]; !ok {
			b := e
			c.deletes = append(c.deletes, EngineerChange{Action: Delete, Before: &b})
		}
	}
	return nil
}

func sameEngineer(a, b oncall.Engineer) bool {
	return a.Name == b.Name && a.Level == b.Level && slices.Equal(a.Languages, b.Languages) &&
		a.TimeZone == b.TimeZone && slices.Equal(a.Contacts, b.Contacts)
}

// engineer resolves a name of the document's engineers.
func (c *comparison) engineer(name string, at node) (int64, error) {
	id, ok := c.ids[name]
	if !ok {
		return 0, at.fail("there is no engineer named %q in this file's engineers", name)
	}
	return id, nil
}

func (c *comparison) rotations() error {
	stored := map[int64][]oncall.Rotation{} // every version
	for _, r := range c.st.Rotations {
		stored[r.ID] = append(stored[r.ID], r)
	}
	live := map[int64][]oncall.Rotation{}
	var liveIDs []int64
	for _, vs := range liveRotations(c.st.Rotations, c.now) {
		live[vs[0].ID] = vs
		liveIDs = append(liveIDs, vs[0].ID)
	}
	// A rotation without an id is the stored one in force of the same
	// name, level and layer that the file lists by no id.
	claimed := map[int64]bool{}
	for _, d := range c.doc.Rotations {
		claimed[d.ID] = true
	}
	type key struct {
		name  string
		level oncall.Level
		layer oncall.Layer
	}
	byName := map[key]int64{}
	for _, id := range liveIDs {
		if claimed[id] {
			continue
		}
		r := live[id][0]
		k := key{r.Name, r.Level, r.Layer}
		if _, twice := byName[k]; twice {
			byName[k] = 0
		} else {
			byName[k] = id
		}
	}
	seen := map[int64]int{}
	for i, d := range c.doc.Rotations {
		want, err := c.versions(d)
		if err != nil {
			return err
		}
		// Versions the file lists that a later one of it has replaced by
		// now are history (a file exported before a version to come took
		// effect): the comparison starts at the one in force.
		m := 0
		for j, v := range want {
			if (j == 0 && v.EffectiveFrom.IsZero()) || (!v.EffectiveFrom.IsZero() && !v.EffectiveFrom.After(c.now)) {
				m = j
			}
		}
		want, d.Versions = want[m:], d.Versions[m:]
		if v := d.Versions[0].Rotation; d.ID == 0 {
			if id := byName[key{v.Name, v.Level, v.Layer}]; id > 0 {
				d.ID = id
				for j := range want {
					want[j].ID = id
				}
			}
		}
		if m > 0 && !slices.ContainsFunc(stored[d.ID], func(s oncall.Rotation) bool {
			return s.EffectiveFrom.Equal(want[0].EffectiveFrom) && sameSpec(s, want[0])
		}) {
			// Not a version to come that has taken effect since: an edit
			// that would rewrite the past.
			return d.Versions[0].fromNode.fail("%s is in the past; a version to come takes effect later than now", want[0].EffectiveFrom.Format(time.RFC3339))
		}
		if d.ID == 0 {
			if err := c.newRotation(d, want); err != nil {
				return err
			}
			continue
		}
		idNode := d.node.find("id")
		if j, dup := seen[d.ID]; dup {
			return idNode.fail("rotation %d is listed twice, here and as rotations[%d] (line %d)", d.ID, j, c.doc.Rotations[j].node.line())
		}
		seen[d.ID] = i
		have, ok := live[d.ID]
		if !ok {
			if all := stored[d.ID]; len(all) > 0 {
				end := all[len(all)-1].EffectiveTo
				if d.End != nil && end != nil && d.End.Equal(*end) {
					continue // ended as the file says, since it was written: history
				}
				return idNode.fail("rotation %d ended at %s; leave the id out to start a new rotation", d.ID, end.Format(time.RFC3339))
			}
			return idNode.fail("there is no rotation %d; leave the id out for a new rotation", d.ID)
		}
		if err := c.changeRotation(d, want, have); err != nil {
			return err
		}
	}
	for _, id := range liveIDs {
		if _, ok := seen[id]; ok {
			continue
		}
		have := live[id]
		ch := RotationChange{Action: Delete, ID: id, Before: have,
			ExpectVersion: have[len(have)-1].Version, ExpectEnd: have[len(have)-1].EffectiveTo}
		if !have[0].EffectiveFrom.After(c.now) {
			end := c.now
			ch.KeepVersion, ch.End = have[0].Version, &end
			kept := have[0]
			kept.EffectiveTo = &end
			ch.After = []oncall.Rotation{kept}
		}
		c.plan.Rotations = append(c.plan.Rotations, ch)
	}
	return nil
}

// versions resolves a document rotation's versions: participants to ids.
func (c *comparison) versions(d DocRotation) ([]oncall.Rotation, error) {
	out := make([]oncall.Rotation, len(d.Versions))
	for i, v := range d.Versions {
		r := v.Rotation
		r.ID = d.ID
		r.Participants = make([]int64, len(v.Participants))
		for j, name := range v.Participants {
			id, err := c.engineer(name, v.partNodes[j])
			if err != nil {
				return nil, err
			}
			r.Participants[j] = id
		}
		r.EffectiveFrom = v.From
		out[i] = r
	}
	return out, nil
}

func (c *comparison) newRotation(d DocRotation, want []oncall.Rotation) error {
	if want[0].EffectiveFrom.IsZero() {
		want[0].EffectiveFrom = c.now
	}
	for i := 1; i < len(want); i++ {
		v := d.Versions[i]
		if !want[i].EffectiveFrom.After(c.now) {
			return v.fromNode.fail("%s is in the past; a version to come takes effect later than now", want[i].EffectiveFrom.Format(time.RFC3339))
		}
		if !want[i].EffectiveFrom.After(want[i-1].EffectiveFrom) {
			return v.fromNode.fail("must be later than the effective_from of the version before it")
		}
	}
	if err := c.checkEnd(d, want); err != nil {
		return err
	}
	for i := range want {
		want[i].Version = i + 1
		want[i].EffectiveFrom = want[i].EffectiveFrom.UTC()
	}
	after := slices.Clone(want)
	for i := 0; i+1 < len(after); i++ {
		to := after[i+1].EffectiveFrom
		after[i].EffectiveTo = &to
	}
	after[len(after)-1].EffectiveTo = d.End
	c.plan.Rotations = append(c.plan.Rotations, RotationChange{Action: Create, After: after, Add: want, End: utcPtr(d.End)})
	return nil
}

// checkEnd checks a rotation's ends_at: later than now and than its last
// version's start.
func (c *comparison) checkEnd(d DocRotation, want []oncall.Rotation) error {
	if d.End == nil {
		return nil
	}
	if !d.End.After(c.now) {
		return d.endNode.fail("%s is in the past; a rotation ends now or later (leave the rotation out to end it now)", d.End.Format(time.RFC3339))
	}
	if last := want[len(want)-1]; !d.End.After(last.EffectiveFrom) {
		return d.endNode.fail("must be later than %s, when the rotation's last version takes effect", last.EffectiveFrom.Format(time.RFC3339))
	}
	return nil
}

// changeRotation compares a document rotation's versions, want, with the
// stored ones in force now or later, have. The versions that agree from the
// first on stay; a version in force now stays as history even when it
// changes (the change takes effect now); the later stored versions, all to
// come, are replaced by the document's.
func (c *comparison) changeRotation(d DocRotation, want, have []oncall.Rotation) error {
	k := 0
	for k < len(want) && k < len(have) && c.sameVersion(want[k], have[k]) {
		k++
	}
	storedEnd := have[len(have)-1].EffectiveTo
	if k == len(want) && k == len(have) && sameEnd(d.End, storedEnd) {
		return nil
	}
	ch := RotationChange{Action: Update, ID: d.ID, Before: have,
		ExpectVersion: have[len(have)-1].Version, ExpectEnd: storedEnd}
	var kept []oncall.Rotation
	switch {
	case k > 0:
		kept = slices.Clone(have[:k])
	case !have[0].EffectiveFrom.After(c.now):
		kept = []oncall.Rotation{have[0]} // in force now: history from its start
	}
	if len(kept) > 0 {
		ch.KeepVersion = kept[len(kept)-1].Version
	}
	add := slices.Clone(want[k:])
	for i := range add {
		v := d.Versions[k+i]
		if !add[i].EffectiveFrom.After(c.now) {
			if k+i > 0 { // only the first version of the file is the one in force now
				return v.fromNode.fail("%s is in the past; a version to come takes effect later than now", add[i].EffectiveFrom.Format(time.RFC3339))
			}
			add[i].EffectiveFrom = c.now // an edit of the version in force now takes effect now
		}
		prev := time.Time{}
		switch {
		case i > 0:
			prev = add[i-1].EffectiveFrom
		case len(kept) > 0:
			prev = kept[len(kept)-1].EffectiveFrom
		}
		if !prev.IsZero() && !add[i].EffectiveFrom.After(prev) {
			at := v.fromNode
			return at.fail("must be later than %s, when the version before it takes effect", prev.Format(time.RFC3339))
		}
		add[i].EffectiveFrom = add[i].EffectiveFrom.UTC()
		add[i].Version = ch.KeepVersion + i + 1
		add[i].EffectiveTo = nil
	}
	after := append(slices.Clone(kept), add...)
	if err := c.checkEnd(d, after); err != nil {
		return err
	}
	for i := range after {
		after[i].EffectiveTo = nil
		if i+1 < len(after) {
			to := after[i+1].EffectiveFrom
			after[i].EffectiveTo = &to
		}
	}
	after[len(after)-1].EffectiveTo = utcPtr(d.End)
	ch.After, ch.Add, ch.End = after, add, utcPtr(d.End)
	c.plan.Rotations = append(c.plan.Rotations, ch)
	return nil
}

// sameVersion: the same rules from the same instant; two versions both in
// force by now count as the same whatever their starts, so that a file
// exported before an edit took effect still agrees with it.
func (c *comparison) sameVersion(want, have oncall.Rotation) bool {
	if !sameSpec(want, have) {
		return false
	}
	from := want.EffectiveFrom
	if from.IsZero() {
		from = c.now
	}
	return from.Equal(have.EffectiveFrom) || (!from.After(c.now) && !have.EffectiveFrom.After(c.now))
}

func sameSpec(a, b oncall.Rotation) bool {
	norm := func(r oncall.Rotation) oncall.Rotation {
		r.ID, r.Version, r.EffectiveFrom, r.EffectiveTo = 0, 0, time.Time{}, nil
		if len(r.Restrictions) == 0 {
			r.Restrictions = nil
		}
		rs := make([]oncall.Restriction, len(r.Restrictions))
		for i, x := range r.Restrictions {
			if len(x.Weekdays) == 0 {
				x.Weekdays = nil
			}
			rs[i] = x
		}
		if r.Restrictions != nil {
			r.Restrictions = rs
		}
		return r
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func sameEnd(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// planned is an override of the team after the import, for the overlap
// check: from the document (doc >= 0, its index) or stored history.
type planned struct {
	o   oncall.Override
	doc int
}

func (c *comparison) overrides() error {
	stored := map[int64]oncall.Override{}
	for _, o := range c.st.Overrides {
		stored[o.ID] = o
	}
	// An override without an id is a stored one to come or in progress
	// with the same level, layer, engineer and times that the file lists
	// by no id.
	claimed := map[int64]bool{}
	for _, d := range c.doc.Overrides {
		claimed[d.Override.ID] = true
	}
	seen := map[int64]int{}
	var final []planned
	for i, d := range c.doc.Overrides {
		o := d.Override
		id, err := c.engineer(d.Engineer, d.engNode)
		if err != nil {
			return err
		}
		o.EngineerID = id
		if o.ID == 0 {
			for _, s := range c.st.Overrides {
				if !claimed[s.ID] && s.End.After(c.now) && s.Level == o.Level && s.Layer == o.Layer &&
					s.EngineerID == o.EngineerID && s.Start.Equal(o.Start) && s.End.Equal(o.End) {
					o.ID = s.ID
					claimed[s.ID] = true
					break
				}
			}
		}
		if o.ID == 0 {
			if !o.End.After(c.now) {
				return d.node.find("end").fail("%s is in the past; an override covers time to come", o.End.Format(time.RFC3339))
			}
			after := o
			c.plan.Overrides = append(c.plan.Overrides, OverrideChange{Action: Create, After: &after})
			final = append(final, planned{o, i})
			continue
		}
		idNode := d.node.find("id")
		if j, dup := seen[o.ID]; dup {
			return idNode.fail("override %d is listed twice, here and as overrides[%d] (line %d)", o.ID, j, c.doc.Overrides[j].node.line())
		}
		seen[o.ID] = i
		before, ok := stored[o.ID]
		if !ok {
			return idNode.fail("there is no override %d; leave the id out for a new override", o.ID)
		}
		o.CreatedAt = before.CreatedAt
		same := sameOverride(before, o)
		switch {
		case !before.End.After(c.now):
			if !same {
				return idNode.fail("override %d ended at %s: it is on-call history and cannot change; leave the id out for new cover", o.ID, before.End.Format(time.RFC3339))
			}
			continue // history: in the file or not, it stays
		case !before.Start.After(c.now) && !same:
			return idNode.fail("override %d started at %s: it is part of the on-call history and cannot change", o.ID, before.Start.Format(time.RFC3339))
		case !same:
			b, a := before, o
			c.plan.Overrides = append(c.plan.Overrides, OverrideChange{Action: Update, Before: &b, After: &a})
		}
		final = append(final, planned{o, i})
	}
	for _, o := range c.st.Overrides {
		if _, ok := seen[o.ID]; ok {
			continue
		}
		switch {
		case !o.End.After(c.now):
			final = append(final, planned{o, -1})
		case !o.Start.After(c.now):
			return c.doc.overrides.fail("override %d (%s %s, %s, until %s) has started: it is part of the on-call history and cannot be removed; keep it in the file",
				o.ID, o.Level, o.Layer, c.plan.Names[o.EngineerID], o.End.Format(time.RFC3339))
		default:
			b := o
			c.plan.Overrides = append(c.plan.Overrides, OverrideChange{Action: Delete, Before: &b})
		}
	}
	return c.overlaps(final)
}

func sameOverride(a, b oncall.Override) bool {
	return a.Level == b.Level && a.Layer == b.Layer && a.EngineerID == b.EngineerID &&
		a.Start.Equal(b.Start) && a.End.Equal(b.End) && a.Reason == b.Reason
}

// overlaps refuses two overrides of one level and layer covering a common
// instant, naming the one later in the file.
func (c *comparison) overlaps(final []planned) error {
	slices.SortFunc(final, func(a, b planned) int {
		if a.o.Level != b.o.Level {
			return int(a.o.Level - b.o.Level)
		}
		if a.o.Layer != b.o.Layer {
			return int(a.o.Layer - b.o.Layer)
		}
		return a.o.Start.Compare(b.o.Start)
	})
	// Sorted so, an override overlaps one before it exactly when it starts
	// before the latest end so far of its level and layer.
	latest := -1 // index in final of the latest-ending override of the current level and layer
	for i := range final {
		if latest >= 0 && (final[latest].o.Level != final[i].o.Level || final[latest].o.Layer != final[i].o.Layer) {
			latest = -1
		}
		if latest >= 0 && final[latest].o.Overlaps(final[i].o) && max(final[latest].doc, final[i].doc) >= 0 {
			a, b := final[latest], final[i]
			if a.doc > b.doc {
				a, b = b, a
			}
			other := fmt.Sprintf("override %d, which ended", a.o.ID)
			if a.doc >= 0 {
				other = fmt.Sprintf("overrides[%d] (line %d)", a.doc, c.doc.Overrides[a.doc].node.line())
			}
			return c.doc.Overrides[b.doc].node.find("start").fail("overlaps %s: both put someone on call at %s %s from %s to %s",
				other, a.o.Level, a.o.Layer, a.o.Start.Format(time.RFC3339), a.o.End.Format(time.RFC3339))
		}
		if latest < 0 || final[i].o.End.After(final[latest].o.End) {
			latest = i
		}
	}
	return nil
}

func (c *comparison) policies() error {
	want := map[oncall.Priority]oncall.Policy{}
	for _, d := range c.doc.Policies {
		want[d.Policy.Priority] = d.Policy
	}
	have := map[oncall.Priority]oncall.Policy{}
	for _, p := range c.st.Policies {
		have[p.Priority] = p
	}
	for _, p := range oncall.Priorities {
		w, ok := want[p]
		if !ok {
			w = oncall.DefaultPolicy(p)
		}
		h, ok := have[p]
		if !ok {
			h = oncall.DefaultPolicy(p)
		}
		if reflect.DeepEqual(w.Steps, h.Steps) {
			continue
		}
		w.UpdatedAt = time.Time{}
		c.plan.Policies = append(c.plan.Policies, PolicyChange{Action: Update, Before: h, After: w})
	}
	return nil
}
