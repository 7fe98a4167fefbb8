package ivr

import (
	"context"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
)

// Routing: the ring plan. Its rungs are the on-call engineer at (the call's
// level, primary), (that level, secondary), (the next level, primary), …
// up to L3. Rungs are looked up one at a time, when they are reached, so
// that a shift change during the hold is honoured; a rung with nobody on
// call, an engineer already rung, one busy on another call (Deps.OtherCalls) or
// no phone number is skipped. Each rung
// rings one engineer for RingTime; only a keypress of 1 on the screening
// prompt accepts, so an answering machine never takes the call.

// holdKey is the key a caller on hold presses to leave a message instead
// of waiting, as hold_offer_message says.
const holdKey = "1"

// rung returns the level and layer of rung i of a plan starting at level l.
func rung(l oncall.Level, i int) (oncall.Level, oncall.Layer) {
	return l + oncall.Level(i/len(oncall.Layers)), oncall.Layers[i%len(oncall.Layers)]
}

// route starts routing: the caller hears prefix, then holds while the first
// engineer is rung, or goes to voicemail if nobody can be.
func (t *turn) route(prefix []Prompt) {
	st := t.st
	st.Phase, st.RoutedAt, st.ProgressAt, st.Rung = PhaseRouting, t.at, t.at, 0
	t.note("route", fmt.Sprintf("%s, %s", st.Priority, st.Level))
	if !t.ringNext() {
		t.voicemail(prefix, "nobody on call")
		return
	}
	t.callerStep(Hold{Prompts: append(prefix, t.prompts(pSearching, pHoldOffer)...)})
}

// holdKeyed: the caller on hold pressed key. The hold key sends them to
// voicemail now, as the maximum hold would: the leg being rung is
// cancelled (one being screened is told the call is gone), and the message
// pages as any voicemail does. Any other key changes nothing.
func (t *turn) holdKeyed(key string) {
	if key != holdKey {
		t.ignored = true
		return
	}
	t.note("hold-key", key)
	t.releaseLeg(pScreenWithdrawn)
	t.recordVoicemail(t.prompts(pLeaveMessage), "caller chose voicemail")
}

// ringNext rings the next engineer of the plan; false if none is left.
func (t *turn) ringNext() bool {
	st := t.st
	st.Leg = Leg{}
	for ; ; st.Rung++ {
		level, layer := rung(st.Level, st.Rung)
		if !level.Valid() {
			return false
		}
		where := fmt.Sprintf("%s %s", level, layer)
		ctx, cancel := context.WithTimeout(t.ctx, t.f.cfg.LookupBudget)
		eng, ok, err := t.f.roster.OnCall(ctx, level, layer, t.at)
		cancel()
		switch {
		case err != nil:
			t.log.Warn("on-call lookup failed; skipping the rung", zap.String("rung", where), zap.Error(err))
			t.note("skip", where+": roster unavailable")
			continue
		case !ok:
			t.note("skip", where+": nobody on call")
			continue
		case slices.Contains(st.Tried, eng.ID):
			t.note("skip", fmt.Sprintf("%s: engineer %d already rung", where, eng.ID))
			continue
		case len(eng.Reachable()) == 0 || eng.Reachable()[0].Phone == "":
			// Unverified numbers are never rung: an engineer with only
			// those is passed over as one with no number is.
			t.log.Warn("on-call engineer has no verified phone number", zap.Int64(keyEngineer, eng.ID))
			t.note("skip", fmt.Sprintf("%s: engineer %d has no verified phone", where, eng.ID))
			continue
		}
		if t.busy(eng.ID) {
			t.note("skip", fmt.Sprintf("%s: engineer %d busy on another call", where, eng.ID))
			continue
		}
		st.Rung++
		st.Legs++
		st.Tried = append(st.Tried, eng.ID)
		lang := t.line().Language
		if len(eng.Languages) > 0 && eng.Languages[0].Valid() {
			lang = eng.Languages[0]
		}
		st.Leg = Leg{ID: fmt.Sprintf("%s-leg%d", st.CallID, st.Legs), EngineerID: eng.ID, Name: eng.Name,
			Phone: eng.Reachable()[0].Phone, Lang: lang, Level: level, Layer: layer, RangAt: t.at}
		t.action(Ring{LegID: st.Leg.ID, EngineerID: eng.ID, Phone: st.Leg.Phone, CallerID: st.Line,
			Timeout: t.f.cfg.RingTime})
		t.note("ring", fmt.Sprintf("%s %s engineer %d %s", st.Leg.ID, where, eng.ID, eng.Name))
		return true
	}
}

