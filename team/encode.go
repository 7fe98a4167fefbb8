package team

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/supportdesk/ivr/oncall"
)

// Header is the comment a document starts with: what it is and how to
// import it.
const header = `The support team: engineers, rotations, overrides and escalation policies,
as one document to review and edit. See what an import would change, then apply it:

  ivr schedule import --dry-run team.yaml
  ivr schedule import team.yaml

The file is the whole team: an import makes the service match it, everything
in one transaction with one audit entry, or nothing when any value is wrong.
What the file leaves out is removed: an engineer is deleted (their tokens
revoked), a rotation ends now (one that has not started disappears), an
override that has not started is deleted. An override that has started can
neither change nor go. A policy left out goes back to its default.

Rotations and overrides name engineers by name, so names are unique here. An
entry without an id is new, unless the service has one this file lists by no
id with the same name (an engineer; a rotation, of the same level and layer)
or the same level, layer, engineer and times (an override): a file kept
without ids imports the same way twice. Times are RFC 3339 with their offset.
A changed rotation takes effect now, unless its effective_from is later; later
versions are listed under next_versions.`

// Export writes st as the team document, with comments for a reviewer:
// engineers by id, the rotations' versions in force at now or later, the
// overrides that end after now, and the four policies. Importing what it
// writes changes nothing.
func Export(st State, now time.Time, source string) ([]byte, error) {
	names := map[int64]string{}
	zones := map[int64]*time.Location{}
	for _, e := range st.Engineers {
		names[e.ID] = e.Name
		if loc, err := oncall.LoadZone(e.TimeZone); err == nil {
			zones[e.ID] = loc
		}
	}
	name := func(id int64) string {
		if n, ok := names[id]; ok {
			return n
		}
		return fmt.Sprintf("#%d (not an engineer of this file)", id)
	}

	root := mapNode()
	head := header
	if source != "" {
		head = fmt.Sprintf("Exported from %s at %s.\n\n%s", source, now.UTC().Format(time.RFC3339), header)
	}

	engineers := seqNode()
	for _, e := range st.Engineers {
		contacts := seqNode()
		for _, c := range e.Contacts {
			cn := flowMap("phone", str(c.Phone), "sms", boolean(c.SMS))
			if c.Unverified {
				cn.Content = append(cn.Content, str("verified"), boolean(false))
			}
			contacts.Content = append(contacts.Content, cn)
		}
		langs := flowSeq()
		for _, l := range e.Languages {
			langs.Content = append(langs.Content, str(string(l)))
		}
		engineers.Content = append(engineers.Content, mapNode(
			"id", integer(e.ID), "name", str(e.Name), "level", str(e.Level.String()),
			"languages", langs, "time_zone", str(e.TimeZone), "contacts", contacts))
	}
	addMember(root, "engineers", engineers,
		"id: the engineer's (leave it out for a new one); level: L1, L2 or L3; languages: ru, en;\ntime_zone: IANA, such as Europe/Moscow; contacts: phones in international form, sms: receives texts;\n"+
			"verified: false marks a number its engineer added and has not confirmed with the code sent to it\n(no page goes to it); without it, a number is trusted, as an admin's are.")

	rotations := seqNode()
	for _, versions := range liveRotations(st.Rotations, now) {
		first := versions[0]
		n := versionNode(first, name, now, true)
		n.Content = append([]*yaml.Node{str("id"), integer(first.ID)}, n.Content...)
		n.HeadComment = comment(fmt.Sprintf("%s (rotation %d)", first.Name, first.ID))
		last := versions[len(versions)-1]
		if len(versions) > 1 {
			next := seqNode()
			for _, v := range versions[1:] {
				next.Content = append(next.Content, versionNode(v, name, now, false))
			}
			addMember(n, "next_versions", next, "")
		}
		if last.EffectiveTo != nil {
			end := scalarTime(*last.EffectiveTo, zoneOf(last))
			end.LineComment = "# the rotation ends here"
			addMember(n, "ends_at", end, "")
		}
		rotations.Content = append(rotations.Content, n)
	}
	addMember(root, "rotations", rotations,
		"Each rotation with its version in force now (or its first, if it has not started) and next_versions,\n"+
			"the versions to come. participants: engineers of this file by name, in order; handoff and\n"+
			"restrictions in the rotation's time_zone; shift_length: {days: N} or {hours: N}.")

	overrides := seqNode()
	for _, o := range liveOverrides(st.Overrides, now) {
		loc := zones[o.EngineerID]
		if loc == nil {
			loc = time.UTC
		}
		n := mapNode("id", integer(o.ID), "level", str(o.Level.String()), "layer", str(o.Layer.String()),
			"engineer", str(name(o.EngineerID)), "start", scalarTime(o.Start, loc), "end", scalarTime(o.End, loc))
		if o.Reason != "" {
			addMember(n, "reason", str(o.Reason), "")
		}
		if !o.Start.After(now) {
			n.HeadComment = comment("in progress: it can neither change nor go")
		}
		overrides.Content = append(overrides.Content, n)
	}
	addMember(root, "overrides", overrides,
		"Overrides that end after the export, times in the engineer's zone. layer: primary or secondary.")

	policies := mapNode()
	for _, p := range st.Policies {
		steps := seqNode()
		for _, s := range p.Steps {
			chans := flowSeq()
			for _, c := range s.Channels {
				chans.Content = append(chans.Content, str(string(c)))
			}
			steps.Content = append(steps.Content, flowMap("level", str(s.Level.String()), "channels", chans, "delay", str(duration(time.Duration(s.Delay)))))
		}
		note := "# answered within " + duration(p.Priority.ResponseTime())
		if p.UpdatedAt.IsZero() {
			note += "; the default"
		}
		addMember(policies, string(p.Priority), steps, "")
		policies.Content[len(policies.Content)-2].LineComment = note
	}
	addMember(root, "policies", policies,
		"The escalation of a page of each priority: each step pages the level's on-call engineer on its\n"+
			"channels in turn and waits delay (at least 5m) for an acknowledgement; the delays fit in the\n"+
			"guaranteed response time.")

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, HeadComment: comment(head), Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("encode team: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode team: %w", err)
	}
	return buf.Bytes(), nil
}

