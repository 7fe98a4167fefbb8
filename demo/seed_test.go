package demo_test

import (
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/tickets"
)

// TestSeedAll: --demo on an empty store gives the newcomer the whole demo
// team and the demo tickets, and says so; on a store that has them, or has
// a team of its own, it adds no second team and no second set of tickets.
func TestSeedAll(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		core, logs := observer.New(zap.InfoLevel)
		log := zap.New(core)
		svc := oncall.NewService(db, log, oncall.ServiceOptions{})
		count := func() (engineers, tix int) {
			t.Helper()
			es, err := svc.Engineers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := db.Tickets(ctx, tickets.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			return len(es), len(ts)
		}
		messages := func() string {
			var out []string
			for _, e := range logs.TakeAll() {
				if strings.Contains(e.Message, "demo") {
					out = append(out, e.Message)
				}
			}
			return strings.Join(out, "; ")
		}

		if err := demo.SeedAll(ctx, svc, db, log); err != nil {
			t.Fatal(err)
		}
		if e, n := count(); e != len(demo.Team) || n != len(demo.Tickets) {
			t.Fatalf("after seeding an empty store: %d engineers, %d tickets; want %d, %d", e, n, len(demo.Team), len(demo.Tickets))
		}
		if got, want := messages(), "demo team seeded; demo tickets seeded"; got != want {
			t.Errorf("logged %q, want %q", got, want)
		}

		if err := demo.SeedAll(ctx, svc, db, log); err != nil {
			t.Fatal(err)
		}
		if e, n := count(); e != len(demo.Team) || n != len(demo.Tickets) {
			t.Errorf("after seeding again: %d engineers, %d tickets; want the first seeding's %d, %d", e, n, len(demo.Team), len(demo.Tickets))
		}
		if got, want := messages(), "store already has engineers; demo data not seeded; store already has tickets; demo tickets not seeded"; got != want {
			t.Errorf("seeding again logged %q, want %q", got, want)
		}
	})

	// A store with a team of its own and no tickets gets the tickets only.
	db := storetest.OpenSQLite(t)
	ctx := t.Context()
	svc := oncall.NewService(db, zap.NewNop(), oncall.ServiceOptions{})
	if _, err := svc.CreateEngineer(ctx, "test", oncall.Engineer{Name: "Eve Adams", Level: oncall.L1,
		Languages: []oncall.Language{oncall.English}, TimeZone: "America/New_York",
		Contacts: []oncall.ContactMethod{{Phone: "+12025550199"}}}); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAll(ctx, svc, db, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	es, _ := svc.Engineers(ctx)
	ts, _ := db.Tickets(ctx, tickets.Filter{})
	if len(es) != 1 || len(ts) != len(demo.Tickets) {
		t.Errorf("a store with its own engineer: %d engineers, %d tickets after seeding; want 1, %d", len(es), len(ts), len(demo.Tickets))
	}
}

// TestNameOf: the fake Twilio's console names a demo engineer's phone when
// it rings, and no one else's.
func TestNameOf(t *testing.T) {
	for _, e := range demo.Team {
		if got := demo.NameOf(e.Phone); got != e.Name {
			t.Errorf("NameOf(%s) = %q, want %q", e.Phone, got, e.Name)
		}
	}
	for _, number := range []string{"+12025559999", "", "+74996383867"} {
		if got := demo.NameOf(number); got != "" {
			t.Errorf("NameOf(%q) = %q, want nobody", number, got)
		}
	}
}
