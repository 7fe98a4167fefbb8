package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/twiml"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// Page texts: their delivery reports, engineers' replies, and the numbers
// that opted out of texts.

// SMSOptOuts keeps the numbers that opted out of texts, for the pager to
// page them by voice only. The store implements it.
type SMSOptOuts interface {
	// SetSMSOptOut records that phone opted out of texts (out) or back
	// in, on Twilio's word at time at; an older word than the one kept
	// changes nothing.
	SetSMSOptOut(ctx context.Context, phone string, out bool, at time.Time) error
}

// Log keys of the texts' side.
const (
	keyFrom     = "from"
	keyKeyword  = "keyword"
	keyEngineer = "engineer_id"
	keyPhone    = "phone"
	keyReason   = "reason"
)

// smsStatus ends a text's attempt on its delivery report.
func (pg *Pager) smsStatus(ctx context.Context, r *http.Request, form url.Values) (string, error) {
	a, err := pg.attemptOf(ctx, r)
	if err != nil {
		return "", err
	}
	var o pager.Outcome
	switch form.Get("MessageStatus") {
	case "delivered":
		o = pager.Delivered
	case "undelivered":
		o = pager.Undelivered
	case "failed":
		o = pager.Failed
	default:
		return "", nil // queued, sent: on its way
	}
	detail := "text " + form.Get("MessageStatus")
	code := form.Get("ErrorCode")
	if code != "" {
		detail += ", error " + code
	}
	if code == strconv.Itoa(codeUnsubscribed) {
		// A Messaging Service may report the opt-out after the create.
		o = pager.OptedOut
		pg.markOptedOut(ctx, a, "a text to it failed with 21610")
	}
	if _, err := pg.cfg.Pages.AttemptEnded(ctx, a.ID, o, detail); err != nil {
		return "", err
	}
	return "", nil
}

// inboundSMS reads an engineer's text: the code of a page acknowledges
// it. STOP, START and their kin are opt-out keywords that Twilio answers
// itself: the service adds no reply.
func (pg *Pager) inboundSMS(ctx context.Context, _ *http.Request, form url.Values) (string, error) {
	from := form.Get("From")
	body := strings.TrimSpace(form.Get("Body"))
	if len(body) > smsReplyLimit {
		body = body[:smsReplyLimit]
	}
	word := strings.ToUpper(strings.Trim(body, " .!"))
	if kind := optOutKind(word, form.Get("OptOutType")); kind != "" {
		// Twilio has answered the keyword itself: no reply of ours.
		pg.log.Info("opt-out keyword texted", zap.String(keyFrom, from), zap.String(keyKeyword, word))
		if kind == optOutStop || kind == optOutStart { // HELP changes nothing
			if err := pg.optOutKeyword(ctx, from, kind == optOutStop); err != nil {
				return "", err
			}
		}
		return "", nil
	}
	eng, ok, err := pg.engineerByPhone(ctx, from)
	if err != nil {
		return "", err
	}
	if !ok {
		pg.log.Warn("text from a number that is no engineer's; ignored", zap.String(keyFrom, from))
		return "", nil
	}
	lang := oncall.English
	if len(eng.Languages) > 0 {
		lang = eng.Languages[0]
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(word, "#"), 10, 64)
	if err != nil || id <= 0 {
		return smsReply(pager.ReplyHelpText(lang)), nil
	}
	p, _, err := pg.cfg.Pages.Page(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return smsReply(pager.ReplyUnknownText(lang, word)), nil
	}
	if err != nil {
		return "", err
	}
	if p.Status != pager.Open {
		return smsReply(pager.ReplyClosedText(&p, lang)), nil
	}
	p, err = pg.cfg.Pages.Acknowledge(ctx, id, pager.Acknowledge{EngineerID: eng.ID, Name: eng.Name, Via: pager.ViaSMS})
	if err != nil {
		return "", err
	}
	return smsReply(pager.ReplyAckedText(&p, lang)), nil
}

// What an opt-out keyword does (Twilio's OptOutType values).
const (
	optOutStop  = "STOP"
	optOutStart = "START"
	optOutHelp  = "HELP"
)

