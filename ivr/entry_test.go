package ivr_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/ivr/ivrtest"
	"github.com/supportdesk/ivr/oncall"
)

// Expected results used across the tests.
const (
	greetMoscowRU     = "caller: gather(11#,5s) ru[greeting_moscow] en[language_offer]"
	greetMoscowEN     = "caller: gather(11#,5s) en[greeting_moscow] ru[language_offer]"
	greetWashingtonEN = "caller: gather(11#,5s) en[greeting_washington] ru[language_offer]"
	askTicketRU       = "caller: gather(11#,10s) ru[ticket_enter]"
	askTicketEN       = "caller: gather(11#,10s) en[ticket_enter]"
	retryInvalidRU    = "caller: gather(11#,10s) ru[ticket_invalid ticket_retry]"
	retryUnknownRU    = "caller: gather(11#,10s) ru[ticket_unknown ticket_retry]"
	priorityMenuRU    = "caller: gather(1,10s) ru[priority_menu]"
	ringAnna          = "ring CA1-leg1 e11 +79990000011 cid=+74996383867 25s"
	unverifiedRU      = ringAnna + " | caller: hold ru[ticket_unverified searching hold_offer_message]"
	ringAnnaFound     = ringAnna + " | caller: hold ru[word_ticket d:12345 pause word_priority priority_critical searching hold_offer_message]"
	nothingHeardRU    = "caller: gather(11#,10s) ru[nothing_heard ticket_enter]"
)

// ringAnnaOpened: Anna rung for a new ticket 90210 of priority p, which the
// caller hears said back.
func ringAnnaOpened(p oncall.Priority) string {
	return ringAnna + " | caller: hold ru[priority_set_" + string(p) + " ticket_opened d:90210 pause searching hold_offer_message]"
}