// versionNode writes one version of a rotation.
func versionNode(v oncall.Rotation, name func(int64) string, now time.Time, first bool) *yaml.Node {
	loc := zoneOf(v)
	from := scalarTime(v.EffectiveFrom, loc)
	switch {
	case !v.EffectiveFrom.After(now):
		from.LineComment = fmt.Sprintf("# version %d, in force now", v.Version)
	case first:
		from.LineComment = fmt.Sprintf("# version %d, from then on", v.Version)
	default:
		from.LineComment = fmt.Sprintf("# version %d", v.Version)
	}
	var shift *yaml.Node
	if v.ShiftLength.Days > 0 {
		shift = flowMap("days", integer(int64(v.ShiftLength.Days)))
	} else {
		shift = flowMap("hours", integer(int64(v.ShiftLength.Hours)))
	}
	parts := seqNode()
	for _, id := range v.Participants {
		parts.Content = append(parts.Content, str(name(id)))
	}
	n := mapNode("effective_from", from, "name", str(v.Name), "level", str(v.Level.String()), "layer", str(v.Layer.String()),
		"time_zone", str(v.TimeZone), "handoff", clock(v.Handoff), "shift_length", shift,
		"start", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: v.Start.String()},
		"participants", parts)
	if len(v.Restrictions) > 0 {
		rs := seqNode()
		for _, x := range v.Restrictions {
			r := flowMap()
			if len(x.Weekdays) > 0 {
				days := flowSeq()
				for _, d := range x.Weekdays {
					days.Content = append(days.Content, str(d.String()))
				}
				r = flowMap("weekdays", days)
			}
			r.Content = append(r.Content, str("start"), clock(x.Start), str("end"), clock(x.End))
			rs.Content = append(rs.Content, r)
		}
		addMember(n, "restrictions", rs, "")
	}
	return n
}

func zoneOf(r oncall.Rotation) *time.Location {
	if loc, err := r.Location(); err == nil {
		return loc
	}
	return time.UTC
}

// liveRotations groups the versions in force at now or later by rotation,
// rotations by id.
func liveRotations(all []oncall.Rotation, now time.Time) [][]oncall.Rotation {
	byID := map[int64][]oncall.Rotation{}
	var ids []int64
	for _, r := range all {
		if r.EffectiveTo != nil && !r.EffectiveTo.After(now) {
			continue
		}
		if _, ok := byID[r.ID]; !ok {
			ids = append(ids, r.ID)
		}
		byID[r.ID] = append(byID[r.ID], r)
	}
	slices.Sort(ids)
	out := make([][]oncall.Rotation, len(ids))
	for i, id := range ids {
		vs := byID[id]
		slices.SortFunc(vs, func(a, b oncall.Rotation) int { return a.Version - b.Version })
		out[i] = vs
	}
	return out
}

// liveOverrides are the overrides that end after now, by start.
func liveOverrides(all []oncall.Override, now time.Time) []oncall.Override {
	var out []oncall.Override
	for _, o := range all {
		if o.End.After(now) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b oncall.Override) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out
}

// duration writes d as Go does, without zero minutes and seconds: 15m, 1h,
// 1h30m.
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func comment(s string) string {
	var b bytes.Buffer
	for i, line := range bytes.Split([]byte(s), []byte("\n")) {
		if i > 0 {
			b.WriteByte('\n')
		}
		if len(line) == 0 {
			b.WriteString("#")
			continue
		}
		b.WriteString("# ")
		b.Write(line)
	}
	return b.String()
}

func mapNode(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, str(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

func flowMap(kv ...any) *yaml.Node {
	n := mapNode(kv...)
	n.Style = yaml.FlowStyle
	return n
}

func seqNode() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

func flowSeq() *yaml.Node {
	n := seqNode()
	n.Style = yaml.FlowStyle
	return n
}

// addMember appends key: v to mapping m, with a comment above the key.
func addMember(m *yaml.Node, key string, v *yaml.Node, head string) {
	k := str(key)
	if head != "" {
		k.HeadComment = comment(head)
	}
	m.Content = append(m.Content, k, v)
}

// str is a string, quoted where YAML would read it as something else.
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func integer(n int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(n, 10)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// clock is a time of day, quoted: YAML 1.1 readers take 09:00 for a number.
func clock(c oncall.ClockTime) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: c.String(), Style: yaml.DoubleQuotedStyle}
}

func scalarTime(t time.Time, loc *time.Location) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: t.In(loc).Format(time.RFC3339Nano)}
}