// optOutKind classifies an inbound text as Twilio did: by OptOutType when
// Twilio sent one (Advanced Opt-Out), else by the whole text being one of
// the default keywords. "" for an ordinary text.
func optOutKind(word, optOutType string) string {
	switch {
	case optOutType != "":
		return strings.ToUpper(optOutType)
	case containsWord(stopWords, word):
		return optOutStop
	case containsWord(startWords, word):
		return optOutStart
	}
	return ""
}

// optOutKeyword records that an engineer's number opted out of texts
// (stop) or back in. Twilio keeps its own list and refuses texts to the
// number whatever is recorded here; the record is so that the pager stops
// trying them and admins see it. Numbers that are no engineer's are not
// recorded: the pager texts nobody else but the last-resort contact, and
// anybody may text the number.
func (pg *Pager) optOutKeyword(ctx context.Context, from string, stop bool) error {
	eng, ok, err := pg.engineerByPhone(ctx, from)
	if err != nil {
		return err
	}
	if !ok {
		pg.log.Info("opt-out keyword from a number that is no engineer's; Twilio keeps it", zap.String(keyFrom, from))
		return nil
	}
	if pg.cfg.OptOuts != nil {
		if err := pg.cfg.OptOuts.SetSMSOptOut(ctx, from, stop, pg.cfg.Now()); err != nil {
			return fmt.Errorf("record the opt-out of %s: %w", from, err)
		}
	}
	if stop {
		pg.log.Warn("an engineer's number opted out of texts (texted STOP): pages reach it by voice only until it texts START",
			zap.Int64(keyEngineer, eng.ID), zap.String(keyPhone, from))
	} else {
		pg.log.Info("an engineer's number opted back in to texts", zap.Int64(keyEngineer, eng.ID), zap.String(keyPhone, from))
	}
	return nil
}

// refused records what Twilio's refusal of text a says about its number:
// 21610, the number opted out of texts.
func (pg *Pager) refused(ctx context.Context, a pager.Attempt, err error) {
	var se *pager.SendError
	if errors.As(err, &se) && se.Outcome == pager.OptedOut {
		pg.markOptedOut(ctx, a, "Twilio refused a text to it with 21610")
	}
}

// markOptedOut records that the number text a went to opted out of texts.
// A failure to record it is only logged: Twilio refuses the next text too,
// and the page moves on to the next channel all the same.
func (pg *Pager) markOptedOut(ctx context.Context, a pager.Attempt, why string) {
	log := pg.log.With(zap.Int64(keyEngineer, a.EngineerID), zap.String(keyPhone, a.To))
	if pg.cfg.OptOuts != nil {
		if err := pg.cfg.OptOuts.SetSMSOptOut(ctx, a.To, true, pg.cfg.Now()); err != nil {
			log.Error("could not record that a number opted out of texts", zap.Error(err))
			return
		}
	}
	log.Warn("a number opted out of texts (it texted STOP): pages reach it by voice only until it texts START", zap.String(keyReason, why))
}

func containsWord(list, w string) bool {
	for _, x := range strings.Fields(list) {
		if x == w {
			return true
		}
	}
	return false
}

// engineerByPhone is the engineer one of whose verified numbers is phone;
// false for none.
func (pg *Pager) engineerByPhone(ctx context.Context, phone string) (oncall.Engineer, bool, error) {
	if pg.cfg.Engineers == nil {
		return oncall.Engineer{}, false, nil
	}
	all, err := pg.cfg.Engineers.Engineers(ctx)
	if err != nil {
		return oncall.Engineer{}, false, fmt.Errorf("look up who texted: %w", err)
	}
	for _, e := range all {
		// Only a verified number speaks for its engineer: one the engineer
		// added but never confirmed may be a stranger's (a typo), who must
		// not hear or acknowledge their pages.
		for _, c := range e.Reachable() {
			if c.Phone == phone {
				return e, true, nil
			}
		}
	}
	return oncall.Engineer{}, false, nil
}

func smsReply(text string) string {
	s, err := twiml.Messages([]twiml.Element{&twiml.MessagingMessage{Body: text}})
	if err != nil {
		return ""
	}
	return s
}
