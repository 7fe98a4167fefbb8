package ivr

import (
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// The summary of a call added to its ticket. The client reads it, so it is
// written in the caller's language and names no engineer's phone number and
// no recording address (recordings are shown to signed-in staff only).

// noteText holds the sentences of a note in one language.
type noteText struct {
	call, from, withheld, time, language, ticketCaller, ticketOpened, noTicket, priority, level string
	ticketUnverified, followsClosed                                                             string
	langName                                                                                    map[oncall.Language]string
	langFrom                                                                                    map[string]string
	connected, voicemail, noMessage, abandoned, hungUp, paged                                   string
	h, min, s                                                                                   string
}

var noteTexts = map[oncall.Language]noteText{
	oncall.English: {
		call: "Phone call to the %s line (%s) %s.", from: "from %s", withheld: "from a withheld number",
		time: "Time: %s – %s UTC (%s).", language: "Language: %s, %s.",
		ticketCaller: "Ticket: %s, given by the caller", ticketOpened: "Ticket: %s, opened during this call",
		ticketUnverified: "Ticket: %s, given by the caller and not verified (the ticket system did not answer)",
		followsClosed:    "in place of the closed ticket %s",
		noTicket:         "Ticket: none", priority: "priority %s", level: "level %s",
		langName: map[oncall.Language]string{oncall.English: "English", oncall.Russian: "Russian"},
		langFrom: map[string]string{langFromLine: "the line's language",
			langFromRemembered: "remembered from an earlier call", langFromChosen: "chosen by the caller"},
		connected: "Answered by %s at %s UTC; the conversation lasted %s.",
		voicemail: "No engineer was free; the caller left a voice message (%d s).",
		noMessage: "No engineer was free; no voice message was left.",
		abandoned: "The caller hung up while waiting for an engineer.",
		hungUp:    "The caller hung up before asking for an engineer.",
		paged:     "The on-call engineer has been paged.",
		h:         "h", min: "min", s: "s",
	},
	oncall.Russian: {
		call: "Звонок на линию %s (%s) %s.", from: "с номера %s", withheld: "со скрытого номера",
		time: "Время: %s – %s UTC (%s).", language: "Язык: %s, %s.",
		ticketCaller: "Заявка: %s, названа клиентом", ticketOpened: "Заявка: %s, открыта во время звонка",
		ticketUnverified: "Заявка: %s, названа клиентом, не проверена (система заявок не ответила)",
		followsClosed:    "вместо закрытой заявки %s",
		noTicket:         "Заявка: нет", priority: "приоритет %s", level: "уровень %s",
		langName: map[oncall.Language]string{oncall.English: "английский", oncall.Russian: "русский"},
		langFrom: map[string]string{langFromLine: "язык линии",
			langFromRemembered: "запомнен с прошлого звонка", langFromChosen: "выбран клиентом"},
		connected: "Ответил инженер %s в %s UTC; разговор длился %s.",
		voicemail: "Свободного инженера не нашлось; клиент оставил голосовое сообщение (%d с).",
		noMessage: "Свободного инженера не нашлось; голосовое сообщение не оставлено.",
		abandoned: "Клиент положил трубку, не дождавшись инженера.",
		hungUp:    "Клиент завершил звонок до соединения с инженером.",
		paged:     "Дежурному инженеру отправлен вызов.",
		h:         "ч", min: "мин", s: "с",
	},
}

// How the caller's language was set.
const (
	langFromLine       = "line"
	langFromRemembered = "remembered"
	langFromChosen     = "chosen"
)

// summary is the note about call r, in r's language.
func summary(cfg Config, r CallRecord) string {
	l := r.Language
	tx, ok := noteTexts[l]
	if !ok {
		l, tx = oncall.English, noteTexts[oncall.English]
	}
	line, _ := cfg.line(r.Line)
	var b strings.Builder
	add := func(format string, args ...any) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, format, args...)
	}
	caller := tx.withheld
	if usableCaller(r.Caller) {
		caller = fmt.Sprintf(tx.from, r.Caller)
	}
	add(tx.call, strings.TrimSuffix(Text(Prompt{Name: line.Spoken, Lang: l}), "."), line.Number, caller)
	add(tx.time, r.StartedAt.UTC().Format("2006-01-02 15:04:05"), r.EndedAt.UTC().Format("15:04:05"),
		tx.duration(r.Duration))
	add(tx.language, tx.langName[r.Language], tx.langFrom[r.LanguageFrom])

	var ticket []string
	switch {
	case r.TicketID == "":
		ticket = append(ticket, tx.noTicket)
	case r.TicketFrom == "caller":
		ticket = append(ticket, fmt.Sprintf(tx.ticketCaller, r.TicketID))
	case r.TicketFrom == "unverified":
		ticket = append(ticket, fmt.Sprintf(tx.ticketUnverified, r.TicketID))
	default:
		ticket = append(ticket, fmt.Sprintf(tx.ticketOpened, r.TicketID))
	}
	if r.ClosedTicket != "" && r.TicketID != "" {
		ticket = append(ticket, fmt.Sprintf(tx.followsClosed, r.ClosedTicket))
	}
	if r.Priority.Valid() {
		ticket = append(ticket, fmt.Sprintf(tx.priority,
			Text(priorityPrompt(l, r.Priority)))+", "+fmt.Sprintf(tx.level, validLevel(r.Level)))
	}
	add("%s.", strings.Join(ticket, "; "))

	switch r.Outcome {
	case OutcomeConnected:
		add(tx.connected, oncall.PrintableName(r.EngineerName, r.EngineerID), r.AnsweredAt.UTC().Format("15:04:05"),
			tx.duration(r.EndedAt.Sub(r.AnsweredAt)))
	case OutcomeVoicemail:
		if r.VoicemailURL != "" && r.VoicemailSeconds > 0 {
			add(tx.voicemail, r.VoicemailSeconds)
		} else {
			add("%s", tx.noMessage)
		}
	case OutcomeAbandoned:
		add("%s", tx.abandoned)
	case OutcomeHungUp:
		add("%s", tx.hungUp)
	}
	if r.Paged {
		add("%s", tx.paged)
	}
	return b.String()
}

// duration writes d as "1 h 5 min", "5 min 12 s" or "40 s".
func (tx noteText) duration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = 0
	}
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%d %s %d %s", h, tx.h, m, tx.min)
	case m > 0:
		return fmt.Sprintf("%d %s %d %s", m, tx.min, s, tx.s)
	}
	return fmt.Sprintf("%d %s", s, tx.s)
}
