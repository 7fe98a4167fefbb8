package ivr

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// The caller's menus: the language offer, the ticket id, the priority.
//
// Silence (a menu that times out with no key) is not an error of the
// caller's: they hear that nothing was heard and the menu again. It counts
// toward the menu's tries all the same, so that a call nobody is on (a
// pocket dial, a phone put down) moves on; running out of tries never
// hangs up, it goes on without a ticket or with normal priority. A caller
// looking for their ticket number has DigitTimeout after each prompt and
// can key during the prompts: about 50 s in three tries.

// switchKey is the key that switches to the other language.
const switchKey = "9"

// priorityKeys maps the priority menu's keys to priorities.
var priorityKeys = map[string]oncall.Priority{
	"1": oncall.Critical, "2": oncall.Urgent, "3": oncall.Normal, "4": oncall.Low,
}

// languageChosen takes the keys of the greeting. One key alone chooses the
// language: 9 switches (9# too), any other keeps it. More keys, or a key
// other than 9 ended with # ("*#", "5#"), are a ticket entry keyed during
// the greeting (the README suggests typing 1001#): it is taken as at the
// ticket prompt, at once, in the call's language.
func (t *turn) languageChosen(keys string) {
	st := t.st
	if k := strings.TrimSuffix(keys, "#"); k != switchKey && (len(k) > 1 || k != keys && k != "") {
		t.note("language", fmt.Sprintf("kept %s; ticket keyed during the greeting", st.Lang))
		st.Phase = PhaseTicket
		t.ticketKeyed(keys)
		return
	}
	if strings.TrimSuffix(keys, "#") == switchKey {
		st.Lang, st.LangFrom = otherLanguage(st.Lang), langFromChosen
		t.note("language", "switched to "+string(st.Lang))
		t.rememberLanguage()
	} else {
		t.note("language", fmt.Sprintf("kept %s (keys %q)", st.Lang, keys))
	}
	t.askTicket(t.prompts(pTicketEnter))
}

// rememberLanguage stores the caller's choice for the next call, unless the
// caller id is withheld.
func (t *turn) rememberLanguage() {
	if !usableCaller(t.st.Caller) {
		return
	}
	ctx, cancel := context.WithTimeout(t.ctx, t.f.cfg.LookupBudget)
	defer cancel()
	if err := t.f.prefs.SetLanguage(ctx, t.st.Caller, t.st.Lang); err != nil {
		t.log.Warn("could not remember the caller's language", zap.Error(err))
	}
}

func (t *turn) askTicket(prompts []Prompt) {
	t.st.Phase = PhaseTicket
	t.callerStep(Gather{
		Prompts:    prompts,
		MaxDigits:  t.f.cfg.TicketDigitsMax + 1, // one more, so that a too long id is seen as such
		Terminator: "#",
		Timeout:    t.f.cfg.DigitTimeout,
	})
}

func (t *turn) ticketKeyed(keys string) {
	if keys == "" {
		t.ticketFailed(pNothingHeard, "nothing heard")
		return
	}
	id := strings.TrimSuffix(keys, "#")
	if strings.Contains(id, "*") {
		t.note("ticket", "none (star)")
		t.askPriority(nil)
		return
	}
	if !t.validTicketID(id) {
		t.ticketFailed(pTicketInvalid, fmt.Sprintf("invalid %q", shorten(id)))
		return
	}
	tk, err := t.lookupTicket(id)
	switch {
	case err == nil:
		t.ticketFound(id, tk)
	case errs.Is(err, errs.NotFound):
		t.ticketFailed(pTicketUnknown, "unknown "+id)
	default:
		t.log.Warn("ticket system unavailable; going on with the ticket id as keyed, unverified",
			zap.String(keyTicket, id), zap.Error(err))
		t.ticketUnverified(id)
	}
}

// ticketUnverified keeps id, which the ticket system could not look up, as
// the call's ticket (its note is owed to it like any other), routed at the
// configured priority and level: a caller with a ticket does not get a
// second one because the ticket system was down.
func (t *turn) ticketUnverified(id string) {
	st := t.st
	st.TicketsDown = true
	st.TicketID, st.TicketFrom = id, "unverified"
	st.Priority, st.Level = t.f.cfg.UnverifiedPriority, t.f.cfg.UnverifiedLevel
	t.note("ticket", fmt.Sprintf("%s kept unverified: ticket system unavailable; %s, %s", id, st.Priority, st.Level))
	t.route(t.prompts(pTicketUnverified))
}

func (t *turn) validTicketID(id string) bool {
	n := len(id)
	return n >= t.f.cfg.TicketDigitsMin && n <= t.f.cfg.TicketDigitsMax && digitsOnly(id) == id
}

func (t *turn) lookupTicket(id string) (Ticket, error) {
	ctx, cancel := context.WithTimeout(t.ctx, t.f.cfg.TicketLookupBudget)
	defer cancel()
	tk, err := t.f.tickets.Ticket(ctx, id)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // an answer past the budget counts as none
	}
	return tk, err
}

