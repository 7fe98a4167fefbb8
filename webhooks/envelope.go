package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/pager"
)

// envelope is what the driver keeps per call (per the caller's CallSid):
// the flow's state and what the driver answered, so that a repeated
// webhook is answered again with the same document.
type envelope struct {
	// Driver names another driver whose call this is (the Asterisk
	// driver writes "asterisk"); "" for Twilio's. The Twilio driver never
	// writes it.
	Driver string    `json:"driver,omitempty"`
	Flow   ivr.State `json:"flow"`
	// Caller is the caller's current document.
	Caller doc `json:"caller"`
	// Legs are the engineer legs placed, by leg id.
	Legs map[string]*leg `json:"legs,omitempty"`
	// Progress is a message for the caller on hold that a deadline decided
	// outside the wait URL; the next wait request plays it.
	Progress []ivr.Prompt `json:"progress,omitempty"`
	// HoldSeg is the next segment of hold music to play.
	HoldSeg int `json:"hold_seg,omitempty"`
	// WakeAt is the flow's next deadline.
	WakeAt time.Time `json:"wake_at,omitzero"`
	// Recording is the SID of the voicemail handled, so a repeated
	// recording callback changes nothing.
	Recording string `json:"recording,omitempty"`
}

// Kinds of caller document.
const (
	kindGather  = "gather"
	kindHold    = "hold"    // waiting in the call's queue for an engineer
	kindConnect = "connect" // bridged to an engineer (played by <Queue url>)
	kindRecord  = "record"
	kindAfter   = "after-record" // recorded; waiting in the queue for the flow's goodbye
	kindHangup  = "hangup"
)

// doc is a rendered TwiML document and the flow step it belongs to.
type doc struct {
	Seq   int    `json:"seq"`
	Kind  string `json:"kind"`
	TwiML string `json:"twiml"`
}

// queued reports whether the document keeps the caller in the call's queue
// (on hold, or about to be taken out of it by the engineer who accepted).
func (d doc) queued() bool { return d.Kind == kindHold || d.Kind == kindAfter || d.Kind == kindConnect }

// leg is one engineer leg.
type leg struct {
	SID      string `json:"sid,omitempty"` // Twilio's CallSid, once Calls.create answered
	Doc      doc    `json:"doc,omitzero"`  // the leg's current document
	Answered bool   `json:"answered,omitempty"`
	Ended    bool   `json:"ended,omitempty"`
	// Machine: answering-machine detection said a machine answered before
	// a whole screening went unanswered; legAMD says why that waits.
	Machine bool `json:"machine,omitempty"`
	// Cancel: the flow cancelled the leg before its SID was known; it is
	// cancelled as soon as Calls.create answers.
	Cancel bool `json:"cancel,omitempty"`
	// Ring is what the leg's outbox row asks, saved with the call's state
	// that rang it: a leg whose row a crash kept from being written is
	// written again from it (keepLegPlaced).
	Ring *pager.LegRequest `json:"ring,omitempty"`
}

func (e *envelope) leg(id string) *leg {
	if e.Legs == nil {
		e.Legs = map[string]*leg{}
	}
	l := e.Legs[id]
	if l == nil {
		l = &leg{}
		e.Legs[id] = l
	}
	return l
}

// clone deep-copies e through JSON's shape (the flow state is copied by
// the flow itself on Handle; legs are pointers and copied here).
func (e envelope) clone() envelope {
	legs := make(map[string]*leg, len(e.Legs))
	for k, v := range e.Legs {
		c := *v
		if v.Ring != nil {
			r := *v.Ring
			c.Ring = &r
		}
		legs[k] = &c
	}
	e.Legs = legs
	e.Progress = append([]ivr.Prompt(nil), e.Progress...)
	return e
}

