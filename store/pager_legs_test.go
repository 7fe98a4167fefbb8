package store_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func legAttempt(callID, legID, to string) pager.Attempt {
	return pager.Attempt{CallID: callID, Key: legID, Kind: pager.KindVoice, Purpose: pager.PurposeLeg, Rung: -1,
		EngineerID: 7, To: to, From: "+12025952118", RingFor: 25 * time.Second}
}

func addLeg(t *testing.T, db *store.DB, a pager.Attempt) pager.Attempt {
	t.Helper()
	got, added, err := db.AddLeg(t.Context(), a)
	if err != nil || !added {
		t.Fatalf("AddLeg(%s) = added %v, %v", a.Key, added, err)
	}
	return got
}

// Engineer legs live in the pages' outbox: written once per leg id, read
// back whole, ended only from the statuses asked for, and sharing the one
// voice call in flight per number with page calls.
func TestLegs(t *testing.T) {
	const call, olga = "CA00000000000000000000000000000001", "+12025550121"
	t.Run("AddedOnce", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			at := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
			a := legAttempt(call, call+"-leg1", olga)
			a.CreatedAt = at
			got := addLeg(t, db, a)
			if got.ID == 0 || got.PageID != 0 || got.CallID != call || got.From != a.From || got.RingFor != a.RingFor ||
				got.Status != pager.Intended || !got.CreatedAt.Equal(at) {
				t.Fatalf("leg as stored: %+v", got)
			}
			again, added, err := db.AddLeg(t.Context(), legAttempt(call, call+"-leg1", "+19999999999"))
			if err != nil || added || again.ID != got.ID || again.To != olga {
				t.Fatalf("the same leg again: %+v added %v, %v; want the first, unchanged", again, added, err)
			}
			equal(t, "Leg", mustLeg(t, db, call, call+"-leg1"), got)
			if _, err := db.Leg(t.Context(), call, call+"-leg9"); !errs.Is(err, errs.NotFound) {
				t.Fatalf("an unknown leg: %v, want NotFound", err)
			}
			waiting, err := db.WaitingLegs(t.Context(), time.Now(), 10)
			if err != nil || len(waiting) != 1 || waiting[0].ID != got.ID {
				t.Fatalf("WaitingLegs = %v, %v; want the leg", ids(waiting), err)
			}
			if waiting, _ := db.WaitingLegs(t.Context(), at, 10); len(waiting) != 0 {
				t.Fatalf("WaitingLegs before it was written = %v", ids(waiting))
			}
		})
	})

	t.Run("EndedFromTheStatusesAsked", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			a := addLeg(t, db, legAttempt(call, call+"-leg1", olga))
			claim(t, db, "engine-1", time.Hour, 10)
			if ok, err := db.EndAttempt(t.Context(), a.ID, pager.Canceled, "", pager.Intended); err != nil || ok {
				t.Fatalf("cancel a leg being placed = %v, %v; want left alone", ok, err)
			}
			if ok, err := db.EndAttempt(t.Context(), a.ID, pager.Completed, "call status completed", pager.Sending, pager.Sent); err != nil || !ok {
				t.Fatalf("end = %v, %v", ok, err)
			}
			if got := mustLeg(t, db, call, a.Key); got.Status != pager.Done || got.Outcome != pager.Completed || got.Detail != "call status completed" {
				t.Fatalf("ended leg: %+v", got)
			}
			if ok, _ := db.EndAttempt(t.Context(), a.ID, pager.Failed, "", pager.Sending, pager.Sent); ok {
				t.Fatal("an ended leg ended again")
			}
			wantErr(t, func() error { _, err := db.EndAttempt(t.Context(), a.ID, pager.Failed, ""); return err }(), errs.Invalid, "from")
		})
	})

	t.Run("OneVoiceCallPerNumberWithPages", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			leg := addLeg(t, db, legAttempt(call, call+"-leg1", olga))
			_, page := mustPage(t, db, "p1", time.Time{}, voiceAttempt("v", olga))
			equal(t, "first claim", ids(claim(t, db, "engine-1", time.Hour, 10)), []int64{leg.ID})
			if busy, err := db.OnVoiceCall(t.Context(), 7); err != nil || !busy {
				t.Fatalf("OnVoiceCall while the leg rings = %v, %v", busy, err)
			}
			if got := claim(t, db, "engine-1", time.Hour, 10); len(got) != 0 {
				t.Fatalf("claimed %v: a page call to a number on a leg", ids(got))
			}
			if ok, err := db.EndAttempt(t.Context(), leg.ID, pager.Completed, "", pager.Sending); err != nil || !ok {
				t.Fatalf("end the leg: %v, %v", ok, err)
			}
			equal(t, "claim once the leg is over", ids(claim(t, db, "engine-1", time.Hour, 10)), []int64{page[0].ID})
			// And the other way round: a leg waits while a page call rings.
			addLeg(t, db, legAttempt(call, call+"-leg2", olga))
			if got := claim(t, db, "engine-1", time.Hour, 10); len(got) != 0 {
				t.Fatalf("claimed %v: a leg to a number a page call rings", ids(got))
			}
			if busy, _ := db.OnVoiceCall(t.Context(), 8); busy {
				t.Fatal("another engineer is busy")
			}
		})
	})
}

// Ended legs older than the retention are deleted; younger ones, legs
// still open and pages' attempts are kept.
func TestDeleteLegsBefore(t *testing.T) {
	const call = "CA00000000000000000000000000000001"
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		setClock(db, t0)
		old := addLeg(t, db, legAttempt(call, call+"-leg1", "+12025550121"))
		if ok, err := db.EndAttempt(t.Context(), old.ID, pager.Completed, "", pager.Intended); err != nil || !ok {
			t.Fatalf("end: %v %v", ok, err)
		}
		open := addLeg(t, db, legAttempt(call, call+"-leg2", "+12025550122"))
		_, page := mustPage(t, db, "p1", time.Time{}, voiceAttempt("v", "+12025550123"))
		endAttempt(t, db, page[0], pager.NoAnswer)
		n, err := db.DeleteLegsBefore(t.Context(), t0.Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("DeleteLegsBefore = %d, %v; want the one ended leg", n, err)
		}
		if _, err := db.Leg(t.Context(), call, old.Key); !errs.Is(err, errs.NotFound) {
			t.Errorf("the ended leg: %v, want deleted", err)
		}
		mustLeg(t, db, call, open.Key)
		if got := mustPageAttempts(t, db, page[0].PageID); len(got) != 1 {
			t.Errorf("the page's attempts: %d, want kept", len(got))
		}
	})
}

func mustLeg(t *testing.T, db *store.DB, callID, legID string) pager.Attempt {
	t.Helper()
	a, err := db.Leg(t.Context(), callID, legID)
	if err != nil {
		t.Fatalf("Leg(%s): %v", legID, err)
	}
	return a
}
