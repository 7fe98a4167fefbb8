package pagecall

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/supportdesk/ivr/pager"
)

// TestSendWithoutAsterisk: a page call that cannot be placed for want of
// Asterisk (not connected, not running) fails as a request certainly not
// made, so that Fallback's other channel or a retry takes over; a text is
// no call, for good.
func TestSendWithoutAsterisk(t *testing.T) {
	down := errors.New("Asterisk at http://127.0.0.1:1/ari not connected")
	ch, err := New(Config{DialString: "PJSIP/{phone}@trunk", SoundsDir: "/sounds", Ready: func() error { return down }})
	if err != nil {
		t.Fatal(err)
	}
	call := pager.Attempt{ID: 1, Kind: pager.KindVoice, To: "+12025550101"}
	if _, err := ch.Send(t.Context(), call); pager.ClassOf(err) != pager.Retry || !errors.Is(err, down) {
		t.Errorf("Send while not connected = %v, want a retry saying so", err)
	}
	if _, err := ch.Send(t.Context(), pager.Attempt{ID: 2, Kind: pager.KindSMS}); pager.ClassOf(err) != pager.Permanent {
		t.Errorf("Send of a text = %v, want a permanent failure", err)
	}

	up, err := New(Config{DialString: "PJSIP/{phone}@trunk", SoundsDir: "/sounds"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Send(t.Context(), call); pager.ClassOf(err) != pager.Retry {
		t.Errorf("Send before Run = %v, want a retry", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = up.Run(ctx) })
	if _, err := up.Send(t.Context(), call); pager.ClassOf(err) != pager.Retry { // no client yet
		t.Errorf("Send before a connection = %v, want a retry", err)
	}
	cancel()
	wg.Wait()
	if _, err := up.Send(t.Context(), call); pager.ClassOf(err) != pager.Retry {
		t.Errorf("Send after Run = %v, want a retry", err)
	}
}

// TestNewRefuses: settings that cannot work are refused, naming them.
func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no sounds", Config{DialString: "PJSIP/{phone}@trunk"}},
		{"no dial string", Config{SoundsDir: "/sounds"}},
		{"dial string without the number", Config{DialString: "PJSIP/trunk", SoundsDir: "/sounds"}},
		{"application with a comma", Config{App: "a,b", DialString: "PJSIP/{phone}@trunk", SoundsDir: "/sounds"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Errorf("New(%+v) = nil error, want a refusal", tc.cfg)
			}
		})
	}
}
