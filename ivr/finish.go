package ivr

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// The end of a call: voicemail, the page, the hang-up, the call record and
// the ticket note.

// voicemail lets go of any leg and records a message: the caller hears
// prefix, "nobody is available", "leave a message after the tone".
func (t *turn) voicemail(prefix []Prompt, why string) {
	t.releaseLeg(pScreenWithdrawn)
	t.recordVoicemail(append(prefix, t.prompts(pNobodyAvailable, pLeaveMessage)...), why)
}

// recordVoicemail starts the voicemail step: the caller hears prompts,
// then the tone. Any leg has been let go of.
func (t *turn) recordVoicemail(prompts []Prompt, why string) {
	st := t.st
	st.Phase, st.RecordAt = PhaseVoicemail, t.at
	t.note("voicemail", why)
	t.callerStep(Record{Prompts: prompts, MaxLength: t.f.cfg.VoicemailMaxLength})
}

// recordingDone pages with the message and ends the call; a caller still on
// the line hears when the company will respond. An empty recording still
// pages: the caller did call.
func (t *turn) recordingDone(url string, seconds int) {
	st := t.st
	st.VoicemailURL, st.VoicemailSeconds = url, seconds
	empty := url == "" || seconds <= 0
	if empty {
		t.log.Warn("voicemail is empty; paging anyway", zap.String("url", url), zap.Int("seconds", seconds))
		t.note("recording", "empty")
	} else {
		t.note("recording", fmt.Sprintf("%d s", seconds))
	}
	if st.Phase == PhaseVoicemail {
		var ps []Prompt
		if !empty {
			ps = t.prompts(pMessageRecorded)
		}
		ps = append(ps, t.prompts(pRespondWithin)...)
		ps = append(ps, responsePrompt(st.Lang, st.Priority), Prompt{Name: pGoodbye, Lang: st.Lang})
		t.callerStep(Hangup{Prompts: ps})
	}
	t.finish(OutcomeVoicemail)
}

// hungUp: the caller hung up. Legs are let go of and the call is finished;
// during the voicemail step the flow first waits for the recording.
func (t *turn) hungUp() {
	st := t.st
	t.note("hangup", string(st.Phase))
	switch st.Phase {
	case PhaseLanguage, PhaseTicket, PhasePriority:
		t.finish(OutcomeHungUp)
	case PhaseRouting:
		t.releaseLeg(pScreenCallerGone)
		t.finish(OutcomeAbandoned)
	case PhaseConnected:
		if !st.Leg.bridged() { // gone between the engineer's 1 and the bridge
			t.releaseLeg(pScreenCallerGone)
			t.finish(OutcomeAbandoned)
			return
		}
		t.legStep(st.Leg.ID, Hangup{})
		t.finish(OutcomeConnected)
	case PhaseVoicemail:
		st.Phase, st.GoneAt = PhaseVoicemailWait, t.at
	case PhaseVoicemailWait:
		t.ignored = true
	}
}

// finish ends the call: pages if nobody took it and saves the record; the
// summary for the ticket is owed at once and written on the next Tick
// (Result.Settle), off the request that ended the call, since a ticket
// system may take a while. It runs once per call: the phase is then done.
// A write that fails is owed (State.Owed) and retried by settle.
func (t *turn) finish(o Outcome) {
	st := t.st
	st.Outcome, st.EndedAt, st.Phase = o, t.at, PhaseDone
	t.res.Done = true
	if o == OutcomeVoicemail || o == OutcomeAbandoned {
		if err := t.page(); err != nil {
			st.Owed.Page = true
			t.note("page", "failed; retried until it goes through")
		}
	}
	t.note("end", string(o))
	st.Owed.Record = !t.saveRecord()
	if st.Owed.Page || st.Owed.Record {
		st.Owed.failed(t.at)
	}
	if st.TicketID != "" {
		st.Owed.Note = true
		if !st.Owed.Page && !st.Owed.Record {
			st.Owed.NextAt = t.at // due now, unless the store is failing: then with the rest
		}
	}
	t.res.Settle = st.Owed.Due(t.at)
}

// noteMaxTries is how many tries of a ticket note that may have reached
// the ticket system (a timeout, a 5xx: it may have been taken, and each
// retry risks a duplicate) are made before it is given up. Tries that
// certainly did not reach it (ErrNotDelivered: RT down) do not count: such
// a note is tried until it goes through. Pages and call records are never
// given up.
const noteMaxTries = 5

