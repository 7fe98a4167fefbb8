package pagecall

import (
	"context"
	"errors"
	"testing"

	"github.com/supportdesk/ivr/pager"
)

// stub is a voice channel whose requests end as told, counting them.
type stub struct {
	id           string
	err          error
	found        string
	findErr      error
	outcome      pager.Outcome
	sent, looked int
}

func (s *stub) Send(context.Context, pager.Attempt) (string, error) {
	s.sent++
	return s.id, s.err
}

func (s *stub) Find(context.Context, pager.Attempt) (string, error) {
	s.looked++
	return s.found, s.findErr
}

func (s *stub) Poll(context.Context, pager.Attempt) (pager.Outcome, error) { return s.outcome, nil }

var (
	unreachable = &pager.SendError{Class: pager.Retry, Err: errors.New("connection refused")}
	timedOut    = &pager.SendError{Class: pager.Doubt, Err: errors.New("timeout")}
	refused     = &pager.SendError{Class: pager.Permanent, Outcome: pager.Rejected, Err: errors.New("21215")}
)

// TestFallbackSend: the fallback calls only when the primary certainly
// made no call; a primary that may have called, or refused for good, is
// not followed by a second call.
func TestFallbackSend(t *testing.T) {
	for _, tc := range []struct {
		name              string
		primary, fallback *stub
		wantID            string
		wantClass         pager.ErrorClass // when an error is wanted
		wantErr           bool
		wantFallbackSent  int
	}{
		{"primary calls", &stub{id: "CA1"}, &stub{id: "ivr-page-1-a"}, "CA1", 0, false, 0},
		{"primary unreachable", &stub{err: unreachable}, &stub{id: "ivr-page-1-a"}, "ivr-page-1-a", 0, false, 1},
		{"primary in doubt", &stub{err: timedOut}, &stub{id: "ivr-page-1-a"}, "", pager.Doubt, true, 0},
		{"primary refuses for good", &stub{err: refused}, &stub{id: "ivr-page-1-a"}, "", pager.Permanent, true, 0},
		{"both unreachable", &stub{err: unreachable}, &stub{err: unreachable}, "", pager.Retry, true, 1},
		{"fallback in doubt", &stub{err: unreachable}, &stub{err: timedOut}, "", pager.Doubt, true, 1},
		{"fallback refuses", &stub{err: unreachable}, &stub{err: refused}, "", pager.Retry, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Fallback{Primary: tc.primary, Secondary: tc.fallback}
			id, err := f.Send(t.Context(), pager.Attempt{ID: 1, Kind: pager.KindVoice})
			if id != tc.wantID || (err != nil) != tc.wantErr || (err != nil && pager.ClassOf(err) != tc.wantClass) {
				t.Errorf("Send = %q, %v; want %q, error %v of class %d", id, err, tc.wantID, tc.wantErr, tc.wantClass)
			}
			if tc.fallback.sent != tc.wantFallbackSent {
				t.Errorf("the fallback was asked %d times, want %d", tc.fallback.sent, tc.wantFallbackSent)
			}
		})
	}
}

// TestFallbackFind: a request in doubt is looked for at the fallback,
// then at the primary; the primary's failure to answer is not taken for
// an absence.
func TestFallbackFind(t *testing.T) {
	down := errors.New("twilio unreachable")
	for _, tc := range []struct {
		name              string
		primary, fallback *stub
		want              string
		wantErr           bool
	}{
		{"at the fallback", &stub{found: "CA1"}, &stub{found: "ivr-page-1-a"}, "ivr-page-1-a", false},
		{"at the primary", &stub{found: "CA1"}, &stub{}, "CA1", false},
		{"nowhere", &stub{}, &stub{}, "", false},
		{"the primary cannot say", &stub{findErr: down}, &stub{}, "", true},
		{"neither can say", &stub{findErr: down}, &stub{findErr: down}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := Fallback{Primary: tc.primary, Secondary: tc.fallback}.Find(t.Context(), pager.Attempt{ID: 1})
			if id != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("Find = %q, %v; want %q, error %v", id, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestFallbackPoll: a stale call is asked about at the channel that made
// it, told by its id.
func TestFallbackPoll(t *testing.T) {
	ours, err := New(Config{DialString: "PJSIP/{phone}@trunk", SoundsDir: "/sounds"})
	if err != nil {
		t.Fatal(err)
	}
	twilio := &stub{outcome: pager.NoAnswer}
	for _, f := range []Fallback{{Primary: twilio, Secondary: ours}, {Primary: ours, Secondary: twilio}} {
		if o, err := f.Poll(t.Context(), pager.Attempt{ProviderID: "CA123"}); o != pager.NoAnswer || err != nil {
			t.Errorf("Poll of Twilio's call = %q, %v; want Twilio's no-answer", o, err)
		}
		// Ours, not served here and with no ARI client: not known to be over.
		if o, err := f.Poll(t.Context(), pager.Attempt{ID: 7, ProviderID: "ivr-page-7-abc"}); o == pager.NoAnswer {
			t.Errorf("Poll of Asterisk's call asked Twilio: %q, %v", o, err)
		}
	}
}
