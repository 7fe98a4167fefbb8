package store_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// The contract of pager.Store, on both back ends: pages (this file) and the
// outbox of their attempts (pager_outbox_test.go).

var moscow = time.FixedZone("MSK", 3*60*60)

func newPage(key string) pager.Page {
	return pager.Page{
		Key:      key,
		Source:   pager.FromAPI,
		TicketID: "1001",
		Priority: oncall.Urgent,
		Level:    oncall.L1,
		Summary:  "Сервер не отвечает",
		Language: oncall.Russian,
		RaisedAt: t0.Add(-time.Minute),
		Deadline: t0.Add(time.Hour),
	}
}

// opener is the open function of a page that opens due at due (zero: no
// timer) with attempts add; calls counts its calls.
func opener(calls *atomic.Int32, due time.Time, add ...pager.Attempt) func(p *pager.Page) pager.Changes {
	return func(p *pager.Page) pager.Changes {
		if calls != nil {
			calls.Add(1)
		}
		p.Status, p.DueAt = pager.Open, due
		p.Seq++
		p.Plan = []pager.Rung{{Level: oncall.L1, Layer: oncall.Primary, Channels: []oncall.Channel{oncall.Voice, oncall.SMS}, Wait: 15 * time.Minute}}
		p.Current = pager.Current{Rung: 0, Started: t0, Target: pager.Target{EngineerID: 7, Name: "Olga Petrova", Phone: "+12025550121"}}
		p.Log = append(p.Log, pager.Entry{At: t0, What: "opened", Detail: "urgent, from L1"})
		return pager.Changes{Add: add}
	}
}

func voiceAttempt(key, to string) pager.Attempt {
	return pager.Attempt{Key: key, Kind: pager.KindVoice, Purpose: pager.PurposePage, Rung: 0, EngineerID: 7, To: to, Language: oncall.English}
}

func smsAttempt(key, to string) pager.Attempt {
	return pager.Attempt{Key: key, Kind: pager.KindSMS, Purpose: pager.PurposePage, Rung: 0, EngineerID: 7, To: to,
		Language: oncall.Russian, Body: "СРОЧНЫЙ вызов 1, заявка 1001. Ответьте 1, чтобы подтвердить."}
}

// mustPage creates an open page due at due with attempts add and returns
// it with its attempts as stored.
func mustPage(t *testing.T, db *store.DB, key string, due time.Time, add ...pager.Attempt) (pager.Page, []pager.Attempt) {
	t.Helper()
	p, created, err := db.CreatePage(t.Context(), newPage(key), opener(nil, due, add...))
	if err != nil || !created {
		t.Fatalf("CreatePage(%q) = created %v, %v", key, created, err)
	}
	got, atts, err := db.Page(t.Context(), p.ID)
	if err != nil {
		t.Fatalf("Page(%d): %v", p.ID, err)
	}
	equal(t, "Page as created", got, p)
	return p, atts
}

// update applies fn to page id and fails the test on an error.
func update(t *testing.T, db *store.DB, id int64, fn func(p *pager.Page, atts []pager.Attempt) pager.Changes) pager.Page {
	t.Helper()
	p, err := db.UpdatePage(t.Context(), id, func(p *pager.Page, atts []pager.Attempt) (pager.Changes, error) {
		return fn(p, atts), nil
	})
	if err != nil {
		t.Fatalf("UpdatePage(%d): %v", id, err)
	}
	return p
}

func mustPageAttempts(t *testing.T, db *store.DB, id int64) []pager.Attempt {
	t.Helper()
	_, atts, err := db.Page(t.Context(), id)
	if err != nil {
		t.Fatalf("Page(%d): %v", id, err)
	}
	return atts
}

