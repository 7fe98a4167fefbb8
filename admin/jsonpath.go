package admin

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/supportdesk/ivr/errs"
)

// encoding/json names a value of the wrong type by its struct fields alone
// (contacts.phone for contacts[1].phone) and an unknown member by its own
// name alone (zzz for restrictions[0].zzz). When it refuses a body, the API
// walks the body again beside the Go type it was decoded into, in document
// order as the decoder does, to name the exact path of the first member that
// does not fit.

// jsonMisfit is the first place where a JSON document does not fit a Go
// type.
type jsonMisfit struct {
	path    string // e.g. contacts[1].phone
	unknown bool   // a member the type has no field for
	want    string // else: the kind of JSON value the field takes…
	got     string // …and what the document has ("number", "number 1.5")
}

func (m jsonMisfit) err() error {
	if m.unknown {
		return errs.InvalidField(m.path, "is not a known field")
	}
	return errs.InvalidField(m.path, "must be a JSON %s, not %s", m.want, m.got)
}

// errFits stops a walk that found nothing wrong.
var errFits = errors.New("fits")

// findMisfit walks the first JSON value of data beside t and returns its
// first misfit; false if there is none or data is not valid JSON (the
// decoder's own error says more then).
func findMisfit(data []byte, t reflect.Type) (jsonMisfit, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := jsonWalker{dec: dec}
	err := w.value(t, "")
	var m *misfitError
	if errors.As(err, &m) {
		return m.misfit, true
	}
	return jsonMisfit{}, false
}

type misfitError struct{ misfit jsonMisfit }

func (e *misfitError) Error() string { return "misfit at " + e.misfit.path }

type jsonWalker struct{ dec *json.Decoder }

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value reads one value and checks it against t: nil if it fits, a
// *misfitError if not, another error if the document ends or is not JSON.
func (w jsonWalker) value(t reflect.Type, path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if tok == nil { // null fits anything
		return nil
	}
	if t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return w.skip(tok) // the type decides for itself
	}
	misfit := func(got string) error {
		return &misfitError{jsonMisfit{path: path, want: jsonKind(t.Kind()), got: got}}
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch {
		case tok == '{' && t.Kind() == reflect.Struct:
			return w.object(path, func(key string) (reflect.Type, string, bool) {
				f, ok := fieldOf(t, key)
				return f.Type, f.name, ok
			})
		case tok == '{' && t.Kind() == reflect.Map:
			return w.object(path, func(key string) (reflect.Type, string, bool) { return t.Elem(), key, true })
		case tok == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			for i := 0; w.dec.More(); i++ {
				if err := w.value(t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
					return err
				}
			}
			_, err := w.dec.Token() // ]
			return err
		case tok == '{':
			return misfit("object")
		}
		return misfit("array")
	case string:
		if t.Kind() == reflect.String || (t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8) {
			return nil
		}
		return misfit("string")
	case bool:
		if t.Kind() == reflect.Bool {
			return nil
		}
		return misfit("boolean")
	case json.Number:
		s := string(tok)
		var err error
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			_, err = strconv.ParseInt(s, 10, t.Bits())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			_, err = strconv.ParseUint(s, 10, t.Bits())
		case reflect.Float32, reflect.Float64:
			_, err = strconv.ParseFloat(s, t.Bits())
		default:
			return misfit("number")
		}
		if err != nil {
			return misfit("number " + s)
		}
		return nil
	}
	return errFits // not a token of JSON's; cannot happen
}

// object walks the members of an object whose { has been read; field
// gives each member's type and name in paths, false for an unknown one.
func (w jsonWalker) object(path string, field func(key string) (reflect.Type, string, bool)) error {
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		t, name, ok := field(key)
		if !ok {
			return &misfitError{jsonMisfit{path: joinPath(path, key), unknown: true}}
		}
		if err := w.value(t, joinPath(path, name)); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // }
	return err
}

// skip reads the rest of a value whose first token is tok.
func (w jsonWalker) skip(tok json.Token) error {
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		for depth := 1; depth > 0; {
			tok, err := w.dec.Token()
			if err != nil {
				return err
			}
			if d, ok := tok.(json.Delim); ok {
				if d == '{' || d == '[' {
					depth++
				} else {
					depth--
				}
			}
		}
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

type jsonField struct {
	reflect.Type
	name string
}

// fieldOf finds the field of struct t that JSON member key decodes into, as
// encoding/json does: the exact name first, then one that differs only in
// case.
func fieldOf(t reflect.Type, key string) (jsonField, bool) {
	var folded *jsonField
	for _, f := range reflect.VisibleFields(t) {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && tag == "" && (f.Type.Kind() == reflect.Struct ||
			(f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct)) {
			continue // its fields are visible themselves
		}
		name := tag
		if name == "" {
			name = f.Name
		}
		switch {
		case name == key:
			return jsonField{f.Type, name}, true
		case folded == nil && strings.EqualFold(name, key):
			folded = &jsonField{f.Type, name}
		}
	}
	if folded != nil {
		return *folded, true
	}
	return jsonField{}, false
}

// jsonKind is the kind of JSON value a Go kind takes, for messages.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Bool:
		return "boolean"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return "whole number"
}
