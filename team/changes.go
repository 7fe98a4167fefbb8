package team

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// Change is one object an import creates, updates or deletes, as a diff
// shows it: its before and after (the API's JSON of the object; versions
// in force now or later for a rotation) and a line for people.
type Change struct {
	Entity  string `json:"entity"`       // engineer, rotation, override, policy
	ID      string `json:"id,omitempty"` // empty for an object not yet created
	Name    string `json:"name"`
	Action  string `json:"action"` // create, update, delete
	Summary string `json:"summary"`
	Before  any    `json:"before"`
	After   any    `json:"after"`
}

// Changes lists p's changes in the order they are applied.
func (p Plan) Changes() []Change {
	out := []Change{}
	for _, c := range p.Policies {
		out = append(out, Change{Entity: "policy", ID: string(c.After.Priority), Name: string(c.After.Priority), Action: c.Action,
			Summary: "steps: " + steps(c.Before) + " → " + steps(c.After), Before: c.Before, After: c.After})
	}
	for _, c := range p.Engineers {
		if c.Action != Delete {
			out = append(out, p.engineerChange(c))
		}
	}
	for _, c := range p.Overrides {
		ch := Change{Entity: "override", Action: c.Action, Before: c.Before, After: c.After}
		o := c.After
		if o == nil {
			o = c.Before
		}
		ch.Name = fmt.Sprintf("%s %s, %s", o.Level, o.Layer, p.name(o.EngineerID))
		if o.ID > 0 {
			ch.ID = strconv.FormatInt(o.ID, 10)
		}
		switch c.Action {
		case Update:
			ch.Summary = p.overrideDiff(*c.Before, *c.After)
		default:
			ch.Summary = p.span(o.Start, o.End)
		}
		out = append(out, ch)
	}
	for _, c := range p.Rotations {
		out = append(out, p.rotationChange(c))
	}
	for _, c := range p.Engineers {
		if c.Action == Delete {
			out = append(out, p.engineerChange(c))
		}
	}
	return out
}

func (p Plan) name(id int64) string {
	if n, ok := p.Names[id]; ok {
		return n
	}
	return fmt.Sprintf("#%d", id)
}

func (p Plan) engineerChange(c EngineerChange) Change {
	ch := Change{Entity: "engineer", Action: c.Action, Before: c.Before, After: c.After}
	e := c.After
	if e == nil {
		e = c.Before
	}
	ch.Name = e.Name
	if e.ID > 0 {
		ch.ID = strconv.FormatInt(e.ID, 10)
	}
	switch c.Action {
	case Create:
		ch.Summary = engineerLine(*e)
	case Delete:
		ch.Summary = "deleted (history keeps their name; their tokens are revoked)"
	default:
		var parts []string
		b, a := *c.Before, *c.After
		add := func(field, before, after string) {
			if before != after {
				parts = append(parts, fmt.Sprintf("%s: %s → %s", field, before, after))
			}
		}
		add("name", b.Name, a.Name)
		add("level", b.Level.String(), a.Level.String())
		add("languages", langs(b), langs(a))
		add("time_zone", b.TimeZone, a.TimeZone)
		add("contacts", contacts(b), contacts(a))
		ch.Summary = strings.Join(parts, "; ")
	}
	return ch
}

func engineerLine(e oncall.Engineer) string {
	return fmt.Sprintf("%s, %s, %s, %s", e.Level, langs(e), e.TimeZone, contacts(e))
}

func langs(e oncall.Engineer) string {
	s := make([]string, len(e.Languages))
	for i, l := range e.Languages {
		s[i] = string(l)
	}
	return strings.Join(s, " ")
}

func contacts(e oncall.Engineer) string {
	s := make([]string, len(e.Contacts))
	for i, c := range e.Contacts {
		s[i] = c.Phone
		if c.SMS {
			s[i] += " (sms)"
		}
		if c.Unverified {
			s[i] += " (unverified)"
		}
	}
	return strings.Join(s, ", ")
}