// busy reports whether engineer id is on another call (Deps.OtherCalls); not
// when that cannot be told, since a call waiting on the engineer's phone
// is better than a rung skipped for nothing.
func (t *turn) busy(id int64) bool {
	if t.f.others == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(t.ctx, t.f.cfg.LookupBudget)
	defer cancel()
	busy, err := t.f.others.Busy(ctx, id)
	if err != nil {
		t.log.Warn("could not tell whether the engineer is on another call; ringing", zap.Int64(keyEngineer, id), zap.Error(err))
		return false
	}
	return busy
}

// next moves on after the current leg failed: the next rung, or voicemail
// when the plan is exhausted or the caller has waited MaxHold. The caller
// stays on hold meanwhile (no new caller step).
func (t *turn) next() {
	if t.holdExpired() {
		t.voicemail(nil, "max hold")
		return
	}
	if !t.ringNext() {
		t.voicemail(nil, "nobody answered")
	}
}

func (t *turn) holdExpired() bool {
	return !t.at.Before(t.st.RoutedAt.Add(t.f.cfg.MaxHold))
}

// tick evaluates the deadlines: the maximum hold, the current ring's time,
// the progress message, the wait for a recording.
func (t *turn) tick() {
	st := t.st
	switch st.Phase {
	case PhaseRouting:
		if t.holdExpired() {
			t.voicemail(nil, "max hold")
			return
		}
		if st.Leg.ringing() && !t.at.Before(st.Leg.RangAt.Add(t.f.cfg.RingTime)) {
			t.note("timeout", st.Leg.ID+" not answered")
			t.releaseLeg(pScreenWithdrawn)
			if !t.ringNext() {
				t.voicemail(nil, "nobody answered")
				return
			}
		}
		if !t.at.Before(st.ProgressAt.Add(t.f.cfg.ProgressEvery)) {
			st.ProgressAt = t.at
			t.note("progress", "")
			t.callerStep(Hold{Prompts: t.prompts(pHoldProgress, pHoldOffer)})
		}
	case PhaseVoicemail, PhaseVoicemailWait:
		if !t.at.Before(t.f.recordingDeadline(*st)) {
			t.log.Warn("no recording arrived; paging without a voicemail")
			t.note("timeout", "no recording")
			t.recordingDone("", 0)
		}
	}
}

// releaseLeg lets go of the current leg: a ringing one is cancelled, an
// answered one hears prompt and is hung up.
func (t *turn) releaseLeg(prompt string) {
	st := t.st
	switch {
	case st.Leg.ID == "":
	case st.Leg.ringing():
		t.action(Cancel{LegID: st.Leg.ID})
	default:
		t.legStep(st.Leg.ID, Hangup{Prompts: promptsIn(st.Leg.Lang, prompt)})
	}
	if !st.Leg.accepted() {
		st.Leg = Leg{}
	}
}

// legAnswered: the current engineer leg picked up; it hears the screening.
func (t *turn) legAnswered() {
	st := t.st
	if st.Phase != PhaseRouting || !st.Leg.AnsweredAt.IsZero() {
		t.ignored = true // a repeated report
		return
	}
	st.Leg.AnsweredAt = t.at
	st.Leg.Screens = 1
	t.note("answer", st.Leg.ID)
	t.screen()
}

