package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// claim claims for owner and fails the test on an error.
func claim(t *testing.T, db *store.DB, owner string, lease time.Duration, limit int) []pager.Attempt {
	t.Helper()
	atts, err := db.ClaimAttempts(t.Context(), owner, lease, limit, time.Time{})
	if err != nil {
		t.Fatalf("ClaimAttempts(%s): %v", owner, err)
	}
	return atts
}

func ids(atts []pager.Attempt) []int64 {
	out := []int64{}
	for _, a := range atts {
		out = append(out, a.ID)
	}
	return out
}

func mustAttempt(t *testing.T, db *store.DB, id int64) pager.Attempt {
	t.Helper()
	a, err := db.Attempt(t.Context(), id)
	if err != nil {
		t.Fatalf("Attempt(%d): %v", id, err)
	}
	return a
}

// endAttempt ends attempt a as its page's update would.
func endAttempt(t *testing.T, db *store.DB, a pager.Attempt, o pager.Outcome) {
	t.Helper()
	update(t, db, a.PageID, func(*pager.Page, []pager.Attempt) pager.Changes {
		return pager.Changes{End: []pager.Ended{{AttemptID: a.ID, Outcome: o}}}
	})
}

func TestClaimAttempts(t *testing.T) {
	t.Run("OldestFirstWithinLimit", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			setClock(db, t0)
			_, a := mustPage(t, db, "p1", time.Time{}, smsAttempt("a", "+1"), smsAttempt("b", "+2"))
			_, b := mustPage(t, db, "p2", time.Time{}, smsAttempt("c", "+3"))
			before := time.Now().Add(-time.Second)
			got := claim(t, db, "engine-1", time.Hour, 2)
			after := time.Now().Add(time.Second)
			equal(t, "first claim", ids(got), []int64{a[0].ID, a[1].ID})
			for _, c := range got {
				if c.Status != pager.Sending || c.Tries != 1 || c.ClaimedAt.Before(before) || c.ClaimedAt.After(after) {
					t.Errorf("claimed %+v, want Sending, 1 try, claimed at the database's time (now, not the store's test clock)", c)
				}
				equal(t, "claimed attempt as stored", mustAttempt(t, db, c.ID), c)
			}
			equal(t, "second claim", ids(claim(t, db, "engine-1", time.Hour, 2)), []int64{b[0].ID})
			if got := claim(t, db, "engine-1", time.Hour, 2); got == nil || len(got) != 0 {
				t.Fatalf("third claim = %#v, want an empty slice", got)
			}
		})
	})

	t.Run("NotBefore", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			later := smsAttempt("later", "+2")
			later.NotBefore = time.Now().Add(time.Hour)
			_, atts := mustPage(t, db, "p1", time.Time{}, smsAttempt("now", "+1"), later)
			if !atts[1].NotBefore.Equal(later.NotBefore.Truncate(time.Microsecond)) {
				t.Fatalf("NotBefore read back %s, want %s", atts[1].NotBefore, later.NotBefore)
			}
			got := claim(t, db, "engine-1", time.Hour, 10)
			equal(t, "claimed", ids(got), []int64{atts[0].ID})

			// Put back for an hour: not claimed; put back for a moment
			// that has passed: claimed again, a second try.
			if err := db.RetryAttempt(t.Context(), atts[0].ID, "engine-1", time.Now().Add(time.Hour), "429 too many requests"); err != nil {
				t.Fatal(err)
			}
			if a := mustAttempt(t, db, atts[0].ID); a.Status != pager.Intended || a.Detail != "429 too many requests" {
				t.Fatalf("retried attempt %+v", a)
			}
			if got := claim(t, db, "engine-1", time.Hour, 10); len(got) != 0 {
				t.Fatalf("claimed %v before their time", ids(got))
			}
			// Waiting to be claimed, it is nobody's to put back.
			wantErr(t, db.RetryAttempt(t.Context(), atts[0].ID, "engine-1", time.Time{}, ""), errs.Conflict, "")
		})
	})

	t.Run("RetryComesBack", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			_, atts := mustPage(t, db, "p1", time.Time{}, smsAttempt("a", "+1"))
			claim(t, db, "engine-1", time.Hour, 10)
			if err := db.RetryAttempt(t.Context(), atts[0].ID, "engine-1", time.Now().Add(-time.Millisecond), "refused"); err != nil {
				t.Fatal(err)
			}
			got := claim(t, db, "engine-2", time.Hour, 10)
			if len(got) != 1 || got[0].Tries != 2 || got[0].Status != pager.Sending {
				t.Fatalf("claim after retry = %+v, want the attempt on its second try", got)
			}
		})
	})

	t.Run("OneVoiceCallPerNumber", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			const olga, ivan = "+12025550121", "+79161234567"
			_, p1 := mustPage(t, db, "p1", time.Time{}, voiceAttempt("v", olga))
			_, p2 := mustPage(t, db, "p2", time.Time{}, voiceAttempt("v", olga))
			_, p3 := mustPage(t, db, "p3", time.Time{}, smsAttempt("s", olga), voiceAttempt("v", ivan))

			// Two calls to Olga wait; one is claimed, with her text and
			// the call to Ivan.
			got := claim(t, db, "engine-1", time.Hour, 10)
			equal(t, "first claim", ids(got), []int64{p1[0].ID, p3[0].ID, p3[1].ID})
			if got := claim(t, db, "engine-1", time.Hour, 10); len(got) != 0 {
				t.Fatalf("claimed %v while a call to the number is being made", ids(got))
			}
			// Sent (ringing): still in flight.
			if err := db.AttemptSent(t.Context(), p1[0].ID, "engine-1", "CA01"); err != nil {
				t.Fatal(err)
			}
			if got := claim(t, db, "engine-1", time.Hour, 10); len(got) != 0 {
				t.Fatalf("claimed %v while a call to the number is ringing", ids(got))
			}
			// Over: the second call may go.
			endAttempt(t, db, p1[0], pager.NoAnswer)
			equal(t, "claim after the first call ended", ids(claim(t, db, "engine-1", time.Hour, 10)), []int64{p2[0].ID})

			// In doubt: still in flight.
			_, p4 := mustPage(t, db, "p4", time.Time{}, voiceAttempt("v", ivan), voiceAttempt("w", "+4"))
			endAttempt(t, db, p3[1], pager.Busy)
			claimed := claim(t, db, "engine-1", -time.Minute, 10)
			equal(t, "claim of p4", ids(claimed), []int64{p4[0].ID, p4[1].ID})
			if got, err := db.ClaimInDoubt(t.Context(), "engine-2", time.Hour, 10); err != nil || len(got) != 2 {
				t.Fatalf("ClaimInDoubt = %v, %v", ids(got), err)
			}
			mustPage(t, db, "p5", time.Time{}, voiceAttempt("v", ivan))
			if got := claim(t, db, "engine-1", time.Hour, 10); len(got) != 0 {
				t.Fatalf("claimed %v while a call to the number is in doubt", ids(got))
			}
		})
	})

	t.Run("ErrNoOwner", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			_, err := db.ClaimAttempts(t.Context(), "", time.Hour, 1, time.Time{})
			wantErr(t, err, errs.Invalid, "owner")
			_, err = db.ClaimInDoubt(t.Context(), "", time.Hour, 1)
			wantErr(t, err, errs.Invalid, "owner")
		})
	})
}