// settle retries what a finished call still owes: the page first, then the
// call record (saved again once the page went through, to say so), then
// the ticket note. Each failure is logged again; a round that leaves
// something owed sets the next one later (Owed.failed).
func (t *turn) settle() {
	st := t.st
	if st.Owed.Page {
		if err := t.page(); err == nil {
			st.Owed.Page, st.Owed.Record = false, true
		}
	}
	if st.Owed.Record {
		st.Owed.Record = !t.saveRecord()
	}
	if st.Owed.Note {
		st.Owed.Note = !t.addNote()
		if st.Owed.Note && st.Owed.NoteRisks >= noteMaxTries {
			t.log.Error("giving up adding the call's note to the ticket", zap.String(keyTicket, st.TicketID),
				zap.Int("tries", noteMaxTries))
			st.Owed.Note = false
		}
	}
	if st.Owed.Any() {
		st.Owed.failed(t.at)
	} else {
		st.Owed = Owed{}
	}
}

// saveRecord saves the call record; false (logged) if it could not.
func (t *turn) saveRecord() bool {
	rec := t.record()
	rec.Note = summary(t.f.cfg, rec)
	if err := t.f.calls.SaveCall(t.ctx, rec); err != nil {
		t.log.Error("could not save the call record; retried", zap.Error(err), zap.Any("record", rec))
		return false
	}
	return true
}

// addNote adds the call's summary to its ticket; false (logged) if it
// could not, counting the try in Owed.NoteRisks unless it certainly did
// not reach the ticket system.
func (t *turn) addNote() bool {
	st := t.st
	rec := t.record()
	ctx, cancel := context.WithTimeout(t.ctx, t.f.cfg.TicketLookupBudget)
	defer cancel()
	err := t.f.tickets.AddNote(ctx, st.TicketID, summary(t.f.cfg, rec))
	switch {
	case errs.Is(err, errs.NotFound), errs.Is(err, errs.Invalid):
		// The ticket system refused it: trying again would not help.
		t.log.Error("the ticket system refused the call's note; not retried", zap.String(keyTicket, st.TicketID), zap.Error(err))
		return true
	case err != nil:
		if !errors.Is(err, ErrNotDelivered) {
			st.Owed.NoteRisks++
		}
		t.log.Warn("could not add the call's note to the ticket; retried", zap.String(keyTicket, st.TicketID), zap.Error(err))
		return false
	}
	return true
}

// page asks for the on-call engineer of the call's level to be paged. A
// failure is logged as an error and returned: the caller is still told
// honestly that the message is recorded, and the page is owed.
func (t *turn) page() error {
	st := t.st
	caller := ""
	if usableCaller(st.Caller) {
		caller = st.Caller
	}
	err := t.f.pages.RequestPage(t.ctx, PageRequest{
		CallID: st.CallID, TicketID: st.TicketID, Priority: st.Priority, Level: validLevel(st.Level),
		VoicemailURL: st.VoicemailURL, VoicemailSeconds: st.VoicemailSeconds,
		Line: st.Line, Caller: caller, Language: st.Lang, RequestedAt: t.at,
	})
	if err != nil {
		t.log.Error("could not request a page for an unanswered call; retried", zap.String(keyTicket, st.TicketID),
			zap.String(keyPriority, string(st.Priority)), zap.String("voicemail", st.VoicemailURL), zap.Error(err))
		return err
	}
	st.Paged = true
	t.note("page", fmt.Sprintf("%s, %s", st.Priority, validLevel(st.Level)))
	return nil
}

func (t *turn) record() CallRecord {
	st := t.st
	r := CallRecord{
		CallID: st.CallID, Line: st.Line, Caller: st.Caller, Language: st.Lang, LanguageFrom: st.LangFrom,
		TicketID: st.TicketID, TicketFrom: st.TicketFrom, ClosedTicket: st.ClosedTicket, Priority: st.Priority, Level: st.Level,
		StartedAt: st.StartedAt, EndedAt: st.EndedAt, Duration: st.EndedAt.Sub(st.StartedAt),
		Rang:         append([]int64(nil), st.Tried...),
		VoicemailURL: st.VoicemailURL, VoicemailSeconds: st.VoicemailSeconds,
		Paged: st.Paged, Outcome: st.Outcome,
		Steps: append([]Entry(nil), st.Steps...),
	}
	if st.Leg.accepted() {
		r.EngineerID, r.EngineerName, r.EngineerPhone = st.Leg.EngineerID, st.Leg.Name, st.Leg.Phone
		r.AnsweredAt = st.Leg.AcceptedAt
	}
	return r
}
