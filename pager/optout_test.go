package pager

import (
	"reflect"
	"testing"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// optedOut is t after every number of theirs that takes texts replied STOP.
func optedOut(t Target) Target {
	t.SMSOptedOut = true
	return t
}

// TestSMSOptedOut: an engineer whose texting number replied STOP gets no
// page texts and no notices; voice goes on, and the page's log says texts
// are off.
func TestSMSOptedOut(t *testing.T) {
	annaOut, bobOut := optedOut(anna), optedOut(bob)
	quiet := func(r *Rules) {
		r.Quiet = map[oncall.Priority]WakingHours{oncall.Low: {Start: 8 * time.Hour, End: 22 * time.Hour}}
	}
	runCases(t, []lifeCase{
		{name: "voice goes on; no text after an unanswered call, the rung waits its time", roster: with(l1p, annaOut), steps: []step{
			{ev: open(), rung: "0 L1 primary Анна", log: []string{"rung", "texts off"}, add: []want{voice(anna)}},
			{after: time.Minute, send: true, ev: ended(KindVoice, anna, NoAnswer), log: []string{"voice", "skipped"},
				rung: "0 L1 primary Анна", dueIn: rungWait - time.Minute,
				check: func(t *testing.T, r *rig) {
					if e := r.p.Log[len(r.p.Log)-1]; e.What != "skipped" || e.Detail != "sms: Анна opted out of texts" {
						t.Errorf("last log entry %+v, want the text skipped as opted out", e)
					}
				}},
			// Her phone rang, but she takes no texts: no notice of where it went.
			{after: rungWait - time.Minute, ev: due(), rung: "1 L1 secondary Bob", add: []want{voice(bob)}},
			// Bob takes it: Анна hears nothing of it either.
			{after: time.Minute, send: true, ev: ended(KindVoice, bob, Acked), status: Acknowledged, add: []want{note("Bob")}},
		}},
		{name: "the call refused too: nothing can reach her, next rung at once", roster: with(l1p, annaOut), steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{send: true, ev: ended(KindVoice, anna, Rejected), log: []string{"voice", "skipped", "unreachable", "rung"},
				rung: "1 L1 secondary Bob", dueIn: rungWait, add: []want{voice(bob)}},
		}},
		{name: "text-only hours: an opted-out engineer is passed over at once",
			page: func(p *Page) { p.Priority = oncall.Low }, rules: quiet, roster: with(l1p, annaOut),
			start: time.Date(2026, 12, 2, 22, 0, 0, 0, time.UTC), // 01:00 in Moscow, 17:00 in New York
			steps: []step{
				{ev: open(), log: []string{"rung", "texts off", "skipped", "skipped", "unreachable", "rung"},
					rung: "1 L1 secondary Bob", paged: []string{"Bob"}, add: []want{voice(bob)}},
			}},
		{name: "an SMS-only step skips them: nothing reaches them, next rung at once", roster: with(l1p, annaOut),
			steps: []step{
				{ev: openWith(oncall.Policy{Priority: oncall.Critical, Steps: []oncall.Step{
					{Level: oncall.L1, Channels: []oncall.Channel{oncall.SMS}, Delay: oncall.Duration(15 * time.Minute)},
					{Level: oncall.L2, Channels: []oncall.Channel{oncall.Voice, oncall.SMS}, Delay: oncall.Duration(15 * time.Minute)},
					{Level: oncall.L3, Channels: []oncall.Channel{oncall.Voice, oncall.SMS}, Delay: oncall.Duration(15 * time.Minute)},
				}}), log: []string{"rung", "texts off", "skipped", "unreachable", "rung"},
					rung: "1 L1 secondary Bob", add: []want{sms(bob, "Reply 42")}},
			}},
		{name: "acknowledged: an engineer paged before who opted out is not told", roster: firstThen(anna, bobOut), steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: rungWait, send: true, ev: due(), rung: "1 L1 secondary Bob", log: []string{"rung", "texts off"},
				add: []want{voice(bob), notice(anna, "Bob")}},
			{after: time.Minute, send: true, ev: ended(KindVoice, bob, NoAnswer), log: []string{"voice", "skipped"}},
			{after: time.Minute, ev: ack(anna, ViaSMS), status: Acknowledged, add: []want{note("Анна")}},
		}},
		{name: "resolved: nor when it is closed", roster: firstThen(annaOut, bob), steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: time.Minute, send: true, ev: resolve("admin"), status: Resolved},
		}},
		{name: "STOP while the page is under way: no text after the call, no notices", steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: time.Minute, send: true, prep: func(r *rig) { r.optedOut = map[string]bool{anna.SMSPhone: true} },
				ev: ended(KindVoice, anna, NoAnswer), log: []string{"voice", "skipped"}, rung: "0 L1 primary Анна"},
			{after: rungWait - time.Minute, ev: due(), rung: "1 L1 secondary Bob", add: []want{voice(bob)}},
			{after: time.Minute, send: true, ev: ended(KindVoice, bob, Acked), status: Acknowledged, add: []want{note("Bob")}},
		}},
		{name: "a text refused for good (a landline): no notices to that number either", steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{after: time.Minute, send: true, ev: ended(KindVoice, anna, Busy), add: []want{sms(anna)}},
			{send: true, ev: ended(KindSMS, anna, Rejected), log: []string{"sms"}, rung: "0 L1 primary Анна"},
			{after: rungWait - time.Minute, ev: due(), rung: "1 L1 secondary Bob", add: []want{voice(bob)}},
			{send: true, ev: adminAck(), status: Acknowledged, add: []want{notice(bob, "acknowledged by admin"), note("admin")}},
		}},
		// A later page, after START: the text follows the call again.
		{name: "after START: the text follows the call", roster: with(l1p, anna), steps: []step{
			{ev: open(), log: []string{"rung"}, add: []want{voice(anna)},
				check: func(t *testing.T, r *rig) {
					for _, e := range r.p.Log {
						if e.What == "texts off" {
							t.Errorf("log says texts are off: %+v", e)
						}
					}
				}},
			{send: true, ev: ended(KindVoice, anna, NoAnswer), add: []want{sms(anna, "Ответьте 42")}},
		}},
	})
}

