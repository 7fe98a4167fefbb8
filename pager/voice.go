package pager

import (
	"strconv"
	"strings"
	"time"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// What a page call says, as prompts of the catalogue in ivr/prompts.go
// ("Page calls to engineers"): the recorded voice of the support lines, in
// the engineer's first language. Every name these functions return is in
// the catalogue, so every one has audio (sounds/) in both languages; a
// driver plays them back to back.
//
// A page call goes:
//
//	This is the support pager. [This page is overdue: …]
//	priority critical. Ticket 1 0 4 2. Line Moscow.
//	A client left a voicemail twenty three minutes ago.
//	Press 1 to acknowledge.
//
// Numbers are spoken as words made of recorded parts: "twenty" then
// "three", «двадцать» then «одну» (минуту). Said in one breath, as a
// hyphenated number is; the catalogue text of such a number is
// "twenty three".

// PageCallPrompts is the announcement of page p to an engineer speaking
// lang, at now: the intro; that the page is overdue, when now is not
// before its deadline; its priority; its ticket, digit by digit, when it has
// one; the line it came in on, when the line has a recorded name; what
// raised it and how long ago (now − RaisedAt); and "press 1 to
// acknowledge". A language other than Russian or English is English.
func PageCallPrompts(p *Page, lang oncall.Language, now time.Time, rules Rules) []ivr.Prompt {
	lang = voiceLang(lang)
	ps := prompts(lang, "page_intro")
	if !now.Before(p.Deadline) {
		ps = append(ps, prompt(lang, "page_overdue"))
	}
	if p.Priority.Valid() {
		ps = append(ps, prompt(lang, "word_priority"), prompt(lang, "priority_"+string(p.Priority)))
	}
	if digits := digitPrompts(lang, p.TicketID); len(digits) > 0 {
		ps = append(ps, prompt(lang, "word_ticket"))
		ps = append(ps, digits...)
	}
	if line, ok := linePrompt(lang, p, rules); ok {
		ps = append(ps, prompt(lang, "page_line"), line)
	}
	ps = append(ps, prompt(lang, sourcePrompt(p)))
	ps = append(ps, AgoPrompts(lang, now.Sub(p.RaisedAt))...)
	return append(ps, prompt(lang, "page_press_ack"))
}

// sourcePrompt names what raised p: the start of the sentence that how
// long ago ends.
func sourcePrompt(p *Page) string {
	switch p.Source {
	case FromCall, FromFallback, FromUpgrade:
		if p.Recording != "" {
			return "page_from_voicemail"
		}
		return "page_from_missed_call"
	case FromTickets:
		return "page_from_ticket"
	}
	return "page_from_team" // FromAPI, and anything newer
}

// linePrompt is the recorded name of p's line ("line_moscow"), if the line
// has a name in rules and the catalogue has a prompt for it.
func linePrompt(lang oncall.Language, p *Page, rules Rules) (ivr.Prompt, bool) {
	name := strings.ToLower(strings.TrimSpace(rules.LineNames[p.Line]))
	if p.Line == "" || name == "" {
		return ivr.Prompt{}, false
	}
	pr := prompt(lang, "line_"+name)
	return pr, ivr.Text(pr) != ""
}

// AgoPrompts says how long ago d was, ending the sentence: "just now."
// under a minute (and for a negative d, a clock a little ahead); whole
// minutes under an hour ("one minute ago.", «двадцать одну минуту
// назад.»); whole hours up to 99 ("three hours ago.", «одиннадцать часов
// назад.»); beyond that "more than four days ago.". Russian nouns take the
// form their number asks for (минуту, минуты, минут; час, часа, часов).
func AgoPrompts(lang oncall.Language, d time.Duration) []ivr.Prompt {
	lang = voiceLang(lang)
	var n int
	var unit string
	feminine := false
	switch {
	case d < time.Minute:
		return prompts(lang, "ago_just_now")
	case d < time.Hour:
		n, unit, feminine = int(d/time.Minute), "unit_minute_", true // минута is feminine
	case d < 100*time.Hour:
		n, unit = int(d/time.Hour), "unit_hour_"
	default:
		return prompts(lang, "ago_over_4_days")
	}
	ps := NumberPrompts(lang, n, feminine)
	return append(ps, prompt(lang, unit+pluralForm(lang, n)), prompt(lang, "word_ago"))
}

// NumberPrompts says n, from 1 to 99, in words: num_1 … num_19, a ten
// (num_20 … num_90), or a ten followed by a unit ("twenty" "three",
// «двадцать» «три»). In Russian, feminine picks the forms a feminine noun
// takes after one and two (одну минуту, две минуты; двадцать одну
// минуту); English has one form. Numbers outside 1–99 have no words in
// the catalogue and are read digit by digit (digit_0 … digit_9), as
// ticket numbers are, without a sign.
func NumberPrompts(lang oncall.Language, n int, feminine bool) []ivr.Prompt {
	lang = voiceLang(lang)
	if n < 1 || n > 99 {
		return digitPrompts(lang, strconv.Itoa(n))
	}
	var ps []ivr.Prompt
	if n >= 20 {
		ps = append(ps, prompt(lang, "num_"+strconv.Itoa(n/10*10)))
		if n%10 == 0 {
			return ps
		}
		n %= 10
	}
	name := "num_" + strconv.Itoa(n)
	if feminine && (n == 1 || n == 2) {
		name += "f"
	}
	return append(ps, prompt(lang, name))
}

// OpenPagesPrompts says how many pages an engineer has open: "You have
// two open pages.", «У вас два открытых вызова.». n is from 1 to 99; for
// n < 1 it returns nil (there is nothing to say).
func OpenPagesPrompts(lang oncall.Language, n int) []ivr.Prompt {
	if n < 1 {
		return nil
	}
	lang = voiceLang(lang)
	ps := prompts(lang, "page_you_have")
	ps = append(ps, NumberPrompts(lang, n, false)...) // вызов is masculine
	return append(ps, prompt(lang, "page_open_"+pluralForm(lang, n)))
}

// AckedPrompts thanks the engineer who pressed 1 and acknowledged the
// page, and ends the call.
func AckedPrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_acked")
}