func TestCreatePage(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			setClock(db, t0)
			var calls atomic.Int32
			var seen pager.Page
			open := opener(&calls, t0.Add(15*time.Minute), voiceAttempt("1/page/voice/0", "+12025550121"), smsAttempt("1/page/sms/1", "+12025550121"))
			p, created, err := db.CreatePage(t.Context(), newPage("api:1"), func(p *pager.Page) pager.Changes {
				seen = *p
				return open(p)
			})
			if err != nil || !created {
				t.Fatalf("CreatePage = created %v, %v", created, err)
			}
			if calls.Load() != 1 || seen.ID != p.ID || seen.ID == 0 || !seen.CreatedAt.Equal(t0) {
				t.Fatalf("open called %d times with id %d created %s; stored id %d", calls.Load(), seen.ID, seen.CreatedAt, p.ID)
			}
			want := newPage("api:1")
			open(&want)
			want.ID, want.CreatedAt = p.ID, t0
			equal(t, "CreatePage", p, want)

			got, atts, err := db.Page(t.Context(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Page", got, want)
			if len(atts) != 2 {
				t.Fatalf("%d attempts, want 2", len(atts))
			}
			wantAtt := voiceAttempt("1/page/voice/0", "+12025550121")
			wantAtt.ID, wantAtt.PageID, wantAtt.Status, wantAtt.CreatedAt, wantAtt.UpdatedAt = atts[0].ID, p.ID, pager.Intended, t0, t0
			equal(t, "voice attempt", atts[0], wantAtt)
			if atts[1].ID <= atts[0].ID || atts[1].Kind != pager.KindSMS || atts[1].Body == "" {
				t.Fatalf("attempts not oldest first or sms lost: %+v", atts)
			}
		})
	})

	t.Run("SameKey", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			var calls atomic.Int32
			first, created, err := db.CreatePage(t.Context(), newPage("call:CA01"), opener(&calls, t0.Add(time.Minute), smsAttempt("a", "+1")))
			if err != nil || !created {
				t.Fatalf("first CreatePage = %v, %v", created, err)
			}
			other := newPage("call:CA01")
			other.Summary = "another request with the same key"
			again, created, err := db.CreatePage(t.Context(), other, opener(&calls, t0, smsAttempt("b", "+2")))
			if err != nil || created {
				t.Fatalf("second CreatePage = created %v, %v; want the first page", created, err)
			}
			equal(t, "second CreatePage", again, first)
			if calls.Load() != 1 {
				t.Fatalf("open called %d times, want 1", calls.Load())
			}
			if atts := mustPageAttempts(t, db, first.ID); len(atts) != 1 || atts[0].Key != "a" {
				t.Fatalf("attempts %+v, want only the first page's", atts)
			}
		})
	})

	t.Run("SameKeyAtOnce", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			const writers = 8
			var calls atomic.Int32
			ids := make(chan int64, writers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					<-start
					p, _, err := db.CreatePage(context.Background(), newPage("ticket:ev1"), opener(&calls, t0, smsAttempt("a", "+1")))
					if err != nil {
						t.Errorf("CreatePage: %v", err)
					}
					ids <- p.ID
				})
			}
			close(start)
			wg.Wait()
			close(ids)
			var first int64
			for id := range ids {
				if first == 0 {
					first = id
				}
				if id != first || id == 0 {
					t.Fatalf("CreatePage returned pages %d and %d for one key", first, id)
				}
			}
			if calls.Load() != 1 {
				t.Fatalf("open called %d times, want 1", calls.Load())
			}
		})
	})

	t.Run("OpenCompletesPage", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			// Level 0 cannot be encoded; open sets it, as the machine
			// does, and the page is stored as open left it.
			p := newPage("api:level")
			p.Level = 0
			stored, created, err := db.CreatePage(t.Context(), p, func(p *pager.Page) pager.Changes {
				p.Level = oncall.L1
				return opener(nil, time.Time{})(p)
			})
			if err != nil || !created || stored.Level != oncall.L1 {
				t.Fatalf("CreatePage = level %v, created %v, %v", stored.Level, created, err)
			}
		})
	})

	t.Run("TimesReadBackUTC", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			p := newPage("api:zone")
			p.RaisedAt = time.Date(2026, 3, 29, 3, 29, 0, 123456789, moscow)
			due := time.Date(2026, 3, 29, 3, 45, 0, 999, moscow)
			stored, _, err := db.CreatePage(t.Context(), p, opener(nil, due))
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := db.Page(t.Context(), stored.ID)
			if err != nil {
				t.Fatal(err)
			}
			for name, tm := range map[string]time.Time{"raised_at": got.RaisedAt, "due_at": got.DueAt, "log": got.Log[0].At, "created_at": got.CreatedAt} {
				if tm.Location() != time.UTC {
					t.Errorf("%s %s is not in UTC", name, tm)
				}
			}
			if want := time.Date(2026, 3, 29, 0, 29, 0, 123456000, time.UTC); got.RaisedAt != want {
				t.Errorf("raised_at %s, want %s (UTC, to the microsecond)", got.RaisedAt, want)
			}
			// The due time the index keeps and the one in the page agree,
			// so that a page found due is due by its own DueAt too.
			next, ok, err := db.NextDue(t.Context())
			if err != nil || !ok || next != got.DueAt {
				t.Fatalf("NextDue = %s, %v, %v; the page's DueAt is %s", next, ok, err, got.DueAt)
			}
			a, _ := json.Marshal(stored)
			b, _ := json.Marshal(got)
			if string(a) != string(b) {
				t.Fatalf("JSON differs between CreatePage and Page:\n%s\n%s", a, b)
			}
		})
	})
}

