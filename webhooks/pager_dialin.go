package webhooks

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/twilio/twilio-go/twiml"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// The paging number's own Voice URL: an engineer who calls back the number
// page calls come from hears how many pages are open for them and the
// newest, and acknowledges it with 1. Anyone else hears that the number is
// for engineers only.
//
// It is meant for a paging number of its own (IVR_PAGER_CALLER_ID, a
// Twilio number that is no support line): a support line's Voice URL stays
// the call flow's, so that an engineer who calls a line to test it, or
// calls as anyone would, reaches the line.
//
// The caller is known only by their caller id, which can be forged. So
// the dial-in acknowledges and does no more: the voicemail and the call
// back to the client are offered on page calls only, which the pager
// places to the engineer's own number.

// PagerVoicePath is the path of the paging number's Voice URL (under the
// public URL); PagerVoicePath+"/key" takes its keys.
const PagerVoicePath = prefix + "/pager/voice"

// dialInOpenLimit bounds the open pages read to find a caller's.
const dialInOpenLimit = 1000

// dialIn answers an engineer who calls the paging number.
func (pg *Pager) dialIn(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	return pg.dialInAsk(ctx, form, 1)
}

// dialInAsk says the caller's open pages and asks for the key (asking n of
// pageRepeats).
func (pg *Pager) dialInAsk(ctx context.Context, form url.Values, n int) (string, error) {
	eng, ok, err := pg.engineerByPhone(ctx, form.Get("From"))
	if err != nil {
		return "", err
	}
	if !ok {
		pg.log.Info("the paging number called by someone who is no engineer", zap.String(keyCallSid, form.Get("CallSid")))
		return pg.say(pager.NotEngineerPrompts(), &twiml.VoiceHangup{}), nil
	}
	lang := engineerLang(eng)
	open, err := pg.openPagesOf(ctx, eng.ID)
	if err != nil {
		return "", err
	}
	ps := pager.DialInPrompts(open, lang, pg.cfg.Now(), pg.cfg.Rules)
	if len(open) == 0 {
		return pg.say(ps, &twiml.VoiceHangup{}), nil
	}
	pg.log.Info("engineer called the paging number", zap.Int64(keyEngineer, eng.ID), zap.Int(keyOpenPages, len(open)))
	action := pg.sig.base + PagerVoicePath + "/key?" + url.Values{
		"page": {strconv.FormatInt(open[0].ID, 10)}, "n": {strconv.Itoa(n)},
	}.Encode()
	g := &twiml.VoiceGather{Input: "dtmf", NumDigits: "1", Timeout: strconv.Itoa(int(pageKeyWait / time.Second)),
		Action: action, Method: http.MethodPost, ActionOnEmptyResult: "true", InnerElements: pg.plays(ps)}
	return render(g, &twiml.VoiceRedirect{Url: action, Method: http.MethodPost}), nil
}

// dialInKey takes the key of an engineer who called the paging number: 1
// acknowledges the page they heard; anything else says their pages again,
// pageRepeats times in all, then goodbye.
func (pg *Pager) dialInKey(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if form.Get("Digits") != "1" {
		if n < pageRepeats {
			return pg.dialInAsk(ctx, form, n+1)
		}
		eng, _, err := pg.engineerByPhone(ctx, form.Get("From"))
		if err != nil {
			return "", err
		}
		return pg.say(pager.GoodbyePrompts(engineerLang(eng)), &twiml.VoiceHangup{}), nil
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("page"), 10, 64)
	if err != nil || id <= 0 {
		return "", errs.InvalidField("page", "%q is not a page id", r.URL.Query().Get("page"))
	}
	eng, ok, err := pg.engineerByPhone(ctx, form.Get("From"))
	if err != nil {
		return "", err
	}
	if !ok {
		return pg.say(pager.NotEngineerPrompts(), &twiml.VoiceHangup{}), nil
	}
	lang := engineerLang(eng)
	p, _, err := pg.cfg.Pages.Page(ctx, id)
	if err != nil {
		return "", err
	}
	if len(pager.OpenPagesOf([]pager.Page{p}, eng.ID)) == 0 && p.AckedBy != eng.ID {
		// Taken or closed while they listened, or never theirs.
		return pg.closedFor(&p, eng.ID, lang), nil
	}
	p, err = pg.cfg.Pages.Acknowledge(ctx, id, pager.Acknowledge{EngineerID: eng.ID, Name: eng.Name, Via: pager.ViaVoice})
	if err != nil {
		return "", err
	}
	if p.AckedBy != eng.ID {
		return pg.closedFor(&p, eng.ID, lang), nil
	}
	pg.log.Info("page acknowledged by calling the paging number", zap.Int64(keyPageID, p.ID), zap.Int64(keyEngineer, eng.ID))
	return pg.say(pager.AckedPrompts(lang), &twiml.VoiceHangup{}), nil
}

// closedFor says why page p can no longer be acknowledged by engineer id.
func (pg *Pager) closedFor(p *pager.Page, id int64, lang oncall.Language) string {
	if p.Status == pager.Acknowledged && p.AckedBy != id {
		return pg.say(pager.TakenPrompts(lang), &twiml.VoiceHangup{})
	}
	return pg.say(pager.ClosedPrompts(lang), &twiml.VoiceHangup{})
}

// openPagesOf lists the open pages addressed to engineer id, newest first.
func (pg *Pager) openPagesOf(ctx context.Context, id int64) ([]pager.Page, error) {
	all, err := pg.cfg.Pages.Pages(ctx, pager.Filter{Status: pager.Open, Limit: dialInOpenLimit})
	if err != nil {
		return nil, err
	}
	return pager.OpenPagesOf(all, id), nil
}

func engineerLang(e oncall.Engineer) oncall.Language {
	if len(e.Languages) > 0 && e.Languages[0].Valid() {
		return e.Languages[0]
	}
	return oncall.English
}
