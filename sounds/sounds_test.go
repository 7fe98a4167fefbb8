package sounds_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/sounds"
)

// mustStartServer runs Handler mounted as its documentation says, on a
// real listener.
func mustStartServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET "+sounds.MountPath, sounds.Handler())
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

func do(tb testing.TB, srv *httptest.Server, method, path string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, body
}

func mustBytes(tb testing.TB, lang, name string) []byte {
	tb.Helper()
	b, ok := sounds.Bytes(lang, name)
	if !ok {
		tb.Fatalf("no audio for %s/%s", lang, name)
	}
	return b
}

func TestHandler(t *testing.T) {
	srv := mustStartServer(t)

	t.Run("OK", func(t *testing.T) {
		for _, c := range []struct{ path, lang, name string }{
			{"/sounds/en/goodbye.wav", "en", "goodbye"},
			{"/sounds/ru/digit_7.wav", "ru", "digit_7"},
			{"/sounds/hold.wav", "", sounds.Hold},
		} {
			want := mustBytes(t, c.lang, c.name)
			resp, body := do(t, srv, "GET", c.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s", c.path, resp.Status)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("GET %s: %d bytes differ from Bytes' %d", c.path, len(body), len(want))
			}
			h := resp.Header
			if ct := h.Get("Content-Type"); ct != "audio/wav" {
				t.Errorf("GET %s: Content-Type %q", c.path, ct)
			}
			if cl := h.Get("Content-Length"); cl != strconv.Itoa(len(want)) {
				t.Errorf("GET %s: Content-Length %q, want %d", c.path, cl, len(want))
			}
			if et := h.Get("ETag"); len(et) < 10 || !strings.HasPrefix(et, `"`) || !strings.HasSuffix(et, `"`) {
				t.Errorf("GET %s: ETag %q, want a quoted hash", c.path, et)
			}
			if cc := h.Get("Cache-Control"); cc != "public, max-age=86400" {
				t.Errorf("GET %s: Cache-Control %q", c.path, cc)
			}
		}
	})

	t.Run("Versioned", func(t *testing.T) {
		p, ok := sounds.URLPath("ru", "greeting_moscow")
		if !ok || !strings.HasPrefix(p, "/sounds/ru/greeting_moscow.wav?v=") {
			t.Fatalf("URLPath = %q, %v", p, ok)
		}
		resp, body := do(t, srv, "GET", p)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, mustBytes(t, "ru", "greeting_moscow")) {
			t.Fatalf("GET %s: %s, %d bytes", p, resp.Status, len(body))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", p, cc)
		}
		// A version that is not the content's is served, but not for good.
		resp, _ = do(t, srv, "GET", "/sounds/ru/greeting_moscow.wav?v=0000000000000000")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=86400" {
			t.Errorf("GET with a stale version: %s, Cache-Control %q", resp.Status, resp.Header.Get("Cache-Control"))
		}
	})

	t.Run("Head", func(t *testing.T) {
		want := mustBytes(t, "en", "goodbye")
		resp, body := do(t, srv, "HEAD", "/sounds/en/goodbye.wav")
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Fatalf("HEAD: %s with %d bytes of body", resp.Status, len(body))
		}
		if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(want)) {
			t.Errorf("HEAD: Content-Length %q, want %d", cl, len(want))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "audio/wav" {
			t.Errorf("HEAD: Content-Type %q", ct)
		}
	})

	t.Run("NotModified", func(t *testing.T) {
		resp, _ := do(t, srv, "GET", "/sounds/en/goodbye.wav")
		etag := resp.Header.Get("ETag")
		resp, body := do(t, srv, "GET", "/sounds/en/goodbye.wav", "If-None-Match", etag)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("If-None-Match %s: %s with %d bytes", etag, resp.Status, len(body))
		}
		if resp.Header.Get("ETag") != etag {
			t.Errorf("304 ETag %q, want %q", resp.Header.Get("ETag"), etag)
		}
		// Another file's ETag does not match.
		resp, _ = do(t, srv, "GET", "/sounds/ru/goodbye.wav", "If-None-Match", etag)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("ru/goodbye.wav with en's ETag: %s", resp.Status)
		}
	})

	t.Run("Range", func(t *testing.T) {
		resp, body := do(t, srv, "GET", "/sounds/hold.wav", "Range", "bytes=0-11")
		if resp.StatusCode != http.StatusPartialContent || string(body[:4]) != "RIFF" || string(body[8:]) != "WAVE" {
			t.Errorf("Range: %s %q", resp.Status, body)
		}
	})

	t.Run("ErrMethod", func(t *testing.T) {
		rec := httptest.NewRecorder()
		sounds.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/sounds/en/goodbye.wav", nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("POST: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		// Through the server: unknown names and languages.
		for _, p := range []string{
			"/sounds/en/no_such_prompt.wav",
			"/sounds/de/goodbye.wav",
			"/sounds/EN/goodbye.wav",
			"/sounds/en/goodbye.mp3",
			"/sounds/en/goodbye",
			"/sounds/en/goodbye.wav/",
			"/sounds/en/",
			"/sounds/",
			"/sounds/manifest.json",
			"/sounds/audio/en/goodbye.wav",
			"/sounds/en/hold.wav",
		} {
			if resp, _ := do(t, srv, "GET", p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %s, want 404", p, resp.Status)
			}
		}
		// Straight to the handler, with no mux to clean the path first.
		for _, p := range []string{
			"/sounds/../sounds/hold.wav",
			"/sounds/en/../hold.wav",
			"/sounds/en/../../go.mod",
			"/sounds/%2e%2e/sounds/hold.wav",
			"/sounds/en/..%2fhold.wav",
			"/sounds//hold.wav",
			"/sounds/./hold.wav",
			"/sounds/en//goodbye.wav",
			"/hold.wav",
			"/en/goodbye.wav",
			"/sounds/en/goodbye.wav%00",
		} {
			rec := httptest.NewRecorder()
			sounds.Handler().ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
			if rec.Code != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, rec.Code)
			}
		}
	})
}

