package pager

import (
	"testing"

	"github.com/supportdesk/ivr/oncall"
)

// TestLineBusy: a page whose call must wait because another page call
// rings its engineer goes out as a text at once, and by voice when the
// line is free; only the first page to find the line busy texts, or a
// critical one, since those waiting behind it are announced together.
func TestLineBusy(t *testing.T) {
	busy := map[string]VoiceLine{anna.Phone: {InFlight: true}}
	queued := map[string]VoiceLine{anna.Phone: {InFlight: true, Waiting: 2}}
	urgent := func(p *Page) { p.Priority = oncall.Urgent }
	runCases(t, []lifeCase{
		{name: "the line is free: the call alone", roster: with(l1p, anna), steps: []step{
			{ev: open(), add: []want{voice(anna)}},
		}},
		{name: "the line is busy: the text at once, the call waits; no second text after it", roster: with(l1p, anna), lines: busy,
			steps: []step{
				{ev: open(), log: []string{"rung", "line busy"}, add: []want{voice(anna), sms(anna, "Ответьте 42")}},
				{send: true, ev: ended(KindVoice, anna, NoAnswer), log: []string{"voice"}, rung: "0 L1 primary Анна"},
			}},
		{name: "others wait for the line already: the page waits for the call that announces them all",
			page: urgent, roster: with(l1p, anna), lines: queued, steps: []step{
				{ev: open(), add: []want{voice(anna)}},
			}},
		{name: "a critical page texts even behind others", roster: with(l1p, anna), lines: queued, steps: []step{
			{ev: open(), log: []string{"rung", "line busy"}, add: []want{voice(anna), sms(anna)}},
		}},
		{name: "a voice-only step cannot text", roster: with(l1p, anna), lines: busy, steps: []step{
			{ev: openWith(oncall.Policy{Priority: oncall.Critical, Steps: []oncall.Step{
				{Level: oncall.L1, Channels: []oncall.Channel{oncall.Voice}, Delay: oncall.Duration(rungWait * 2)},
			}}), add: []want{voice(anna)}},
		}},
	})
}

// TestStormEvents: the storm's events only record and log; they page
// nobody.
func TestStormEvents(t *testing.T) {
	runCases(t, []lifeCase{
		{name: "a call announcing others, and one folded into another's", roster: with(l1p, anna), steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{ev: func(r *rig) Event { return Announced{AttemptID: r.atts[0].ID, Pages: []int64{7, 9}} }, log: []string{"storm"},
				check: func(t *testing.T, r *rig) {
					if got := r.p.DigestOf(r.atts[0].ID); len(got) != 2 || got[0] != 7 || got[1] != 9 {
						t.Errorf("digest %v, want pages 7 and 9", got)
					}
				}},
			// Announced twice (a retry): recorded once.
			{ev: func(r *rig) Event { return Announced{AttemptID: r.atts[0].ID, Pages: []int64{7, 9}} },
				check: func(t *testing.T, r *rig) {
					if len(r.p.Digests) != 1 {
						t.Errorf("digests %+v, want one", r.p.Digests)
					}
				}},
			{ev: func(r *rig) Event { return FoldedInto{AttemptID: 555, IntoPage: 7} }, log: []string{"storm"}},
		}},
	})
}