func (t *turn) screen() {
	leg := t.st.Leg
	t.legStep(leg.ID, Gather{Prompts: t.screening(leg.Lang), MaxDigits: 1, Timeout: t.f.cfg.DigitTimeout})
}

// screening tells the engineer what the call is: "Support call from the
// Moscow line. Ticket 1 2 3, priority critical. The caller speaks English.
// Press 1 to accept the call."
func (t *turn) screening(l oncall.Language) []Prompt {
	st := t.st
	ps := []Prompt{{Name: screenLinePrompt(t.line()), Lang: l}}
	if d := numberPrompts(l, st.TicketID); len(d) > 0 {
		ps = append(append(ps, Prompt{Name: pWordTicket, Lang: l}), d...)
	}
	return append(ps,
		Prompt{Name: pWordPriority, Lang: l}, priorityPrompt(l, st.Priority),
		Prompt{Name: "caller_speaks_" + string(st.Lang), Lang: l},
		Prompt{Name: pScreenAccept, Lang: l})
}

// legKeyed: the engineer keyed on the screening prompt. 1 accepts; anything
// else, or nothing, plays it again up to ScreeningRepeats times.
func (t *turn) legKeyed(keys string) {
	st := t.st
	if st.Phase != PhaseRouting {
		t.ignored = true // keys after the connection are not ours
		return
	}
	if st.Leg.AnsweredAt.IsZero() { // the answer's report was lost
		st.Leg.AnsweredAt = t.at
		st.Leg.Screens = 1
	}
	if keys == "1" {
		t.accept()
		return
	}
	t.note("screen", fmt.Sprintf("%s keys %q", st.Leg.ID, shorten(keys)))
	if st.Leg.Screens >= t.f.cfg.ScreeningRepeats {
		t.note("decline", st.Leg.ID+" did not accept")
		t.releaseLeg(pScreenNoAccept)
		t.next()
		return
	}
	st.Leg.Screens++
	t.screen()
}

// accept connects the caller with the engineer who pressed 1.
func (t *turn) accept() {
	st := t.st
	st.Phase = PhaseConnected
	st.Leg.AcceptedAt = t.at
	t.note("accept", fmt.Sprintf("%s engineer %d %s", st.Leg.ID, st.Leg.EngineerID, st.Leg.Name))
	t.log.Info("engineer accepted the call", zap.String(keyLeg, st.Leg.ID),
		zap.Int64(keyEngineer, st.Leg.EngineerID))
	t.legStep(st.Leg.ID, Connect{Prompts: promptsIn(st.Leg.Lang, pScreenConnecting), LegID: st.Leg.ID})
	t.callerStep(Connect{Prompts: t.prompts(pConnecting), LegID: st.Leg.ID})
}

// bridged: the caller and the engineer who accepted are talking.
func (t *turn) bridged() {
	st := t.st
	if st.Phase != PhaseConnected || st.Leg.bridged() {
		t.ignored = true // a repeated report, or one the call has moved past
		return
	}
	st.Leg.BridgedAt = t.at
	t.note("bridge", st.Leg.ID)
}

// legEnded: the current leg ended. While routing, the plan moves on. After
// the bridge, the engineer hung up and so the call ends. Between the
// engineer's 1 and the bridge (a phone dropped while "connecting"), the
// caller, still waiting in the queue, is told we are still trying and the
// plan moves on.
func (t *turn) legEnded(reason EndReason) {
	st := t.st
	t.note("leg-end", fmt.Sprintf("%s %s", st.Leg.ID, reason))
	if st.Phase == PhaseConnected && st.Leg.bridged() {
		t.callerStep(Hangup{Prompts: t.prompts(pGoodbye)})
		t.finish(OutcomeConnected)
		return
	}
	if st.Phase == PhaseConnected {
		t.note("lost", st.Leg.ID+" ended before the caller was connected")
		st.Phase, st.ProgressAt = PhaseRouting, t.at
		t.callerStep(Hold{Prompts: t.prompts(pHoldProgress, pHoldOffer)})
	}
	st.Leg = Leg{}
	t.next()
}
