package webhooks

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/links"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// The pager's side of Twilio: its two channels (page calls and texts,
// made through the REST API off the webhook path by the pager's engine)
// and the webhooks they bring back: the page call's TwiML and keys, the
// status callbacks of calls and texts, and engineers' text replies.

// Paths of the pager's webhooks; {attempt} is the attempt's id, so that a
// callback names what it reports on even when the provider's id was never
// stored.
const (
	pathPage      = prefix + "/page/" // {attempt}/answer, /key, /status, /amd, /sms-status
	pathSMS       = prefix + "/sms"   // "A message comes in" of the texting number
	pageRepeats   = 3                 // how often the page call asks for the key
	pageKeyWait   = 6 * time.Second   // the silence after each ask
	pageRingLimit = 30 * time.Second  // how long a page call rings
	smsReplyLimit = 320               // the longest text reply read

	// The keywords of texts that opt out and back in.
	stopWords  = "STOP STOPALL UNSUBSCRIBE CANCEL END QUIT OPTOUT REVOKE" //nolint:gosec // G101: "stoPWords" is no credential
	startWords = "START YES UNSTOP"
)

// Pages is what the pager's webhooks need of the pager's engine.
type Pages interface {
	Page(ctx context.Context, id int64) (pager.Page, []pager.Attempt, error)
	Attempt(ctx context.Context, id int64) (pager.Attempt, error)
	AttemptEnded(ctx context.Context, id int64, o pager.Outcome, detail string) (pager.Page, error)
	Acknowledge(ctx context.Context, id int64, ack pager.Acknowledge) (pager.Page, error)
	ConfirmAttempt(ctx context.Context, id int64, providerID string) error
	// AttemptByProviderID returns the attempt Twilio knows by sid;
	// errs.NotFound for none: a request in doubt is matched only to a
	// call or text no other attempt owns.
	AttemptByProviderID(ctx context.Context, sid string) (pager.Attempt, error)
	// Pages lists pages newest first: the paging number's dial-in reads
	// the open ones.
	Pages(ctx context.Context, f pager.Filter) ([]pager.Page, error)
	// CalledBack logs an engineer's call back to a page's client.
	CalledBack(ctx context.Context, id int64, ev pager.CalledBack) (pager.Page, error)
}

// Engineers lists the team, to know who texted.
type Engineers interface {
	Engineers(ctx context.Context) ([]oncall.Engineer, error)
}

// PagerConfig is what the pager's Twilio side needs.
type PagerConfig struct {
	PublicURL, AuthToken string
	// AccountSID is the Twilio account (TWILIO_ACCOUNT_SID): webhooks
	// naming another are refused.
	AccountSID string
	REST       PagerREST // required
	// CallerID is the number page calls come from (a Twilio number or a
	// verified caller id), the same for every page so that engineers can
	// let it through do-not-disturb. Required for voice pages.
	CallerID string
	// SMSFrom sends texts: a Twilio number or a Messaging Service sid
	// (MG…); verified caller ids cannot send texts. Required for texts.
	SMSFrom   string
	Pages     Pages     // required for the webhooks
	Engineers Engineers // required for text replies
	Rules     pager.Rules
	Log       *zap.Logger
	Now       func() time.Time
	// OptOuts records the numbers that opt out of texts (STOP) and back
	// in (START), and those Twilio refuses texts to as opted out (21610).
	// Nil: not recorded (Twilio still refuses them).
	OptOuts SMSOptOuts
	// Links signs the short-lived links Twilio plays a page's voicemail
	// from ("press 2"). Nil: voicemails the service keeps are not offered
	// on page calls.
	Links *links.Signer
	// Voicemails reads the voicemails the service keeps, for those links.
	Voicemails Voicemails
}

// Pager serves the pager's Twilio webhooks and makes its channels.
type Pager struct {
	cfg PagerConfig
	sig signed
	log *zap.Logger
}

// NewPager returns the pager's Twilio side.
func NewPager(cfg PagerConfig) (*Pager, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.REST == nil {
		return nil, errs.InvalidField("rest", "is required")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errs.InvalidField("IVR_PUBLIC_URL", "%q is not an absolute http(s) base URL", cfg.PublicURL)
	}
	for name, v := range map[string]string{"IVR_PAGER_CALLER_ID": cfg.CallerID, "IVR_PAGER_SMS_FROM": cfg.SMSFrom} {
		if v == "" {
			continue
		}
		if strings.HasPrefix(v, messagingServicePrefix) && name == "IVR_PAGER_SMS_FROM" {
			continue
		}
		if n, err := oncall.NormalizePhone(v); err != nil || n != v {
			return nil, errs.InvalidField(name, "%q is not a phone number in E.164 (+ and digits only)", v)
		}
	}
	log := cfg.Log.Named("pager-twilio")
	base := strings.TrimSuffix(cfg.PublicURL, "/")
	return &Pager{cfg: cfg, sig: newSigned(cfg.AuthToken, cfg.AccountSID, base, 64<<10, 10*time.Second, log), log: log}, nil
}

