package arilink

import (
	"fmt"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
)

func userEvent(name, channel string) ari.Event {
	e := &ari.ChannelUserevent{Eventname: name}
	e.Type = ari.Events.ChannelUserevent
	e.Application = "ivr"
	e.Channel = ari.ChannelData{ID: channel}
	return e
}

func receive(t *testing.T, sub ari.Subscription) ari.Event {
	t.Helper()
	select {
	case e := <-sub.Events():
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
		return nil
	}
}

// TestBusKeepsEveryEvent: events a subscriber has not taken wait for it,
// however many (Send reports how many), and come in order; a subscriber
// of one channel gets only that channel's, of one type only that type.
func TestBusKeepsEveryEvent(t *testing.T) {
	b := newBus()
	defer b.Close()
	all := b.Subscribe(nil, ari.Events.All)
	one := b.Subscribe(ari.NewKey(ari.ChannelKey, "c2"), ari.Events.ChannelUserevent)
	none := b.Subscribe(nil, ari.Events.StasisEnd)
	const n = 5000
	for i := range n {
		waiting := b.Send(userEvent(fmt.Sprint(i), fmt.Sprint("c", i%3)))
		if waiting != i+1 {
			t.Fatalf("Send %d reports %d waiting, want %d", i, waiting, i+1)
		}
	}
	for i := range n {
		if e := receive(t, all).(*ari.ChannelUserevent); e.Eventname != fmt.Sprint(i) {
			t.Fatalf("event %d is %s", i, e.Eventname)
		}
	}
	for i := 2; i < n; i += 3 {
		if e := receive(t, one).(*ari.ChannelUserevent); e.Eventname != fmt.Sprint(i) || e.Channel.ID != "c2" {
			t.Fatalf("channel c2's subscriber got %s of %s, want %d", e.Eventname, e.Channel.ID, i)
		}
	}
	if w := none.(*subscription).Waiting(); w != 0 {
		t.Errorf("a StasisEnd subscriber holds %d user events", w)
	}
}

// TestBusCancel: a cancelled subscription's channel closes at once, with
// what it held dropped and nothing more queued for it; Cancel twice is
// fine. Close cancels the rest, and a subscription made after it is
// closed from the start.
func TestBusCancel(t *testing.T) {
	b := newBus()
	s := b.Subscribe(nil, ari.Events.All)
	other := b.Subscribe(nil, ari.Events.All)
	b.Send(userEvent("held", "c1"))
	s.Cancel()
	s.Cancel()
	for range s.Events() { // closed: ends at once, whatever it held
	}
	if w := b.Send(userEvent("after", "c1")); w != 2 {
		t.Errorf("Send after a Cancel reports %d waiting, want the other subscriber's 2", w)
	}
	b.Close()
	if _, open := <-other.Events(); open {
		// The pump may have handed "held" over before Close: drain.
		for range other.Events() {
		}
	}
	late := b.Subscribe(nil, ari.Events.All)
	if _, open := <-late.Events(); open {
		t.Error("a subscription made after Close is open")
	}
	late.Cancel()
	if w := b.Send(userEvent("closed", "c1")); w != 0 {
		t.Errorf("Send after Close reports %d waiting", w)
	}
}
