package team

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/supportdesk/ivr/errs"
)

// node is a YAML value with its path in the document (rotations[1].name),
// so that every error names the field and the line.
type node struct {
	n    *yaml.Node
	path string
}

func (n node) line() int { return n.n.Line }

// fail is an Invalid error naming n's field and line.
func (n node) fail(format string, args ...any) error {
	return errs.InvalidField(n.path, "line %d: %s", n.line(), fmt.Sprintf(format, args...))
}

func (n node) child(path string, v *yaml.Node) node { return node{n: v, path: path} }

func (n node) sub(key string) string {
	if n.path == "" {
		return key
	}
	return n.path + "." + key
}

// isNull reports an empty value (key: with nothing after it) or null.
func (n node) isNull() bool {
	return n.n.Kind == yaml.ScalarNode && n.n.Tag == "!!null"
}

// fields is a mapping's members by key, each with the key's line.
type fields struct {
	at     node
	values map[string]node
}

// mapping reads n as a mapping whose keys are among known; an unknown or
// repeated key is an error at its line.
func (n node) mapping(known ...string) (fields, error) {
	f := fields{at: n, values: map[string]node{}}
	if n.n.Kind != yaml.MappingNode {
		return f, n.fail("must be a mapping of %s", strings.Join(known, ", "))
	}
	for i := 0; i+1 < len(n.n.Content); i += 2 {
		k, v := n.n.Content[i], n.n.Content[i+1]
		key := node{n: k, path: n.sub(k.Value)}
		if k.Kind != yaml.ScalarNode {
			return f, key.fail("a key must be a plain name")
		}
		if !contains(known, k.Value) {
			return f, key.fail("%q is not a known field here (known: %s)", k.Value, strings.Join(known, ", "))
		}
		if _, dup := f.values[k.Value]; dup {
			return f, key.fail("%s is given twice", k.Value)
		}
		f.values[k.Value] = n.child(n.sub(k.Value), v)
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// get returns member key; ok is false when it is absent or empty.
func (f fields) get(key string) (node, bool) {
	v, ok := f.values[key]
	if !ok || v.isNull() {
		return node{n: f.at.n, path: f.at.sub(key)}, false
	}
	return v, true
}

// need returns member key or an error at the mapping's line.
func (f fields) need(key, what string) (node, error) {
	v, ok := f.get(key)
	if !ok {
		return v, errs.InvalidField(f.at.sub(key), "line %d: %s is required (%s)", f.at.line(), key, what)
	}
	return v, nil
}

// seq reads n as a list; null is an empty one.
func (n node) seq() ([]node, error) {
	if n.isNull() {
		return nil, nil
	}
	if n.n.Kind != yaml.SequenceNode {
		return nil, n.fail("must be a list")
	}
	out := make([]node, len(n.n.Content))
	for i, v := range n.n.Content {
		out[i] = n.child(fmt.Sprintf("%s[%d]", n.path, i), v)
	}
	return out, nil
}

func (n node) str() (string, error) {
	if n.n.Kind != yaml.ScalarNode || n.isNull() {
		return "", n.fail("must be a single value")
	}
	return n.n.Value, nil
}

func (n node) int() (int64, error) {
	s, err := n.str()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, n.fail("%q is not a whole number", s)
	}
	return v, nil
}

// id reads a positive id.
func (n node) id(what string) (int64, error) {
	v, err := n.int()
	if err == nil && v <= 0 {
		err = n.fail("%d is not %s id", v, what)
	}
	return v, err
}

func (n node) bool() (bool, error) {
	s, err := n.str()
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, n.fail("%q is not true or false", s)
}

// time reads an RFC 3339 instant with its zone offset.
func (n node) time() (time.Time, error) {
	s, err := n.str()
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, n.fail("%q is not an RFC 3339 time with its offset, such as 2027-03-08T09:00:00+03:00", s)
	}
	if t.Year() < 2000 || t.Year() > 2199 {
		return time.Time{}, n.fail("%s is outside the years 2000 to 2199", s)
	}
	return t, nil
}

// strs reads a list of single values.
func (n node) strs() ([]string, []node, error) {
	items, err := n.seq()
	if err != nil {
		return nil, nil, err
	}
	out := make([]string, len(items))
	for i, it := range items {
		if out[i], err = it.str(); err != nil {
			return nil, nil, err
		}
	}
	return out, items, nil
}

// text decodes a single value through v's UnmarshalText (a level, a zone's
// clock time…), the error naming the line.
func (n node) text(v interface{ UnmarshalText([]byte) error }) error {
	s, err := n.str()
	if err != nil {
		return err
	}
	if err := v.UnmarshalText([]byte(s)); err != nil {
		return n.fail("%s", err)
	}
	return nil
}

// at turns err, an Invalid error of a domain validator whose field is
// relative to n (contacts[0].phone), into one naming the whole path and the
// line of that field (or of the nearest value above it that is there).
func (n node) at(err error) error {
	e, ok := err.(*errs.Error)
	if !ok {
		return err
	}
	target := n
	if e.Field != "" {
		target = n.find(e.Field)
	}
	path := n.path
	switch {
	case strings.HasPrefix(e.Field, "["):
		path += e.Field
	case e.Field != "":
		path = n.sub(e.Field)
	}
	return &errs.Error{Code: e.Code, Field: path, Message: fmt.Sprintf("line %d: %s", target.line(), e.Message)}
}

// find walks a relative path such as contacts[1].phone down from n as far as
// it exists.
func (n node) find(rel string) node {
	cur := n
	for _, part := range strings.Split(rel, ".") {
		name, idx, _ := strings.Cut(part, "[")
		if name != "" {
			next, ok := cur.member(name)
			if !ok {
				return cur
			}
			cur = next
		}
		for idx != "" {
			num, rest, _ := strings.Cut(idx, "]")
			i, err := strconv.Atoi(num)
			if err != nil || cur.n.Kind != yaml.SequenceNode || i < 0 || i >= len(cur.n.Content) {
				return cur
			}
			cur = cur.child(cur.path, cur.n.Content[i])
			idx = strings.TrimPrefix(rest, "[")
		}
	}
	return cur
}

func (n node) member(key string) (node, bool) {
	if n.n.Kind != yaml.MappingNode {
		return n, false
	}
	for i := 0; i+1 < len(n.n.Content); i += 2 {
		if n.n.Content[i].Value == key {
			return n.child(n.sub(key), n.n.Content[i+1]), true
		}
	}
	return n, false
}
