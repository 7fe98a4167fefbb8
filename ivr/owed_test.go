package ivr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/ivr/ivrtest"
)

// A store or ticket system that is down when a call ends loses nothing: what
// could not be written is owed, and Ticks on the finished call retry it.
func TestOwedWritesAreRetried(t *testing.T) {
	e := newEnv(t)
	e.roster = ivrtest.NewRoster(nil) // nobody answers: voicemail and a page
	down := errors.New("store down")
	storeUp, ticketsUp := false, false
	e.pages.RequestPageFn = func(ctx context.Context, p ivr.PageRequest) error {
		if !storeUp {
			return down
		}
		return nil
	}
	e.calls.SaveCallFn = func(ctx context.Context, r ivr.CallRecord) error {
		if !storeUp {
			return down
		}
		return nil
	}
	var notes []string
	e.tickets.AddNoteFn = func(ctx context.Context, id, note string) error {
		if !ticketsUp {
			return errors.New("ticket system down")
		}
		notes = append(notes, id)
		return nil
	}
	c, _ := e.start(ivr.CallStarted{Caller: client})
	c.send(5, ivr.Digits{})
	c.send(15, ivr.Digits{Digits: "12345"})
	res := c.send(60, ivr.RecordingDone{URL: "u", Seconds: 20})
	if !res.Done || c.st.Phase != ivr.PhaseDone {
		t.Fatalf("call not finished: %+v", c.st)
	}
	if o := c.st.Owed; !o.Page || !o.Record || !o.Note || o.Tries != 1 {
		t.Fatalf("owed %+v, want the page, the record and the note, after one round", o)
	}

	if !c.st.Owed.NextAt.Equal(at(120)) {
		t.Fatalf("next try at %v, want a minute after the end", c.st.Owed.NextAt)
	}

	// Before the next try is due, a Tick changes nothing.
	c.send(90, ivr.Tick{})
	if len(e.pages.Requested()) != 1 {
		t.Fatalf("%d page attempts before the retry was due", len(e.pages.Requested()))
	}
	// Due, still down: still owed, tried again two minutes later.
	c.send(120, ivr.Tick{})
	if !c.st.Owed.Page || !c.st.Owed.Record || len(e.pages.Requested()) != 2 || !c.st.Owed.NextAt.Equal(at(240)) {
		t.Fatalf("after a failed retry: owed %+v, %d page attempts", c.st.Owed, len(e.pages.Requested()))
	}

	// The store is back: the page goes through, then the record says so.
	storeUp = true
	c.send(240, ivr.Tick{})
	if !c.st.Owed.Note || c.st.Owed.Page || c.st.Owed.Record || !c.st.Paged {
		t.Fatalf("after the store came back: owed %+v, paged %v", c.st.Owed, c.st.Paged)
	}
	last := e.calls.Tried()[len(e.calls.Tried())-1]
	if !last.Paged || last.Outcome != ivr.OutcomeVoicemail || last.VoicemailURL != "u" {
		t.Errorf("record saved on the retry: %+v", last)
	}

	// The ticket system comes back: the note is added once.
	ticketsUp = true
	c.send(c.st.Owed.NextAt.Sub(t0).Seconds(), ivr.Tick{})
	if c.st.Owed.Any() || len(notes) != 1 || notes[0] != "12345" {
		t.Fatalf("owed %+v, notes %v", c.st.Owed, notes)
	}
	// Nothing owed: a Tick is refused, as for any finished call.
	if _, err := c.try(10000, ivr.Tick{}); !errs.Is(err, errs.Conflict) {
		t.Fatalf("Tick with nothing owed: %v, want conflict", err)
	}
}