func TestLanguage(t *testing.T) {
	rememberedEN := func(e *env) {
		e.prefs.LanguageFn = func(ctx context.Context, caller string) (oncall.Language, bool, error) {
			return oncall.English, true, nil
		}
	}
	noPreferences := func(e *env) {
		e.prefs.LanguageFn = func(_ context.Context, caller string) (oncall.Language, bool, error) {
			e.unexpected("Preferences.Language", caller)
			return "", false, nil
		}
		e.prefs.SetLanguageFn = func(_ context.Context, caller string, l oncall.Language) error {
			e.unexpected("Preferences.SetLanguage", caller, l)
			return nil
		}
	}
	runCases(t, []flowCase{{
		name:  "Moscow speaks Russian first; no key keeps it",
		start: ivr.CallStarted{Caller: client},
		want:  greetMoscowRU,
		turns: []ex{{5, ivr.Digits{}, askTicketRU}},
		check: func(t *testing.T, e *env, st ivr.State) {
			if !slices.Equal(e.prefs.Asked(), []string{client}) || len(e.prefs.Set()) != 0 {
				t.Errorf("asked %v, set %v", e.prefs.Asked(), e.prefs.Set())
			}
			if st.Lang != oncall.Russian || st.LangFrom != "line" || st.Phase != ivr.PhaseTicket {
				t.Errorf("state %s %s %s", st.Lang, st.LangFrom, st.Phase)
			}
		},
	}, {
		name:  "Moscow: 9 switches to English and is remembered",
		start: ivr.CallStarted{Caller: client},
		want:  greetMoscowRU,
		turns: []ex{{3, ivr.Digits{Digits: "9"}, askTicketEN}},
		check: func(t *testing.T, e *env, st ivr.State) {
			if e.prefs.Set()[client] != oncall.English || st.LangFrom != "chosen" {
				t.Errorf("remembered %v, from %s", e.prefs.Set(), st.LangFrom)
			}
		},
	}, {
		name:  "Washington speaks English first; another key keeps it",
		start: ivr.CallStarted{Line: washington, Caller: client},
		want:  greetWashingtonEN,
		turns: []ex{{2, ivr.Digits{Digits: "5"}, askTicketEN}},
		check: func(t *testing.T, e *env, st ivr.State) {
			if len(e.prefs.Set()) != 0 {
				t.Errorf("remembered %v", e.prefs.Set())
			}
		},
	}, {
		name:  "Washington: 9 switches to Russian and is remembered",
		start: ivr.CallStarted{Line: washington, Caller: client},
		want:  greetWashingtonEN,
		turns: []ex{{2, ivr.Digits{Digits: "9"}, askTicketRU}},
		check: func(t *testing.T, e *env, st ivr.State) {
			if e.prefs.Set()[client] != oncall.Russian {
				t.Errorf("remembered %v", e.prefs.Set())
			}
		},
	}, {
		name:  "remembered English on the Moscow line, Russian offered",
		setup: rememberedEN,
		start: ivr.CallStarted{Caller: client},
		want:  greetMoscowEN,
		turns: []ex{{5, ivr.Digits{}, askTicketEN}},
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.LangFrom != "remembered" {
				t.Errorf("from %s", st.LangFrom)
			}
		},
	}, {
		name:  "remembered English, 9 goes back to Russian and is remembered",
		setup: rememberedEN,
		start: ivr.CallStarted{Caller: client},
		want:  greetMoscowEN,
		turns: []ex{{5, ivr.Digits{Digits: "9"}, askTicketRU}},
		check: func(t *testing.T, e *env, st ivr.State) {
			if e.prefs.Set()[client] != oncall.Russian {
				t.Errorf("remembered %v", e.prefs.Set())
			}
		},
	}, {
		name:  "anonymous caller: nothing looked up, nothing remembered",
		setup: noPreferences,
		start: ivr.CallStarted{Caller: "anonymous"},
		want:  greetMoscowRU,
		turns: []ex{{3, ivr.Digits{Digits: "9"}, askTicketEN}},
	}, {
		name:  "withheld caller id",
		setup: noPreferences,
		start: ivr.CallStarted{Line: washington, Caller: ""},
		want:  greetWashingtonEN,
		turns: []ex{{3, ivr.Digits{Digits: "9"}, askTicketRU}},
	}, {
		name:  "Twilio's ANONYMOUS placeholder number is withheld",
		setup: noPreferences,
		start: ivr.CallStarted{Caller: "+266696687"},
		want:  greetMoscowRU,
		turns: []ex{{3, ivr.Digits{Digits: "9"}, askTicketEN}},
	}, {
		// The README suggests typing 1001# at once: it is the ticket, not
		// a language key, and is looked up without the ticket prompt.
		name:  "a ticket id keyed during the greeting is looked up at once",
		start: ivr.CallStarted{Caller: client},
		turns: []ex{{3, ivr.Digits{Digits: "12345#"}, ringAnnaFound}},
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.TicketID != "12345" || st.TicketFrom != "caller" || st.Lang != oncall.Russian || st.LangFrom != "line" ||
				len(e.prefs.Set()) != 0 || !slices.Equal(e.tickets.Looked(), []string{"12345"}) {
				t.Errorf("ticket %q from %q, lang %s (%s), remembered %v, looked up %v",
					st.TicketID, st.TicketFrom, st.Lang, st.LangFrom, e.prefs.Set(), e.tickets.Looked())
			}
			if !slices.ContainsFunc(st.Steps, func(s ivr.Entry) bool { return strings.Contains(s.Detail, "ticket keyed during the greeting") }) {
				t.Errorf("steps %+v", st.Steps)
			}
		},
	}, {
		name:  "a ticket id keyed during the greeting without the pound sign (the greeting's gather timed out)",
		turns: []ex{{8, ivr.Digits{Digits: "12345"}, ringAnnaFound}},
	}, {
		name:  "a ticket id keyed during the greeting is read back in the remembered language",
		setup: rememberedEN,
		start: ivr.CallStarted{Caller: client},
		want:  greetMoscowEN,
		turns: []ex{{3, ivr.Digits{Digits: "12345#"}, ringAnna + " | caller: hold en[word_ticket d:12345 pause word_priority priority_critical searching hold_offer_message]"}},
	}, {
		name: "an unknown id keyed during the greeting is the first ticket try",
		turns: []ex{{3, ivr.Digits{Digits: "999#"}, retryUnknownRU},
			{15, ivr.Digits{Digits: "998"}, retryUnknownRU},
			{25, ivr.Digits{Digits: "997"}, "caller: gather(1,10s) ru[ticket_unknown ticket_new priority_menu]"}},
	}, {
		name:  "star and pound during the greeting: no ticket",
		turns: []ex{{3, ivr.Digits{Digits: "*#"}, priorityMenuRU}},
	}, {
		name:  "star and pound during the greeting, the pound reported as the terminator: no ticket",
		turns: []ex{{3, ivr.Digits{Digits: "*", Finished: true}, priorityMenuRU}},
	}, {
		name:  "one key and pound during the greeting is a ticket entry, too short",
		turns: []ex{{3, ivr.Digits{Digits: "5#"}, retryInvalidRU}},
	}, {
		name:  "one key ended by the terminator during the greeting is a ticket entry",
		turns: []ex{{3, ivr.Digits{Digits: "5", Finished: true}, retryInvalidRU}},
	}, {
		name:  "9 ended by the terminator still switches the language",
		turns: []ex{{3, ivr.Digits{Digits: "9", Finished: true}, askTicketEN}},
	}, {
		name:  "9 and pound still switches the language",
		start: ivr.CallStarted{Caller: client},
		turns: []ex{{3, ivr.Digits{Digits: "9#"}, askTicketEN}},
	}, {
		name:  "pound alone keeps the language",
		turns: []ex{{3, ivr.Digits{Digits: "#"}, askTicketRU}},
	}, {
		name:  "unknown dialled number is answered as the Moscow line, logged",
		start: ivr.CallStarted{Line: "+15550000000", Caller: client},
		want:  greetMoscowRU,
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.Line != moscow || !logged(e, zapcore.WarnLevel, "unknown number") {
				t.Errorf("line %s, logs %v", st.Line, e.logs.All())
			}
		},
	}, {
		name:  "dialled number without plus finds its line",
		start: ivr.CallStarted{Line: "12025952118", Caller: client},
		want:  greetWashingtonEN,
	}, {
		name: "preference lookup fails: line's language, logged",
		setup: func(e *env) {
			e.prefs.LanguageFn = func(ctx context.Context, caller string) (oncall.Language, bool, error) {
				return "", false, errors.New("store down")
			}
		},
		start: ivr.CallStarted{Caller: client},
		want:  greetMoscowRU,
		check: func(t *testing.T, e *env, st ivr.State) {
			if !logged(e, zapcore.WarnLevel, "language preference lookup failed") {
				t.Error("failure not logged")
			}
		},
	}, {
		name: "preference lookup too slow: line's language",
		setup: func(e *env) {
			e.cfg.LookupBudget = 5 * time.Millisecond
			e.prefs.LanguageFn = func(ctx context.Context, caller string) (oncall.Language, bool, error) {
				return "", false, ivrtest.Hang(ctx)
			}
		},
		start: ivr.CallStarted{Line: washington, Caller: client},
		want:  greetWashingtonEN,
	}, {
		name: "remembering fails: the call goes on in the chosen language",
		setup: func(e *env) {
			e.prefs.SetLanguageFn = func(ctx context.Context, caller string, l oncall.Language) error {
				return errors.New("store down")
			}
		},
		start: ivr.CallStarted{Caller: client},
		want:  greetMoscowRU,
		turns: []ex{{3, ivr.Digits{Digits: "9"}, askTicketEN}},
		check: func(t *testing.T, e *env, st ivr.State) {
			if !logged(e, zapcore.WarnLevel, "could not remember") {
				t.Error("failure not logged")
			}
		},
	}})
}

