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

// switchKey is the key that switches to the other language.
const switchKey = "9"

// priorityKeys maps the priority menu's keys to priorities.
var priorityKeys = map[string]oncall.Priority{
	"1": oncall.Critical, "2": oncall.Urgent, "3": oncall.Normal, "4": oncall.Low,
}

func (t *turn) languageChosen(keys string) {
	st := t.st
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
		st := t.st
		st.TicketsDown = true
		t.log.Warn("ticket system unavailable; going on without a ticket",
			zap.String(keyTicket, id), zap.Error(err))
		t.note("ticket", "lookup of "+id+" failed: ticket system unavailable")
		t.askPriority(t.prompts(pTicketUnavailable))
	}
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

// ticketFailed counts a bad or unknown id: the caller tries again, or after
// MaxTicketTries goes on to the priority menu.
func (t *turn) ticketFailed(prompt, detail string) {
	st := t.st
	st.Tries++
	t.note("ticket", detail)
	if st.Tries >= t.f.cfg.MaxTicketTries {
		t.askPriority(t.prompts(prompt, pTicketNew))
		return
	}
	t.askTicket(t.prompts(prompt, pTicketRetry))
}

// ticketFound routes with the ticket's own priority and level: what the
// ticket system says wins over anything the caller could claim.
func (t *turn) ticketFound(keyed string, tk Ticket) {
	st := t.st
	st.TicketID, st.TicketFrom = tk.ID, "caller"
	if st.TicketID == "" {
		st.TicketID = keyed
	}
	st.Priority = tk.Priority
	if !st.Priority.Valid() {
		t.log.Warn("ticket has no valid priority; routing it as normal",
			zap.String(keyTicket, st.TicketID), zap.String("priority", string(tk.Priority)))
		st.Priority = oncall.Normal
	}
	st.Level = validLevel(tk.Level)
	t.note("ticket", fmt.Sprintf("%s found: %s, %s", st.TicketID, st.Priority, st.Level))
	t.route(t.readback(pWordTicket))
}

// readback is intro, the ticket's digits, "priority" and its name.
func (t *turn) readback(intro string) []Prompt {
	l := t.st.Lang
	ps := append(t.prompts(intro), digitPrompts(l, t.st.TicketID)...)
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

func (t *turn) priorityKeyed(keys string) {
	st := t.st
	p, ok := priorityKeys[strings.TrimSuffix(keys, "#")]
	var prefix []Prompt
	if !ok {
		st.Tries++
		t.note("priority", fmt.Sprintf("invalid %q", shorten(keys)))
		if st.Tries < t.f.cfg.MaxPriorityTries {
			t.callerStep(Gather{
				Prompts:   t.prompts(pPriorityInvalid, pPriorityMenu),
				MaxDigits: 1,
				Timeout:   t.f.cfg.DigitTimeout,
			})
			return
		}
		p, prefix = oncall.Normal, t.prompts(pPriorityInvalid, pPriorityDefault)
		t.note("priority", "normal by default")
	} else {
		t.note("priority", string(p))
	}
	st.Priority, st.Level = p, oncall.L1
	t.route(append(prefix, t.openTicket()...))
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
		Priority: st.Priority, Line: st.Line})
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
	return append(t.prompts(pTicketOpened), digitPrompts(st.Lang, st.TicketID)...)
}

// shorten keeps what a caller keyed short enough for the step log.
func shorten(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
