package pager

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// TestUnverifiedNumbersNotPaged: the pager reaches an engineer on their
// verified numbers only. One whose numbers are all unverified is reached
// as one without numbers is (mute: every channel is skipped and the page
// moves on); an unverified number before a verified one is passed over.
func TestUnverifiedNumbersNotPaged(t *testing.T) {
	base := oncall.Engineer{ID: 8, Name: "Mute", Languages: []oncall.Language{en}, TimeZone: "UTC"}

	none := base
	none.Contacts = []oncall.ContactMethod{{Phone: "+12025550177", SMS: true, Unverified: true}}
	if got := TargetOf(none); got != mute {
		t.Errorf("TargetOf an engineer with only an unverified number = %+v, want %+v (no numbers)", got, mute)
	}

	mixed := base
	mixed.Contacts = []oncall.ContactMethod{{Phone: "+12025550177", SMS: true, Unverified: true},
		{Phone: "+12025550008"}, {Phone: "+12025550108", SMS: true}}
	got := targetOf(mixed, map[string]time.Time{})
	if got.Phone != "+12025550008" || got.SMSPhone != "+12025550108" {
		t.Errorf("targetOf with an unverified number first = %+v, want voice +12025550008, texts +12025550108", got)
	}
	// Texts go to the first verified number that has not opted out, never
	// to an unverified one.
	got = targetOf(mixed, map[string]time.Time{"+12025550108": t0})
	if got.SMSPhone != "+12025550108" || !got.SMSOptedOut {
		t.Errorf("targetOf with the verified texting number opted out = %+v, want it marked opted out", got)
	}
}
