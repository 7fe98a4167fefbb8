// Package callstatetest is the contract of webhooks.CallStates as one test
// suite: every implementation (the store on SQLite, with and without its
// cache, and on PostgreSQL; the webhooks tests' in-memory store) runs Run,
// so that a test double cannot promise what the store does not keep, nor
// the other way round. Tests only.
package callstatetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/webhooks"
)

// Open returns a new, empty implementation for t alone, and a function
// that sets the clock its writes are stamped with (what OpenCallStates
// measures idleness by).
type Open func(t *testing.T) (states webhooks.CallStates, setNow func(time.Time))

// Writers is how many writers race on one call in the concurrent cases.
const Writers = 8

// t0 is the suite's time; whole seconds, which every back end keeps.
var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// sid is a Twilio-shaped call SID.
func sid(n int) string { return fmt.Sprintf("CA%032x", n) }

// Run runs the contract against the implementations open returns, one per
// subtest.
func Run(t *testing.T, open Open) {
	t.Run("CreateThenRead", func(t *testing.T) {
		s, _ := open(t)
		create(t, s, sid(1), `{"phase":"language"}`)
		want(t, s, sid(1), `{"phase":"language"}`, 1)
	})

	t.Run("ErrConflictOnSecondCreate", func(t *testing.T) {
		s, _ := open(t)
		create(t, s, sid(1), "first")
		wantCode(t, "CreateCallState again", s.CreateCallState(t.Context(), sid(1), []byte("second")), errs.Conflict)
		want(t, s, sid(1), "first", 1)
	})

	t.Run("UpdateAdvancesTheVersion", func(t *testing.T) {
		s, _ := open(t)
		create(t, s, sid(1), "v1")
		for v := int64(1); v <= 3; v++ {
			data := fmt.Sprintf("v%d", v+1)
			nv, err := s.UpdateCallState(t.Context(), sid(1), v, []byte(data))
			if err != nil || nv != v+1 {
				t.Fatalf("UpdateCallState(v%d) = v%d, %v; want v%d", v, nv, err, v+1)
			}
			want(t, s, sid(1), data, v+1)
		}
	})

	t.Run("ErrConflictOnStaleVersion", func(t *testing.T) {
		s, _ := open(t)
		create(t, s, sid(1), "v1")
		update(t, s, sid(1), 1, "v2")
		// Another instance still holding version 1 loses, and so does one
		// naming a version that never was.
		for _, v := range []int64{1, 3, 0} {
			_, err := s.UpdateCallState(t.Context(), sid(1), v, []byte("lost"))
			wantCode(t, fmt.Sprintf("UpdateCallState(v%d) at v2", v), err, errs.Conflict)
		}
		want(t, s, sid(1), "v2", 2)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s, _ := open(t)
		create(t, s, sid(1), "other call")
		_, _, err := s.CallState(t.Context(), sid(2))
		wantCode(t, "CallState of an unknown call", err, errs.NotFound)
		_, err = s.UpdateCallState(t.Context(), sid(2), 1, []byte("x"))
		wantCode(t, "UpdateCallState of an unknown call", err, errs.NotFound)
		want(t, s, sid(1), "other call", 1)
	})

	t.Run("OpaqueBytes", func(t *testing.T) {
		s, _ := open(t)
		data := []byte{0, 1, 2, 0xff, 0xfe, 0, '\\', 'x', '\''}
		if err := s.CreateCallState(t.Context(), sid(1), data); err != nil {
			t.Fatal(err)
		}
		data[0] = 'X' // the caller's buffer is the caller's
		want(t, s, sid(1), "\x00\x01\x02\xff\xfe\x00\\x'", 1)
		got, _, _ := s.CallState(t.Context(), sid(1))
		got[1] = 'Y'
		want(t, s, sid(1), "\x00\x01\x02\xff\xfe\x00\\x'", 1)
	})

	t.Run("ConcurrentCreate", func(t *testing.T) {
		s, _ := open(t)
		won, lost := race(func(i int) error {
			return s.CreateCallState(context.Background(), sid(1), fmt.Appendf(nil, "writer %d", i))
		})
		checkRace(t, "CreateCallState", won, lost)
		data, v, err := s.CallState(t.Context(), sid(1))
		if err != nil || v != 1 || string(data) != fmt.Sprintf("writer %d", won[0]) {
			t.Fatalf("after the race: %q v%d, %v; want the winner's state, writer %d, at v1", data, v, err, won[0])
		}
	})

	t.Run("ConcurrentUpdate", func(t *testing.T) {
		// Writers read the same version and update it at once, as
		// instances serving webhooks of one call do: per version exactly
		// one wins, the others are told Conflict, and the winner's state
		// is what is kept.
		s, _ := open(t)
		create(t, s, sid(1), "start")
		for v := int64(1); v <= 3; v++ {
			won, lost := race(func(i int) error {
				nv, err := s.UpdateCallState(context.Background(), sid(1), v, fmt.Appendf(nil, "v%d by %d", v+1, i))
				if err == nil && nv != v+1 {
					return fmt.Errorf("new version %d, want %d", nv, v+1)
				}
				return err
			})
			checkRace(t, fmt.Sprintf("UpdateCallState(v%d)", v), won, lost)
			want(t, s, sid(1), fmt.Sprintf("v%d by %d", v+1, won[0]), v+1)
		}
	})

	t.Run("OpenAndFinish", func(t *testing.T) {
		// The sweep's view: calls not finished whose state has not changed
		// since a time, longest idle first, at most limit of them.
		s, setNow := open(t)
		for i := 1; i <= 4; i++ {
			setNow(t0.Add(time.Duration(i) * time.Minute))
			create(t, s, sid(i), "x")
		}
		setNow(t0.Add(10 * time.Minute))
		update(t, s, sid(1), 1, "moved") // sid(1) is no longer idle
		for range 2 {
			if err := s.FinishCallState(t.Context(), sid(3)); err != nil {
				t.Fatalf("FinishCallState (once or again): %v", err)
			}
		}
		if err := s.FinishCallState(t.Context(), sid(99)); err != nil {
			t.Fatalf("FinishCallState of an unknown call: %v, want nil", err)
		}
		list := func(idleSince time.Time, limit int) []string {
			t.Helper()
			ids, err := s.OpenCallStates(t.Context(), idleSince, limit)
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		if got, w := list(t0.Add(9*time.Minute), 10), []string{sid(2), sid(4)}; !slices.Equal(got, w) {
			t.Errorf("open calls idle since 12:09 = %v, want %v (longest idle first)", got, w)
		}
		if got, w := list(t0.Add(9*time.Minute), 1), []string{sid(2)}; !slices.Equal(got, w) {
			t.Errorf("one open call idle since 12:09 = %v, want %v, the longest idle", got, w)
		}
		if got, w := list(t0.Add(3*time.Minute), 10), []string{sid(2)}; !slices.Equal(got, w) {
			t.Errorf("open calls idle since 12:03 = %v, want %v", got, w)
		}
		if got, w := list(t0.Add(time.Hour), 10), []string{sid(2), sid(4), sid(1)}; !slices.Equal(got, w) {
			t.Errorf("open calls idle since 13:00 = %v, want %v", got, w)
		}
		// A finished call's state stays for late webhooks.
		want(t, s, sid(3), "x", 1)
	})
}

// race runs fn for Writers writers released at once and returns the
// writers whose fn returned nil and the errors of the others.
func race(fn func(i int) error) (won []int, lost []error) {
	type result struct {
		i   int
		err error
	}
	results := make(chan result, Writers)
	start := make(chan struct{})
	for i := range Writers {
		go func() {
			<-start
			results <- result{i, fn(i)}
		}()
	}
	close(start)
	for range Writers {
		r := <-results
		if r.err == nil {
			won = append(won, r.i)
		} else {
			lost = append(lost, r.err)
		}
	}
	return won, lost
}

func checkRace(t *testing.T, what string, won []int, lost []error) {
	t.Helper()
	for _, err := range lost {
		wantCode(t, what+" losing the race", err, errs.Conflict)
	}
	if len(won) != 1 {
		t.Fatalf("%s: %d of %d writers won (%v), want exactly 1", what, len(won), Writers, won)
	}
}

func create(t *testing.T, s webhooks.CallStates, id, data string) {
	t.Helper()
	if err := s.CreateCallState(t.Context(), id, []byte(data)); err != nil {
		t.Fatalf("CreateCallState(%s): %v", id, err)
	}
}

func update(t *testing.T, s webhooks.CallStates, id string, version int64, data string) {
	t.Helper()
	if nv, err := s.UpdateCallState(t.Context(), id, version, []byte(data)); err != nil || nv != version+1 {
		t.Fatalf("UpdateCallState(%s, v%d) = v%d, %v; want v%d", id, version, nv, err, version+1)
	}
}

// want fails unless call id's state is data at version.
func want(t *testing.T, s webhooks.CallStates, id, data string, version int64) {
	t.Helper()
	got, v, err := s.CallState(t.Context(), id)
	if err != nil || string(got) != data || v != version {
		t.Fatalf("CallState(%s) = %q v%d, %v; want %q v%d", id, got, v, err, data, version)
	}
}

func wantCode(t *testing.T, what string, err error, code errs.Code) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Errorf("%s: %v, want errs.%s", what, err, code)
	}
}
