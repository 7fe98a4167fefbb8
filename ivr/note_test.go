package ivr_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

func TestSummary(t *testing.T) {
	cfg := ivr.DefaultConfig()
	tests := []struct {
		name string
		r    ivr.CallRecord
		want string
	}{{
		name: "connected, English, ticket given",
		r: ivr.CallRecord{Line: moscow, Caller: client, Language: oncall.English, LanguageFrom: "chosen",
			TicketID: "12345", TicketFrom: "caller", Priority: oncall.Critical, Level: oncall.L2,
			StartedAt: t0, EndedAt: at(324), Duration: 324 * time.Second, Outcome: ivr.OutcomeConnected,
			EngineerID: 11, EngineerName: "Anna", EngineerPhone: "+79990000011", AnsweredAt: at(24)},
		want: "Phone call to the Moscow line (+74996383867) from +79161234567.\n" +
			"Time: 2026-03-02 10:00:00 – 10:05:24 UTC (5 min 24 s).\n" +
			"Language: English, chosen by the caller.\n" +
			"Ticket: 12345, given by the caller; priority critical, level L2.\n" +
			"Answered by Anna at 10:00:24 UTC; the conversation lasted 5 min 0 s.",
	}, {
		name: "voicemail, Russian, ticket opened, paged",
		r: ivr.CallRecord{Line: washington, Caller: "anonymous", Language: oncall.Russian, LanguageFrom: "remembered",
			TicketID: "90210", TicketFrom: "opened", Priority: oncall.Urgent, Level: oncall.L1,
			StartedAt: t0, EndedAt: at(3725), Duration: 3725 * time.Second, Outcome: ivr.OutcomeVoicemail,
			VoicemailURL: "https://rec.example/1", VoicemailSeconds: 42, Paged: true},
		want: "Звонок на линию Вашингтон (+12025952118) со скрытого номера.\n" +
			"Время: 2026-03-02 10:00:00 – 11:02:05 UTC (1 ч 2 мин).\n" +
			"Язык: русский, запомнен с прошлого звонка.\n" +
			"Заявка: 90210, открыта во время звонка; приоритет срочный, уровень L1.\n" +
			"Свободного инженера не нашлось; клиент оставил голосовое сообщение (42 с).\n" +
			"Дежурному инженеру отправлен вызов.",
	}, {
		name: "abandoned without a ticket, English",
		r: ivr.CallRecord{Line: washington, Caller: "", Language: oncall.English, LanguageFrom: "line",
			Priority: oncall.Low, Level: oncall.L1, StartedAt: t0, EndedAt: at(50), Duration: 50 * time.Second, Outcome: ivr.OutcomeAbandoned, Paged: true},
		want: "Phone call to the Washington line (+12025952118) from a withheld number.\n" +
			"Time: 2026-03-02 10:00:00 – 10:00:50 UTC (50 s).\n" +
			"Language: English, the line's language.\n" +
			"Ticket: none; priority low, level L1.\n" +
			"The caller hung up while waiting for an engineer.\n" +
			"The on-call engineer has been paged.",
	}, {
		name: "unverified ticket, English",
		r: ivr.CallRecord{Line: washington, Caller: client, Language: oncall.English, LanguageFrom: "line",
			TicketID: "77", TicketFrom: "unverified", Priority: oncall.Normal, Level: oncall.L1,
			StartedAt: t0, EndedAt: at(50), Duration: 50 * time.Second, Outcome: ivr.OutcomeAbandoned, Paged: true},
		want: "Phone call to the Washington line (+12025952118) from +79161234567.\n" +
			"Time: 2026-03-02 10:00:00 – 10:00:50 UTC (50 s).\n" +
			"Language: English, the line's language.\n" +
			"Ticket: 77, given by the caller and not verified (the ticket system did not answer); priority normal, level L1.\n" +
			"The caller hung up while waiting for an engineer.\n" +
			"The on-call engineer has been paged.",
	}, {
		name: "a new ticket in place of a closed one, Russian",
		r: ivr.CallRecord{Line: moscow, Caller: client, Language: oncall.Russian, LanguageFrom: "line",
			TicketID: "90210", TicketFrom: "opened", ClosedTicket: "77", Priority: oncall.Urgent, Level: oncall.L1,
			StartedAt: t0, EndedAt: at(7), Duration: 7 * time.Second, Outcome: ivr.OutcomeHungUp},
		want: "Звонок на линию Москва (+74996383867) с номера +79161234567.\n" +
			"Время: 2026-03-02 10:00:00 – 10:00:07 UTC (7 с).\n" +
			"Язык: русский, язык линии.\n" +
			"Заявка: 90210, открыта во время звонка; вместо закрытой заявки 77; приоритет срочный, уровень L1.\n" +
			"Клиент завершил звонок до соединения с инженером.",
	}, {
		name: "hung up in the menus, Russian",
		r: ivr.CallRecord{Line: moscow, Caller: client, Language: oncall.Russian, LanguageFrom: "line",
			StartedAt: t0, EndedAt: at(7), Duration: 7 * time.Second, Outcome: ivr.OutcomeHungUp},
		want: "Звонок на линию Москва (+74996383867) с номера +79161234567.\n" +
			"Время: 2026-03-02 10:00:00 – 10:00:07 UTC (7 с).\n" +
			"Язык: русский, язык линии.\n" +
			"Заявка: нет.\n" +
			"Клиент завершил звонок до соединения с инженером.",
	}, {
		name: "voicemail without a message",
		r: ivr.CallRecord{Line: moscow, Caller: client, Language: oncall.English, LanguageFrom: "chosen",
			Priority: oncall.Normal, Level: oncall.L1, StartedAt: t0, EndedAt: at(90), Duration: 90 * time.Second,
			Outcome: ivr.OutcomeVoicemail},
		want: "Phone call to the Moscow line (+74996383867) from +79161234567.\n" +
			"Time: 2026-03-02 10:00:00 – 10:01:30 UTC (1 min 30 s).\n" +
			"Language: English, chosen by the caller.\n" +
			"Ticket: none; priority normal, level L1.\n" +
			"No engineer was free; no voice message was left.",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ivr.Summary(cfg, tc.r); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// The note is read by the client: it never shows an engineer's phone
// number or the recording's address.
func TestSummaryHidesStaffData(t *testing.T) {
	e := newEnv(t)
	c, _ := e.start(ivr.CallStarted{Caller: client})
	c.send(3, ivr.Digits{})
	c.send(15, ivr.Digits{Digits: "12345"})
	c.send(20, ivr.LegAnswered{LegID: "CA1-leg1"})
	c.send(24, ivr.LegDigits{LegID: "CA1-leg1", Digits: "1"})
	c.send(100, ivr.HungUp{})
	note := e.tickets.Notes("12345")[0]
	r := savedOnce(t, e)
	if r.Note != note || r.EngineerPhone == "" || strings.Contains(note, r.EngineerPhone) {
		t.Errorf("note %q, record %+v", note, r)
	}
}

// TestNoteControlCharacters: a name stored before names were checked
// may hold control characters; the ticket system refuses a note with any
// (but line breaks and tabs), so the note leaves them out and keeps the
// rest of the name rather than lose the whole note.
func TestNoteControlCharacters(t *testing.T) {
	r := ivr.CallRecord{Line: moscow, Caller: client, Language: oncall.English, LanguageFrom: "chosen",
		StartedAt: t0, EndedAt: at(60), Duration: 60 * time.Second, Outcome: ivr.OutcomeConnected,
		EngineerID: 11, EngineerName: "Anna\x00 \x1b[2JSmirnova\nEvil line\u202e\xff", AnsweredAt: at(24)}
	got := ivr.Summary(ivr.DefaultConfig(), r)
	if !utf8.ValidString(got) {
		t.Errorf("note is not valid UTF-8: %q", got)
	}
	if i := strings.IndexFunc(got, func(r rune) bool { return r != '\n' && oncall.Unprintable(r) }); i >= 0 {
		t.Errorf("note has a control character at %d: %q", i, got)
	}
	if lines := strings.Count(got, "\n"); lines != 4 {
		t.Errorf("note has %d line breaks, want 4 (a name adds none): %q", lines, got)
	}
	if !strings.Contains(got, "Answered by Anna [2JSmirnova Evil line") {
		t.Errorf("note %q does not name the engineer readably", got)
	}
}
