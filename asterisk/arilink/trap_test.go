package arilink_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
	"github.com/gorilla/websocket"
)

// trapChild, set in the environment, makes TestLibraryTrap the child
// process that meets the trap.
const trapChild = "ARILINK_TEST_TRAP_CHILD"

// TestLibraryTrap shows the trap the relay exists for, in a child
// process: ari/v5 v5.3.1's native client, connected straight to a
// server that sends it an event type it does not know
// (ChannelToneDetected, which Asterisk 22 sends), panics the whole
// process once anything is subscribed to its bus. Should a version of the
// library stop doing so, this test says so.
func TestLibraryTrap(t *testing.T) {
	if os.Getenv(trapChild) == "1" {
		meetTrap(t)
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLibraryTrap$", "-test.count=1") //nolint:gosec // G204: this test binary
	cmd.Env = append(os.Environ(), trapChild+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(out), "panic: runtime error") || !strings.Contains(string(out), "stdbus.(*bus).Send") {
		t.Fatalf("the child: %v, want a panic in the library's bus; its output:\n%s", err, out)
	}
	t.Logf("the library without the relay: %s", firstLine(string(out), "panic:"))
}

// meetTrap is the child: the library's client against a fake Asterisk
// that sends an unknown event once the client has subscribed.
func meetTrap(t *testing.T) {
	send := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ari/asterisk/info", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "{}")
	})
	mux.HandleFunc("POST /ari/send", func(w http.ResponseWriter, _ *http.Request) {
		close(send)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /ari/events", func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		<-send
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ChannelToneDetected","application":"trap","timestamp":"2026-12-01T12:00:00.000+0000","channel":{"id":"x"}}`))
		_, _, _ = c.ReadMessage()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := native.New(&native.Options{
		Application: "trap", URL: srv.URL + "/ari", WebsocketURL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ari/events",
		WebsocketOrigin: srv.URL, Username: "u", Password: "p",
	})
	if err := client.Connect(); err != nil {
		t.Fatal(err)
	}
	sub := client.Bus().Subscribe(nil, ari.Events.All)
	resp, err := http.Post(srv.URL+"/ari/send", "", nil) //nolint:noctx // the child's own fake, on loopback
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	select {
	case e := <-sub.Events():
		t.Logf("received %#v and did not panic", e)
	case <-time.After(10 * time.Second):
		t.Log("no panic within 10 s")
	}
}

func firstLine(s, prefix string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}
