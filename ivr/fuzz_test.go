package ivr_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// knownPhases are the phases a State may be in.
var knownPhases = map[ivr.Phase]bool{
	ivr.PhaseLanguage: true, ivr.PhaseTicket: true, ivr.PhasePriority: true, ivr.PhaseRouting: true,
	ivr.PhaseConnected: true, ivr.PhaseVoicemail: true, ivr.PhaseVoicemailWait: true, ivr.PhaseDone: true,
}

// FuzzMenuDigits keys arbitrary strings (any bytes, with or without the
// terminator) at the greeting, the ticket prompt and the priority menu,
// with ticket ids bounded to a fuzzed length range. The flow never panics
// or fails a Digits at a menu; the state round-trips through JSON and is in
// a known phase with a valid language; only ids of digits within the
// configured length reach the ticket system, and only such an id becomes
// the caller's ticket.
func FuzzMenuDigits(f *testing.F) {
	f.Add(uint8(2), uint8(7), uint8(0), "9", "12345", "1", "")
	f.Add(uint8(2), uint8(7), uint8(3), "1", "12345", "2", "")
	f.Add(uint8(2), uint8(7), uint8(1), "1001", "", "", "")
	f.Add(uint8(2), uint8(7), uint8(0), "12345#", "3", "", "")
	f.Add(uint8(2), uint8(7), uint8(0), "*#", "4", "", "")
	f.Add(uint8(2), uint8(7), uint8(0), "", "", "", "")
	f.Add(uint8(2), uint8(7), uint8(6), "5", "#", "12a45", "１２３")
	f.Add(uint8(0), uint8(0), uint8(0), "1", "12", "1", "")
	f.Add(uint8(2), uint8(7), uint8(0), "1", "12345678901", "0", "5")
	f.Add(uint8(2), uint8(7), uint8(0), "1", "*", "9", "1")
	f.Add(uint8(2), uint8(7), uint8(0), "1", "9913", "1", "")
	f.Add(uint8(2), uint8(7), uint8(0), "1", " 12345", "1 ", "\x00")
	f.Add(uint8(4), uint8(0), uint8(15), "99999#", "12#34", "##", "*1#")

	f.Fuzz(func(t *testing.T, minLen, span, finished uint8, d1, d2, d3, d4 string) {
		e := newEnv(t)
		e.cfg.TicketDigitsMin = 1 + int(minLen%6)
		e.cfg.TicketDigitsMax = e.cfg.TicketDigitsMin + int(span%8)
		validID := func(id string) bool {
			return len(id) >= e.cfg.TicketDigitsMin && len(id) <= e.cfg.TicketDigitsMax &&
				strings.Trim(id, "0123456789") == ""
		}
		// Ids of digits exist when they end with an even digit, and the
		// ticket system fails for those ending with 13.
		e.tickets.TicketFn = func(ctx context.Context, id string) (ivr.Ticket, error) {
			if !validID(id) {
				t.Errorf("the ticket system was asked for %q, outside %d..%d digits", id, e.cfg.TicketDigitsMin, e.cfg.TicketDigitsMax)
			}
			switch {
			case strings.HasSuffix(id, "13"):
				return ivr.Ticket{}, errors.New("ticket system down")
			case id != "" && (id[len(id)-1]-'0')%2 == 0:
				return ivr.Ticket{ID: id, Priority: oncall.Urgent, Level: oncall.L2}, nil
			}
			return ivr.Ticket{}, errs.E(errs.NotFound, "id", "no ticket %s", id)
		}
		c, _ := e.start(ivr.CallStarted{Line: moscow, Caller: client})
		for i, d := range []string{d1, d2, d3, d4} {
			menu := c.st.Phase == ivr.PhaseLanguage || c.st.Phase == ivr.PhaseTicket || c.st.Phase == ivr.PhasePriority
			_, err := c.try(float64(5*(i+1)), ivr.Digits{Digits: d, Finished: finished>>i&1 == 1})
			switch {
			case err != nil && menu:
				t.Fatalf("Digits %q at the %s menu failed: %v", d, c.st.Phase, err)
			case err != nil && !errs.Is(err, errs.Conflict):
				t.Fatalf("Digits %q in phase %s: %v, want a conflict", d, c.st.Phase, err)
			}
			st := roundTrip(t, c.st)
			if !knownPhases[st.Phase] {
				t.Fatalf("unknown phase %q after Digits %q", st.Phase, d)
			}
			if !st.Lang.Valid() {
				t.Fatalf("invalid language %q after Digits %q", st.Lang, d)
			}
			if st.Tries < 0 || len(st.Steps) == 0 {
				t.Fatalf("tries %d, %d steps after Digits %q", st.Tries, len(st.Steps), d)
			}
			if st.TicketFrom == "caller" && !validID(st.TicketID) {
				t.Fatalf("the flow accepted ticket %q outside %d..%d digits", st.TicketID, e.cfg.TicketDigitsMin, e.cfg.TicketDigitsMax)
			}
			if st.Phase == ivr.PhaseRouting && !st.Priority.Valid() {
				t.Fatalf("routing with priority %q", st.Priority)
			}
		}
	})
}
