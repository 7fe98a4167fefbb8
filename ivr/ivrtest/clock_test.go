package ivrtest_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/ivr/ivrtest"
)

var t0 = time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)

func TestClockStandsStill(t *testing.T) {
	c := ivrtest.NewClock(t0)
	if !c.Now().Equal(t0) || !c.Now().Equal(c.Now()) {
		t.Fatalf("Now %v, want %v whenever read", c.Now(), t0)
	}
	c.Advance(90 * time.Second)
	if want := t0.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Errorf("after Advance: %v, want %v", c.Now(), want)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Errorf("after Set: %v", c.Now())
	}
	var zero ivrtest.Clock
	if !zero.Now().IsZero() {
		t.Errorf("zero clock at %v", zero.Now())
	}
}

func fired(ch <-chan time.Time) (time.Time, bool) {
	select {
	case at := <-ch:
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestClockAfterFiresWhenMovedPast(t *testing.T) {
	c := ivrtest.NewClock(t0)
	if _, ok := fired(c.After(0)); !ok {
		t.Error("After(0) did not fire at once")
	}
	ch := c.After(7*time.Minute + 30*time.Second)
	if c.Waiting() != 1 {
		t.Errorf("%d timers waiting, want 1", c.Waiting())
	}
	c.Advance(7 * time.Minute)
	if _, ok := fired(ch); ok {
		t.Fatal("fired before its time")
	}
	c.Advance(time.Hour)
	at, ok := fired(ch)
	if !ok || !at.Equal(t0.Add(time.Hour+7*time.Minute)) {
		t.Errorf("fired %v at %v; want the clock's time after the move", ok, at)
	}
	if c.Waiting() != 0 {
		t.Errorf("%d timers waiting after firing", c.Waiting())
	}
	back := c.After(time.Minute)
	c.Set(t0)
	if _, ok := fired(back); ok {
		t.Error("a clock set back fired a timer")
	}
	c.Set(t0.Add(24 * time.Hour))
	if _, ok := fired(back); !ok {
		t.Error("Set past a timer did not fire it")
	}
}

func TestClockAfterFuncInOrderAndStop(t *testing.T) {
	c := ivrtest.NewClock(t0)
	var order []string
	c.AfterFunc(2*time.Second, func() { order = append(order, "2s") })
	c.AfterFunc(time.Second, func() { order = append(order, "1s-a") })
	c.AfterFunc(time.Second, func() {
		order = append(order, "1s-b")
		c.AfterFunc(0, func() { order = append(order, "armed by 1s-b") }) // uses the clock: no deadlock
	})
	stop := c.AfterFunc(time.Second, func() { order = append(order, "stopped") })
	if !stop() || stop() {
		t.Error("stop reports true once, then false")
	}
	c.Advance(5 * time.Second)
	want := []string{"1s-a", "1s-b", "2s"}
	if len(order) != len(want) {
		t.Fatalf("ran %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("ran %v, want %v", order, want)
		}
	}
	c.Advance(0)
	if order[len(order)-1] != "armed by 1s-b" {
		t.Errorf("a timer armed while firing did not run at the next move: %v", order)
	}
}

// The clock is safe to read and move from several goroutines (run with
// -race).
func TestClockConcurrent(t *testing.T) {
	c := ivrtest.NewClock(t0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			<-c.After(time.Second)
		}
	}()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-done:
			return
		case <-deadline:
			t.Fatal("the waiting goroutine never got its 100 ticks")
		default:
			c.Advance(time.Second)
			_ = c.Now()
		}
	}
}