// ticketFailed counts a bad or unknown id, or silence: the caller tries
// again, or after MaxTicketTries goes on to the priority menu. After
// silence the ticket prompt is the first one, not "again".
func (t *turn) ticketFailed(prompt, detail string) {
	st := t.st
	st.Tries++
	t.note("ticket", detail)
	if st.Tries >= t.f.cfg.MaxTicketTries {
		t.askPriority(t.prompts(prompt, pTicketNew))
		return
	}
	again := pTicketRetry
	if prompt == pNothingHeard {
		again = pTicketEnter
	}
	t.askTicket(t.prompts(prompt, again))
}

// ticketFound routes with the ticket's own priority and level: what the
// ticket system says wins over anything the caller could claim.
func (t *turn) ticketFound(keyed string, tk Ticket) {
	st := t.st
	if tk.Closed {
		st.ClosedTicket = keyed
		if tk.ID != "" {
			st.ClosedTicket = tk.ID
		}
		t.note("ticket", st.ClosedTicket+" is closed; opening a new one")
		t.askPriority(t.prompts(pTicketClosed, pTicketNew))
		return
	}
	st.TicketID, st.TicketFrom = tk.ID, "caller"
	if st.TicketID == "" {
		st.TicketID = keyed
	}
	st.Priority = tk.Priority
	if !st.Priority.Valid() {
		t.log.Warn("ticket has no valid priority; routing it as normal",
			zap.String(keyTicket, st.TicketID), zap.String(keyPriority, string(tk.Priority)))
		st.Priority = oncall.Normal
	}
	st.Level = validLevel(tk.Level)
	t.note("ticket", fmt.Sprintf("%s found: %s, %s", st.TicketID, st.Priority, st.Level))
	t.route(t.readback(pWordTicket))
}

// readback is intro, the ticket's digits, a pause, "priority" and its
// name.
func (t *turn) readback(intro string) []Prompt {
	l := t.st.Lang
	ps := append(t.prompts(intro), numberPrompts(l, t.st.TicketID)...)
	return append(ps, Prompt{Name: pWordPriority, Lang: l}, priorityPrompt(l, t.st.Priority))
}

func (t *turn) askPriority(prefix []Prompt) {
	st := t.st
	st.Phase, st.Tries = PhasePriority, 0
	t.callerStep(Gather{
		Prompts:   append(prefix, t.prompts(pPriorityMenu)...),
		MaxDigits: 1,
		Timeout:   t.f.cfg.DigitTimeout,
	})
}

// priorityKeyed takes the priority menu's key; a wrong key or silence is
// a try, and after MaxPriorityTries the priority is normal. The caller
// hears the priority the request is registered with (the new ticket's, if
// the ticket system chose another), then the new ticket's number.
func (t *turn) priorityKeyed(keys string) {
	st := t.st
	p, ok := priorityKeys[strings.TrimSuffix(keys, "#")]
	var prefix []Prompt
	if !ok {
		st.Tries++
		why := pPriorityInvalid
		if keys == "" {
			why = pNothingHeard
			t.note("priority", "nothing heard")
		} else {
			t.note("priority", fmt.Sprintf("invalid %q", shorten(keys)))
		}
		if st.Tries < t.f.cfg.MaxPriorityTries {
			t.callerStep(Gather{
				Prompts:   t.prompts(why, pPriorityMenu),
				MaxDigits: 1,
				Timeout:   t.f.cfg.DigitTimeout,
			})
			return
		}
		p, prefix = oncall.Normal, t.prompts(why)
		t.note("priority", "normal by default")
	} else {
		t.note("priority", string(p))
	}
	st.Priority, st.Level = p, oncall.L1
	opened := t.openTicket()
	prefix = append(prefix, prioritySetPrompt(st.Lang, st.Priority))
	t.route(append(prefix, opened...))
}

// openTicket opens a ticket for a caller who has none and returns its
// readback; nothing if the ticket system failed (now or earlier in the
// call, so as not to keep the caller waiting twice).
func (t *turn) openTicket() []Prompt {
	st := t.st
	if st.TicketsDown {
		t.note("ticket", "not opened: ticket system unavailable")
		return nil
	}
	ctx, cancel := context.WithTimeout(t.ctx, t.f.cfg.TicketLookupBudget)
	defer cancel()
	caller := ""
	if usableCaller(st.Caller) {
		caller = st.Caller
	}
	tk, err := t.f.tickets.OpenTicket(ctx, NewTicket{CallerPhone: caller, Language: st.Lang,
		Priority: st.Priority, Line: st.Line, Follows: st.ClosedTicket})
	if err == nil && tk.ID == "" {
		err = fmt.Errorf("the ticket system returned a ticket without an id")
	}
	if err != nil {
		st.TicketsDown = true
		t.log.Warn("could not open a ticket; going on without one", zap.Error(err))
		t.note("ticket", "not opened: ticket system unavailable")
		return nil
	}
	st.TicketID, st.TicketFrom = tk.ID, "opened"
	if tk.Priority.Valid() {
		st.Priority = tk.Priority
	}
	st.Level = validLevel(tk.Level)
	t.note("ticket", fmt.Sprintf("%s opened: %s, %s", st.TicketID, st.Priority, st.Level))
	if digitsOnly(st.TicketID) == "" {
		return nil
	}
	return append(t.prompts(pTicketOpened), numberPrompts(st.Lang, st.TicketID)...)
}

// shorten keeps what a caller keyed short enough for the step log.
func shorten(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
