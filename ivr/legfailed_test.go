package ivr_test

import (
	"testing"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// An engineer whose leg failed at the provider hears, in their language,
// that a technical problem interrupted the call.
func TestLegFailedPrompts(t *testing.T) {
	for _, l := range []oncall.Language{oncall.Russian, oncall.English} {
		ps := ivr.LegFailedPrompts(l)
		if len(ps) == 0 {
			t.Fatalf("%s: no prompt", l)
		}
		for _, p := range ps {
			emitted.Store(p.Name, true)
			if p.Lang != l || ivr.Text(p) == "" {
				t.Errorf("%s: prompt %+v is not in the catalogue in its language", l, p)
			}
		}
	}
}