func TestTicketEntry(t *testing.T) {
	lang := ex{5, ivr.Digits{}, askTicketRU}
	ticketsDown := func(err error) func(e *env) {
		return func(e *env) {
			e.tickets.TicketFn = func(ctx context.Context, id string) (ivr.Ticket, error) { return ivr.Ticket{}, err }
			e.tickets.OpenFn = func(_ context.Context, nt ivr.NewTicket) (ivr.Ticket, error) { // not tried again during the same call
				e.unexpected("Tickets.OpenTicket", nt)
				return ivr.Ticket{}, errUnexpected
			}
		}
	}
	cases := []flowCase{{
		name:  "found: read back, routed with its priority",
		turns: []ex{lang, {15, ivr.Digits{Digits: "12345"}, ringAnnaFound}},
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.TicketID != "12345" || st.TicketFrom != "caller" || st.Priority != oncall.Critical ||
				st.Level != oncall.L1 || st.Phase != ivr.PhaseRouting {
				t.Errorf("state %+v", st)
			}
		},
	}, {
		name:  "found with a trailing terminator",
		turns: []ex{lang, {15, ivr.Digits{Digits: "12345#"}, ringAnnaFound}},
	}, {
		name: "escalated ticket is routed at its level, with its priority",
		turns: []ex{lang, {15, ivr.Digits{Digits: "777"},
			"ring CA1-leg1 e21 +79990000021 cid=+74996383867 25s | caller: hold ru[word_ticket d:777 pause word_priority priority_urgent searching hold_offer_message]"}},
	}, {
		name: "ticket without a valid priority is routed as normal",
		setup: func(e *env) {
			e.tickets.Add(ivr.Ticket{ID: "4242"})
		},
		turns: []ex{lang, {15, ivr.Digits{Digits: "4242"},
			ringAnna + " | caller: hold ru[word_ticket d:4242 pause word_priority priority_normal searching hold_offer_message]"}},
	}, {
		name: "ticket system answers without an id: the keyed id is kept",
		setup: func(e *env) {
			e.tickets.TicketFn = func(context.Context, string) (ivr.Ticket, error) { return ivr.Ticket{Priority: oncall.Low}, nil }
		},
		turns: []ex{lang, {15, ivr.Digits{Digits: "4243"},
			ringAnna + " | caller: hold ru[word_ticket d:4243 pause word_priority priority_low searching hold_offer_message]"}},
	}, {
		name: "unknown three times: priority menu",
		turns: []ex{lang,
			{15, ivr.Digits{Digits: "999"}, retryUnknownRU},
			{25, ivr.Digits{Digits: "998"}, retryUnknownRU},
			{35, ivr.Digits{Digits: "997"}, "caller: gather(1,10s) ru[ticket_unknown ticket_new priority_menu]"},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if !slices.Equal(e.tickets.Looked(), []string{"999", "998", "997"}) || st.Phase != ivr.PhasePriority {
				t.Errorf("looked up %v, phase %s", e.tickets.Looked(), st.Phase)
			}
		},
	}, {
		name: "unknown, then found",
		turns: []ex{lang,
			{15, ivr.Digits{Digits: "999"}, retryUnknownRU},
			{25, ivr.Digits{Digits: "12345"}, ringAnnaFound},
		},
	}, {
		name: "invalid, unknown, invalid: priority menu",
		turns: []ex{lang,
			{15, ivr.Digits{Digits: "1a"}, retryInvalidRU},
			{25, ivr.Digits{Digits: "999"}, retryUnknownRU},
			{35, ivr.Digits{Digits: "12"}, "caller: gather(1,10s) ru[ticket_invalid ticket_new priority_menu]"},
		},
	}, {
		// Silence is not an error of the caller's: they are told nothing
		// was heard and asked for the ticket again. It still counts as a
		// try, so that a call nobody is on moves on (to the priority menu,
		// never a hang-up).
		name: "silence: nothing heard, the ticket prompt again; it counts as a try",
		turns: []ex{lang,
			{15, ivr.Digits{}, nothingHeardRU},
			{30, ivr.Digits{Digits: "999"}, retryUnknownRU},
			{45, ivr.Digits{}, "caller: gather(1,10s) ru[nothing_heard ticket_new priority_menu]"},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if !slices.Equal(e.tickets.Looked(), []string{"999"}) || st.Phase != ivr.PhasePriority {
				t.Errorf("looked up %v, phase %s", e.tickets.Looked(), st.Phase)
			}
			var heard int
			for _, s := range st.Steps {
				if s.Kind == "ticket" && s.Detail == "nothing heard" {
					heard++
				}
			}
			if heard != 2 {
				t.Errorf("%d silences noted: %+v", heard, st.Steps)
			}
		},
	}, {
		name:  "pound alone, reported as the terminator, is a wrong entry, not silence",
		turns: []ex{lang, {15, ivr.Digits{Finished: true}, retryInvalidRU}},
	}, {
		name:  "silence, then the ticket",
		turns: []ex{lang, {15, ivr.Digits{}, nothingHeardRU}, {25, ivr.Digits{Digits: "12345#"}, ringAnnaFound}},
	}, {
		name:  "star: no ticket",
		turns: []ex{lang, {8, ivr.Digits{Digits: "*"}, priorityMenuRU}},
	}, {
		name:  "star after digits: no ticket",
		turns: []ex{lang, {8, ivr.Digits{Digits: "12*"}, priorityMenuRU}},
	}, {
		name:  "in English",
		start: ivr.CallStarted{Line: washington},
		want:  greetWashingtonEN,
		turns: []ex{{5, ivr.Digits{}, askTicketEN},
			{15, ivr.Digits{Digits: "999"}, "caller: gather(11#,10s) en[ticket_unknown ticket_retry]"},
			{25, ivr.Digits{Digits: "12345"}, "ring CA1-leg1 e11 +79990000011 cid=+12025952118 25s | " +
				"caller: hold en[word_ticket d:12345 pause word_priority priority_critical searching hold_offer_message]"},
		},
	}, {
		name:  "ticket system down: said so, the keyed id kept unverified, routed at L1 normal",
		setup: ticketsDown(errors.New("connection refused")),
		turns: []ex{lang,
			{15, ivr.Digits{Digits: "12345"}, unverifiedRU},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.TicketID != "12345" || st.TicketFrom != "unverified" || !st.TicketsDown ||
				st.Priority != oncall.Normal || st.Level != oncall.L1 {
				t.Errorf("state %+v", st)
			}
			if len(e.tickets.Opened()) != 0 {
				t.Errorf("tickets opened %v: a caller with a ticket must not get a second one", e.tickets.Opened())
			}
			if !logged(e, zapcore.WarnLevel, "ticket system unavailable") {
				t.Error("not logged")
			}
		},
	}, {
		name: "a closed ticket: said so, a new one opened after it",
		setup: func(e *env) {
			e.tickets.TicketFn = func(ctx context.Context, id string) (ivr.Ticket, error) {
				return ivr.Ticket{ID: id, Priority: oncall.Critical, Level: oncall.L2, Closed: true}, nil
			}
		},
		turns: []ex{lang,
			{15, ivr.Digits{Digits: "12345"}, "caller: gather(1,10s) ru[ticket_closed ticket_new priority_menu]"},
			{20, ivr.Digits{Digits: "2"}, ringAnnaOpened(oncall.Urgent)},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.TicketID != ivrtest.OpenedID || st.TicketFrom != "opened" || st.ClosedTicket != "12345" {
				t.Errorf("state %+v", st)
			}
			if o := e.tickets.Opened(); len(o) != 1 || o[0].Follows != "12345" {
				t.Errorf("tickets opened %+v, want one that follows the closed 12345", o)
			}
		},
	}, {
		name:  "ticket system answers Unavailable",
		setup: ticketsDown(errs.E(errs.Unavailable, "", "maintenance")),
		turns: []ex{lang,
			{15, ivr.Digits{Digits: "12345"}, unverifiedRU},
		},
	}, {
		name: "an answer that comes after the budget counts as none",
		setup: func(e *env) {
			e.cfg.TicketLookupBudget = 10 * time.Millisecond
			e.tickets.TicketFn = func(ctx context.Context, id string) (ivr.Ticket, error) {
				<-ctx.Done()
				return ivr.Ticket{ID: id, Priority: oncall.Critical, Level: oncall.L1}, nil
			}
		},
		turns: []ex{lang,
			{15, ivr.Digits{Digits: "12345"}, unverifiedRU},
		},
	}, {
		name: "ticket system too slow: past the budget counts as down",
		setup: func(e *env) {
			e.cfg.TicketLookupBudget = 10 * time.Millisecond
			e.tickets.TicketFn = func(ctx context.Context, id string) (ivr.Ticket, error) {
				return ivr.Ticket{}, ivrtest.Hang(ctx)
			}
		},
		turns: []ex{lang,
			{15, ivr.Digits{Digits: "12345"}, unverifiedRU},
		},
		check: func(t *testing.T, e *env, st ivr.State) {
			if !logged(e, zapcore.WarnLevel, "ticket system unavailable") {
				t.Error("not logged")
			}
		},
	}}
	// Every form of a bad id is refused the same way and counts as a try.
	for _, bad := range []struct{ name, keys string }{
		{"letters", "12a45"},
		{"hash only", "#"},
		{"too short", "12"},
		{"too long", "12345678901"},
	} {
		cases = append(cases, flowCase{
			name: "invalid: " + bad.name,
			turns: []ex{lang,
				{15, ivr.Digits{Digits: bad.keys}, retryInvalidRU},
				{25, ivr.Digits{Digits: bad.keys}, retryInvalidRU},
				{35, ivr.Digits{Digits: bad.keys}, "caller: gather(1,10s) ru[ticket_invalid ticket_new priority_menu]"},
			},
			check: func(t *testing.T, e *env, st ivr.State) {
				if len(e.tickets.Looked()) != 0 {
					t.Errorf("looked up %v", e.tickets.Looked())
				}
			},
		})
	}
	runCases(t, cases)
}

