package ivr_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// TestParseLines: an operator lists the lines answered as
// number=name:language; the name picks the recorded greeting. The default
// lines read back as themselves, spaces and capitals are forgiven, and a
// wrong item is refused naming the item and saying what is wrong.
func TestParseLines(t *testing.T) {
	def := ivr.DefaultConfig().Lines
	got, err := ivr.ParseLines(ivr.FormatLines(def))
	if err != nil || !reflect.DeepEqual(got, def) {
		t.Fatalf("ParseLines(FormatLines(default)) = %+v, %v; want %+v", got, err, def)
	}
	if s := ivr.FormatLines(def); s != "+74996383867=moscow:ru,+12025952118=washington:en" {
		t.Errorf("FormatLines(default) = %q", s)
	}

	got, err = ivr.ParseLines(" +12025952118 = Washington : ru ")
	want := []ivr.Line{{Number: "+12025952118", Name: "Washington", Language: oncall.Russian,
		Greeting: "greeting_washington", Spoken: "line_washington"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseLines with spaces and capitals = %+v, %v; want %+v", got, err, want)
	}
	if names := ivr.LineNames(); !reflect.DeepEqual(names, []string{"moscow", "washington"}) {
		t.Errorf("LineNames() = %v, want the catalogue's moscow and washington", names)
	}

	for _, c := range []struct{ spec, field, message string }{
		{"+74996383867", "lines[0]", `line 1, "+74996383867": want number=name:language, such as +74996383867=moscow:ru`},
		{"+74996383867=moscow", "lines[0]", `line 1, "+74996383867=moscow": want number=name:language`},
		{"+74996383867=:ru", "lines[0]", `line 1, "+74996383867=:ru": want number=name:language`},
		{"+74996383867=moscow:ru,", "lines[1]", `line 2, "": want number=name:language`},
		{"+74996383867=moscow:ru,+442071234567=london:en", "lines[1]",
			`line 2: no recorded greeting for "london" (the prompt catalogue has moscow and washington); ` +
				"a new line needs greeting_london, line_london and screen_line_london in ivr/prompts.go and go generate ./sounds/"},
	} {
		lines, err := ivr.ParseLines(c.spec)
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.Invalid || e.Field != c.field || !strings.HasPrefix(e.Message, c.message) {
			t.Errorf("ParseLines(%q) = %+v, %v; want invalid %s: %s…", c.spec, lines, err, c.field, c.message)
		}
	}
}
