package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/webhooks"
)

// Twilio answers a recording's media URL with a redirect to its storage:
// the download follows it, and the account's credentials stay with
// Twilio's host (the fake's storage refuses and reports any that arrive).
func TestFetchMediaFollowsRedirectWithoutCredentials(t *testing.T) {
	tw := faketwilio.Start(t, faketwilio.Options{})
	storage := tw.RedirectMedia(t)
	rest, err := webhooks.NewREST(webhooks.Settings{APIURL: tw.URL(), AccountSID: tw.AccountSID(), AuthToken: tw.AuthToken()})
	if err != nil {
		t.Fatal(err)
	}
	wav := testWAV(2)
	_, media := tw.AddRecording("CA0000000000000000000000000000d1ff", wav)
	data, ct, err := rest.FetchMedia(context.Background(), media+".wav", 1<<20)
	if err != nil {
		t.Fatalf("fetch through Twilio's redirect: %v", err)
	}
	if string(data) != string(wav) || ct != "audio/x-wav" || storage.Served() != 1 {
		t.Fatalf("got %d bytes of %q (storage served %d), want the recording", len(data), ct, storage.Served())
	}
}

// Redirects are followed a few times only.
func TestFetchMediaStopsAfterAFewRedirects(t *testing.T) {
	var hits int
	var loop *httptest.Server
	loop = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Redirect(w, r, loop.URL+"/again", http.StatusFound)
	}))
	defer loop.Close()
	rest, err := webhooks.NewREST(webhooks.Settings{APIURL: loop.URL, AccountSID: "AC" + strings.Repeat("0", 32), AuthToken: "token"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rest.FetchMedia(context.Background(), loop.URL+"/media.wav", 1<<20); err == nil || hits > 6 {
		t.Fatalf("an endless redirect: err %v after %d requests, want an error after a few", err, hits)
	}
}
