package pager

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// After the key: what an engineer can do once they have taken a page that
// a client's call raised — hear the client's voicemail, call the client
// back from the line the client called — and what the pager says to an
// engineer who calls the paging number. The call back is logged on the
// page and noted on its ticket.

// CanCallBack reports whether the client of page p can be called back:
// a client's call raised it and their number is known (not withheld).
func CanCallBack(p *Page) bool {
	switch p.Source {
	case FromCall, FromFallback, FromUpgrade:
		return p.Caller != ""
	}
	return false
}

// HasMessage reports whether page p carries a voicemail to hear.
func HasMessage(p *Page) bool { return p.Recording != "" }

// CalledBack is an engineer's call to the client of a page, bridged to
// them from the page call's menu or the pager's dial-in: Ended false as
// it is placed, true with how it went once it is over. The page's log
// says both; the ticket gets a note once it is over. An ended call back
// reported twice (a callback repeated) is logged and noted once.
type CalledBack struct {
	EngineerID int64
	Name       string // who called, for people
	// CallID is the provider's id of the call to the client; "" while it
	// is placed.
	CallID   string
	Ended    bool
	Answered bool          // the client picked up
	Talked   time.Duration // how long they talked, when the client picked up
	// Status is the provider's final status of the call to the client
	// ("completed", "busy", "no-answer", "failed", "canceled"), for the
	// log.
	Status string
}

func (CalledBack) isEvent() {}

// CalledBack applies ev to page id (see the event). errs.NotFound if
// there is no such page.
func (e *Engine) CalledBack(ctx context.Context, id int64, ev CalledBack) (Page, error) {
	return e.Handle(ctx, id, ev)
}

// calledBack logs a call back to the client and, once it is over, notes
// it on the ticket, in the client's language: the note is theirs to read.
// A page of no client's call (nothing to call back) is left as it is.
func (m *machine) calledBack(ev CalledBack) {
	p := m.p
	if !CanCallBack(p) {
		return
	}
	from := p.Line
	if name := m.env.Rules.LineNames[p.Line]; name != "" {
		from = name + " " + p.Line
	}
	if !ev.Ended {
		m.log("calling back", "%s is calling the client %s from line %s", ev.Name, p.Caller, from)
		return
	}
	if ev.CallID != "" {
		for _, e := range p.Log {
			if e.What == "called back" && strings.HasSuffix(e.Detail, "(call "+ev.CallID+")") {
				return
			}
		}
	}
	how := "no answer"
	switch {
	case ev.Answered:
		how = "talked " + ev.Talked.Round(time.Second).String()
	case ev.Status != "":
		how = "no answer (" + ev.Status + ")"
	}
	detail := fmt.Sprintf("%s called the client %s from line %s: %s", ev.Name, p.Caller, from, how)
	if ev.CallID != "" {
		detail += " (call " + ev.CallID + ")"
	}
	m.log("called back", "%s", detail)
	if p.TicketID != "" {
		m.add(Attempt{Kind: KindNote, Purpose: PurposeNote, To: p.TicketID, Body: CallbackNote(p, ev, m.now())})
	}
}

// CallbackNote is the note a page's ticket gets when an engineer called
// the client back at at, in the client's language.
func CallbackNote(p *Page, ev CalledBack, at time.Time) string {
	lang := p.Language
	when := at.UTC().Format("2006-01-02 15:04 UTC")
	if !ev.Answered {
		return fmt.Sprintf(pick(lang, "Дежурный инженер %s пытался перезвонить вам (%s), но не дозвонился.",
			"On-call engineer %s tried to call you back (%s) but could not reach you."), ev.Name, when)
	}
	var long string
	if n := int(ev.Talked / time.Minute); n < 1 {
		long = pick(lang, "меньше минуты", "under a minute")
	} else {
		long = pick(lang, fmt.Sprintf("%d %s", n, RussianPlural(n, "минуту", "минуты", "минут")),
			fmt.Sprintf("%d min", n))
	}
	return fmt.Sprintf(pick(lang, "Дежурный инженер %s перезвонил вам (%s); разговор длился %s.",
		"On-call engineer %s called you back (%s); you talked for %s."), ev.Name, when, long)
}

// AckedMenuPrompts thanks the engineer who has just taken page p and
// offers what they can do next (MenuPrompts); with nothing to offer it is
// AckedPrompts, goodbye included.
func AckedMenuPrompts(lang oncall.Language, listen, callBack bool) []ivr.Prompt {
	if !listen && !callBack {
		return AckedPrompts(lang)
	}
	return append(prompts(voiceLang(lang), "page_acked_more"), MenuPrompts(lang, listen, callBack)...)
}

// MenuPrompts offers, after the key, "press 2 to hear the message" when
// listen and "press 3 to call the client back" when callBack.
func MenuPrompts(lang oncall.Language, listen, callBack bool) []ivr.Prompt {
	lang = voiceLang(lang)
	var ps []ivr.Prompt
	if listen {
		ps = append(ps, prompt(lang, "page_press_listen"))
	}
	if callBack {
		ps = append(ps, prompt(lang, "page_press_callback"))
	}
	return ps
}

// MessagePrompts introduces the client's voicemail, played after them.
func MessagePrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_message")
}

// NoRecordingPrompts says the voicemail is gone (past its retention).
func NoRecordingPrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_no_recording")
}

// CallingClientPrompts is said while the client's phone rings.
func CallingClientPrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_calling_client")
}

// ClientNoAnswerPrompts says the client did not pick up; the menu follows.
func ClientNoAnswerPrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_client_no_answer")
}

// CallEndedPrompts ends the engineer's call once the client hung up.
func CallEndedPrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_call_ended")
}

// GoodbyePrompts ends a call whose menu got no key.
func GoodbyePrompts(lang oncall.Language) []ivr.Prompt {
	return prompts(voiceLang(lang), "page_goodbye")
}

// DialInPrompts is what an engineer who calls the paging number hears, in
// lang at now: with open pages addressed to them (open, newest first),
// the intro, how many there are, and the newest as a page call announces
// it ("The newest page:" first when there are several), ending with
// "press 1 to acknowledge"; with none, that they have none, and goodbye.
func DialInPrompts(open []Page, lang oncall.Language, now time.Time, rules Rules) []ivr.Prompt {
	lang = voiceLang(lang)
	if len(open) == 0 {
		return prompts(lang, "page_none_open")
	}
	ps := prompts(lang, "page_intro")
	ps = append(ps, OpenPagesPrompts(lang, min(len(open), 99))...)
	if len(open) > 1 {
		ps = append(ps, prompt(lang, "page_newest"))
	}
	announce := PageCallPrompts(&open[0], lang, now, rules)
	if len(announce) > 0 && announce[0].Name == "page_intro" {
		announce = announce[1:]
	}
	return append(ps, announce...)
}

// NotEngineerPrompts answers a caller to the paging number who is none of
// the team's engineers: in English, then in Russian (the pager cannot tell
// which a stranger speaks).
func NotEngineerPrompts() []ivr.Prompt {
	return []ivr.Prompt{prompt(oncall.English, "page_not_engineer"), prompt(oncall.Russian, "page_not_engineer")}
}

// OpenPagesOf returns, of pages (newest first), those open and addressed
// to engineer id: they were paged about them.
func OpenPagesOf(pages []Page, id int64) []Page {
	var out []Page
	for _, p := range pages {
		if p.Status != Open {
			continue
		}
		for _, t := range p.Paged {
			if t.EngineerID == id {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
