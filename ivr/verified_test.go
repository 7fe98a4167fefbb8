package ivr_test

import (
	"testing"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// TestUnverifiedNumbersNotRung: a number an engineer added and never
// confirmed is never rung for a support call. An engineer with only such
// numbers is passed over as one without a phone is; one with a verified
// number too is rung on that.
func TestUnverifiedNumbersNotRung(t *testing.T) {
	runCases(t, []flowCase{{
		name: "only an unverified number: skipped as without a phone",
		setup: func(e *env) {
			a, _ := e.roster.At(oncall.L1, oncall.Primary)
			a.Contacts = []oncall.ContactMethod{{Phone: "+79990000099", Unverified: true}}
			e.roster.Put(oncall.L1, oncall.Primary, a)
		},
		turns: []ex{{5, ivr.Digits{}, askTicketRU},
			{15, ivr.Digits{Digits: "12345"}, "ring CA1-leg1 e12 +79990000012 cid=+74996383867 25s | caller: hold ru[word_ticket d:12345 pause word_priority priority_critical searching hold_offer_message]"}},
	}, {
		name: "an unverified number first: the verified one is rung",
		setup: func(e *env) {
			a, _ := e.roster.At(oncall.L1, oncall.Primary)
			a.Contacts = append([]oncall.ContactMethod{{Phone: "+79990000099", Unverified: true}}, a.Contacts...)
			e.roster.Put(oncall.L1, oncall.Primary, a)
		},
		turns: toRinging,
	}})
}