// ClosedPrompts tells the engineer that the page no longer needs them
// (another engineer acknowledged it, or it was resolved or has expired),
// and ends the call. It is true of any page that is not open; TakenPrompts
// says more when the page is known to be another engineer's.
func ClosedPrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_closed")
}

// TakenPrompts tells the engineer that another engineer acknowledged the
// page first, and ends the call.
func TakenPrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_taken")
}

// NoKeyPrompts ends a page call in which the engineer pressed no 1 after
// the repeats: the page follows by text message.
func NoKeyPrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_no_key")
}

// pluralForm is the suffix of the catalogue's form of a noun after n:
// "one", "few" or "many" (English: "one" for 1, "many" otherwise).
func pluralForm(lang oncall.Language, n int) string {
	if lang == oncall.Russian {
		return RussianPlural(n, "one", "few", "many")
	}
	if n == 1 {
		return "one"
	}
	return "many"
}

// digitPrompts speaks the digits of s one by one, skipping anything else
// ("T-1042" is "1 0 4 2"), as the call flow reads a ticket back.
func digitPrompts(lang oncall.Language, s string) []ivr.Prompt {
	var ps []ivr.Prompt
	for _, r := range s {
		if r >= '0' && r <= '9' {
			ps = append(ps, prompt(lang, "digit_"+string(r)))
		}
	}
	return ps
}

// voiceLang is the language a page call is spoken in: lang, or English
// when lang is neither Russian nor English (the catalogue has no other).
func voiceLang(lang oncall.Language) oncall.Language {
	if lang.Valid() {
		return lang
	}
	return oncall.English
}

func prompt(lang oncall.Language, name string) ivr.Prompt {
	return ivr.Prompt{Name: name, Lang: lang}
}

func prompts(lang oncall.Language, names ...string) []ivr.Prompt {
	ps := make([]ivr.Prompt, len(names))
	for i, n := range names {
		ps[i] = prompt(lang, n)
	}
	return ps
}