// TestTargetOf: texts go to the first of an engineer's numbers that takes
// texts and has not opted out.
func TestTargetOf(t *testing.T) {
	eng := oncall.Engineer{ID: 9, Name: "Ира", Languages: []oncall.Language{ru}, TimeZone: "Europe/Moscow",
		Contacts: []oncall.ContactMethod{{Phone: "+79000000009"}, {Phone: "+79000000109", SMS: true}, {Phone: "+12025550109", SMS: true}}}
	base := Target{EngineerID: 9, Name: "Ира", Language: ru, Phone: "+79000000009", SMSPhone: "+79000000109", TimeZone: "Europe/Moscow"}
	second := base
	second.SMSPhone = "+12025550109"
	all := base
	all.SMSOptedOut = true
	noSMS := eng
	noSMS.Contacts = eng.Contacts[:1]
	noSMSTarget := base
	noSMSTarget.SMSPhone = ""
	at := t0
	for _, c := range []struct {
		name     string
		eng      oncall.Engineer
		optedOut map[string]time.Time
		want     Target
	}{
		{"none opted out", eng, nil, base},
		{"another number opted out", eng, map[string]time.Time{"+79990000000": at}, base},
		{"the voice number opted out: it takes no texts anyway", eng, map[string]time.Time{"+79000000009": at}, base},
		{"the first texting number opted out: the second", eng, map[string]time.Time{"+79000000109": at}, second},
		{"every texting number opted out", eng, map[string]time.Time{"+79000000109": at, "+12025550109": at}, all},
		{"no texting number", noSMS, map[string]time.Time{"+79000000009": at}, noSMSTarget},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := targetOf(c.eng, c.optedOut); !reflect.DeepEqual(got, c.want) {
				t.Errorf("targetOf = %+v, want %+v", got, c.want)
			}
		})
	}
}
