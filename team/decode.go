package team

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// Document is the team as a file writes it, each value with its line. Its
// values have passed their own checks (a known zone, a phone number, a
// policy that ends in time); Compare checks what needs the whole team.
type Document struct {
	Engineers []DocEngineer
	Rotations []DocRotation
	Overrides []DocOverride
	Policies  []DocPolicy

	root, overrides node
}

// CheckEngineers runs check on every engineer of d (normalised), and
// returns the first error with the engineer's line and field path, as
// Decode's own.
func (d *Document) CheckEngineers(check func(oncall.Engineer) error) error {
	for _, e := range d.Engineers {
		if err := check(e.Engineer); err != nil {
			return e.node.at(err)
		}
	}
	return nil
}

// DocEngineer is one engineer of a document; ID 0 for a new one.
type DocEngineer struct {
	Engineer oncall.Engineer
	node     node
}

// DocRotation is one rotation: its version in force now (or its first, for
// one still to start) and the versions to come, in order; ID 0 for a new
// rotation.
type DocRotation struct {
	ID       int64
	Versions []DocVersion
	End      *time.Time // ends_at
	node     node
	endNode  node
}

// DocVersion is one version of a rotation. Its Rotation's Participants are
// unset: Participants names them.
type DocVersion struct {
	Rotation     oncall.Rotation
	From         time.Time // effective_from; zero when left out
	Participants []string
	node         node
	fromNode     node
	partNodes    []node
}

// DocOverride is one override; its Override's EngineerID is unset: Engineer
// names them.
type DocOverride struct {
	Override oncall.Override
	Engineer string
	node     node
	engNode  node
}

// DocPolicy is the escalation policy of one priority.
type DocPolicy struct {
	Policy oncall.Policy
	node   node
}

// textField is a member decoded through its UnmarshalText.
type textField struct {
	key string
	dst interface{ UnmarshalText([]byte) error }
}

// MaxSize is the largest document Decode reads.
const MaxSize = 4 << 20

var yamlLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\s*)?line (\d+): `)

// Decode reads a team document. Errors are Invalid, naming the field by its
// path (rotations[1].participants[0]) and the line in the message
// ("line 14: …").
func Decode(data []byte) (*Document, error) {
	if len(data) > MaxSize {
		return nil, errs.InvalidField("", "the document is larger than %d bytes", MaxSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errs.InvalidField("", "the document is empty; export one with `ivr schedule export`")
		}
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			msg = "line " + m[1] + ": " + msg[len(m[0]):]
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		return nil, errs.InvalidField("", "not valid YAML: %s", msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errs.InvalidField("", "line %d: the file holds more than one YAML document", extra.Line)
	}
	if a := findAlias(&root); a != nil {
		// An alias repeats what its anchor holds wherever it stands, so a
		// few lines can stand for an enormous team; a reviewer should see
		// every value where it applies anyway.
		return nil, errs.InvalidField("", "line %d: aliases (*%s) are not read in a team document: write the value out", a.Line, a.Value)
	}
	top := node{n: &root}
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		top = top.child("", root.Content[0])
	}
	f, err := top.mapping("engineers", "rotations", "overrides", "policies")
	if err != nil {
		return nil, err
	}
	doc := &Document{root: top}
	// Every section is required: an import removes what the document
	// leaves out, so a section forgotten must not mean "remove them all".
	sections := map[string][]node{}
	for _, s := range []string{"engineers", "rotations", "overrides"} {
		v, ok := f.values[s]
		if !ok {
			return nil, errs.InvalidField(s, "line %d: %s is required; write `%s: []` for none (an import removes what the file leaves out)", top.line(), s, s)
		}
		if sections[s], err = v.seq(); err != nil {
			return nil, err
		}
		if s == "overrides" {
			doc.overrides = node{n: keyNode(top.n, s), path: s}
		}
	}
	for _, n := range sections["engineers"] {
		e, err := decodeEngineer(n)
		if err != nil {
			return nil, err
		}
		doc.Engineers = append(doc.Engineers, e)
	}
	for _, n := range sections["rotations"] {
		r, err := decodeRotation(n)
		if err != nil {
			return nil, err
		}
		doc.Rotations = append(doc.Rotations, r)
	}
	for _, n := range sections["overrides"] {
		o, err := decodeOverride(n)
		if err != nil {
			return nil, err
		}
		doc.Overrides = append(doc.Overrides, o)
	}
	if v, ok := f.get("policies"); ok {
		if doc.Policies, err = decodePolicies(v); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// findAlias returns the first alias in n, or nil.
func findAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c); a != nil {
			return a
		}
	}
	return nil
}

// keyNode is the key of member key of mapping m.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return m
}

func decodeEngineer(n node) (DocEngineer, error) {
	out := DocEngineer{node: n}
	f, err := n.mapping("id", "name", "level", "languages", "time_zone", "contacts")
	if err != nil {
		return out, err
	}
	e := &out.Engineer
	if v, ok := f.get("id"); ok {
		if e.ID, err = v.id("an engineer"); err != nil {
			return out, err
		}
	}
	if v, ok := f.get("name"); ok {
		if e.Name, err = v.str(); err != nil {
			return out, err
		}
	}
	if v, ok := f.get("level"); ok {
		if err := v.text(&e.Level); err != nil {
			return out, err
		}
	}
	if v, ok := f.get("languages"); ok {
		langs, _, err := v.strs()
		if err != nil {
			return out, err
		}
		for _, l := range langs {
			e.Languages = append(e.Languages, oncall.Language(strings.ToLower(l)))
		}
	}
	if v, ok := f.get("time_zone"); ok {
		if e.TimeZone, err = v.str(); err != nil {
			return out, err
		}
	}
	if v, ok := f.get("contacts"); ok {
		items, err := v.seq()
		if err != nil {
			return out, err
		}
		for _, it := range items {
			cf, err := it.mapping("phone", "sms", "verified")
			if err != nil {
				return out, err
			}
			var c oncall.ContactMethod
			p, err := cf.need("phone", "a number in international form, such as +12025550101")
			if err == nil {
				c.Phone, err = p.str()
			}
			if err != nil {
				return out, err
			}
			if s, ok := cf.get("sms"); ok {
				if c.SMS, err = s.bool(); err != nil {
					return out, err
				}
			}
			// Numbers an admin's file gives are trusted, as the API's
			// admin edits are, unless it says verified: false (a number
			// the engineer added and has not confirmed, kept so).
			if v, ok := cf.get("verified"); ok {
				verified, err := v.bool()
				if err != nil {
					return out, err
				}
				c.Unverified = !verified
			}
			e.Contacts = append(e.Contacts, c)
		}
	}
	id := e.ID
	if out.Engineer, err = e.Normalize(); err != nil {
		return out, n.at(err)
	}
	out.Engineer.ID = id
	return out, nil
}

// versionFields are the members of a rotation's version.
var versionFields = []string{"name", "level", "layer", "time_zone", "handoff", "shift_length", "start",
	"participants", "restrictions", "effective_from"}

func decodeRotation(n node) (DocRotation, error) {
	out := DocRotation{node: n}
	f, err := n.mapping(append([]string{"id", "ends_at", "next_versions"}, versionFields...)...)
	if err != nil {
		return out, err
	}
	if v, ok := f.get("id"); ok {
		if out.ID, err = v.id("a rotation"); err != nil {
			return out, err
		}
	}
	first, err := decodeVersion(n, f)
	if err != nil {
		return out, err
	}
	out.Versions = append(out.Versions, first)
	if v, ok := f.get("next_versions"); ok {
		items, err := v.seq()
		if err != nil {
			return out, err
		}
		for _, it := range items {
			vf, err := it.mapping(versionFields...)
			if err != nil {
				return out, err
			}
			ver, err := decodeVersion(it, vf)
			if err != nil {
				return out, err
			}
			if ver.From.IsZero() {
				return out, errs.InvalidField(it.sub("effective_from"), "line %d: effective_from is required for a version to come", it.line())
			}
			out.Versions = append(out.Versions, ver)
		}
	}
	out.endNode, _ = f.get("ends_at")
	if v, ok := f.get("ends_at"); ok {
		t, err := v.time()
		if err != nil {
			return out, err
		}
		out.End = &t
	}
	return out, nil
}

func decodeVersion(n node, f fields) (DocVersion, error) {
	out := DocVersion{node: n}
	r := &out.Rotation
	var err error
	if v, ok := f.get("name"); ok {
		if r.Name, err = v.str(); err != nil {
			return out, err
		}
	}
	for _, m := range []textField{{"level", &r.Level}, {"layer", &r.Layer}, {"handoff", &r.Handoff}, {"start", &r.Start}} {
		key, dst := m.key, m.dst
		if v, ok := f.get(key); ok {
			if err := v.text(dst); err != nil {
				return out, err
			}
		} else if key == "handoff" || key == "start" {
			return out, errs.InvalidField(n.sub(key), "line %d: %s is required", n.line(), key)
		}
	}
	if v, ok := f.get("time_zone"); ok {
		if r.TimeZone, err = v.str(); err != nil {
			return out, err
		}
	}
	if v, ok := f.get("shift_length"); ok {
		sf, err := v.mapping("days", "hours")
		if err != nil {
			return out, err
		}
		for _, m := range []struct {
			key string
			dst *int
		}{{"days", &r.ShiftLength.Days}, {"hours", &r.ShiftLength.Hours}} {
			key, dst := m.key, m.dst
			if x, ok := sf.get(key); ok {
				num, err := x.int()
				if err != nil {
					return out, err
				}
				*dst = int(num)
			}
		}
	}
	out.fromNode, _ = f.get("effective_from")
	if v, ok := f.get("effective_from"); ok {
		if out.From, err = v.time(); err != nil {
			return out, err
		}
	}
	if v, ok := f.get("participants"); ok {
		if out.Participants, out.partNodes, err = v.strs(); err != nil {
			return out, err
		}
	}
	if v, ok := f.get("restrictions"); ok {
		items, err := v.seq()
		if err != nil {
			return out, err
		}
		for _, it := range items {
			rf, err := it.mapping("weekdays", "start", "end")
			if err != nil {
				return out, err
			}
			var x oncall.Restriction
			for _, m := range []textField{{"start", &x.Start}, {"end", &x.End}} {
				v, err := rf.need(m.key, "a time of day, HH:MM")
				if err == nil {
					err = v.text(m.dst)
				}
				if err != nil {
					return out, err
				}
			}
			if w, ok := rf.get("weekdays"); ok {
				days, nodes, err := w.strs()
				if err != nil {
					return out, err
				}
				for i, d := range days {
					var wd oncall.Weekday
					if err := wd.UnmarshalText([]byte(d)); err != nil {
						return out, nodes[i].fail("%s", err)
					}
					x.Weekdays = append(x.Weekdays, wd)
				}
			}
			r.Restrictions = append(r.Restrictions, x)
		}
	}
	// The participants are names here; the domain's check wants ids.
	check := *r
	check.Participants = make([]int64, len(out.Participants))
	for i := range check.Participants {
		check.Participants[i] = 1
	}
	norm, err := check.Normalize()
	if err != nil {
		return out, n.at(err)
	}
	norm.Participants = nil
	out.Rotation = norm
	return out, nil
}

func decodeOverride(n node) (DocOverride, error) {
	out := DocOverride{node: n}
	f, err := n.mapping("id", "level", "layer", "engineer", "start", "end", "reason")
	if err != nil {
		return out, err
	}
	o := &out.Override
	if v, ok := f.get("id"); ok {
		if o.ID, err = v.id("an override"); err != nil {
			return out, err
		}
	}
	for _, m := range []textField{{"level", &o.Level}, {"layer", &o.Layer}} {
		if v, ok := f.get(m.key); ok {
			if err := v.text(m.dst); err != nil {
				return out, err
			}
		}
	}
	v, err := f.need("engineer", "the name of an engineer of this file")
	if err == nil {
		out.Engineer, err = v.str()
	}
	if err != nil {
		return out, err
	}
	out.engNode = v
	for _, m := range []struct {
		key string
		dst *time.Time
	}{{"start", &o.Start}, {"end", &o.End}} {
		key, dst := m.key, m.dst
		v, err := f.need(key, "an RFC 3339 time such as 2027-03-08T09:00:00+03:00")
		if err == nil {
			*dst, err = v.time()
		}
		if err != nil {
			return out, err
		}
	}
	if v, ok := f.get("reason"); ok {
		if o.Reason, err = v.str(); err != nil {
			return out, err
		}
	}
	id := o.ID
	check := *o
	check.EngineerID = 1
	norm, err := check.Normalize()
	if err != nil {
		return out, n.at(err)
	}
	norm.ID, norm.EngineerID = id, 0
	out.Override = norm
	return out, nil
}

func decodePolicies(n node) ([]DocPolicy, error) {
	names := make([]string, len(oncall.Priorities))
	for i, p := range oncall.Priorities {
		names[i] = string(p)
	}
	f, err := n.mapping(names...)
	if err != nil {
		return nil, err
	}
	var out []DocPolicy
	for _, p := range oncall.Priorities {
		v, ok := f.get(string(p))
		if !ok {
			continue
		}
		items, err := v.seq()
		if err != nil {
			return nil, err
		}
		pol := oncall.Policy{Priority: p}
		for _, it := range items {
			sf, err := it.mapping("level", "channels", "delay")
			if err != nil {
				return nil, err
			}
			var s oncall.Step
			lv, err := sf.need("level", "L1, L2 or L3")
			if err == nil {
				err = lv.text(&s.Level)
			}
			if err != nil {
				return nil, err
			}
			if c, ok := sf.get("channels"); ok {
				chans, _, err := c.strs()
				if err != nil {
					return nil, err
				}
				for _, ch := range chans {
					s.Channels = append(s.Channels, oncall.Channel(strings.ToLower(ch)))
				}
			}
			d, err := sf.need("delay", "a duration such as 15m")
			if err == nil {
				err = d.text(&s.Delay)
			}
			if err != nil {
				return nil, err
			}
			pol.Steps = append(pol.Steps, s)
		}
		norm, err := pol.Normalize()
		if err != nil {
			return nil, v.at(policyField(err))
		}
		norm.UpdatedAt = time.Time{}
		out = append(out, DocPolicy{Policy: norm, node: v})
	}
	return out, nil
}

// policyField makes a policy's error field relative to its list of steps
// (steps[1].delay → [1].delay), as the document writes the steps directly
// under the priority.
func policyField(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Field = strings.TrimPrefix(strings.TrimPrefix(c.Field, "steps"), ".")
	if c.Field == "priority" {
		c.Field = ""
	}
	return &c
}

func (n node) String() string { return fmt.Sprintf("%s (line %d)", n.path, n.line()) }
