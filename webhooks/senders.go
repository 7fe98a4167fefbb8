package webhooks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/errs"
)

// SenderLister says which numbers are the account's: those the service
// may call and text from. NewREST's client implements it.
type SenderLister interface {
	// TwilioNumbers lists the account's Twilio numbers (bought or ported:
	// IncomingPhoneNumbers) that Twilio's PhoneNumber filter matches with
	// number; the filter also matches numbers that merely contain it.
	TwilioNumbers(ctx context.Context, number string) ([]AccountNumber, error)
	// VerifiedCallerIDs lists the account's verified caller ids
	// (OutgoingCallerIds) equal to number.
	VerifiedCallerIDs(ctx context.Context, number string) ([]string, error)
}

// AccountNumber is one of the account's Twilio numbers.
type AccountNumber struct {
	Number string // E.164
	// SMS says whether it takes texts, and so can send them; Twilio
	// refuses texts from a number without it (a Moscow landline, say).
	SMS bool
}

// SendersUncheckedError is CheckSenders' answer when Twilio could not say
// (unreachable, 5xx, timeout, …) whether some senders are the account's,
// and none was found not to be: the service may still work.
type SendersUncheckedError struct {
	Settings []string // the settings not checked, each with its number ("--pager-caller-id +1…")
	Err      error    // why the first of them could not be checked
}

func (e *SendersUncheckedError) Error() string {
	return fmt.Sprintf("could not ask Twilio whether these senders are the account's numbers or verified caller ids: %s: %v", strings.Join(e.Settings, ", "), e.Err)
}

func (e *SendersUncheckedError) Unwrap() error { return e.Err }

// CheckSenders asks Twilio whether the numbers the service calls and texts
// from are the account's, so that a number Twilio would refuse stops the
// service at start rather than every call to an engineer later. callerIDs
// maps a setting ("--lines (Moscow)", "--pager-caller-id") to the number
// calls leave from: a Twilio number or a verified caller id (anything
// else: 21210). smsFrom maps a setting to the number texts leave from: a
// Twilio number able to text (anything else, verified caller ids included:
// 21606), or a Messaging Service (MG…), which is not checked.
//
// It returns nil when every sender qualifies; an error naming, as an
// errs.Invalid of its setting, each one that does not and why; or, when
// none was found wanting but some could not be checked, a
// *SendersUncheckedError. With Unconfigured (no Twilio account) it checks
// nothing. twilio-go takes no context: ctx bounds the wait, and a request
// it abandons ends with the client's timeout.
func CheckSenders(ctx context.Context, rest SenderLister, callerIDs, smsFrom map[string]string) error {
	if _, ok := rest.(unconfigured); ok {
		return nil
	}
	type sender struct {
		setting, number string
		texts           bool
	}
	var senders []sender
	for _, k := range sortedKeys(callerIDs) {
		senders = append(senders, sender{k, callerIDs[k], false})
	}
	for _, k := range sortedKeys(smsFrom) {
		if n := smsFrom[k]; !strings.HasPrefix(n, messagingServicePrefix) {
			senders = append(senders, sender{k, n, true})
		}
	}
	found := map[string]*senderLookup{}
	for _, s := range senders {
		if s.number != "" && found[s.number] == nil {
			found[s.number] = &senderLookup{}
		}
	}
	var wg sync.WaitGroup
	for n, l := range found {
		wg.Go(func() { l.look(ctx, rest, n) })
	}
	wg.Wait()

	var refused []error
	unchecked := &SendersUncheckedError{}
	for _, s := range senders {
		l := found[s.number]
		if l == nil {
			continue
		}
		if l.err != nil {
			unchecked.Settings = append(unchecked.Settings, s.setting+" "+s.number)
			if unchecked.Err == nil {
				unchecked.Err = l.err
			}
			continue
		}
		if why := l.refusal(s.number, s.texts); why != "" {
			refused = append(refused, errs.InvalidField(s.setting, "%s", why))
		}
	}
	switch {
	case len(refused) > 0 && len(unchecked.Settings) > 0:
		// Told, not typed: the refusals decide.
		return errors.Join(append(refused, errors.New(unchecked.Error()))...)
	case len(refused) > 0:
		return errors.Join(refused...)
	case len(unchecked.Settings) > 0:
		return unchecked
	}
	return nil
}

