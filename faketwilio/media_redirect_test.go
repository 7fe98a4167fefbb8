package faketwilio_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
)

// With RedirectMedia, recording media answers 302 to a second loopback
// host, as Twilio redirects to its storage: the storage serves the audio
// to a request without credentials and refuses one that carries them.
func TestRecordingMediaRedirectsToStorage(t *testing.T) {
	s := start(t, nil, faketwilio.Options{})
	storage := s.RedirectMedia(t)
	wav := []byte("RIFF....WAVEfmt fake audio")
	_, media := s.AddRecording("CA00000000000000000000000000000001", wav)

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(media + ".wav")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, storage.URL()) || strings.HasPrefix(loc, s.URL()) {
		t.Fatalf("media: %d Location %q, want 302 to the storage at %s", resp.StatusCode, loc, storage.URL())
	}

	resp, err = http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != string(wav) {
		t.Fatalf("storage: %d %q, want 200 and the recording", resp.StatusCode, body)
	}

	req, _ := http.NewRequest(http.MethodGet, loc, nil)
	req.SetBasicAuth(s.AccountSID(), s.AuthToken())
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("storage with the account's credentials: %d, want 400", resp.StatusCode)
	}
	if u := s.TakeUnexpected(); len(u) != 1 || !strings.Contains(u[0], "credentials") {
		t.Fatalf("unexpected = %q, want the credentials sent to the storage reported", u)
	}
	if storage.Served() != 1 {
		t.Fatalf("storage served %d downloads, want 1", storage.Served())
	}
}
