package ivrtest

import (
	"sort"
	"sync"
	"time"
)

// Clock is a test's time: it stands still until the test moves it
// (Advance, Set), and then fires, in the order they fall due, the timers
// (After, AfterFunc) that have come due. Its zero value starts at the zero
// time; NewClock starts it elsewhere. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

type timer struct {
	at time.Time
	ch chan time.Time // After's, buffered
	fn func()         // AfterFunc's
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d and fires the timers due by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.fire()
}

// Set puts the clock at t and fires the timers due by then; a clock set
// back fires nothing.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.fire()
}

// After returns a channel that receives the clock's time once d has
// passed on it: at once when d <= 0. As time.After's, the channel is
// buffered and never closed.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.add(&timer{at: c.now.Add(d), ch: ch})
	return ch
}

// AfterFunc calls f once d has passed on the clock, in the goroutine that
// moves the clock there (so that f has run when Advance or Set returns);
// d <= 0 calls it at the next move. stop cancels the call and reports
// whether it did, as time.Timer's Stop does.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: c.now.Add(max(d, 0)), fn: f}
	c.add(t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, w := range c.timers {
			if w == t {
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				return true
			}
		}
		return false
	}
}

// Waiting returns how many timers have not fired yet: a test waits for it
// to grow before moving the clock past a timer another goroutine arms.
func (c *Clock) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// add keeps the timers in the order they fall due, those due at the same
// instant in the order they were made. c.mu is held.
func (c *Clock) add(t *timer) {
	c.timers = append(c.timers, t)
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
}

// fire fires the timers due by now, in order, and unlocks c.mu. AfterFunc's
// functions run without the lock, so that they may use the clock.
func (c *Clock) fire() {
	var due []*timer
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			kept = append(kept, t)
			continue
		}
		due = append(due, t)
	}
	c.timers = kept
	now := c.now
	c.mu.Unlock()
	for _, t := range due {
		if t.ch != nil {
			t.ch <- now
			continue
		}
		t.fn()
	}
}