// SetPages gives the webhooks the pager's engine, which is built after the
// channels it carries out attempts through.
func (pg *Pager) SetPages(p Pages) { pg.cfg.Pages = p }

// Register adds the pager's webhooks to r; each checks X-Twilio-Signature.
func (pg *Pager) Register(r *mux.Router) {
	post := func(path string, h webhook) { r.Handle(path, pg.sig.verified(h)).Methods(http.MethodPost) }
	post(pathPage+"{attempt}/answer", pg.answer)
	post(pathPage+"{attempt}/key", pg.key)
	post(pathPage+"{attempt}/status", pg.callStatus)
	post(pathPage+"{attempt}/amd", pg.amd)
	post(pathPage+"{attempt}/sms-status", pg.smsStatus)
	post(pathSMS, pg.inboundSMS)
	pg.registerAfterKey(r)
}

func (pg *Pager) link(id int64, what string, q url.Values) string {
	u := pg.sig.base + pathPage + strconv.FormatInt(id, 10) + "/" + what
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// Channels returns the pager's Twilio channels: page calls when a caller
// id is set, texts when a sender is.
func (pg *Pager) Channels() map[pager.Kind]pager.Channel {
	out := map[pager.Kind]pager.Channel{}
	if pg.cfg.CallerID != "" {
		out[pager.KindVoice] = voiceChannel{pg}
	}
	if pg.cfg.SMSFrom != "" {
		out[pager.KindSMS] = smsChannel{pg}
	}
	return out
}

// voiceChannel pages by phone call.
type voiceChannel struct{ pg *Pager }

func (c voiceChannel) Send(ctx context.Context, a pager.Attempt) (string, error) {
	return c.pg.cfg.REST.CreatePageCall(ctx, PageCall{
		To: a.To, From: c.pg.cfg.CallerID, URL: c.pg.link(a.ID, "answer", nil),
		StatusCallback: c.pg.link(a.ID, "status", nil), AMDCallback: c.pg.link(a.ID, "amd", nil), Timeout: pageRingLimit,
	})
}

func (c voiceChannel) Find(ctx context.Context, a pager.Attempt) (string, error) {
	recs, err := c.pg.cfg.REST.RecentCalls(ctx, a.To, c.pg.cfg.CallerID)
	if err != nil {
		return "", err
	}
	return match(ctx, a, recs, anyRecord, c.pg.cfg.Pages.AttemptByProviderID)
}

// Poll asks Twilio how a page call whose completed callback never came
// ended.
func (c voiceChannel) Poll(ctx context.Context, a pager.Attempt) (pager.Outcome, error) {
	st, err := c.pg.cfg.REST.CallStatus(ctx, a.ProviderID)
	if err != nil {
		return "", err
	}
	return callOutcome(st), nil
}

// smsChannel pages by text.
type smsChannel struct{ pg *Pager }

func (c smsChannel) Send(ctx context.Context, a pager.Attempt) (string, error) {
	sid, err := c.pg.cfg.REST.CreateMessage(ctx, OutboundMessage{To: a.To, From: c.pg.cfg.SMSFrom, Body: a.Body,
		StatusCallback: c.pg.link(a.ID, "sms-status", nil)})
	if err != nil {
		c.pg.refused(ctx, a, err)
	}
	return sid, err
}

func (c smsChannel) Find(ctx context.Context, a pager.Attempt) (string, error) {
	recs, err := c.pg.cfg.REST.RecentMessages(ctx, a.To, c.pg.cfg.SMSFrom)
	if err != nil {
		return "", err
	}
	return match(ctx, a, recs, func(r ProviderRecord) bool { return r.Body == a.Body }, c.pg.cfg.Pages.AttemptByProviderID)
}

// clockSlack allows for the provider's clock and its whole-second dates
// against the database's: a request in doubt was created no earlier than
// this before its claim.
const clockSlack = 2 * time.Second

// match finds, among the provider's latest records, one made for attempt
// a: created after its claim, matching same, and not the provider id of
// any other attempt (owner looks up which attempt owns a provider id).
func match(ctx context.Context, a pager.Attempt, recs []ProviderRecord, same func(ProviderRecord) bool,
	owner func(ctx context.Context, providerID string) (pager.Attempt, error)) (string, error) {
	for _, r := range recs {
		if r.SID == "" || r.Created.Before(a.ClaimedAt.Add(-clockSlack)) || !same(r) {
			continue
		}
		other, err := owner(ctx, r.SID)
		switch {
		case errs.Is(err, errs.NotFound):
		case err != nil:
			return "", err
		case other.ID != a.ID:
			continue
		}
		return r.SID, nil
	}
	return "", nil
}

func anyRecord(ProviderRecord) bool { return true }

// attemptOf reads the {attempt} of a request.
func (pg *Pager) attemptOf(ctx context.Context, r *http.Request) (pager.Attempt, error) {
	id, err := strconv.ParseInt(mux.Vars(r)["attempt"], 10, 64)
	if err != nil || id <= 0 {
		return pager.Attempt{}, errs.E(errs.NotFound, "attempt", "no such page attempt")
	}
	return pg.cfg.Pages.Attempt(ctx, id)
}
