package pager_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store/storetest"
)

type oneEngineer struct{ e oncall.Engineer }

func (r oneEngineer) OnCall(oncall.Level, oncall.Layer, time.Time) (oncall.Engineer, bool) {
	return r.e, true
}

type defaultPolicies struct{}

func (defaultPolicies) Policy(_ context.Context, p oncall.Priority) (oncall.Policy, error) {
	return oncall.DefaultPolicy(p), nil
}

type fixedClock struct{ now time.Time }

func (c fixedClock) Now() time.Time                       { return c.now }
func (c fixedClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

// TestTakeOver: page requests recorded before the pager existed were never
// sent. After the upgrade, the one still inside its response window is
// paged; the one past it is opened as expired and sends nothing; taking
// them over again (a restart) pages nobody twice.
func TestTakeOver(t *testing.T) {
	db := storetest.OpenSQLite(t)
	now := time.Now().UTC().Truncate(time.Second)
	for _, r := range []ivr.PageRequest{
		{CallID: "CA-fresh", TicketID: "1001", Priority: oncall.Critical, Level: oncall.L1, Line: "+74996383867", RequestedAt: now.Add(-10 * time.Minute)},
		{CallID: "CA-stale", TicketID: "1007", Priority: oncall.Low, Level: oncall.L1, Line: "+12025952118", RequestedAt: now.Add(-48 * time.Hour)},
	} {
		if err := db.RequestPage(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	anna := oncall.Engineer{ID: 1, Name: "Anna Smirnova", Languages: []oncall.Language{oncall.Russian},
		Contacts: []oncall.ContactMethod{{Phone: "+12025550101", SMS: true}}}
	eng, err := pager.New(pager.Config{Store: db, Roster: oneEngineer{anna}, Policies: defaultPolicies{},
		Clock: fixedClock{now}, Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		n, err := eng.TakeOver(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		if pending, _ := db.PendingPageRequests(t.Context(), 10); len(pending) != 0 {
			t.Fatalf("still pending after taking %d over: %+v", n, pending)
		}
	}
	pages, err := eng.Pages(t.Context(), pager.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 {
		t.Fatalf("%d pages, want one per request, once", len(pages))
	}
	byTicket := map[string]pager.Page{}
	for _, p := range pages {
		byTicket[p.TicketID] = p
	}
	fresh, stale := byTicket["1001"], byTicket["1007"]
	if fresh.Status != pager.Open || fresh.Source != pager.FromUpgrade || fresh.Current.Target.Name != "Anna Smirnova" {
		t.Errorf("the request inside its window: %s from %s to %q, want open, paging Anna", fresh.Status, fresh.Source, fresh.Current.Target.Name)
	}
	_, atts, err := eng.Page(t.Context(), fresh.ID)
	if err != nil || len(atts) != 1 || atts[0].Kind != pager.KindVoice {
		t.Errorf("the fresh page's attempts: %+v, %v; want its page call", atts, err)
	}
	if stale.Status != pager.Expired {
		t.Errorf("the request past its window: %s, want expired", stale.Status)
	}
	if _, atts, _ := eng.Page(t.Context(), stale.ID); len(atts) != 0 {
		t.Errorf("the expired page has attempts: %+v", atts)
	}
}