func TestOpen(t *testing.T) {
	f, err := sounds.Open("ru", "goodbye")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(b, mustBytes(t, "ru", "goodbye")) {
		t.Errorf("Open read %d bytes, %v", len(b), err)
	}
	if h, err := sounds.Open("", sounds.Hold); err != nil {
		t.Errorf("Open hold: %v", err)
	} else {
		h.Close()
	}
	for _, c := range [][2]string{{"ru", "nope"}, {"de", "goodbye"}, {"", "goodbye"}, {"", "ru/goodbye"},
		{"ru", "../hold"}, {"ru/..", "hold"}, {"ru", ""}, {"", "manifest"}, {"en", sounds.Hold}} {
		if _, err := sounds.Open(c[0], c[1]); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q, %q): %v, want fs.ErrNotExist", c[0], c[1], err)
		}
		if _, ok := sounds.Bytes(c[0], c[1]); ok {
			t.Errorf("Bytes(%q, %q) found a file", c[0], c[1])
		}
		if d := sounds.Duration(c[0], c[1]); d != 0 {
			t.Errorf("Duration(%q, %q) = %v", c[0], c[1], d)
		}
		if p, ok := sounds.URLPath(c[0], c[1]); ok || p != "" {
			t.Errorf("URLPath(%q, %q) = %q, %v", c[0], c[1], p, ok)
		}
	}
}

func TestBytesIsACopy(t *testing.T) {
	b := mustBytes(t, "en", "digit_1")
	copy(b, "XXXX")
	if again := mustBytes(t, "en", "digit_1"); string(again[:4]) != "RIFF" {
		t.Error("changing the result of Bytes changed the embedded audio")
	}
}

func TestDuration(t *testing.T) {
	// sox writes a 44-byte header, then 16,000 bytes a second.
	b := mustBytes(t, "en", "goodbye")
	want := time.Duration(len(b)-44) * time.Second / 16000
	if d := sounds.Duration("en", "goodbye"); d != want {
		t.Errorf("Duration = %v, want %v", d, want)
	}
	if d := sounds.Duration("", sounds.Hold); d < 20*time.Second || d > 30*time.Second {
		t.Errorf("hold music plays %v, want 20–30s", d)
	}
}

func ExampleURLPath() {
	p, ok := sounds.URLPath("en", "goodbye")
	fmt.Println(strings.HasPrefix(p, "/sounds/en/goodbye.wav?v="), ok)
	// Output: true true
}