func TestUpdatePage(t *testing.T) {
	t.Run("AddAndEnd", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			setClock(db, t0)
			p, atts := mustPage(t, db, "api:1", t0.Add(15*time.Minute), smsAttempt("1/a", "+1"), smsAttempt("1/b", "+2"))
			setClock(db, t0.Add(time.Minute))
			var seen []pager.Attempt
			added := smsAttempt("2/c", "+3")
			got := update(t, db, p.ID, func(p *pager.Page, atts []pager.Attempt) pager.Changes {
				seen = atts
				p.Seq++
				p.Log = append(p.Log, pager.Entry{At: t0.Add(time.Minute), What: "sms", Detail: "delivered"})
				return pager.Changes{Add: []pager.Attempt{added}, End: []pager.Ended{{AttemptID: atts[0].ID, Outcome: pager.Delivered, Detail: "30003"}}}
			})
			equal(t, "attempts fn saw", seen, atts)
			if got.Seq != 2 || len(got.Log) != 2 {
				t.Fatalf("stored page seq %d, %d log entries; want fn's change", got.Seq, len(got.Log))
			}
			stored, after, err := db.Page(t.Context(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Page", stored, got)
			if len(after) != 3 {
				t.Fatalf("%d attempts, want 3", len(after))
			}
			if a := after[0]; a.Status != pager.Done || a.Outcome != pager.Delivered || a.Detail != "30003" || !a.UpdatedAt.Equal(t0.Add(time.Minute)) {
				t.Errorf("ended attempt %+v", a)
			}
			equal(t, "untouched attempt", after[1], atts[1])
			if a := after[2]; a.Key != "2/c" || a.Status != pager.Intended || a.PageID != p.ID {
				t.Errorf("added attempt %+v", a)
			}
		})
	})

	t.Run("FnErrorWritesNothing", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			p, atts := mustPage(t, db, "api:1", t0.Add(15*time.Minute), smsAttempt("1/a", "+1"))
			refused := errs.E(errs.Conflict, "", "the page is resolved")
			_, err := db.UpdatePage(t.Context(), p.ID, func(p *pager.Page, atts []pager.Attempt) (pager.Changes, error) {
				p.Status = pager.Resolved
				return pager.Changes{Add: []pager.Attempt{smsAttempt("2/b", "+2")}, End: []pager.Ended{{AttemptID: atts[0].ID, Outcome: pager.Canceled}}}, refused
			})
			if err != refused {
				t.Fatalf("UpdatePage error %v, want fn's error itself", err)
			}
			got, after, err := db.Page(t.Context(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "page after fn's error", got, p)
			equal(t, "attempts after fn's error", after, atts)
		})
	})

	t.Run("DuplicateKeyNotAdded", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			p, atts := mustPage(t, db, "api:1", t0.Add(15*time.Minute), smsAttempt("1/a", "+1"))
			again := smsAttempt("1/a", "+9")
			again.Body = "another body"
			update(t, db, p.ID, func(*pager.Page, []pager.Attempt) pager.Changes {
				return pager.Changes{Add: []pager.Attempt{again, smsAttempt("2/b", "+2"), smsAttempt("2/b", "+3")}}
			})
			after := mustPageAttempts(t, db, p.ID)
			if len(after) != 2 {
				t.Fatalf("%d attempts, want 2: %+v", len(after), after)
			}
			equal(t, "attempt with the key already", after[0], atts[0])
			if after[1].Key != "2/b" || after[1].To != "+2" {
				t.Fatalf("added attempt %+v, want the first with key 2/b", after[1])
			}
		})
	})

	t.Run("CanceledEndsOnlyIntended", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			p, _ := mustPage(t, db, "api:1", t0.Add(15*time.Minute), smsAttempt("1/a", "+1"))
			claimed := claim(t, db, "engine-1", time.Hour, 10)
			update(t, db, p.ID, func(*pager.Page, []pager.Attempt) pager.Changes {
				return pager.Changes{Add: []pager.Attempt{smsAttempt("2/b", "+2")}}
			})
			atts := mustPageAttempts(t, db, p.ID)
			update(t, db, p.ID, func(*pager.Page, []pager.Attempt) pager.Changes {
				return pager.Changes{End: []pager.Ended{{AttemptID: atts[0].ID, Outcome: pager.Canceled}, {AttemptID: atts[1].ID, Outcome: pager.Canceled}}}
			})
			after := mustPageAttempts(t, db, p.ID)
			if a := after[0]; a.ID != claimed[0].ID || a.Status != pager.Sending || a.Outcome != "" {
				t.Errorf("canceled attempt being sent: %+v, want it left Sending", a)
			}
			if a := after[1]; a.Status != pager.Done || a.Outcome != pager.Canceled {
				t.Errorf("canceled intended attempt: %+v, want Done, canceled", a)
			}

			// Any other outcome ends an attempt in flight; a second end
			// changes nothing.
			update(t, db, p.ID, func(*pager.Page, []pager.Attempt) pager.Changes {
				return pager.Changes{End: []pager.Ended{{AttemptID: atts[0].ID, Outcome: pager.Failed, Detail: "21211"}}}
			})
			update(t, db, p.ID, func(*pager.Page, []pager.Attempt) pager.Changes {
				return pager.Changes{End: []pager.Ended{{AttemptID: atts[0].ID, Outcome: pager.Delivered}, {AttemptID: atts[1].ID, Outcome: pager.Delivered}}}
			})
			after = mustPageAttempts(t, db, p.ID)
			if a := after[0]; a.Status != pager.Done || a.Outcome != pager.Failed || a.Detail != "21211" {
				t.Errorf("attempt ended twice: %+v, want the first outcome", a)
			}
			if a := after[1]; a.Outcome != pager.Canceled {
				t.Errorf("canceled attempt ended again: %+v", a)
			}
		})
	})

	t.Run("EndsOnlyItsOwnAttempts", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			_, theirs := mustPage(t, db, "api:1", time.Time{}, smsAttempt("1/a", "+1"))
			mine, _ := mustPage(t, db, "api:2", time.Time{})
			update(t, db, mine.ID, func(*pager.Page, []pager.Attempt) pager.Changes {
				return pager.Changes{End: []pager.Ended{{AttemptID: theirs[0].ID, Outcome: pager.Canceled}}}
			})
			equal(t, "another page's attempt", mustPageAttempts(t, db, theirs[0].PageID), theirs)
		})
	})

	t.Run("KeepsIdentity", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			p, _ := mustPage(t, db, "api:1", time.Time{})
			got := update(t, db, p.ID, func(p *pager.Page, _ []pager.Attempt) pager.Changes {
				p.ID, p.Key, p.CreatedAt = 99, "api:other", t0.Add(time.Hour)
				return pager.Changes{}
			})
			if got.ID != p.ID || got.Key != p.Key || !got.CreatedAt.Equal(p.CreatedAt) {
				t.Fatalf("UpdatePage stored id %d key %q created %s; want the page's own", got.ID, got.Key, got.CreatedAt)
			}
		})
	})

	t.Run("Serialised", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			const writers = 8
			p, _ := mustPage(t, db, "api:1", time.Time{})
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() {
					<-start
					_, err := db.UpdatePage(context.Background(), p.ID, func(p *pager.Page, atts []pager.Attempt) (pager.Changes, error) {
						p.Seq++
						return pager.Changes{Add: []pager.Attempt{smsAttempt(string(rune('a'+i))+"/"+string(rune('0'+p.Seq)), "+1")}}, nil
					})
					if err != nil {
						t.Errorf("UpdatePage: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			got, atts, err := db.Page(t.Context(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Seq != 1+writers || len(atts) != writers {
				t.Fatalf("seq %d and %d attempts after %d updates; want %d and %d: an update did not see the one before", got.Seq, len(atts), writers, 1+writers, writers)
			}
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			called := false
			_, err := db.UpdatePage(t.Context(), 42, func(*pager.Page, []pager.Attempt) (pager.Changes, error) {
				called = true
				return pager.Changes{}, nil
			})
			wantErr(t, err, errs.NotFound, "")
			if called {
				t.Fatal("fn was called for a page that does not exist")
			}
			_, _, err = db.Page(t.Context(), 42)
			wantErr(t, err, errs.NotFound, "")
		})
	})
}

