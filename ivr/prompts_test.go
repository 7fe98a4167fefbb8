package ivr_test

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// emitted collects every prompt name the flow gave in any test.
var emitted sync.Map

// TestMain checks, after a full run, that every prompt of the call flow was
// spoken on some tested path: the catalogue holds no dead entries. The
// page-call prompts are package pager's; its tests check them the same way.
// A line's name (Line.Spoken, "line_moscow") is the pager's to say too: the
// flow only requires it of a line, and builds the screening's prompt from
// it.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		spoken := map[string]bool{}
		for _, l := range ivr.DefaultConfig().Lines {
			spoken[l.Spoken] = true
		}
		var unused []string
		for _, p := range ivr.FlowPrompts {
			if _, ok := emitted.Load(p.Name); !ok && !spoken[p.Name] {
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
	for _, p := range ivr.InternalCatalogue {
		if seen[p.Name] {
			t.Errorf("%s: listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.RU == "" || p.EN == "" {
			t.Errorf("%s: missing a language", p.Name)
			continue
		}
		if p.Name == ivr.PromptPause {
			if p.RU != p.EN {
				t.Errorf("%s: a silence says the same in both languages: %q / %q", p.Name, p.RU, p.EN)
			}
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
		built = append(built, ivr.PriorityPrompt(oncall.Russian, p).Name, ivr.ResponsePrompt(oncall.Russian, p).Name,
			ivr.PrioritySetPrompt(oncall.Russian, p).Name)
	}
	for _, l := range []oncall.Language{oncall.Russian, oncall.English} {
		built = append(built, "caller_speaks_"+string(l))
	}
	for _, l := range ivr.DefaultConfig().Lines {
		built = append(built, l.Greeting, l.Spoken, ivr.ScreenLinePrompt(l))
	}
	for _, n := range built {
		if !ivr.HasPrompt(n) {
			t.Errorf("%s: not in the catalogue", n)
		}
	}
	if got := len(ivr.Catalogue()); got != len(ivr.InternalCatalogue) {
		t.Errorf("Catalogue() has %d entries", got)
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		p    ivr.Prompt
		want string
	}{
		{ivr.Prompt{"digit_5", oncall.Russian}, "пять"},
		{ivr.Prompt{"digit_5", oncall.English}, "five"},
		{ivr.Prompt{"language_offer", oncall.English}, "For English, press 9."},
		{ivr.Prompt{"language_offer", oncall.Russian}, "Чтобы продолжить на русском языке, нажмите 9."},
		// What is said is written out: a speaker (or Twilio's <Say>) reads
		// "24/7" as "twenty four slash seven".
		{ivr.Prompt{"greeting_moscow", oncall.English}, "Hello, you have reached twenty-four seven technical support, Moscow line."},
		{ivr.Prompt{"ticket_enter", oncall.English}, "Please enter your ticket number, followed by the pound sign. If you have no ticket, press star, then the pound sign."},
		{ivr.Prompt{"ticket_opened", oncall.English}, "Your new ticket number is"},
		{ivr.Prompt{"screen_line_moscow", oncall.English}, "Support call from the Moscow line."},
		{ivr.Prompt{"screen_line_moscow", oncall.Russian}, "Звонок в поддержку, московская линия."},
		{ivr.Prompt{"connecting", oncall.Russian}, "Соединяем вас с инженером."},
		{ivr.Prompt{"screen_connecting", oncall.Russian}, "Соединяем вас с клиентом."},
		{ivr.Prompt{"leave_message", oncall.Russian}, "Пожалуйста, оставьте сообщение после сигнала. Когда закончите, нажмите решётку или положите трубку."},
		{ivr.Prompt{"priority_set_urgent", oncall.English}, "We will register your request with urgent priority."},
		{ivr.Prompt{"nothing_heard", oncall.Russian}, "Мы ничего не услышали."},
		{ivr.Prompt{"no_such_prompt", oncall.English}, ""},
		{ivr.Prompt{"digit_5", "de"}, ""},
	} {
		if got := ivr.Text(tc.p); got != tc.want {
			t.Errorf("Text(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestWording checks what a listener would trip over in any flow prompt:
// symbols a speaker reads aloud, the "pound key", and a Russian "I" where
// every other prompt says "we".
func TestWording(t *testing.T) {
	for _, p := range ivr.FlowPrompts {
		for _, text := range []string{p.RU, p.EN} {
			if strings.ContainsAny(text, "/&%") {
				t.Errorf("%s: %q has a symbol a speaker reads aloud", p.Name, text)
			}
			if strings.Contains(text, "pound key") {
				t.Errorf("%s: %q says the pound key, not the pound sign", p.Name, text)
			}
		}
		for _, w := range []string{"Соединяю", "Закончив"} {
			if strings.Contains(p.RU, w) {
				t.Errorf("%s: %q says %q", p.Name, p.RU, w)
			}
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