// senderLookup is what Twilio says of one number.
type senderLookup struct {
	twilio   *AccountNumber // nil: not a Twilio number of the account
	verified bool
	err      error // the question could not be asked
}

// look asks Twilio about number: a Twilio number of the account, else a
// verified caller id.
func (l *senderLookup) look(ctx context.Context, rest SenderLister, number string) {
	numbers, err := withContext(ctx, func(ctx context.Context) ([]AccountNumber, error) { return rest.TwilioNumbers(ctx, number) })
	if err != nil {
		l.err = err
		return
	}
	for _, n := range numbers {
		if n.Number == number {
			l.twilio = &n
			return
		}
	}
	ids, err := withContext(ctx, func(ctx context.Context) ([]string, error) { return rest.VerifiedCallerIDs(ctx, number) })
	if err != nil {
		l.err = err
		return
	}
	l.verified = slices.Contains(ids, number)
}

// refusal says why Twilio refuses calls (texts false) or texts from
// number; "" if it does not.
func (l *senderLookup) refusal(number string, texts bool) string {
	const useInstead = "Use a Twilio number of this account that takes texts, or a Messaging Service (MG…)"
	switch {
	case !texts && (l.twilio != nil || l.verified):
		return ""
	case !texts:
		return number + " is neither a Twilio number of this account nor one of its verified caller ids: Twilio refuses calls from it (21210). " +
			"Buy or port it, or verify it in Twilio's console under Phone Numbers → Verified Caller IDs"
	case l.twilio != nil && l.twilio.SMS:
		return ""
	case l.twilio != nil:
		return number + " is a Twilio number of this account that takes no texts, so it cannot send any: Twilio refuses texts from it (21606). " + useInstead
	case l.verified:
		return number + " is one of this account's verified caller ids, and verified caller ids cannot send texts: Twilio refuses texts from it (21606). " + useInstead
	}
	return number + " is not a Twilio number of this account: Twilio refuses texts from it (21606). " + useInstead
}

// withContext runs f, giving up when ctx ends first: twilio-go takes no
// context, so an abandoned f finishes in the background, bounded by the
// client's timeout.
func withContext[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	type answer struct {
		v   T
		err error
	}
	done := make(chan answer, 1)
	go func() {
		v, err := f(ctx)
		done <- answer{v, err}
	}()
	select {
	case a := <-done:
		return a.v, a.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("twilio: no answer in time: %w", ctx.Err())
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// senderListLimit bounds a look-up: Twilio's PhoneNumber filter also
// matches numbers that contain the one asked for, and the one itself is
// among the few.
const senderListLimit = 20

func (c *restClient) TwilioNumbers(_ context.Context, number string) ([]AccountNumber, error) {
	p := &api.ListIncomingPhoneNumberParams{}
	p.SetPhoneNumber(number).SetPageSize(senderListLimit).SetLimit(senderListLimit)
	list, err := c.api.ListIncomingPhoneNumber(p)
	if err != nil {
		return nil, fmt.Errorf("twilio: list the account's numbers matching %s: %w", number, err)
	}
	out := make([]AccountNumber, 0, len(list))
	for _, n := range list {
		// Capabilities missing from the answer are not held against it.
		out = append(out, AccountNumber{Number: deref(n.PhoneNumber), SMS: n.Capabilities == nil || n.Capabilities.Sms})
	}
	return out, nil
}

func (c *restClient) VerifiedCallerIDs(_ context.Context, number string) ([]string, error) {
	p := &api.ListOutgoingCallerIdParams{}
	p.SetPhoneNumber(number).SetPageSize(senderListLimit).SetLimit(senderListLimit)
	list, err := c.api.ListOutgoingCallerId(p)
	if err != nil {
		return nil, fmt.Errorf("twilio: list the account's verified caller ids %s: %w", number, err)
	}
	out := make([]string, 0, len(list))
	for _, id := range list {
		out = append(out, deref(id.PhoneNumber))
	}
	return out, nil
}

// The REST of a service with no Twilio account has no numbers to tell of;
// CheckSenders does not ask it.
func (unconfigured) TwilioNumbers(context.Context, string) ([]AccountNumber, error) {
	return nil, errUnconfigured
}
func (unconfigured) VerifiedCallerIDs(context.Context, string) ([]string, error) {
	return nil, errUnconfigured
}
