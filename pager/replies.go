package pager

import (
	"fmt"

	"github.com/supportdesk/ivr/oncall"
)

// The service's answers to an engineer's text.

// ReplyAckedText confirms that the engineer's text acknowledged p.
func ReplyAckedText(p *Page, lang oncall.Language) string {
	return fmt.Sprintf(pick(lang, "Вызов %s (%s) принят вами. Спасибо.", "You acknowledged page %s (%s). Thank you."), p.Code(), subject(p, lang))
}

// ReplyClosedText says that p was closed before the engineer's text.
func ReplyClosedText(p *Page, lang oncall.Language) string {
	switch p.Status {
	case Acknowledged:
		return fmt.Sprintf(pick(lang, "Вызов %s уже принят: %s.", "Page %s was acknowledged already by %s."), p.Code(), p.AckedByName)
	case Resolved:
		return fmt.Sprintf(pick(lang, "Вызов %s уже закрыт.", "Page %s is resolved already."), p.Code())
	}
	return fmt.Sprintf(pick(lang, "Вызов %s не активен.", "Page %s is not open."), p.Code())
}

// ReplyUnknownText says that no page has the code texted.
func ReplyUnknownText(lang oncall.Language, code string) string {
	return fmt.Sprintf(pick(lang, "Вызова с кодом %s нет.", "There is no page %s."), code)
}

// ReplyHelpText says how to acknowledge by text.
func ReplyHelpText(lang oncall.Language) string {
	return pick(lang, "Чтобы подтвердить вызов, ответьте его номером, например 17.",
		"To acknowledge a page, reply with its number, for example 17.")
}