func TestPriorityMenu(t *testing.T) {
	toMenu := []ex{{5, ivr.Digits{}, askTicketRU}, {8, ivr.Digits{Digits: "*"}, priorityMenuRU}}
	var cases []flowCase
	for key, p := range map[string]oncall.Priority{"1": oncall.Critical, "2": oncall.Urgent, "3": oncall.Normal, "4": oncall.Low} {
		cases = append(cases, flowCase{
			name:  "key " + key + " opens a " + string(p) + " ticket",
			start: ivr.CallStarted{Caller: client},
			turns: append(slices.Clone(toMenu), ex{12, ivr.Digits{Digits: key}, ringAnnaOpened(p)}),
			check: func(t *testing.T, e *env, st ivr.State) {
				want := []ivr.NewTicket{{CallerPhone: client, Language: oncall.Russian, Priority: p, Line: moscow}}
				if !slices.Equal(e.tickets.Opened(), want) {
					t.Errorf("opened %+v, want %+v", e.tickets.Opened(), want)
				}
				if st.TicketID != "90210" || st.TicketFrom != "opened" || st.Priority != p || st.Level != oncall.L1 {
					t.Errorf("state %+v", st)
				}
			},
		})
	}
	cases = append(cases, flowCase{
		name: "bad keys and silence repeat the menu; the third gives normal",
		turns: append(slices.Clone(toMenu),
			ex{12, ivr.Digits{Digits: "7"}, "caller: gather(1,10s) ru[priority_invalid priority_menu]"},
			ex{22, ivr.Digits{Digits: ""}, "caller: gather(1,10s) ru[nothing_heard priority_menu]"},
			ex{32, ivr.Digits{Digits: "0"}, ringAnna + " | caller: hold ru[priority_invalid priority_set_normal ticket_opened d:90210 pause searching hold_offer_message]"},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.Priority != oncall.Normal || e.tickets.Opened()[0].Priority != oncall.Normal {
				t.Errorf("priority %s", st.Priority)
			}
		},
	}, flowCase{
		name: "silence at the priority menu: nothing heard, the menu again; the third gives normal",
		turns: append(slices.Clone(toMenu),
			ex{12, ivr.Digits{}, "caller: gather(1,10s) ru[nothing_heard priority_menu]"},
			ex{22, ivr.Digits{}, "caller: gather(1,10s) ru[nothing_heard priority_menu]"},
			ex{32, ivr.Digits{}, ringAnna + " | caller: hold ru[nothing_heard priority_set_normal ticket_opened d:90210 pause searching hold_offer_message]"},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.Priority != oncall.Normal || len(e.tickets.Opened()) != 1 {
				t.Errorf("priority %s, opened %+v", st.Priority, e.tickets.Opened())
			}
		},
	}, flowCase{
		name:  "pound at the priority menu (Twilio's default terminator) is a wrong key, not silence",
		turns: append(slices.Clone(toMenu), ex{12, ivr.Digits{Finished: true}, "caller: gather(1,10s) ru[priority_invalid priority_menu]"}),
	}, flowCase{
		name:  "silence, then a key",
		turns: append(slices.Clone(toMenu), ex{12, ivr.Digits{}, "caller: gather(1,10s) ru[nothing_heard priority_menu]"}, ex{20, ivr.Digits{Digits: "2"}, ringAnnaOpened(oncall.Urgent)}),
	}, flowCase{
		name:  "anonymous caller in English: ticket opened without a phone",
		start: ivr.CallStarted{Line: washington, Caller: "anonymous"},
		want:  greetWashingtonEN,
		setup: func(e *env) {
			e.prefs.LanguageFn = func(_ context.Context, caller string) (oncall.Language, bool, error) {
				e.unexpected("Preferences.Language", caller)
				return "", false, nil
			}
		},
		turns: []ex{{5, ivr.Digits{}, askTicketEN}, {8, ivr.Digits{Digits: "*"}, "caller: gather(1,10s) en[priority_menu]"},
			{12, ivr.Digits{Digits: "2"}, "ring CA1-leg1 e11 +79990000011 cid=+12025952118 25s | caller: hold en[priority_set_urgent ticket_opened d:90210 pause searching hold_offer_message]"}},
		check: func(t *testing.T, e *env, st ivr.State) {
			want := ivr.NewTicket{CallerPhone: "", Language: oncall.English, Priority: oncall.Urgent, Line: washington}
			if e.tickets.Opened()[0] != want {
				t.Errorf("opened %+v", e.tickets.Opened()[0])
			}
		},
	}, flowCase{
		name: "opening fails: routed without a ticket, logged, no note later",
		setup: func(e *env) {
			e.tickets.OpenFn = func(ctx context.Context, nt ivr.NewTicket) (ivr.Ticket, error) {
				return ivr.Ticket{}, errors.New("500")
			}
			e.tickets.AddNoteFn = func(_ context.Context, id, _ string) error { e.unexpected("Tickets.AddNote", id); return nil }
		},
		turns: append(slices.Clone(toMenu),
			ex{12, ivr.Digits{Digits: "1"}, ringAnna + " | caller: hold ru[priority_set_critical searching hold_offer_message]"},
			ex{20, ivr.HungUp{}, "cancel CA1-leg1 | done"},
		),
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.TicketID != "" || !logged(e, zapcore.WarnLevel, "could not open a ticket") {
				t.Errorf("ticket %q", st.TicketID)
			}
			if p := onePage(t, e); p.TicketID != "" || p.Priority != oncall.Critical {
				t.Errorf("page %+v", p)
			}
		},
	}, flowCase{
		name: "opening too slow: routed without a ticket",
		setup: func(e *env) {
			e.cfg.TicketLookupBudget = 10 * time.Millisecond
			e.tickets.OpenFn = func(ctx context.Context, nt ivr.NewTicket) (ivr.Ticket, error) {
				return ivr.Ticket{}, ivrtest.Hang(ctx)
			}
		},
		turns: append(slices.Clone(toMenu), ex{12, ivr.Digits{Digits: "1"}, ringAnna + " | caller: hold ru[priority_set_critical searching hold_offer_message]"}),
	}, flowCase{
		name: "the ticket system's priority for the new ticket wins",
		setup: func(e *env) {
			e.tickets.OpenFn = func(ctx context.Context, nt ivr.NewTicket) (ivr.Ticket, error) {
				return ivr.Ticket{ID: "T-55", Priority: oncall.Urgent}, nil
			}
		},
		turns: append(slices.Clone(toMenu), ex{12, ivr.Digits{Digits: "4"}, ringAnna + " | caller: hold ru[priority_set_urgent ticket_opened d:55 pause searching hold_offer_message]"}),
		check: func(t *testing.T, e *env, st ivr.State) {
			if st.Priority != oncall.Urgent || st.TicketID != "T-55" {
				t.Errorf("state %+v", st)
			}
		},
	})
	runCases(t, cases)
}