// closePage acknowledges page id: closed, no due time.
func closePage(t *testing.T, db *store.DB, id int64) {
	t.Helper()
	update(t, db, id, func(p *pager.Page, _ []pager.Attempt) pager.Changes {
		p.Status, p.DueAt, p.AckedBy, p.AckedAt = pager.Acknowledged, time.Time{}, 7, t0
		return pager.Changes{}
	})
}

func TestDuePages(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		if _, ok, err := db.NextDue(t.Context()); err != nil || ok {
			t.Fatalf("NextDue on no pages = %v, %v", ok, err)
		}
		a, _ := mustPage(t, db, "a", t0.Add(10*time.Minute))
		b, _ := mustPage(t, db, "b", t0.Add(5*time.Minute))
		c, _ := mustPage(t, db, "c", t0.Add(20*time.Minute))
		d, _ := mustPage(t, db, "d", t0.Add(time.Minute))
		closePage(t, db, d.ID)
		mustPage(t, db, "no timer", time.Time{})
		// A closed page that kept a due time in its state is not due.
		e, _ := mustPage(t, db, "e", t0.Add(2*time.Minute))
		update(t, db, e.ID, func(p *pager.Page, _ []pager.Attempt) pager.Changes {
			p.Status = pager.Resolved
			return pager.Changes{}
		})

		for _, tc := range []struct {
			name  string
			now   time.Time
			limit int
			want  []int64
		}{
			{"NoneYet", t0, 0, []int64{}},
			{"AtDueTime", t0.Add(5 * time.Minute), 0, []int64{b.ID}},
			{"SoonestFirst", t0.Add(10 * time.Minute), 0, []int64{b.ID, a.ID}},
			{"Limit", t0.Add(time.Hour), 2, []int64{b.ID, a.ID}},
			{"All", t0.Add(time.Hour), 0, []int64{b.ID, a.ID, c.ID}},
		} {
			got, err := db.DuePages(t.Context(), tc.now, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "DuePages "+tc.name, got, tc.want)
		}
		next, ok, err := db.NextDue(t.Context())
		if err != nil || !ok || !next.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("NextDue = %s, %v, %v; want b's, %s", next, ok, err, t0.Add(5*time.Minute))
		}
		closePage(t, db, b.ID)
		if next, _, _ := db.NextDue(t.Context()); !next.Equal(t0.Add(10 * time.Minute)) {
			t.Fatalf("NextDue after b closed = %s, want a's", next)
		}
	})
}

