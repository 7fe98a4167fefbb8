package ivr_test

import (
	"strings"
	"testing"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

// A caller whose call the service failed to route hears, in the language
// asked for, that there are technical difficulties (not that nobody is
// available), then how to leave a message.
func TestFallbackPrompts(t *testing.T) {
	for _, l := range []oncall.Language{oncall.Russian, oncall.English} {
		ps := ivr.FallbackPrompts(l)
		if len(ps) != 2 || ps[len(ps)-1].Name != ivr.PLeaveMessage {
			t.Fatalf("%s: %+v, want the apology then leave_message", l, ps)
		}
		for _, p := range ps {
			emitted.Store(p.Name, true)
			if p.Lang != l || ivr.Text(p) == "" {
				t.Errorf("%s: prompt %+v is not in the catalogue in its language", l, p)
			}
		}
	}
	if got := ivr.Text(ivr.FallbackPrompts(oncall.English)[0]); !strings.Contains(got, "technical difficulties") {
		t.Errorf("English apology %q does not say technical difficulties", got)
	}
	if got := ivr.Text(ivr.FallbackPrompts(oncall.Russian)[0]); !strings.Contains(got, "технические неполадки") {
		t.Errorf("Russian apology %q does not say технические неполадки", got)
	}
}