// claimers is a store per concurrent claimer: one store shared with
// SQLite (one process), two on one database with PostgreSQL, as two
// instances.
func claimers(t *testing.T, backend string, n int) []*store.DB {
	t.Helper()
	var dbs []*store.DB
	if backend == store.SQLite {
		db := storetest.OpenSQLite(t)
		for range n {
			dbs = append(dbs, db)
		}
		return dbs
	}
	dsn := pgtest.URL(t)
	first, second := open(t, dsn), open(t, dsn)
	if err := first.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		dbs = append(dbs, []*store.DB{first, second}[i%2])
	}
	return dbs
}

func TestClaimAttemptsConcurrently(t *testing.T) {
	const workers = 4
	run := func(t *testing.T, dbs []*store.DB) map[int64][]string {
		t.Helper()
		claimedBy := map[int64][]string{}
		var mu sync.Mutex
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, db := range dbs {
			owner := fmt.Sprintf("engine-%d", i)
			wg.Go(func() {
				<-start
				for {
					got, err := db.ClaimAttempts(context.Background(), owner, time.Hour, 7, time.Time{})
					if err != nil {
						t.Errorf("ClaimAttempts(%s): %v", owner, err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, a := range got {
						claimedBy[a.ID] = append(claimedBy[a.ID], owner)
					}
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		return claimedBy
	}

	t.Run("EachOnce", func(t *testing.T) {
		for _, backend := range []string{store.SQLite, store.Postgres} {
			t.Run(backend, func(t *testing.T) {
				dbs := claimers(t, backend, workers)
				var want []int64
				for p := range 20 {
					var add []pager.Attempt
					for i := range 10 {
						to := fmt.Sprintf("+1202555%02d%02d", p, i)
						if i%3 == 0 {
							add = append(add, voiceAttempt(fmt.Sprint(i), to))
						} else {
							add = append(add, smsAttempt(fmt.Sprint(i), to))
						}
					}
					_, atts := mustPage(t, dbs[0], fmt.Sprint("p", p), time.Time{}, add...)
					want = append(want, ids(atts)...)
				}
				claimedBy := run(t, dbs)
				var got []int64
				for id, owners := range claimedBy {
					if len(owners) != 1 {
						t.Errorf("attempt %d claimed by %v", id, owners)
					}
					got = append(got, id)
				}
				slices.Sort(got)
				if len(got) != 200 || !slices.Equal(got, want) {
					t.Fatalf("claimed %d attempts, want each of the 200 once", len(got))
				}
			})
		}
	})

	t.Run("OneCallPerNumber", func(t *testing.T) {
		for _, backend := range []string{store.SQLite, store.Postgres} {
			t.Run(backend, func(t *testing.T) {
				dbs := claimers(t, backend, workers)
				for p := range 20 {
					mustPage(t, dbs[0], fmt.Sprint("p", p), time.Time{}, voiceAttempt("v", "+12025550121"), smsAttempt("s", fmt.Sprint("+1", p)))
				}
				claimedBy := run(t, dbs)
				calls := 0
				for id, owners := range claimedBy {
					if len(owners) != 1 {
						t.Errorf("attempt %d claimed by %v", id, owners)
					}
					if a := mustAttempt(t, dbs[0], id); a.Kind == pager.KindVoice {
						calls++
					}
				}
				if calls != 1 || len(claimedBy) != 21 {
					t.Fatalf("claimed %d calls to one number and %d attempts in all; want 1 and 21 (every text)", calls, len(claimedBy))
				}
			})
		}
	})
}

func TestClaimInDoubt(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		_, atts := mustPage(t, db, "p1", time.Time{}, smsAttempt("a", "+1"), smsAttempt("b", "+2"), smsAttempt("c", "+3"))
		// A lease that has run out already (negative), deterministically:
		// its claimer died before it could record anything.
		expired := claim(t, db, "engine-1", -time.Minute, 1)
		held := claim(t, db, "engine-1", time.Hour, 1)
		if len(expired) != 1 || len(held) != 1 {
			t.Fatalf("claims %v, %v", ids(expired), ids(held))
		}

		got, err := db.ClaimInDoubt(t.Context(), "engine-2", time.Hour, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != atts[0].ID {
			t.Fatalf("ClaimInDoubt = %v, want only the attempt whose lease ran out (%d)", ids(got), atts[0].ID)
		}
		a := got[0]
		if a.Status != pager.InDoubt || !a.ClaimedAt.Equal(expired[0].ClaimedAt) || a.Tries != 1 {
			t.Fatalf("in doubt: %+v; want InDoubt with the first claim's time and try", a)
		}
		equal(t, "as stored", mustAttempt(t, db, a.ID), a)
		if got, _ := db.ClaimInDoubt(t.Context(), "engine-3", time.Hour, 10); len(got) != 0 {
			t.Fatalf("ClaimInDoubt took %v, leased to engine-2 for an hour", ids(got))
		}

		// The first claimer lost it: it may record nothing now.
		wantErr(t, db.AttemptSent(t.Context(), a.ID, "engine-1", "SM01"), errs.Conflict, "")
		wantErr(t, db.RetryAttempt(t.Context(), a.ID, "engine-1", time.Time{}, ""), errs.Conflict, "")
		// The new holder found it at the provider.
		if err := db.AttemptSent(t.Context(), a.ID, "engine-2", "SM01"); err != nil {
			t.Fatal(err)
		}

		// In doubt, and that lease ran out too: claimed again, by the
		// next; the one before may record nothing.
		c := claim(t, db, "engine-1", -time.Minute, 10)
		equal(t, "third claim", ids(c), []int64{atts[2].ID})
		if got, err := db.ClaimInDoubt(t.Context(), "engine-2", -time.Minute, 10); err != nil || !slices.Equal(ids(got), ids(c)) {
			t.Fatalf("ClaimInDoubt = %v, %v; want %v", ids(got), err, ids(c))
		}
		again, err := db.ClaimInDoubt(t.Context(), "engine-3", time.Hour, 10)
		if err != nil || !slices.Equal(ids(again), ids(c)) || again[0].Status != pager.InDoubt {
			t.Fatalf("ClaimInDoubt of an attempt in doubt whose lease ran out = %+v, %v", again, err)
		}
		wantErr(t, db.RetryAttempt(t.Context(), c[0].ID, "engine-2", time.Time{}, ""), errs.Conflict, "")
		if err := db.RetryAttempt(t.Context(), c[0].ID, "engine-3", time.Time{}, "not found at the provider"); err != nil {
			t.Fatal(err)
		}
		// The lease of an hour still holds.
		equal(t, "attempt leased for an hour", mustAttempt(t, db, held[0].ID).Status, pager.Sending)
	})
}

func TestAttemptSent(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		setClock(db, t0)
		_, atts := mustPage(t, db, "p1", time.Time{}, smsAttempt("a", "+1"), smsAttempt("b", "+2"), smsAttempt("c", "+3"))
		claim(t, db, "engine-1", time.Hour, 2)
		a, b, c := atts[0], atts[1], atts[2]

		wantErr(t, db.AttemptSent(t.Context(), a.ID, "engine-2", "SM01"), errs.Conflict, "")
		wantErr(t, db.RetryAttempt(t.Context(), a.ID, "engine-2", time.Time{}, ""), errs.Conflict, "")
		wantErr(t, db.AttemptSent(t.Context(), c.ID, "engine-1", "SM01"), errs.Conflict, "") // never claimed
		wantErr(t, db.AttemptSent(t.Context(), 999, "engine-1", "SM01"), errs.NotFound, "")
		wantErr(t, db.RetryAttempt(t.Context(), 999, "engine-1", time.Time{}, ""), errs.NotFound, "")
		wantErr(t, db.AttemptSent(t.Context(), a.ID, "engine-1", ""), errs.Invalid, "provider_id")

		setClock(db, t0.Add(time.Minute))
		if err := db.AttemptSent(t.Context(), a.ID, "engine-1", "SM01"); err != nil {
			t.Fatal(err)
		}
		sent := mustAttempt(t, db, a.ID)
		if sent.Status != pager.Sent || sent.ProviderID != "SM01" || !sent.UpdatedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("sent attempt %+v", sent)
		}
		// Again with the same id: nothing to do; with another: Conflict.
		if err := db.AttemptSent(t.Context(), a.ID, "engine-1", "SM01"); err != nil {
			t.Fatalf("AttemptSent again: %v", err)
		}
		wantErr(t, db.AttemptSent(t.Context(), a.ID, "engine-1", "SM02"), errs.Conflict, "")
		wantErr(t, db.RetryAttempt(t.Context(), a.ID, "engine-1", time.Time{}, ""), errs.Conflict, "")
		// No lease any more: never in doubt.
		if got, _ := db.ClaimInDoubt(t.Context(), "engine-2", time.Hour, 10); len(got) != 0 {
			t.Fatalf("ClaimInDoubt took a sent attempt: %v", ids(got))
		}
		// One provider id, one attempt.
		wantErr(t, db.AttemptSent(t.Context(), b.ID, "engine-1", "SM01"), errs.Conflict, "")
		equal(t, "attempt b after a refused provider id", mustAttempt(t, db, b.ID).Status, pager.Sending)

		got, err := db.AttemptByProviderID(t.Context(), "SM01")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "AttemptByProviderID", got, sent)
		_, err = db.AttemptByProviderID(t.Context(), "SM99")
		wantErr(t, err, errs.NotFound, "")
		_, err = db.Attempt(t.Context(), 999)
		wantErr(t, err, errs.NotFound, "")

		// Ended since, the same id again is still no error.
		endAttempt(t, db, sent, pager.Delivered)
		if err := db.AttemptSent(t.Context(), a.ID, "engine-1", "SM01"); err != nil {
			t.Fatalf("AttemptSent of an ended attempt with its own provider id: %v", err)
		}
		if got := mustAttempt(t, db, a.ID); got.Status != pager.Done {
			t.Fatalf("AttemptSent again moved an ended attempt to %s", got.Status)
		}
	})
}

func TestStaleAttempts(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		_, atts := mustPage(t, db, "p1", time.Time{}, smsAttempt("a", "+1"), smsAttempt("b", "+2"), smsAttempt("c", "+3"))
		claim(t, db, "engine-1", time.Hour, 10)
		setClock(db, t0)
		if err := db.AttemptSent(t.Context(), atts[1].ID, "engine-1", "SM02"); err != nil {
			t.Fatal(err)
		}
		setClock(db, t0.Add(10*time.Minute))
		if err := db.AttemptSent(t.Context(), atts[0].ID, "engine-1", "SM01"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			before time.Time
			limit  int
			want   []int64
		}{
			{"None", t0, 0, []int64{}},
			{"Older", t0.Add(5 * time.Minute), 0, []int64{atts[1].ID}},
			{"LongestWaitingFirst", t0.Add(time.Hour), 0, []int64{atts[1].ID, atts[0].ID}},
			{"Limit", t0.Add(time.Hour), 1, []int64{atts[1].ID}},
		} {
			got, err := db.StaleAttempts(t.Context(), tc.before, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "StaleAttempts "+tc.name, ids(got), tc.want)
		}
		// Ended, or still sending (atts[2]): not stale.
		endAttempt(t, db, mustAttempt(t, db, atts[1].ID), pager.Delivered)
		got, err := db.StaleAttempts(t.Context(), t0.Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "StaleAttempts after one ended", ids(got), []int64{atts[0].ID})
	})
}