func (p Plan) span(from, to time.Time) string {
	return fmt.Sprintf("%s to %s", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
}

func (p Plan) overrideDiff(b, a oncall.Override) string {
	var parts []string
	add := func(field, before, after string) {
		if before != after {
			parts = append(parts, fmt.Sprintf("%s: %s → %s", field, before, after))
		}
	}
	add("level", b.Level.String(), a.Level.String())
	add("layer", b.Layer.String(), a.Layer.String())
	add("engineer", p.name(b.EngineerID), p.name(a.EngineerID))
	add("start", b.Start.UTC().Format(time.RFC3339), a.Start.UTC().Format(time.RFC3339))
	add("end", b.End.UTC().Format(time.RFC3339), a.End.UTC().Format(time.RFC3339))
	add("reason", strconv.Quote(b.Reason), strconv.Quote(a.Reason))
	return strings.Join(parts, "; ")
}

func (p Plan) rotationChange(c RotationChange) Change {
	ch := Change{Entity: "rotation", Action: c.Action, Before: c.Before, After: c.After}
	if c.ID > 0 {
		ch.ID = strconv.FormatInt(c.ID, 10)
	}
	switch {
	case len(c.After) > 0:
		ch.Name = c.After[len(c.After)-1].Name
	case len(c.Before) > 0:
		ch.Name = c.Before[len(c.Before)-1].Name
	}
	var parts []string
	switch c.Action {
	case Create:
		for _, v := range c.Add {
			parts = append(parts, fmt.Sprintf("from %s: %s", v.EffectiveFrom.Format(time.RFC3339), p.versionLine(v)))
		}
	case Delete:
		if c.End != nil {
			parts = append(parts, "ends at "+c.End.UTC().Format(time.RFC3339))
		} else {
			parts = append(parts, "removed: it has not started")
		}
	default:
		prev := oncall.Rotation{}
		for _, v := range c.Before {
			if v.Version == c.KeepVersion {
				prev = v
			}
			if v.Version > c.KeepVersion {
				parts = append(parts, fmt.Sprintf("drops version %d (from %s)", v.Version, v.EffectiveFrom.UTC().Format(time.RFC3339)))
			}
		}
		for _, v := range c.Add {
			diff := p.versionLine(v)
			if prev.Version != 0 || prev.Name != "" {
				diff = p.versionDiff(prev, v)
			}
			parts = append(parts, fmt.Sprintf("version from %s: %s", v.EffectiveFrom.UTC().Format(time.RFC3339), diff))
			prev = v
		}
		before := c.Before[len(c.Before)-1].EffectiveTo
		if !sameEnd(before, c.End) {
			if c.End == nil {
				parts = append(parts, "no longer ends")
			} else {
				parts = append(parts, "ends at "+c.End.UTC().Format(time.RFC3339))
			}
		}
	}
	ch.Summary = strings.Join(parts, "; ")
	return ch
}

func (p Plan) participants(r oncall.Rotation) string {
	s := make([]string, len(r.Participants))
	for i, id := range r.Participants {
		s[i] = p.name(id)
	}
	return strings.Join(s, ", ")
}

func (p Plan) versionLine(r oncall.Rotation) string {
	return fmt.Sprintf("%s %s, %s, hand-off %s %s, every %s from %s, participants %s",
		r.Level, r.Layer, r.Name, r.Handoff, r.TimeZone, r.ShiftLength, r.Start, p.participants(r))
}

func (p Plan) versionDiff(b, a oncall.Rotation) string {
	var parts []string
	add := func(field, before, after string) {
		if before != after {
			parts = append(parts, fmt.Sprintf("%s: %s → %s", field, before, after))
		}
	}
	add("name", b.Name, a.Name)
	add("level", b.Level.String(), a.Level.String())
	add("layer", b.Layer.String(), a.Layer.String())
	add("time_zone", b.TimeZone, a.TimeZone)
	add("handoff", b.Handoff.String(), a.Handoff.String())
	add("shift_length", b.ShiftLength.String(), a.ShiftLength.String())
	add("start", b.Start.String(), a.Start.String())
	add("participants", p.participants(b), p.participants(a))
	add("restrictions", restrictions(b), restrictions(a))
	if len(parts) == 0 {
		return "the same rules"
	}
	return strings.Join(parts, "; ")
}

func restrictions(r oncall.Rotation) string {
	if len(r.Restrictions) == 0 {
		return "none"
	}
	s := make([]string, len(r.Restrictions))
	for i, x := range r.Restrictions {
		days := make([]string, len(x.Weekdays))
		for j, d := range x.Weekdays {
			days[j] = d.String()
		}
		s[i] = x.Start.String() + "-" + x.End.String()
		if len(days) > 0 {
			s[i] += " " + strings.Join(days, ",")
		}
	}
	return strings.Join(s, "; ")
}

func steps(p oncall.Policy) string {
	s := make([]string, len(p.Steps))
	for i, st := range p.Steps {
		ch := make([]string, len(st.Channels))
		for j, c := range st.Channels {
			ch[j] = string(c)
		}
		s[i] = fmt.Sprintf("%s %s %s", st.Level, strings.Join(ch, "+"), st.Delay)
	}
	return strings.Join(s, ", ")
}

// AuditItem is one changed object in an import's audit entry.
type AuditItem struct {
	Entity string `json:"entity"`
	ID     string `json:"id"`
	Action string `json:"action"`
	Value  any    `json:"value"` // null: none (before a create, after a delete)
}

// Audit is the before and after of an import's one audit entry: each
// changed object's, in the order applied, the same entity, id and action
// at the same index of both.
func (p Plan) Audit() (before, after []AuditItem) {
	for _, c := range p.Changes() {
		before = append(before, AuditItem{Entity: c.Entity, ID: c.ID, Action: c.Action, Value: orNil(c.Before)})
		after = append(after, AuditItem{Entity: c.Entity, ID: c.ID, Action: c.Action, Value: orNil(c.After)})
	}
	return before, after
}

// orNil turns a typed nil (a *Engineer or a []Rotation that is nil) into a
// plain nil, which JSON writes as null.
func orNil(v any) any {
	switch x := v.(type) {
	case *oncall.Engineer:
		if x == nil {
			return nil
		}
	case *oncall.Override:
		if x == nil {
			return nil
		}
	case []oncall.Rotation:
		if x == nil {
			return nil
		}
	}
	return v
}
