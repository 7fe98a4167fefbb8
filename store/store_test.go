package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const actor = "token:1 (test)"

// t0 is the tests' "now"; setClock makes the store read it.
var t0 = time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)

func setClock(db *store.DB, now time.Time) { db.Now = func() time.Time { return now } }

func newEngineer(name string) oncall.Engineer {
	return oncall.Engineer{
		Name:      name,
		Level:     oncall.L2,
		Languages: []oncall.Language{oncall.Russian, oncall.English},
		TimeZone:  "Europe/Moscow",
		Contacts:  []oncall.ContactMethod{{Phone: "+79161234567", SMS: true}, {Phone: "+12025550142"}},
	}
}

func mustEngineer(t *testing.T, db *store.DB, name string) oncall.Engineer {
	t.Helper()
	e, err := db.CreateEngineer(t.Context(), actor, newEngineer(name))
	if err != nil {
		t.Fatalf("CreateEngineer: %v", err)
	}
	return e
}

func newRotation(from time.Time, participants ...int64) oncall.Rotation {
	return oncall.Rotation{
		Name:         "L1 днём",
		Level:        oncall.L1,
		Layer:        oncall.Primary,
		TimeZone:     "Europe/Moscow",
		Handoff:      9 * 60,
		ShiftLength:  oncall.ShiftLength{Days: 7},
		Start:        oncall.Date{Year: 2026, Month: time.March, Day: 2},
		Participants: participants,
		Restrictions: []oncall.Restriction{{
			Weekdays: []oncall.Weekday{oncall.Weekday(time.Monday), oncall.Weekday(time.Friday)},
			Start:    9 * 60,
			End:      18 * 60,
		}},
		EffectiveFrom: from,
	}
}

func mustRotation(t *testing.T, db *store.DB, r oncall.Rotation) oncall.Rotation {
	t.Helper()
	r, err := db.CreateRotation(t.Context(), actor, r)
	if err != nil {
		t.Fatalf("CreateRotation: %v", err)
	}
	return r
}

func newOverride(engineerID int64, start, end time.Time) oncall.Override {
	return oncall.Override{Level: oncall.L1, Layer: oncall.Primary, EngineerID: engineerID, Start: start, End: end, Reason: "swap"}
}

// wantErr fails unless err is an *errs.Error with code and field.
func wantErr(t *testing.T, err error, code errs.Code, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want an *errs.Error %s", err, code)
	}
	if e.Code != code || e.Field != field {
		t.Fatalf("error = %v, want code %s field %q", err, code, field)
	}
}

// equal fails unless got and want are deeply equal, showing both as JSON.
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// auditLog returns the whole audit log, newest first.
func auditLog(t *testing.T, db *store.DB) []audit.Entry {
	t.Helper()
	entries, err := db.AuditLog(t.Context(), audit.Filter{Limit: 1000})
	if err != nil {
		t.Fatalf("AuditLog: %v", err)
	}
	return entries
}

func TestOpen(t *testing.T) {
	t.Run("Backend", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			if got := db.Backend(); got != t.Name()[strings.LastIndex(t.Name(), "/")+1:] {
				t.Fatalf("Backend() = %q in subtest %s", got, t.Name())
			}
		})
	})

	t.Run("ErrSQLiteSecondProcess", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ivr.db")
		log := zaptest.NewLogger(t)
		first, err := store.Open(t.Context(), path, log)
		if err != nil {
			t.Fatal(err)
		}
		_, err = store.Open(t.Context(), path, log)
		if !errors.Is(err, store.ErrLocked) {
			t.Fatalf("second Open: err = %v, want ErrLocked", err)
		}
		for _, s := range []string{"another ivr process is using " + path, path + ".lock", "IVR_DB=postgres://"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("second Open: error %q does not say %q", err, s)
			}
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := store.Open(t.Context(), path, log)
		if err != nil {
			t.Fatalf("Open after Close: %v", err)
		}
		if err := again.Close(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrSQLitePath", func(t *testing.T) {
		for _, dsn := range []string{"", ":memory:", "file:ivr.db", "ivr.db?mode=ro"} {
			if db, err := store.Open(t.Context(), dsn, nil); err == nil {
				db.Close()
				t.Errorf("Open(%q) succeeded", dsn)
			}
		}
	})
}

