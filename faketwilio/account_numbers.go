package faketwilio

import (
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Twilio's answers to a create request whose From the account may not use.
const (
	// Calls: From is neither a Twilio number of the account nor one of its
	// verified caller ids.
	codeFromNotVerified = 21210
	// Messages: From is not a Twilio number of the account (verified
	// caller ids cannot send texts).
	codeFromCannotText = 21606
)

// supportLines are the lines this service answers by default (ivr's
// DefaultConfig: Moscow, Washington). The fake is this service's double,
// and its demo (ivr fake-twilio --console) dials those lines and pages
// from them, so by default the account owns them.
var supportLines = []string{"+74996383867", "+12025952118"}

// ownedNumber is one of the account's numbers: a Twilio number
// (IncomingPhoneNumber) or a verified caller id (OutgoingCallerId), both PN…
type ownedNumber struct {
	sid, number string
	created     time.Time
}

// account is what the account owns. It is made once by New and never
// changes, so it is read without Server.mu.
type account struct {
	numbers   []ownedNumber // Twilio numbers, in Options.Numbers order
	callerIDs []ownedNumber // verified caller ids
	twilio    map[string]bool
	verified  map[string]bool
}

// newAccount makes the account of opts (ServiceNumber set): its Twilio
// numbers are ServiceNumber and Options.Numbers (by default the support
// lines), its verified caller ids Options.VerifiedCallerIDs.
func newAccount(opts Options, now time.Time) *account {
	numbers := opts.Numbers
	if numbers == nil {
		numbers = supportLines
	}
	a := &account{twilio: map[string]bool{}, verified: map[string]bool{}}
	for _, n := range append([]string{opts.ServiceNumber}, numbers...) {
		if n != "" && !a.twilio[n] {
			a.twilio[n] = true
			a.numbers = append(a.numbers, ownedNumber{sid: newSID("PN"), number: n, created: now})
		}
	}
	for _, n := range opts.VerifiedCallerIDs {
		if n != "" && !a.verified[n] && !a.twilio[n] {
			a.verified[n] = true
			a.callerIDs = append(a.callerIDs, ownedNumber{sid: newSID("PN"), number: n, created: now})
		}
	}
	return a
}

// Numbers returns the account's Twilio numbers: ServiceNumber first, then
// Options.Numbers.
func (s *Server) Numbers() []string { return phoneNumbers(s.account.numbers) }

// VerifiedCallerIDs returns the account's verified caller ids.
func (s *Server) VerifiedCallerIDs() []string { return phoneNumbers(s.account.callerIDs) }

func phoneNumbers(ns []ownedNumber) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.number)
	}
	return out
}

// refuseCallFrom returns Twilio's answer to Calls.create from a number
// the account may not call from (21210), nil if it may. A call to a
// client or a SIP address may come from anything, as Twilio allows.
func (s *Server) refuseCallFrom(from, to string) *apiError {
	if strings.HasPrefix(to, "client:") || strings.HasPrefix(to, "sip:") ||
		s.account.twilio[from] || s.account.verified[from] {
		return nil
	}
	s.log.Info("call refused", zap.String(keyFrom, from), zap.String(keyTo, to), zap.Int(keyCode, codeFromNotVerified))
	return refusal(codeFromNotVerified, "The source phone number provided, %s, is not yet verified for your account. "+
		"You may only make calls from phone numbers that you've verified or purchased from Twilio.", from)
}

// refuseMessageFrom returns Twilio's answer to Messages.create from a
// number that is not one of the account's Twilio numbers (21606), nil if
// it may text. An empty From (a Messaging Service picks the sender) is
// not checked.
func (s *Server) refuseMessageFrom(from, to string) *apiError {
	if from == "" || s.account.twilio[from] {
		return nil
	}
	s.log.Info("message refused", zap.String(keyFrom, from), zap.String(keyTo, to), zap.Int(keyCode, codeFromCannotText))
	return refusal(codeFromCannotText, "The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", from)
}

