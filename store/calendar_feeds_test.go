package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/calendar"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func TestCalendarFeeds(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			ann := mustEngineer(t, db, "Ann")
			mine, err := db.CreateCalendarFeed(ctx, actor, calendar.Feed{Kind: calendar.EngineerFeed, EngineerID: ann.ID, Hash: calendar.HashToken("a")})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "CreateCalendarFeed", mine, calendar.Feed{ID: mine.ID, Kind: calendar.EngineerFeed, EngineerID: ann.ID,
				Hash: calendar.HashToken("a"), CreatedAt: t0})
			l2, err := db.CreateCalendarFeed(ctx, actor, calendar.Feed{Kind: calendar.LevelFeed, Level: oncall.L2, Hash: calendar.HashToken("b")})
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.CalendarFeedByHash(ctx, calendar.HashToken("b"))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "CalendarFeedByHash", got, l2)

			at := t0.Add(time.Hour + 500*time.Nanosecond)
			if err := db.RevokeCalendarFeed(ctx, actor, mine.ID, at); err != nil {
				t.Fatal(err)
			}
			mine.RevokedAt = ptr(at.Truncate(time.Microsecond))
			if got, err = db.CalendarFeed(ctx, mine.ID); err != nil {
				t.Fatal(err)
			}
			equal(t, "CalendarFeed (revoked)", got, mine)
			list, err := db.CalendarFeeds(ctx)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "CalendarFeeds", list, []calendar.Feed{mine, l2})

			entries := auditLog(t, db)
			if e := entries[0]; e.Entity != calendar.AuditEntity || e.Action != audit.Delete || e.Actor != actor || len(e.Before) == 0 || len(e.After) == 0 {
				t.Fatalf("audit of the revocation: %+v", e)
			}
			if e := entries[1]; e.Entity != calendar.AuditEntity || e.Action != audit.Create {
				t.Fatalf("audit of the creation: %+v", e)
			}
		})
	})

	t.Run("Err", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			_, err := db.CreateCalendarFeed(ctx, actor, calendar.Feed{Kind: calendar.EngineerFeed, EngineerID: 99, Hash: calendar.HashToken("a")})
			var ee *errs.Error
			if !errors.As(err, &ee) || ee.Code != errs.Invalid || ee.Field != "engineer_id" {
				t.Fatalf("an unknown engineer: %v, want field engineer_id", err)
			}
			if _, err := db.CalendarFeedByHash(ctx, calendar.HashToken("none")); !errs.Is(err, errs.NotFound) {
				t.Fatalf("an unknown hash: %v", err)
			}
			if err := db.RevokeCalendarFeed(ctx, actor, 42, t0); !errs.Is(err, errs.NotFound) {
				t.Fatalf("revoke an unknown feed: %v", err)
			}
			f, err := db.CreateCalendarFeed(ctx, actor, calendar.Feed{Kind: calendar.LevelFeed, Level: oncall.L1, Hash: calendar.HashToken("c")})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.RevokeCalendarFeed(ctx, actor, f.ID, t0); err != nil {
				t.Fatal(err)
			}
			if err := db.RevokeCalendarFeed(ctx, actor, f.ID, t0); !errs.Is(err, errs.Conflict) {
				t.Fatalf("revoke twice: %v", err)
			}
		})
	})
}
