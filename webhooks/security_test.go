package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"
)

// startCall answers a new call by hand (no fake phone): the voice webhook
// with Twilio's parameters, signed.
func (e *env) startCall(sid string) string {
	e.t.Helper()
	code, body := e.post("/webhooks/twilio/voice", map[string]string{"CallSid": sid, "From": client, "To": washington,
		"AccountSid": e.tw.AccountSID(), "CallStatus": "ringing", "Direction": "inbound"}, e.signer())
	if code != http.StatusOK || !strings.Contains(body, "<Gather") {
		e.t.Fatalf("voice webhook: %d %s", code, body)
	}
	return body
}

func TestRefusedRequestsChangeNothing(t *testing.T) {
	e := newEnv(t)
	const sid = "CA00000000000000000000000000000001"
	e.startCall(sid)
	before := flowState(t, e.states, sid)
	gather := "/webhooks/twilio/voice/gather?seq=1"
	form := map[string]string{"CallSid": sid, "Digits": "9"}
	forged := func(string, map[string][]string) string { return "bm90IGEgc2lnbmF0dXJl" }
	wrongKey := func(u string, p map[string][]string) string {
		return strings.Repeat("A", 27) + "=" // well-formed, wrong
	}
	for _, tc := range []struct {
		name string
		send func() (int, string)
		want int
	}{
		{"MissingSignature", func() (int, string) { return e.post(gather, form, nil) }, http.StatusForbidden},
		{"ForgedSignature", func() (int, string) { return e.post(gather, form, forged) }, http.StatusForbidden},
		{"WrongKey", func() (int, string) { return e.post(gather, form, wrongKey) }, http.StatusForbidden},
		{"OtherURLSigned", func() (int, string) {
			return e.post(gather, form, func(u string, p map[string][]string) string {
				return e.signer()(strings.Replace(u, "seq=1", "seq=2", 1), p)
			})
		}, http.StatusForbidden},
		{"GarbageForm", func() (int, string) { return e.raw(gather, "%zz&&=%", "x") }, http.StatusBadRequest},
		{"NotAForm", func() (int, string) { return e.rawType(gather, `{"CallSid":"x"}`, "application/json") }, http.StatusBadRequest},
		{"RepeatedParameter", func() (int, string) { return e.raw(gather, "CallSid="+sid+"&Digits=1&Digits=9", "x") }, http.StatusBadRequest},
		{"Oversized", func() (int, string) {
			return e.raw(gather, "CallSid="+sid+"&Pad="+strings.Repeat("a", 70<<10), "x")
		}, http.StatusRequestEntityTooLarge},
		{"UnknownCallSid", func() (int, string) {
			return e.post(gather, map[string]string{"CallSid": "CA0000000000000000000000000000ffff", "Digits": "9"}, e.signer())
		}, http.StatusNotFound},
		{"UnknownLeg", func() (int, string) {
			return e.post("/webhooks/twilio/legs/"+sid+"-leg7/answer", map[string]string{"CallSid": "CAleg"}, e.signer())
		}, http.StatusNotFound},
		{"NoCallSid", func() (int, string) { return e.post(gather, map[string]string{"Digits": "9"}, e.signer()) }, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := tc.send()
			if code != tc.want {
				t.Fatalf("status %d (%s), want %d", code, body, tc.want)
			}
			if strings.Contains(body, "<Response") {
				t.Fatalf("refused request answered with TwiML: %s", body)
			}
			if after := flowState(t, e.states, sid); after.Seq != before.Seq || after.Phase != before.Phase {
				t.Fatalf("state changed: seq %d→%d phase %s→%s", before.Seq, after.Seq, before.Phase, after.Phase)
			}
		})
	}
}

func (e *env) raw(path, body, sig string) (int, string) {
	return e.rawTypeSig(path, body, "application/x-www-form-urlencoded", sig)
}

func (e *env) rawType(path, body, ct string) (int, string) { return e.rawTypeSig(path, body, ct, "x") }

func (e *env) rawTypeSig(path, body, ct, sig string) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Twilio-Signature", sig)
	return do(e.t, req)
}

// Without an auth token every webhook is refused, clearly, even a request
// that would be validly signed with some token.
func TestNoAuthTokenRefusesEverything(t *testing.T) {
	e := newEnv(t)
	r := mux.NewRouter()
	e.newDriver(r, "")
	req, _ := http.NewRequest(http.MethodPost, "/webhooks/twilio/voice", strings.NewReader("CallSid=CA1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", "anything")
	w := newRecorder()
	r.ServeHTTP(w, req)
	if w.code != http.StatusServiceUnavailable || !strings.Contains(w.body.String(), "TWILIO_AUTH_TOKEN") {
		t.Fatalf("got %d %q, want 503 naming TWILIO_AUTH_TOKEN", w.code, w.body.String())
	}
}

// A webhook Twilio repeats gets the same document and advances the flow
// once.
func TestReplayedWebhookAdvancesOnce(t *testing.T) {
	e := newEnv(t)
	const sid = "CA00000000000000000000000000000002"
	first := e.startCall(sid)
	if again := e.startCall(sid); again != first {
		t.Fatalf("repeated voice webhook answered differently:\n%s\n%s", first, again)
	}
	form := map[string]string{"CallSid": sid, "Digits": "9"}
	_, a := e.post("/webhooks/twilio/voice/gather?seq=1", form, e.signer())
	seq := flowState(t, e.states, sid).Seq
	_, b := e.post("/webhooks/twilio/voice/gather?seq=1", form, e.signer())
	if a != b || !strings.Contains(a, "ticket_enter") {
		t.Fatalf("replay answered differently or wrongly:\n%s\n%s", a, b)
	}
	st := flowState(t, e.states, sid)
	if st.Seq != seq || st.Lang != "ru" {
		t.Fatalf("replay advanced the flow: seq %d→%d, lang %s", seq, st.Seq, st.Lang)
	}
	// The same request many times at once: still one step.
	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, bodies[i] = e.post(fmt.Sprintf("/webhooks/twilio/voice/gather?seq=%d", st.CallerSeq),
				map[string]string{"CallSid": sid, "Digits": "*"}, e.signer())
		}()
	}
	wg.Wait()
	for _, b := range bodies {
		if b != bodies[0] || !strings.Contains(b, "priority_menu") {
			t.Fatalf("concurrent repeats answered differently: %s vs %s", b, bodies[0])
		}
	}
	if got := flowState(t, e.states, sid); got.Seq != st.Seq+1 {
		t.Fatalf("concurrent repeats advanced the flow %d times", got.Seq-st.Seq)
	}
	// For monitoring: the repeated voice webhook, the repeated menu answer,
	// and seven of the eight concurrent ones.
	if got := e.driver.Stats().Replays; got != 9 {
		t.Errorf("Stats().Replays = %d, want 9", got)
	}
	_ = context.Background()
}

// recorder is a minimal ResponseWriter.
type recorder struct {
	h    http.Header
	code int
	body strings.Builder
}

func newRecorder() *recorder                    { return &recorder{h: http.Header{}, code: 200} }
func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(c int)           { r.code = c }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