// encodeEnvelope is e as JSON, without escaping <, > and & (JSON's
// default, for HTML pages): the TwiML kept in it is full of them, and each
// would take six bytes.
func encodeEnvelope(e envelope) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// stored is an envelope with its version in the store.
type stored struct {
	env     envelope
	version int64
}

var errUnknownCall = errs.E(errs.NotFound, "CallSid", "this call is unknown to the service")

func (d *Driver) load(ctx context.Context, callID string) (stored, error) {
	data, v, err := d.cfg.States.CallState(ctx, callID)
	if errs.Is(err, errs.NotFound) {
		return stored{}, errUnknownCall
	}
	if err != nil {
		return stored{}, fmt.Errorf("load state of call %s: %w", callID, err)
	}
	var e envelope
	if err := json.Unmarshal(data, &e); err != nil {
		return stored{}, fmt.Errorf("decode state of call %s: %w", callID, err)
	}
	return stored{env: e, version: v}, nil
}

// save writes e over version s.version; errs.Conflict if it moved.
func (d *Driver) save(ctx context.Context, callID string, s stored, e envelope) (stored, error) {
	data, err := encodeEnvelope(e)
	if err != nil {
		return s, fmt.Errorf("encode state of call %s: %w", callID, err)
	}
	v, err := d.cfg.States.UpdateCallState(ctx, callID, s.version, data)
	if err != nil {
		return s, err
	}
	return stored{env: e, version: v}, nil
}

// update applies change to the call's envelope with compare-and-swap,
// retrying on the fresh envelope when another writer got there first
// (up to CASRetries times, within ctx). After a lost swap it pauses a
// random moment, growing with the tries: two instances each working
// through a burst of one call's webhooks would otherwise reload in step
// and keep losing to each other (CI saw one event given up after eight
// losses in a row on a loaded machine).
// change returns false to leave the envelope as it is.
func (d *Driver) update(ctx context.Context, callID string, change func(e *envelope) (bool, error)) (envelope, error) {
	for try := 0; ; try++ {
		s, err := d.load(ctx, callID)
		if err != nil {
			return envelope{}, err
		}
		e := s.env.clone()
		ok, err := change(&e)
		if err != nil || !ok {
			return s.env, err
		}
		if _, err = d.save(ctx, callID, s, e); err == nil {
			return e, nil
		}
		if !errs.Is(err, errs.Conflict) || try >= d.cfg.CASRetries {
			return envelope{}, err
		}
		d.metrics.conflicts.Add(1)
		pause := time.NewTimer(rand.N(time.Duration(try+1) * casPause)) //nolint:gosec // G404: a jitter, not a secret
		select {
		case <-ctx.Done():
			pause.Stop()
			return envelope{}, fmt.Errorf("state of call %s: %w (after %d lost compare-and-swaps)", callID, ctx.Err(), try+1)
		case <-pause.C:
		}
	}
}

// casPause is the longest pause after the first lost compare-and-swap of
// an update; the n-th waits up to n times as long.
const casPause = 2 * time.Millisecond

// callLocks serialise the events of one call inside one instance, so that
// compare-and-swap conflicts only happen between instances. Each call has
// a lock of its own, made on first use and dropped when nobody holds or
// waits for it, so that one call's slow event (a ticket system that takes
// its time) never delays another call; no lock is held across a request to
// Twilio (effects.go).
type callLocks struct {
	mu    sync.Mutex
	calls map[string]*callLock
}

type callLock struct {
	sync.Mutex
	users int // holders and waiters
}

func (l *callLocks) lock(callID string) func() {
	l.mu.Lock()
	if l.calls == nil {
		l.calls = map[string]*callLock{}
	}
	c := l.calls[callID]
	if c == nil {
		c = &callLock{}
		l.calls[callID] = c
	}
	c.users++
	l.mu.Unlock()
	c.Lock()
	return func() {
		c.Unlock()
		l.mu.Lock()
		if c.users--; c.users == 0 {
			delete(l.calls, callID)
		}
		l.mu.Unlock()
	}
}
