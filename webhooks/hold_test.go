package webhooks_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/supportdesk/ivr/sounds"
)

// The wait URL's hold music is served as the segments sounds cuts, byte for
// byte, as public audio Twilio fetches without a signature; nothing past
// the last segment is served.
func TestHoldMusicServedAsSoundsCutsIt(t *testing.T) {
	e := newEnv(t)
	segs, err := sounds.HoldSegments(8 * time.Second) // Config.HoldSegment's default
	if err != nil {
		t.Fatal(err)
	}
	get := func(method string, n int) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, e.srv.URL+"/webhooks/twilio/hold/"+strconv.Itoa(n)+".wav", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	for n, want := range segs {
		resp, body := get(http.MethodGet, n)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" || !bytes.Equal(body, want) {
			t.Errorf("GET hold segment %d: %d %s, %d bytes; want 200 audio/wav, the %d bytes of sounds.HoldSegments",
				n, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), len(want))
		}
		if resp, body := get(http.MethodHead, n); resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(want)) || len(body) != 0 {
			t.Errorf("HEAD hold segment %d: %d, Content-Length %d, %d body bytes; want 200, %d, none", n, resp.StatusCode, resp.ContentLength, len(body), len(want))
		}
	}
	if resp, _ := get(http.MethodGet, len(segs)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET hold segment %d of %d: %d, want 404", len(segs), len(segs), resp.StatusCode)
	}
	e.closeTwilio()
}
