package webhooks

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/twilio/twilio-go/twiml"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/pager"
)

// After the key, on the page call of a page a client's call raised: the
// engineer who took it hears "press 2 to hear the message" (when there is
// a voicemail) and "press 3 to call the client back" (when the client's
// number is known), until they hang up or stop pressing. 2 plays the
// voicemail from a short-lived signed link (Twilio's <Play> sends no
// credentials); 3 dials the client from the line the client called, so
// that they see the number they know, bridged to the engineer, and the
// call back is logged on the page and noted on its ticket. The menu is
// keyed by the page call's attempt, so it is the engineer of that call
// who listens and calls, never a caller id someone could fake.

const (
	// pathRecordingLink serves a voicemail to whoever holds a signed
	// link: {token}. Twilio fetches it to <Play>; it is outside the
	// webhooks' prefix because it is no webhook (GET, no signature).
	pathRecordingLink = "/recordings/signed/"
	// recordingLinkPurpose names the links that play a voicemail.
	recordingLinkPurpose = "recording"
	// recordingLinkLife is how long a voicemail's link plays: Twilio
	// fetches it at once.
	recordingLinkLife = 10 * time.Minute
	// servicePathRecording is where the service keeps voicemails (the
	// admin API's /api/v1/recordings/{id}): a page's Recording under the
	// public URL and this path is one of the service's own.
	servicePathRecording = "/api/v1/recordings/"
	// callBackRingLimit is how long the client's phone rings.
	callBackRingLimit = 30 * time.Second
)

// Voicemails reads the voicemails the service keeps.
type Voicemails interface {
	// Recording returns voicemail id; errs.NotFound when it is not kept
	// (any more).
	Recording(ctx context.Context, id string) (calls.Recording, error)
}

// Log keys of the page call's menu and of the dial-in.
const (
	keyPageID     = "page_id"
	keyAttemptID  = "attempt_id"
	keyRecording  = "recording"
	keyLine       = "line"
	keyAnsweredBy = "answered_by"
)

// registerAfterKey adds the routes of the menu after the key and of the
// signed voicemail links to r.
func (pg *Pager) registerAfterKey(r *mux.Router) {
	post := func(path string, h webhook) { r.Handle(path, pg.sig.verified(h)).Methods(http.MethodPost) }
	post(pathPage+"{attempt}/menu", pg.menu)
	post(pathPage+"{attempt}/callback-status", pg.callBackStatus)
	post(pathPage+"{attempt}/callback-done", pg.callBackDone)
	post(PagerVoicePath, pg.dialIn)
	post(PagerVoicePath+"/key", pg.dialInKey)
	if pg.cfg.Links != nil && pg.cfg.Voicemails != nil {
		r.HandleFunc(pathRecordingLink+"{token}", pg.serveRecording).Methods(http.MethodGet, http.MethodHead)
	}
}

// afterKey answers the 1 of engineer a.EngineerID, who has taken page p:
// thanks, and the menu when the page has something to offer; thanks and
// goodbye otherwise.
func (pg *Pager) afterKey(a pager.Attempt, p *pager.Page) string {
	lang := langOr(a.Language)
	listen, callBack := pg.canListen(p), pager.CanCallBack(p)
	ps := pager.AckedMenuPrompts(lang, listen, callBack)
	if !listen && !callBack {
		return pg.say(ps, &twiml.VoiceHangup{})
	}
	return pg.offer(a, 1, ps)
}

// offer renders the menu (after prompts ps) as asking n of pageRepeats.
func (pg *Pager) offer(a pager.Attempt, n int, ps []ivr.Prompt) string {
	action := pg.link(a.ID, "menu", url.Values{"n": {strconv.Itoa(n)}})
	g := &twiml.VoiceGather{Input: "dtmf", NumDigits: "1", Timeout: strconv.Itoa(int(pageKeyWait / time.Second)),
		Action: action, Method: http.MethodPost, ActionOnEmptyResult: "true", InnerElements: pg.plays(ps)}
	return render(g, &twiml.VoiceRedirect{Url: action, Method: http.MethodPost})
}

