package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/twiml"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// Page texts: their delivery reports and engineers' replies.

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
	if code := form.Get("ErrorCode"); code != "" {
		detail += ", error " + code
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
	if containsWord(stopWords, word) || containsWord(startWords, word) || form.Get("OptOutType") != "" {
		pg.log.Info("opt-out keyword texted", zap.String("from", from), zap.String("keyword", word))
		return "", nil
	}
	eng, ok, err := pg.engineerByPhone(ctx, from)
	if err != nil {
		return "", err
	}
	if !ok {
		pg.log.Warn("text from a number that is no engineer's; ignored", zap.String("from", from))
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

func containsWord(list, w string) bool {
	for _, x := range strings.Fields(list) {
		if x == w {
			return true
		}
	}
	return false
}

func (pg *Pager) engineerByPhone(ctx context.Context, phone string) (oncall.Engineer, bool, error) {
	if pg.cfg.Engineers == nil {
		return oncall.Engineer{}, false, nil
	}
	all, err := pg.cfg.Engineers.Engineers(ctx)
	if err != nil {
		return oncall.Engineer{}, false, fmt.Errorf("look up who texted: %w", err)
	}
	for _, e := range all {
		for _, c := range e.Contacts {
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
