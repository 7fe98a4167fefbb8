package pager

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/supportdesk/ivr/oncall"
)

// The texts the pager sends, in Russian and English. They are short (one
// SMS segment where the details allow: a text in Cyrillic fits 70
// characters a segment, so the Russian ones run to two or three) and lead
// with what matters at 3 a.m.: overdue or not, the priority, the ticket.

var priorityNames = map[oncall.Priority][2]string{
	oncall.Critical: {"КРИТИЧЕСКИЙ", "CRITICAL"},
	oncall.Urgent:   {"СРОЧНЫЙ", "URGENT"},
	oncall.Normal:   {"обычный", "normal"},
	oncall.Low:      {"низкий", "low"},
}

var lineNames = map[string][2]string{
	"moscow":     {"московская линия", "Moscow line"},
	"washington": {"вашингтонская линия", "Washington line"},
}

func pick(lang oncall.Language, ru, en string) string {
	if lang == oncall.Russian {
		return ru
	}
	return en
}

func priorityName(lang oncall.Language, p oncall.Priority) string {
	n, ok := priorityNames[p]
	if !ok {
		return string(p)
	}
	return pick(lang, n[0], n[1])
}

func lineName(lang oncall.Language, p *Page, rules Rules) string {
	name := rules.LineNames[p.Line]
	if n, ok := lineNames[strings.ToLower(name)]; ok {
		return pick(lang, n[0], n[1])
	}
	if name != "" {
		return pick(lang, "линия "+name, name+" line")
	}
	return pick(lang, "линия "+p.Line, "line "+p.Line)
}

// subject is "ticket 1001, critical" or "critical": what a notice names.
func subject(p *Page, lang oncall.Language) string {
	if p.TicketID != "" {
		return pick(lang, "заявка ", "ticket ") + p.TicketID + ", " + strings.ToLower(priorityName(lang, p.Priority))
	}
	return strings.ToLower(priorityName(lang, p.Priority))
}

// PageText is the text of a page to an engineer in lang, at now: the one
// paged on the current rung (p.Current.Target), whose acknowledgement link
// (rules.AckLink) ends it. A summary too long for the text before the link
// to stay within pageTextLimit is cut, at a word where it can be, so that
// the reply code is never lost.
func PageText(p *Page, lang oncall.Language, now time.Time, rules Rules) string {
	var head, what strings.Builder
	if !now.Before(p.Deadline) {
		head.WriteString(pick(lang, "ПРОСРОЧЕН! ", "OVERDUE! "))
	}
	fmt.Fprintf(&head, pick(lang, "%s вызов %s", "%s page %s"), priorityName(lang, p.Priority), p.Code())
	if p.TicketID != "" {
		fmt.Fprintf(&head, pick(lang, ", заявка %s", ", ticket %s"), p.TicketID)
	}
	tail := ", " + Ago(lang, now.Sub(p.RaisedAt)) + ". " +
		fmt.Sprintf(pick(lang, "Ответьте %s, чтобы подтвердить.", "Reply %s to acknowledge."), p.Code())
	switch {
	case p.Source == FromCall || p.Source == FromFallback || p.Source == FromUpgrade:
		if p.Recording != "" {
			what.WriteString(pick(lang, ": голосовое сообщение", ": voicemail"))
			if p.RecordingSeconds > 0 {
				fmt.Fprintf(&what, " %d:%02d", p.RecordingSeconds/60, p.RecordingSeconds%60)
			}
		} else {
			what.WriteString(pick(lang, ": звонок без ответа", ": missed call"))
		}
		if p.Line != "" {
			what.WriteString(", " + lineName(lang, p, rules))
		}
		if p.Caller != "" {
			what.WriteString(pick(lang, ", от ", " from ") + p.Caller)
		}
	case p.Summary != "":
		room := pageTextLimit(lang) - utf8.RuneCountInString(head.String()) - utf8.RuneCountInString(tail) - len(": ")
		what.WriteString(": " + cut(p.Summary, room))
	}
	text := head.String() + what.String() + tail
	if rules.AckLink != nil {
		if link := rules.AckLink(p.ID, p.Current.Target.EngineerID, p.Deadline); link != "" {
			text += " " + link
		}
	}
	return text
}

// pageTextLimit is the length, in characters, a page's text before its
// link keeps to when it has a summary to cut: one SMS segment in English
// (160 characters of the GSM alphabet), three in Russian (67 characters
// each in UCS-2 once a text takes more than one).
func pageTextLimit(lang oncall.Language) int {
	if lang == oncall.Russian {
		return 3 * 67
	}
	return 160
}

// cut shortens s to at most n characters, ending it with "..." (plain
// ASCII, so that an English text stays in the GSM alphabet) at the last
// word break that keeps at least half of it.
func cut(s string, n int) string {
	const more = "..."
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	n = max(n-len(more), 8)
	r := []rune(s)
	if n >= len(r) {
		return s
	}
	kept := string(r[:n])
	if i := strings.LastIndexAny(kept, " ,;.:-"); i >= len(kept)/2 {
		kept = kept[:i]
	}
	return strings.TrimRight(kept, " ,;.:-") + more
}