// menu takes the key pressed at the menu: 2 plays the voicemail, 3 calls
// the client back; anything else (or nothing) offers the menu again,
// pageRepeats times in all, then goodbye. Only the engineer who took the
// page gets the menu.
func (pg *Pager) menu(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	a, p, ok, err := pg.takenBy(ctx, r)
	if err != nil {
		return "", err
	}
	lang := langOr(a.Language)
	if !ok {
		return pg.say(pager.ClosedPrompts(lang), &twiml.VoiceHangup{}), nil
	}
	listen, callBack := pg.canListen(&p), pager.CanCallBack(&p)
	switch d := form.Get("Digits"); {
	case d == "2" && listen:
		return pg.listen(ctx, a, &p)
	case d == "3" && callBack:
		return pg.callBack(ctx, a, &p, form.Get("CallSid"))
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n < pageRepeats {
		return pg.offer(a, n+1, pager.MenuPrompts(lang, listen, callBack)), nil
	}
	return pg.say(pager.GoodbyePrompts(lang), &twiml.VoiceHangup{}), nil
}

// takenBy reads the attempt of a menu request and its page, and reports
// whether the attempt's engineer is the one who took the page (it may
// have been resolved since).
func (pg *Pager) takenBy(ctx context.Context, r *http.Request) (pager.Attempt, pager.Page, bool, error) {
	a, err := pg.attemptOf(ctx, r)
	if err != nil {
		return pager.Attempt{}, pager.Page{}, false, err
	}
	p, _, err := pg.cfg.Pages.Page(ctx, a.PageID)
	if err != nil {
		return pager.Attempt{}, pager.Page{}, false, err
	}
	ok := a.EngineerID != 0 && p.AckedBy == a.EngineerID && (p.Status == pager.Acknowledged || p.Status == pager.Resolved)
	return a, p, ok, nil
}

// listen plays the voicemail, then the menu again.
func (pg *Pager) listen(ctx context.Context, a pager.Attempt, p *pager.Page) (string, error) {
	lang := langOr(a.Language)
	listen, callBack := pg.canListen(p), pager.CanCallBack(p)
	menu := pager.MenuPrompts(lang, listen, callBack)
	u, ok, err := pg.recordingURL(ctx, p)
	if err != nil {
		return "", err
	}
	if !ok {
		pg.log.Warn("the voicemail of a page is gone", zap.Int64(keyPageID, p.ID), zap.String(keyRecording, p.Recording))
		return pg.offer(a, 1, append(pager.NoRecordingPrompts(lang), menu...)), nil
	}
	pg.log.Info("voicemail played to the engineer", zap.Int64(keyPageID, p.ID), zap.Int64(keyAttemptID, a.ID))
	action := pg.link(a.ID, "menu", url.Values{"n": {"1"}})
	inner := pg.plays(pager.MessagePrompts(lang))
	inner = append(inner, &twiml.VoicePlay{Url: u})
	inner = append(inner, pg.plays(menu)...)
	g := &twiml.VoiceGather{Input: "dtmf", NumDigits: "1", Timeout: strconv.Itoa(int(pageKeyWait / time.Second)),
		Action: action, Method: http.MethodPost, ActionOnEmptyResult: "true", InnerElements: inner}
	return render(g, &twiml.VoiceRedirect{Url: action, Method: http.MethodPost}), nil
}

// canListen reports whether page p's voicemail can be played: it has one,
// and, when the service keeps it, signed links can be made for it.
func (pg *Pager) canListen(p *pager.Page) bool {
	if !pager.HasMessage(p) {
		return false
	}
	if _, ours := pg.recordingID(p.Recording); ours {
		return pg.cfg.Links != nil && pg.cfg.Voicemails != nil
	}
	return true
}

// recordingID returns the id of a recording the service keeps, from its
// URL; false for any other URL (Twilio's own, when the service could not
// keep a copy).
func (pg *Pager) recordingID(u string) (string, bool) {
	id, ok := strings.CutPrefix(u, pg.sig.base+servicePathRecording)
	if !ok || !calls.ValidRecordingID(id) {
		return "", false
	}
	return id, true
}

// recordingURL is what Twilio plays for page p's voicemail: a signed
// link to the service's copy, or Twilio's own URL when the service has no
// copy; false when the service's copy is gone (past its retention).
func (pg *Pager) recordingURL(ctx context.Context, p *pager.Page) (string, bool, error) {
	id, ours := pg.recordingID(p.Recording)
	if !ours {
		return p.Recording, true, nil
	}
	if _, err := pg.cfg.Voicemails.Recording(ctx, id); errs.Is(err, errs.NotFound) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	tok := pg.cfg.Links.Token(recordingLinkPurpose, id, pg.cfg.Now().Add(recordingLinkLife))
	return pg.sig.base + pathRecordingLink + tok, true, nil
}

// serveRecording serves a voicemail to the holder of a signed link that
// has not expired: for Twilio's <Play>. Any other request gets 404, saying
// no more than that the link does not work.
func (pg *Pager) serveRecording(w http.ResponseWriter, r *http.Request) {
	id, err := pg.cfg.Links.Check(recordingLinkPurpose, mux.Vars(r)["token"], pg.cfg.Now())
	if err != nil {
		pg.log.Info("voicemail link refused", zap.Error(err))
		http.Error(w, "this link does not work (it is wrong or has expired)", http.StatusNotFound)
		return
	}
	rec, err := pg.cfg.Voicemails.Recording(r.Context(), id)
	switch {
	case errs.Is(err, errs.NotFound):
		http.Error(w, "the recording is no longer kept", http.StatusNotFound)
		return
	case err != nil:
		pg.log.Error("voicemail link: read the recording", zap.String(keyRecording, id), zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	pg.log.Info("voicemail served to a signed link", zap.String(keyRecording, id), zap.String(keyCallID, rec.CallID))
	h := w.Header()
	h.Set("Content-Type", rec.ContentType)
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", rec.CreatedAt, bytes.NewReader(rec.Data))
}

// callBack dials page p's client from the line they called (the pager's
// caller id for a page with no line), bridged to the engineer on call
// engineerCall; the call back's end is reported to callBackStatus, the
// engineer's call goes on at callBackDone.
func (pg *Pager) callBack(ctx context.Context, a pager.Attempt, p *pager.Page, engineerCall string) (string, error) {
	lang := langOr(a.Language)
	from := p.Line
	if from == "" {
		from = pg.cfg.CallerID
	}
	if _, err := pg.cfg.Pages.CalledBack(ctx, p.ID, pager.CalledBack{EngineerID: a.EngineerID, Name: p.AckedByName}); err != nil {
		// The log line is not worth keeping the engineer from the client.
		pg.log.Warn("could not log a call back as it starts", zap.Int64(keyPageID, p.ID), zap.Error(err))
	}
	pg.log.Info("calling the client back", zap.Int64(keyPageID, p.ID), zap.Int64(keyAttemptID, a.ID),
		zap.String(keyCallSid, engineerCall), zap.String(keyLine, from))
	dial := &twiml.VoiceDial{
		CallerId: from, Action: pg.link(a.ID, "callback-done", nil), Method: http.MethodPost,
		Timeout: strconv.Itoa(int(callBackRingLimit / time.Second)),
		InnerElements: []twiml.Element{&twiml.VoiceNumber{
			PhoneNumber: p.Caller, StatusCallback: pg.link(a.ID, "callback-status", nil),
			StatusCallbackEvent: "completed", StatusCallbackMethod: http.MethodPost,
		}},
	}
	return pg.say(pager.CallingClientPrompts(lang), dial), nil
}

// callBackStatus is the end of the call to the client (its own status
// callback, whichever side hung up): the page's log and the ticket learn
// how it went.
func (pg *Pager) callBackStatus(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	a, p, ok, err := pg.takenBy(ctx, r)
	if err != nil {
		return "", err
	}
	st := form.Get("CallStatus")
	if !ok || callOutcome(st) == "" {
		return "", nil // not the engineer's page any more, or not over
	}
	secs, _ := strconv.Atoi(form.Get("CallDuration"))
	ev := pager.CalledBack{EngineerID: a.EngineerID, Name: p.AckedByName, CallID: form.Get("CallSid"), Ended: true,
		Answered: st == "completed", Talked: time.Duration(secs) * time.Second, Status: st}
	if _, err := pg.cfg.Pages.CalledBack(ctx, p.ID, ev); err != nil {
		return "", err
	}
	return "", nil
}

// callBackDone goes on with the engineer's call once the call to the
// client is over: goodbye after a conversation; after no answer, that the
// client did not answer, and the menu again.
func (pg *Pager) callBackDone(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	a, p, ok, err := pg.takenBy(ctx, r)
	if err != nil {
		return "", err
	}
	lang := langOr(a.Language)
	switch st := form.Get("DialCallStatus"); {
	case !ok:
		return pg.say(pager.ClosedPrompts(lang), &twiml.VoiceHangup{}), nil
	case st == "completed" || st == "answered":
		return pg.say(pager.CallEndedPrompts(lang), &twiml.VoiceHangup{}), nil
	}
	menu := pager.MenuPrompts(lang, pg.canListen(&p), pager.CanCallBack(&p))
	return pg.offer(a, 1, append(pager.ClientNoAnswerPrompts(lang), menu...)), nil
}
