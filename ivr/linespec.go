package ivr

import (
	"fmt"
	"strings"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// ParseLines reads the lines answered from spec, "number=name:language,…"
// (such as FormatLines gives). A line's name picks its prompts,
// greeting_<name>, line_<name> and screen_line_<name>, which must be in the
// catalogue (prompts.go, with audio in sounds/). A malformed item or an
// unknown name is errs.Invalid naming the item (lines[i]), its message
// saying which line and what is wrong. The numbers and languages are
// checked by Config.Validate.
func ParseLines(spec string) ([]Line, error) {
	var lines []Line
	for i, item := range strings.Split(spec, ",") {
		field := fmt.Sprintf("lines[%d]", i)
		item = strings.TrimSpace(item)
		number, rest, ok1 := strings.Cut(item, "=")
		name, lang, ok2 := strings.Cut(rest, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok1 || !ok2 || name == "" {
			return nil, errs.InvalidField(field, "line %d, %q: want number=name:language, such as +74996383867=moscow:ru", i+1, item)
		}
		if !hasLinePrompts(name) {
			return nil, errs.InvalidField(field, "line %d: no recorded greeting for %q (the prompt catalogue has %s); "+
				"a new line needs greeting_%s, line_%s and screen_line_%s in ivr/prompts.go and go generate ./sounds/",
				i+1, name, strings.Join(LineNames(), " and "), name, name, name)
		}
		lines = append(lines, Line{Number: strings.TrimSpace(number), Name: strings.ToUpper(name[:1]) + name[1:],
			Language: oncall.Language(strings.TrimSpace(lang)), Greeting: "greeting_" + name, Spoken: "line_" + name})
	}
	return lines, nil
}

// FormatLines writes lines as ParseLines reads them.
func FormatLines(lines []Line) string {
	parts := make([]string, 0, len(lines))
	for _, l := range lines {
		parts = append(parts, fmt.Sprintf("%s=%s:%s", l.Number, strings.ToLower(l.Name), l.Language))
	}
	return strings.Join(parts, ",")
}

// LineNames are the names of the lines the prompt catalogue has a
// greeting, a spoken name and a screening sentence for: the names
// ParseLines accepts.
func LineNames() []string {
	var names []string
	for _, p := range Catalogue() {
		if n, ok := strings.CutPrefix(p.Name, "greeting_"); ok && hasLinePrompts(n) {
			names = append(names, n)
		}
	}
	return names
}

// hasLinePrompts reports whether the catalogue has line name's three
// prompts.
func hasLinePrompts(name string) bool {
	has := func(prompt string) bool { return Text(Prompt{Name: prompt, Lang: oncall.English}) != "" }
	return has("greeting_"+name) && has("line_"+name) && has("screen_line_"+name)
}