func TestPages(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		var ids []int64
		for _, key := range []string{"p1", "p2", "p3", "p4", "p5"} {
			p, _ := mustPage(t, db, key, t0.Add(time.Hour))
			ids = append(ids, p.ID)
		}
		closePage(t, db, ids[1])
		closePage(t, db, ids[3])
		keys := func(ps []pager.Page) []string {
			out := []string{}
			for _, p := range ps {
				out = append(out, p.Key)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    pager.Filter
			want []string
		}{
			{"All", pager.Filter{}, []string{"p5", "p4", "p3", "p2", "p1"}},
			{"Open", pager.Filter{Status: pager.Open}, []string{"p5", "p3", "p1"}},
			{"Acknowledged", pager.Filter{Status: pager.Acknowledged}, []string{"p4", "p2"}},
			{"Before", pager.Filter{Before: ids[3]}, []string{"p3", "p2", "p1"}},
			{"OpenBefore", pager.Filter{Status: pager.Open, Before: ids[2]}, []string{"p1"}},
			{"Limit", pager.Filter{Limit: 2}, []string{"p5", "p4"}},
			{"NoneExpired", pager.Filter{Status: pager.Expired}, []string{}},
		} {
			got, err := db.Pages(t.Context(), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatalf("Pages %s = nil, want a non-nil slice", tc.name)
			}
			equal(t, "Pages "+tc.name, keys(got), tc.want)
		}

		// Paging through, two at a time, from the newest.
		var seen []string
		for before := int64(0); ; {
			page, err := db.Pages(t.Context(), pager.Filter{Before: before, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			seen = append(seen, keys(page)...)
			before = page[len(page)-1].ID
		}
		equal(t, "paged through", seen, []string{"p5", "p4", "p3", "p2", "p1"})

		got, err := db.Pages(t.Context(), pager.Filter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := db.Page(t.Context(), ids[4])
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "listed page", got[0], p)
	})
}