// numberFilter applies the PhoneNumber filter of IncomingPhoneNumbers:
// a number or part of one, '*' standing for any digit, found anywhere in
// the number.
func numberFilter(pattern, number string) bool {
	if pattern == "" {
		return true
	}
	for i := 0; i+len(pattern) <= len(number); i++ {
		ok := true
		for j := 0; j < len(pattern) && ok; j++ {
			c := number[i+j]
			ok = pattern[j] == c || (pattern[j] == '*' && c >= '0' && c <= '9')
		}
		if ok {
			return true
		}
	}
	return false
}

func (s *Server) listIncomingNumbers(r *http.Request, p map[string]string) (result, *apiError) {
	q := r.URL.Query()
	var match []any
	for _, n := range s.account.numbers {
		if numberFilter(q.Get("PhoneNumber"), n.number) && eqFilter(q, "FriendlyName", n.number) &&
			eqFilter(q, "Origin", "twilio") {
			match = append(match, s.incomingNumberJSON(n))
		}
	}
	return result{status: http.StatusOK, body: page(r, p, "incoming_phone_numbers", match)}, nil
}

func (s *Server) listCallerIDs(r *http.Request, p map[string]string) (result, *apiError) {
	q := r.URL.Query()
	var match []any
	for _, n := range s.account.callerIDs {
		if eqFilter(q, "PhoneNumber", n.number) && eqFilter(q, "FriendlyName", n.number) {
			match = append(match, s.callerIDJSON(n))
		}
	}
	return result{status: http.StatusOK, body: page(r, p, "outgoing_caller_ids", match)}, nil
}

// incomingNumberJSON renders the api.v2010.account.incoming_phone_number
// schema. Every number takes calls and texts, at Options.VoiceWebhookURL
// and SMSWebhookURL, as the fake delivers them.
func (s *Server) incomingNumberJSON(n ownedNumber) map[string]any {
	return map[string]any{
		"account_sid":          s.opts.AccountSID,
		"address_sid":          nil,
		"address_requirements": "none",
		"api_version":          apiVersion,
		"beta":                 false,
		"capabilities": map[string]any{
			"voice": true, "sms": true, "mms": false, "fax": false,
		},
		"date_created":             rfc2822(n.created),
		"date_updated":             rfc2822(n.created),
		"friendly_name":            n.number,
		"identity_sid":             nil,
		"phone_number":             n.number,
		"origin":                   "twilio",
		"sid":                      n.sid,
		"sms_application_sid":      nil,
		"sms_fallback_method":      http.MethodPost,
		"sms_fallback_url":         nil,
		"sms_method":               http.MethodPost,
		"sms_url":                  nullable(s.opts.SMSWebhookURL),
		"status_callback":          nullable(s.opts.VoiceStatusCallbackURL),
		"status_callback_method":   http.MethodPost,
		"trunk_sid":                nil,
		"uri":                      "/2010-04-01/Accounts/" + s.opts.AccountSID + "/IncomingPhoneNumbers/" + n.sid + ".json",
		"voice_receive_mode":       "voice",
		"voice_application_sid":    nil,
		"voice_caller_id_lookup":   false,
		"voice_fallback_method":    http.MethodPost,
		"voice_fallback_url":       nullable(s.opts.VoiceFallbackURL),
		"voice_method":             http.MethodPost,
		"voice_url":                nullable(s.opts.VoiceWebhookURL),
		"emergency_status":         "Inactive",
		"emergency_address_sid":    nil,
		"emergency_address_status": "unregistered",
		"bundle_sid":               nil,
		"status":                   "in-use",
		"type":                     "local",
	}
}

// callerIDJSON renders the api.v2010.account.outgoing_caller_id schema.
func (s *Server) callerIDJSON(n ownedNumber) map[string]any {
	return map[string]any{
		"sid":           n.sid,
		"date_created":  rfc2822(n.created),
		"date_updated":  rfc2822(n.created),
		"friendly_name": n.number,
		"account_sid":   s.opts.AccountSID,
		"phone_number":  n.number,
		"uri":           "/2010-04-01/Accounts/" + s.opts.AccountSID + "/OutgoingCallerIds/" + n.sid + ".json",
	}
}
