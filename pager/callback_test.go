package pager

import (
	"strings"
	"testing"
	"time"
)

func callingBack(t Target) evFn {
	return func(*rig) Event { return CalledBack{EngineerID: t.EngineerID, Name: t.Name} }
}

func calledBack(t Target, sid string, answered bool, talked time.Duration, status string) evFn {
	return func(*rig) Event {
		return CalledBack{EngineerID: t.EngineerID, Name: t.Name, CallID: sid, Ended: true, Answered: answered,
			Talked: talked, Status: status}
	}
}

// logged checks the detail of the last log entry.
func logged(parts ...string) func(t *testing.T, r *rig) {
	return func(t *testing.T, r *rig) {
		t.Helper()
		last := r.p.Log[len(r.p.Log)-1]
		for _, s := range parts {
			if !strings.Contains(last.Detail, s) {
				t.Errorf("log %s: %q lacks %q", last.What, last.Detail, s)
			}
		}
	}
}

// TestCalledBack: the engineer who took a voicemail's page calls the
// client back; the page's log says so as the call is placed and when it
// is over, and the ticket gets a note for the client, once.
func TestCalledBack(t *testing.T) {
	acked := []step{
		{ev: open(), add: []want{voice(anna)}},
		{after: time.Minute, send: true, ev: ended(KindVoice, anna, Acked), status: Acknowledged, add: []want{note("принял")}},
	}
	runCases(t, []lifeCase{
		{name: "answered: logged, and noted in the client's language", steps: append(acked[:2:2],
			step{ev: callingBack(anna), status: Acknowledged, log: []string{"calling back"},
				check: logged("Анна is calling the client "+client, "from line moscow "+supportLine)},
			step{after: 4 * time.Minute, ev: calledBack(anna, "CA9", true, 3*time.Minute+12*time.Second, "completed"),
				log: []string{"called back"}, add: []want{note("Дежурный инженер Анна перезвонил вам", "разговор длился 3 минуты")},
				check: logged("talked 3m12s", "(call CA9)")},
			// The status callback again: nothing more.
			step{ev: calledBack(anna, "CA9", true, 3*time.Minute+12*time.Second, "completed"), noop: true},
		)},
		{name: "no answer: the note says the engineer tried", steps: append(acked[:2:2],
			step{ev: calledBack(anna, "CA9", false, 0, "no-answer"), log: []string{"called back"},
				add:   []want{note("Анна пытался перезвонить вам", "не дозвонился")},
				check: logged("no answer (no-answer)")},
			// A second try is a call of its own.
			step{after: time.Minute, ev: calledBack(anna, "CA10", true, 20*time.Second, "completed"),
				add: []want{note("перезвонил вам", "меньше минуты")}},
		)},
		{name: "English client", page: func(p *Page) { p.Language = "" }, steps: append(acked[:1:1],
			step{after: time.Minute, send: true, ev: ended(KindVoice, anna, Acked), add: []want{note("acknowledged")}},
			step{ev: calledBack(anna, "CA9", true, 5*time.Minute, "completed"),
				add: []want{note("On-call engineer Анна called you back (2026-12-02 09:01 UTC); you talked for 5 min.")}},
			step{ev: calledBack(anna, "CA10", false, 0, "busy"),
				add: []want{note("On-call engineer Анна tried to call you back (2026-12-02 09:01 UTC) but could not reach you.")}},
		)},
		{name: "no ticket: logged only", page: func(p *Page) { p.TicketID = "" }, steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{send: true, ev: ended(KindVoice, anna, Acked)},
			{ev: calledBack(anna, "CA9", true, time.Minute, "completed"), log: []string{"called back"}},
		}},
		{name: "a line with no name: its number", rules: func(r *Rules) { r.LineNames = nil }, steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{ev: callingBack(anna), check: logged("from line " + supportLine)},
		}},
		{name: "withheld number: nothing to call back", page: func(p *Page) { p.Caller = "" }, steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{ev: calledBack(anna, "CA9", true, time.Minute, "completed"), noop: true},
		}},
		{name: "a page of the API has no client", page: func(p *Page) { p.Source = FromAPI }, steps: []step{
			{ev: open(), add: []want{voice(anna)}},
			{ev: callingBack(anna), noop: true},
		}},
	})
}

func TestCanCallBackAndHasMessage(t *testing.T) {
	for _, c := range []struct {
		src             Source
		caller, rec     string
		call, hasRecord bool
	}{
		{FromCall, client, "https://r/1", true, true},
		{FromCall, "", "https://r/1", false, true},
		{FromCall, client, "", true, false},
		{FromFallback, client, "", true, false},
		{FromUpgrade, client, "", true, false},
		{FromAPI, client, "", false, false},
		{FromTickets, client, "", false, false},
	} {
		p := &Page{Source: c.src, Caller: c.caller, Recording: c.rec}
		if got := CanCallBack(p); got != c.call {
			t.Errorf("CanCallBack(%s, caller %q) = %v", c.src, c.caller, got)
		}
		if got := HasMessage(p); got != c.hasRecord {
			t.Errorf("HasMessage(%q) = %v", c.rec, got)
		}
	}
}

func TestOpenPagesOf(t *testing.T) {
	pages := []Page{
		{ID: 5, Status: Open, Paged: []Target{bob, anna}},
		{ID: 4, Status: Acknowledged, Paged: []Target{anna}},
		{ID: 3, Status: Open, Paged: []Target{bob}},
		{ID: 2, Status: Open, Paged: []Target{anna}},
		{ID: 1, Status: Resolved, Paged: []Target{anna}},
	}
	var ids []int64
	for _, p := range OpenPagesOf(pages, anna.EngineerID) {
		ids = append(ids, p.ID)
	}
	if len(ids) != 2 || ids[0] != 5 || ids[1] != 2 {
		t.Errorf("Анна's open pages: %v, want [5 2], newest first", ids)
	}
	if got := OpenPagesOf(pages, eve.EngineerID); len(got) != 0 {
		t.Errorf("Eve's open pages: %v, want none", got)
	}
}