// overdue is how a text about an open page past its deadline begins.
func overdue(p *Page, lang oncall.Language) string {
	if p.Overdue {
		return pick(lang, "ПРОСРОЧЕН! ", "OVERDUE! ")
	}
	return ""
}

// EscalatedText tells an engineer paged earlier that the page went on to
// level, to next (zero: nobody was on call).
func EscalatedText(p *Page, lang oncall.Language, level oncall.Level, next Target, _ Rules) string {
	who := next.Name
	if who == "" {
		who = pick(lang, "дежурного нет", "nobody is on call")
	}
	return overdue(p, lang) + fmt.Sprintf(pick(lang, "Вызов %s (%s) не подтверждён и передан на %s: %s.", "Page %s (%s) was not acknowledged and went to %s: %s."),
		p.Code(), subject(p, lang), level, who)
}

// AckedText tells an engineer paged earlier who took the page.
func AckedText(p *Page, lang oncall.Language, by string) string {
	return fmt.Sprintf(pick(lang, "Вызов %s (%s) принят: %s.", "Page %s (%s) was acknowledged by %s."), p.Code(), subject(p, lang), by)
}

// ResolvedText tells an engineer paged earlier that the page was closed.
func ResolvedText(p *Page, lang oncall.Language, by string) string {
	return fmt.Sprintf(pick(lang, "Вызов %s (%s) закрыт: %s.", "Page %s (%s) was resolved by %s."), p.Code(), subject(p, lang), by)
}

// LastResortText tells the last-resort contact that a rung found nobody.
func LastResortText(p *Page, lang oncall.Language, level oncall.Level, layer oncall.Layer, _ Rules) string {
	return lastResortText(p, lang, []Rung{{Level: level, Layer: layer}}, false)
}

// lastResortText tells the last-resort contact which rungs found nobody on
// call; nobody: and so nobody could be paged at all (with no gaps: every
// engineer on call was out of reach).
func lastResortText(p *Page, lang oncall.Language, gaps []Rung, nobody bool) string {
	if len(gaps) == 0 {
		return overdue(p, lang) + fmt.Sprintf(pick(lang, "Вызов %s (%s): ни до кого из дежурных не дозвониться, вызов не получил никто.",
			"Page %s (%s): nobody on call can be reached; nobody could be paged."), p.Code(), subject(p, lang))
	}
	names := make([]string, len(gaps))
	for i, g := range gaps {
		names[i] = pick(lang, fmt.Sprintf("%s (%s)", g.Level, layerName(lang, g.Layer)), fmt.Sprintf("%s %s", g.Level, g.Layer))
	}
	text := overdue(p, lang) + fmt.Sprintf(pick(lang, "Вызов %s (%s): на %s никто не дежурит.", "Page %s (%s): nobody is on call at %s."),
		p.Code(), subject(p, lang), strings.Join(names, ", "))
	if nobody {
		text += pick(lang, " Вызов не получил никто.", " Nobody could be paged.")
	}
	return text
}

func layerName(lang oncall.Language, l oncall.Layer) string {
	switch l {
	case oncall.Primary:
		return pick(lang, "основной", "primary")
	case oncall.Secondary:
		return pick(lang, "резервный", "secondary")
	}
	return l.String()
}

// AckNote is the note the page's ticket gets when it is acknowledged, in
// the client's language (the note is visible to them).
func AckNote(p *Page, by string, via Via) string {
	lang := p.Language
	at := p.AckedAt.UTC().Format("2006-01-02 15:04 UTC")
	how := map[Via][2]string{
		ViaVoice: {"по телефону", "by phone"}, ViaSMS: {"по SMS", "by text message"},
		ViaLink: {"по ссылке", "by link"}, ViaAPI: {"в системе", "in the system"}, ViaWeb: {"на сайте дежурств", "on the on-call web page"},
	}[via]
	return fmt.Sprintf(pick(lang, "Дежурный инженер %s принял вызов %s (%s).", "On-call engineer %s acknowledged the page %s (%s)."),
		by, pick(lang, how[0], how[1]), at)
}

// Ago says how long ago d was, as a person would: "just now", "5 min
// ago", "3 h ago"; in Russian with the plural form the number takes
// (1 минуту, 2 минуты, 5 минут).
func Ago(lang oncall.Language, d time.Duration) string {
	switch {
	case d < time.Minute:
		return pick(lang, "только что", "just now")
	case d < time.Hour:
		n := int(d / time.Minute)
		return pick(lang, fmt.Sprintf("%d %s назад", n, RussianPlural(n, "минуту", "минуты", "минут")),
			fmt.Sprintf("%d min ago", n))
	default:
		n := int(d / time.Hour)
		return pick(lang, fmt.Sprintf("%d %s назад", n, RussianPlural(n, "час", "часа", "часов")),
			fmt.Sprintf("%d h ago", n))
	}
}

// RussianPlural picks the form a Russian noun takes after n: one (1, 21,
// 31 …), few (2–4, 22–24 …) or many (5–20, 25–30 …, 11–14).
func RussianPlural(n int, one, few, many string) string {
	if n < 0 {
		n = -n
	}
	switch n10, n100 := n%10, n%100; {
	case n10 == 1 && n100 != 11:
		return one
	case n10 >= 2 && n10 <= 4 && (n100 < 12 || n100 > 14):
		return few
	}
	return many
}