// A ticket system that keeps failing: the note is given up after
// noteMaxTries rounds (each retry of a timed-out note risks a duplicate);
// one that refuses the note is not asked again.
func TestOwedNoteGivenUp(t *testing.T) {
	e := newEnv(t)
	attempts := 0
	e.tickets.AddNoteFn = func(ctx context.Context, id, note string) error { attempts++; return errors.New("down") }
	c, _ := e.start(ivr.CallStarted{Caller: client})
	c.send(5, ivr.Digits{})
	c.send(15, ivr.Digits{Digits: "12345"})
	c.send(20, ivr.HungUp{}) // abandoned while ringing: paged, noted
	for c.st.Owed.Any() {
		c.send(c.st.Owed.NextAt.Sub(t0).Seconds(), ivr.Tick{})
	}
	if attempts != ivr.NoteMaxTries || !logged(e, zapcore.ErrorLevel, "giving up adding the call's note") {
		t.Fatalf("%d attempts; want %d, then given up, and said so", attempts, ivr.NoteMaxTries)
	}

	e = newEnv(t)
	e.tickets.AddNoteFn = func(ctx context.Context, id, note string) error {
		return errs.E(errs.NotFound, "id", "ticket %s is closed", id)
	}
	c, _ = e.start(ivr.CallStarted{Caller: client})
	c.send(5, ivr.Digits{})
	c.send(15, ivr.Digits{Digits: "12345"})
	c.send(20, ivr.HungUp{})
	if c.st.Owed.Any() || !logged(e, zapcore.ErrorLevel, "refused the call's note") {
		t.Fatalf("owed %+v after the ticket system refused the note; want nothing owed, and said so", c.st.Owed)
	}
}

// A ticket system that cannot be reached (RT down for hours): the note
// never reached it, so retrying risks no duplicate and it is never given
// up; it goes through once the ticket system is back.
func TestOwedNoteKeptWhileUnreachable(t *testing.T) {
	e := newEnv(t)
	attempts := 0
	e.tickets.AddNoteFn = func(ctx context.Context, id, note string) error {
		attempts++
		if attempts <= 3*ivr.NoteMaxTries {
			return fmt.Errorf("dial tcp 127.0.0.1:9: connection refused: %w", ivr.ErrNotDelivered)
		}
		return nil
	}
	c, _ := e.start(ivr.CallStarted{Caller: client})
	c.send(5, ivr.Digits{})
	c.send(15, ivr.Digits{Digits: "12345"})
	c.send(20, ivr.HungUp{})
	for c.st.Owed.Any() {
		c.send(c.st.Owed.NextAt.Sub(t0).Seconds(), ivr.Tick{})
	}
	if attempts != 3*ivr.NoteMaxTries+1 || logged(e, zapcore.ErrorLevel, "giving up adding the call's note") {
		t.Fatalf("%d attempts; want the note tried until it went through (%d), never given up", attempts, 3*ivr.NoteMaxTries+1)
	}
}

// The ticket note is not written by the request that ends the call (a
// ticket system may be slow, and a caller leaving a voicemail waits for
// "goodbye"): that result asks for a Tick (Settle), on which it is.
func TestNoteWrittenOffTheEndingRequest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c, _ := e.start(ivr.CallStarted{Caller: client})
	c.send(5, ivr.Digits{})
	c.send(15, ivr.Digits{Digits: "12345"})
	st, res, err := e.flow.Handle(ctx, c.st, ivr.HungUp{At: at(20)})
	if err != nil || !res.Done || !res.Settle {
		t.Fatalf("hang-up: done %v, settle %v, %v; want done, asking for a settling Tick", res.Done, res.Settle, err)
	}
	if n := e.tickets.Notes("12345"); len(n) != 0 {
		t.Fatalf("the ending request wrote the note: %q", n)
	}
	st, _, err = e.flow.Handle(ctx, st, ivr.Tick{At: at(20)})
	if err != nil || len(e.tickets.Notes("12345")) != 1 || st.Owed.Any() {
		t.Errorf("after the Tick: notes %q, owed %+v, %v; want the note written, nothing owed", e.tickets.Notes("12345"), st.Owed, err)
	}
}
