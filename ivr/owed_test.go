package ivr

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// A store or ticket system that is down when a call ends loses nothing: what
// could not be written is owed, and Ticks on the finished call retry it.
func TestOwedWritesAreRetried(t *testing.T) {
	e := newEnv(t)
	e.oncall = map[[2]int]oncall.Engineer{} // nobody answers: voicemail and a page
	down := errors.New("store down")
	storeUp, ticketsUp := false, false
	e.pages.RequestPageFn = func(ctx context.Context, p PageRequest) error {
		if !storeUp {
			return down
		}
		return nil
	}
	e.calls.SaveCallFn = func(ctx context.Context, r CallRecord) error {
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
	c, _ := e.start(CallStarted{Caller: client})
	c.send(5, Digits{})
	c.send(15, Digits{Digits: "12345"})
	res := c.send(60, RecordingDone{URL: "u", Seconds: 20})
	if !res.Done || c.st.Phase != PhaseDone {
		t.Fatalf("call not finished: %+v", c.st)
	}
	if want := (Owed{Page: true, Record: true, Note: true}); c.st.Owed != want {
		t.Fatalf("owed %+v, want %+v", c.st.Owed, want)
	}

	// Still down: still owed, one more error logged, the state unchanged
	// but for its step number.
	c.send(90, Tick{})
	if !c.st.Owed.Page || !c.st.Owed.Record || len(e.pages.pages) != 2 {
		t.Fatalf("after a failed retry: owed %+v, %d page attempts", c.st.Owed, len(e.pages.pages))
	}

	// The store is back: the page goes through, then the record says so.
	storeUp = true
	c.send(120, Tick{})
	if c.st.Owed != (Owed{Note: true}) || !c.st.Paged {
		t.Fatalf("after the store came back: owed %+v, paged %v", c.st.Owed, c.st.Paged)
	}
	last := e.calls.saved[len(e.calls.saved)-1]
	if !last.Paged || last.Outcome != OutcomeVoicemail || last.VoicemailURL != "u" {
		t.Errorf("record saved on the retry: %+v", last)
	}

	// The ticket system comes back: the note is added once.
	ticketsUp = true
	c.send(150, Tick{})
	if c.st.Owed.Any() || len(notes) != 1 || notes[0] != "12345" {
		t.Fatalf("owed %+v, notes %v", c.st.Owed, notes)
	}
	// Nothing owed: a Tick is refused, as for any finished call.
	if _, err := c.try(180, Tick{}); !errs.Is(err, errs.Conflict) {
		t.Fatalf("Tick with nothing owed: %v, want conflict", err)
	}
}

// A ticket system down for longer than noteRetryLimit: the note is given up,
// with an error in the log; the page and the record are never given up.
func TestOwedNoteGivenUp(t *testing.T) {
	e := newEnv(t)
	e.tickets.AddNoteFn = func(ctx context.Context, id, note string) error { return errors.New("down") }
	c, _ := e.start(CallStarted{Caller: client})
	c.send(5, Digits{})
	c.send(15, Digits{Digits: "12345"})
	c.send(20, HungUp{}) // abandoned while ringing: paged, noted
	if c.st.Owed != (Owed{Note: true}) {
		t.Fatalf("owed %+v, want the note", c.st.Owed)
	}
	c.send(20+noteRetryLimit.Seconds()-1, Tick{})
	if !c.st.Owed.Note {
		t.Fatal("note given up before the limit")
	}
	c.send(20+(noteRetryLimit+time.Minute).Seconds(), Tick{})
	if c.st.Owed.Any() || !logged(e, zapcore.ErrorLevel, "giving up adding the call's note") {
		t.Fatalf("owed %+v after the limit; want the note given up, and said so", c.st.Owed)
	}
}
