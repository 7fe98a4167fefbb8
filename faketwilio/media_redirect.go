package faketwilio

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// MediaStorage is a second loopback host that recording media is
// redirected to, as Twilio answers a media request with a redirect to its
// storage (a pre-signed URL on another host). The storage serves the audio
// only to requests without credentials: the signature in the URL is its
// authentication, and a request that also carries an Authorization header
// is refused with 400, as S3 refuses two authentication mechanisms, and is
// reported unexpected: a client that sends the account's credentials to
// another host fails the test.
type MediaStorage struct {
	srv    *Server
	url    string
	token  string // the "signature" every redirect carries
	mu     sync.Mutex
	served int
}

// RedirectMedia makes every recording media request answer 302 Found to
// the storage it starts on 127.0.0.1 (a free port) for the rest of the
// test, and returns it.
func (s *Server) RedirectMedia(tb TB) *MediaStorage {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("faketwilio: media storage: %v", err)
		return nil
	}
	m := &MediaStorage{srv: s, url: "http://" + ln.Addr().String(), token: newSID("")}
	hs := &http.Server{Handler: http.HandlerFunc(m.serve), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln)
	}()
	tb.Cleanup(func() {
		_ = hs.Close()
		<-done
	})
	s.mu.Lock()
	s.storage = m
	s.mu.Unlock()
	return m
}

// URL is the storage's base URL.
func (m *MediaStorage) URL() string { return m.url }

// Served is how many downloads the storage has served.
func (m *MediaStorage) Served() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.served
}

// mediaStorage is the storage media is redirected to, nil for none.
func (s *Server) mediaStorage() *MediaStorage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storage
}

// redirect answers a media request for recording sid with the storage's
// pre-signed URL.
func (m *MediaStorage) redirect(w http.ResponseWriter, sid string) {
	w.Header().Set("Location", m.url+"/recordings/"+sid+".wav?Signature="+m.token)
	w.WriteHeader(http.StatusFound)
}

func (m *MediaStorage) serve(w http.ResponseWriter, r *http.Request) {
	s := m.srv
	what := "GET media storage " + r.URL.Path
	s.log.Info("media storage request", zap.String(keyMethod, r.Method), zap.String(keyPath, r.URL.Path))
	if r.Header.Get("Authorization") != "" {
		s.unexpectedf("%s: credentials sent to the storage host (answered 400)", what)
		http.Error(w, "Only one auth mechanism allowed", http.StatusBadRequest)
		return
	}
	sid, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/recordings/"), ".wav")
	if r.Method != http.MethodGet || !ok || r.URL.Query().Get("Signature") != m.token {
		http.Error(w, "Access Denied", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	var wav []byte
	if rec := s.recordings[sid]; rec != nil && !rec.deleted {
		wav = rec.wav
	}
	s.mu.Unlock()
	if wav == nil {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	m.mu.Lock()
	m.served++
	m.mu.Unlock()
	w.Header().Set("Content-Type", "audio/x-wav")
	w.Header().Set("Content-Length", strconv.Itoa(len(wav)))
	_, _ = w.Write(wav)
}
