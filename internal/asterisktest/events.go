package asterisktest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Event is the part of an ARI event that tests reading the raw events
// websocket (with no ARI library in between) look at.
type Event struct {
	Type        string   `json:"type"`
	Application string   `json:"application"`
	Args        []string `json:"args"`
	Channel     struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		State    string `json:"state"`
		Dialplan struct {
			Context string `json:"context"`
			Exten   string `json:"exten"`
		} `json:"dialplan"`
	} `json:"channel"`
	Playback struct {
		ID       string `json:"id"`
		MediaURI string `json:"media_uri"`
		State    string `json:"state"`
	} `json:"playback"`
}

// WatchEvents connects to the events websocket eventsURL
// (ws://…/ari/events) as application app with user and password, and the
// Origin the ARI library sends by default; once registered holds (the
// application is registered just after the upgrade's answer; up to 10 s)
// it returns the events as they come, a message that is not JSON as an
// Event of Type "undecodable: <message>". The connection closes when the
// test ends.
func WatchEvents(tb testing.TB, eventsURL, user, password, app string, registered func() bool) <-chan Event {
	tb.Helper()
	header := http.Header{}
	header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
	header.Set("Origin", "http://localhost/") // ari/v5's default ARI_WSORIGIN
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := dialer.DialContext(tb.Context(), eventsURL+"?"+url.Values{"app": {app}}.Encode(), header)
	if err != nil {
		tb.Fatalf("events websocket of %s: %v", app, err)
	}
	_ = resp.Body.Close()
	ch := make(chan Event, 64)
	done, stopped := make(chan struct{}), make(chan struct{})
	tb.Cleanup(func() {
		close(done)
		_ = conn.Close()
		<-stopped
	})
	go func() {
		defer close(stopped)
		defer close(ch)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var e Event
			if err := json.Unmarshal(data, &e); err != nil {
				e = Event{Type: "undecodable: " + string(data)}
			}
			select {
			case ch <- e:
			case <-done:
				return
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !registered() {
		if time.Now().After(deadline) {
			tb.Fatalf("application %s not registered within 10 s", app)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-tb.Context().Done():
			tb.Fatal(tb.Context().Err())
		}
	}
	return ch
}

// NextEvent returns the next event of type typ from ch, skipping others,
// failing the test after 15 s or if ch closes first.
func NextEvent(tb testing.TB, ch <-chan Event, typ string) Event {
	tb.Helper()
	timeout := time.NewTimer(15 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				tb.Fatalf("the events websocket closed before a %s", typ)
			}
			if e.Type == typ {
				return e
			}
		case <-timeout.C:
			tb.Fatalf("no %s within 15 s", typ)
		}
	}
}
