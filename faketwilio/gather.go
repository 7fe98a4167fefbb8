package faketwilio

import (
	"net/url"
	"strconv"

	"go.uber.org/zap"
)

// <Gather> as Twilio documents it: it collects keys until the caller
// presses finishOnKey (default #; Digits excludes it, FinishedOnKey names
// it), or numDigits keys are in (submitted at once), or timeout seconds
// pass after the last key (default 5): then Twilio submits the digits
// entered so far; with none entered it goes on with the verbs after the
// <Gather>, or with actionOnEmptyResult posts empty Digits. Keys pressed
// after the <Gather> submitted are not part of it: the fake drops them
// (Twilio buffers no keys for a later verb).
//
// The fake's time moves only when the test acts: Press is keys followed by
// silence until the <Gather> ends; Type is keys with the caller still
// thinking; Silence is the timeout passing.

// typed is what a caller has entered at a <Gather> that has not submitted
// yet. Guarded by Server.mu.
type typed struct {
	at     *Node // the <Gather>
	digits string
}

// gatherKeys feeds keys to gather g, which holds digits already: it
// reports what is entered, whether g submits (and the finishOnKey that
// made it), and the keys pressed after it submitted.
func gatherKeys(g *Node, digits, keys string) (entered, finishedOn string, submit bool, dropped string) {
	finish, ok := g.Attrs["finishOnKey"]
	if !ok {
		finish = "#"
	}
	limit, err := strconv.Atoi(g.Attr("numDigits"))
	if err != nil || limit < 1 {
		limit = 0 // no limit
	}
	for i := 0; i < len(keys); i++ {
		k := keys[i : i+1]
		if finish != "" && k == finish {
			return digits, k, true, keys[i+1:]
		}
		digits += k
		if limit > 0 && len(digits) >= limit {
			return digits, "", true, keys[i+1:]
		}
	}
	return digits, "", false, ""
}

// Press enters digits at the current <Gather> and then stays silent: the
// <Gather> submits Digits to its action when finishOnKey is pressed
// (FinishedOnKey names it; Digits excludes it) or numDigits keys are in,
// and otherwise, once its timeout has passed, with the digits entered so
// far (those of Type before it too). Keys after the <Gather> submitted are
// dropped. A call waiting in a queue presses them at its wait TwiML's
// <Gather>; the answer runs as wait TwiML (<Leave/> takes it out of the
// queue).
func (h *CallHandle) Press(digits string) *TwiML {
	if h.Queued() {
		doc, err := h.s.pressWaiting(h.c, digits)
		h.must(err)
		return doc
	}
	doc, g := h.inProgress("Press", "Gather")
	if g == nil {
		return nil
	}
	entered, finishedOn, submit, dropped := gatherKeys(g, h.typedAt(g), digits)
	if !submit && entered == "" {
		return h.silence(doc, g)
	}
	return h.submit(doc, g, entered, finishedOn, dropped)
}

// Type enters keys at the current <Gather> without the caller falling
// silent: if they complete it (finishOnKey, or numDigits keys in all) it
// submits and Type returns the action's answer; otherwise the keys wait in
// the <Gather> and Type returns nil: more Type or Press adds to them,
// Silence submits them as the <Gather>'s timeout does.
func (h *CallHandle) Type(keys string) *TwiML {
	doc, g := h.inProgress("Type", "Gather")
	if g == nil {
		return nil
	}
	entered, finishedOn, submit, dropped := gatherKeys(g, h.typedAt(g), keys)
	if !submit {
		h.s.mu.Lock()
		h.c.typed = typed{at: g, digits: entered}
		h.s.mu.Unlock()
		return nil
	}
	return h.submit(doc, g, entered, finishedOn, dropped)
}

// Silence lets the current <Gather>'s timeout pass with no further key:
// the digits entered so far (Type) are posted to its action; with none,
// actionOnEmptyResult posts empty Digits, and otherwise the call goes on
// with the verbs after it.
func (h *CallHandle) Silence() *TwiML {
	doc, g := h.inProgress("Silence", "Gather")
	if g == nil {
		return nil
	}
	if entered := h.typedAt(g); entered != "" {
		return h.submit(doc, g, entered, "", "")
	}
	return h.silence(doc, g)
}

// silence ends gather g of doc with nothing entered.
func (h *CallHandle) silence(doc *TwiML, g *Node) *TwiML {
	if g.Attr("actionOnEmptyResult") == "true" {
		return h.post(doc, g, url.Values{"Digits": {""}})
	}
	out, err := h.s.run(h.c, doc.rest(g))
	h.must(err)
	return out
}

// submit posts what gather g of doc collected to its action.
func (h *CallHandle) submit(doc *TwiML, g *Node, digits, finishedOn, dropped string) *TwiML {
	h.s.mu.Lock()
	h.c.typed = typed{}
	h.s.mu.Unlock()
	if dropped != "" {
		h.s.log.Info("keys pressed after the <Gather> submitted are dropped", zap.String(keyCallSid, h.c.sid), zap.String(keyWhat, dropped))
	}
	return h.post(doc, g, url.Values{"Digits": {digits}, "FinishedOnKey": {finishedOn}})
}

// typedAt returns the keys entered at gather g so far (Type), "" if none
// or if they were entered at another one.
func (h *CallHandle) typedAt(g *Node) string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if h.c.typed.at != g {
		return ""
	}
	return h.c.typed.digits
}
