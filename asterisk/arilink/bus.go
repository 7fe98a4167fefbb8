package arilink

import (
	"sync"

	"github.com/CyCoreSystems/ari/v5"
)

// bus is the event bus of the Link's client, in place of the library's.
// The library's (stdbus) holds 100 events per subscription and drops
// those that find it full without a word: a burst (hundreds of calls
// hung up at once, a few events each) outran the driver's one
// subscription and lost StasisEnd and ChannelDestroyed events, leaving
// calls served for channels long gone. This bus never drops and never
// blocks its sender: each subscription queues what it has not taken yet
// and hands it over in order from a goroutine of its own. A subscriber
// that stops reading makes its queue grow; the relay warns when one holds
// more than Config.QueueSize events.
type bus struct {
	mu     sync.Mutex
	subs   map[*subscription]bool
	closed bool
}

func newBus() *bus { return &bus{subs: map[*subscription]bool{}} }

// Subscribe returns a subscription to the events of key (any, if nil)
// of types (ari.Events.All for every type). After Close it returns one
// whose channel is closed.
func (b *bus) Subscribe(key *ari.Key, types ...string) ari.Subscription {
	s := &subscription{
		b:     b,
		key:   key,
		types: types,
		out:   make(chan ari.Event),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		ended: make(chan struct{}),
	}
	b.mu.Lock()
	closed := b.closed
	if !closed {
		b.subs[s] = true
	}
	b.mu.Unlock()
	if closed {
		s.once.Do(func() {
			close(s.done)
			close(s.ended)
			close(s.out)
		})
		return s
	}
	go s.pump()
	return s
}

// Send queues e for every subscription it matches and returns the most
// events one of them holds now, e included.
func (b *bus) Send(e ari.Event) (most int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.matches(e) {
			most = max(most, s.push(e))
		}
	}
	return most
}

// Close cancels every subscription; their channels close once their
// goroutines have ended.
func (b *bus) Close() {
	b.mu.Lock()
	b.closed = true
	subs := make([]*subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.Cancel()
	}
}

func (b *bus) remove(s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, s)
}

// clientBus is the bus as ari.Bus, whose Send returns nothing.
type clientBus struct{ *bus }

func (b clientBus) Send(e ari.Event) { b.bus.Send(e) }

// client is the library's client with the Link's bus in place of its
// own.
type client struct {
	ari.Client
	bus clientBus
}

func (c *client) Bus() ari.Bus { return c.bus }

// subscription is one subscriber's queue.
type subscription struct {
	b     *bus
	key   *ari.Key
	types []string
	out   chan ari.Event // unbuffered: what waits is in queue
	wake  chan struct{}  // a token when queue has gained events
	done  chan struct{}  // closed by Cancel
	ended chan struct{}  // closed when pump has returned
	once  sync.Once

	mu    sync.Mutex
	queue []ari.Event
}

// matches is the library's rule (stdbus): one of the event's keys
// matches the subscription's, and its type is one subscribed to.
func (s *subscription) matches(e ari.Event) bool {
	typeOK := false
	for _, t := range s.types {
		if t == e.GetType() || t == ari.Events.All {
			typeOK = true
			break
		}
	}
	if !typeOK {
		return false
	}
	if s.key == nil {
		return true
	}
	for _, k := range e.Keys() {
		if s.key.Match(k) {
			return true
		}
	}
	return false
}

func (s *subscription) push(e ari.Event) int {
	s.mu.Lock()
	s.queue = append(s.queue, e)
	n := len(s.queue)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return n
}

// Waiting is how many events the subscription holds that its subscriber
// has not taken yet.
func (s *subscription) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// pump hands the queued events over in order until Cancel.
func (s *subscription) pump() {
	defer close(s.ended)
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			e := s.queue[0] // left in the queue until taken: Waiting counts it
			s.mu.Unlock()
			select {
			case s.out <- e:
			case <-s.done:
				return
			}
			s.mu.Lock()
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.mu.Unlock()
		}
	}
}

// Events is the subscription's channel, closed after Cancel.
func (s *subscription) Events() <-chan ari.Event { return s.out }

// Cancel ends the subscription: no event is handed over afterwards, and
// its channel is closed once its goroutine has ended (at once).
// Idempotent.
func (s *subscription) Cancel() {
	s.once.Do(func() {
		s.b.remove(s)
		close(s.done)
		<-s.ended
		s.mu.Lock()
		s.queue = nil
		s.mu.Unlock()
		close(s.out)
	})
}
