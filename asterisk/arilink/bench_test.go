package arilink_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
)

// BenchmarkEventLatency measures the time from an event written by a
// fake Asterisk to its arrival at a subscriber of the library's bus,
// with the library connected straight to it ("direct") and through a
// Link ("relay"), one event at a time: the relay's cost per event
// (decoding, one more websocket hop on loopback). Not run by .ci/run:
//
//	go test -run '^$' -bench EventLatency ./asterisk/arilink/
func BenchmarkEventLatency(b *testing.B) {
	for _, via := range []string{"direct", "relay"} {
		b.Run(via, func(b *testing.B) {
			fake := newFakeAsterisk(b)
			var client ari.Client
			if via == "direct" {
				c := native.New(&native.Options{
					Application: "bench", URL: fake.URL + "/ari", WebsocketURL: fake.events,
					WebsocketOrigin: fake.URL, Username: "u", Password: "p",
				})
				if err := c.Connect(); err != nil {
					b.Fatal(err)
				}
				client = c
			} else {
				connected := make(chan ari.Client, 1)
				link, err := arilink.New(arilink.Config{
					URL: fake.URL + "/ari", Username: "u", Password: "p", Application: "bench", Log: zap.NewNop(),
					OnConnect: func(_ context.Context, c arilink.Connection) { connected <- c.Client },
				})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- link.Run(ctx) }()
				b.Cleanup(func() {
					cancel()
					if err := <-done; err != nil {
						b.Error(err)
					}
				})
				client = <-connected
			}
			sub := client.Bus().Subscribe(nil, ari.Events.ChannelUserevent)
			defer sub.Cancel()
			latencies := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				sent := time.Now()
				fake.send <- []byte(`{"type":"ChannelUserevent","application":"bench","timestamp":"2026-12-01T12:00:00.000+0000",` +
					`"eventname":"e` + strconv.Itoa(i) + `","channel":{"id":"c1","name":"PJSIP/c1","state":"Up"},"userevent":{}}`)
				<-sub.Events()
				latencies = append(latencies, time.Since(sent))
			}
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// fakeAsterisk answers what the library and the Link ask of Asterisk
// (info, the event filter) and writes the events sent on send to its
// events websocket.
type fakeAsterisk struct {
	*httptest.Server
	events string
	send   chan []byte
}

func newFakeAsterisk(tb testing.TB) *fakeAsterisk {
	f := &fakeAsterisk{send: make(chan []byte)}
	stop := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ari/asterisk/info", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "{}")
	})
	mux.HandleFunc("PUT /ari/applications/{app}/eventFilter", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "{}")
	})
	mux.HandleFunc("GET /ari/events", func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		for {
			select {
			case <-stop:
				return
			case data := <-f.send:
				if err := c.WriteMessage(websocket.TextMessage, data); err != nil {
					return
				}
			}
		}
	})
	f.Server = httptest.NewServer(mux)
	f.events = "ws" + strings.TrimPrefix(f.URL, "http") + "/ari/events"
	tb.Cleanup(func() {
		close(stop)
		f.CloseClientConnections()
		f.Close()
	})
	return f
}