func TestMigrate(t *testing.T) {
	t.Run("Idempotent", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			if err := db.Ready(t.Context()); err != nil {
				t.Fatalf("Ready: %v", err)
			}
		})
	})

	t.Run("ErrReadyUnmigrated", func(t *testing.T) {
		eachDSN(t, func(t *testing.T, dsn string) {
			db := open(t, dsn)
			err := db.Ready(t.Context())
			wantErr(t, err, errs.Unavailable, "")
			if !strings.Contains(err.Error(), "migration 1 (0001_init.sql)") {
				t.Errorf("Ready: %v, want it to name migration 1", err)
			}
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if err := db.Ready(t.Context()); err != nil {
				t.Fatalf("Ready after Migrate: %v", err)
			}
		})
	})

	t.Run("PostgresInstancesAtOnce", func(t *testing.T) {
		dsn := pgtest.URL(t)
		dbs := []*store.DB{open(t, dsn), open(t, dsn), open(t, dsn)}
		errc := make(chan error, len(dbs))
		start := make(chan struct{})
		for _, db := range dbs {
			go func() {
				<-start
				errc <- db.Migrate(context.Background())
			}()
		}
		close(start)
		for range dbs {
			if err := <-errc; err != nil {
				t.Errorf("Migrate: %v", err)
			}
		}
		for _, db := range dbs {
			if err := db.Ready(t.Context()); err != nil {
				t.Errorf("Ready: %v", err)
			}
		}
	})
}

// eachDSN runs fn with the DSN of a new, empty database of each back end.
func eachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run(store.SQLite, func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "ivr.db")) })
	t.Run(store.Postgres, func(t *testing.T) { fn(t, pgtest.URL(t)) })
}

// open opens dsn without migrating it.
func open(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), dsn, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConcurrentWriters starts writers at once; the store, not the test's
// timing, must keep the rules.
func TestConcurrentWriters(t *testing.T) {
	const writers = 8
	t.Run("OverlappingOverrides", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			e := mustEngineer(t, db, "Ann")
			errc := make(chan error, writers)
			start := make(chan struct{})
			for i := range writers {
				go func() {
					<-start
					// Each overlaps every other: all contain t0+8h.
					o := newOverride(e.ID, t0.Add(time.Duration(i)*time.Hour), t0.Add(time.Duration(9+i)*time.Hour))
					_, err := db.CreateOverride(context.Background(), actor, o)
					errc <- err
				}()
			}
			close(start)
			won := 0
			for range writers {
				err := <-errc
				switch {
				case err == nil:
					won++
				case errs.Is(err, errs.Conflict):
				default:
					t.Errorf("CreateOverride: %v, want nil or Conflict", err)
				}
			}
			if won != 1 {
				t.Fatalf("%d writers won, want 1", won)
			}
			list, err := db.Overrides(t.Context(), t0.Add(-time.Hour), t0.Add(24*time.Hour))
			if err != nil || len(list) != 1 {
				t.Fatalf("Overrides = %d, %v; want 1", len(list), err)
			}
			if got := len(auditLog(t, db)); got != 2 {
				t.Fatalf("%d audit entries, want 2 (engineer, override)", got)
			}
		})
	})

	t.Run("RotationVersions", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			e := mustEngineer(t, db, "Ann")
			r := mustRotation(t, db, newRotation(t0, e.ID))
			errc := make(chan error, writers)
			start := make(chan struct{})
			for i := range writers {
				go func() {
					<-start
					next := r
					next.EffectiveFrom = t0.Add(time.Duration(i+1) * time.Hour)
					_, err := db.UpdateRotation(context.Background(), actor, next)
					errc <- err
				}()
			}
			close(start)
			for range writers {
				if err := <-errc; err != nil && !errs.Is(err, errs.Conflict) {
					t.Errorf("UpdateRotation: %v, want nil or Conflict", err)
				}
			}
			versions, err := db.Rotation(t.Context(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range versions {
				if v.Version != i+1 {
					t.Fatalf("version %d at index %d", v.Version, i)
				}
				if i > 0 && !v.EffectiveFrom.After(versions[i-1].EffectiveFrom) {
					t.Fatalf("version %d starts %s, not after version %d (%s)", v.Version, v.EffectiveFrom, i, versions[i-1].EffectiveFrom)
				}
			}
		})
	})

	t.Run("DeleteEngineerWhileAssigned", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			e := mustEngineer(t, db, "Ann")
			start := make(chan struct{})
			var wg sync.WaitGroup
			var createErr, deleteErr error
			wg.Go(func() {
				<-start
				_, createErr = db.CreateOverride(context.Background(), actor, newOverride(e.ID, t0.Add(time.Hour), t0.Add(2*time.Hour)))
			})
			wg.Go(func() {
				<-start
				deleteErr = db.DeleteEngineer(context.Background(), actor, e.ID, t0)
			})
			close(start)
			wg.Wait()
			// One of them wins; never an override for a deleted engineer.
			switch {
			case createErr == nil && deleteErr == nil:
				t.Fatal("both the override and the deletion were stored")
			case createErr == nil:
				wantErr(t, deleteErr, errs.Conflict, "")
			case deleteErr == nil:
				wantErr(t, createErr, errs.Invalid, "engineer_id")
			default:
				t.Fatalf("both failed: %v; %v", createErr, deleteErr)
			}
		})
	})
}
