package ivr

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"unicode"

	"github.com/supportdesk/ivr/oncall"
)

// emitted collects every prompt name the flow gave in any test.
var emitted sync.Map

// TestMain checks, after a full run, that every prompt of the call flow was
// spoken on some tested path: the catalogue holds no dead entries. The
// page-call prompts are package pager's; its tests check them the same way.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		var unused []string
		for _, p := range flowPrompts {
			if _, ok := emitted.Load(p.Name); !ok {
				unused = append(unused, p.Name)
			}
		}
		if len(unused) > 0 {
			sort.Strings(unused)
			fmt.Printf("prompts never emitted by any tested path: %v\n", unused)
			code = 1
		}
	}
	os.Exit(code)
}

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range catalogue {
		if seen[p.Name] {
			t.Errorf("%s: listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.RU == "" || p.EN == "" {
			t.Errorf("%s: missing a language", p.Name)
			continue
		}
		if !hasCyrillic(p.RU) || hasCyrillic(p.EN) {
			t.Errorf("%s: Russian text must be Cyrillic, English text must not: %q / %q", p.Name, p.RU, p.EN)
		}
	}
	// The names the flow builds from data exist.
	var built []string
	for d := '0'; d <= '9'; d++ {
		built = append(built, "digit_"+string(d))
	}
	for _, p := range oncall.Priorities {
		built = append(built, priorityPrompt(oncall.Russian, p).Name, responsePrompt(oncall.Russian, p).Name)
	}
	for _, l := range []oncall.Language{oncall.Russian, oncall.English} {
		built = append(built, "caller_speaks_"+string(l))
	}
	for _, l := range DefaultConfig().Lines {
		built = append(built, l.Greeting, l.Spoken)
	}
	for _, n := range built {
		if !hasPrompt(n) {
			t.Errorf("%s: not in the catalogue", n)
		}
	}
	if got := len(Catalogue()); got != len(catalogue) {
		t.Errorf("Catalogue() has %d entries", got)
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		p    Prompt
		want string
	}{
		{Prompt{"digit_5", oncall.Russian}, "пять"},
		{Prompt{"digit_5", oncall.English}, "five"},
		{Prompt{"language_offer", oncall.English}, "For English, press 9."},
		{Prompt{"language_offer", oncall.Russian}, "Для русского языка нажмите 9."},
		{Prompt{"no_such_prompt", oncall.English}, ""},
		{Prompt{"digit_5", "de"}, ""},
	} {
		if got := Text(tc.p); got != tc.want {
			t.Errorf("Text(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func hasCyrillic(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Cyrillic, r) {
			return true
		}
	}
	return false
}
