package sounds

import (
	"net/http"
	"strings"
	"time"
)

// Cache lifetimes. A versioned URL (URLPath's ?v= matching the content)
// never changes meaning, so it may be kept for a year; a bare one may be
// re-generated under the same name, so it is kept for a day and then
// revalidated with its ETag.
const (
	cacheVersioned   = "public, max-age=31536000, immutable"
	cacheUnversioned = "public, max-age=86400"
)

// Handler serves the audio over HTTP, for Twilio's <Play> and for anyone
// who wants to listen:
//
//	GET /sounds/{lang}/{name}.wav   a prompt, lang "ru" or "en"
//	GET /sounds/hold.wav            the hold music
//
// as audio/wav with Content-Length, an ETag derived from the content's
// SHA-256 and a long Cache-Control (see URLPath). HEAD works, If-None-Match
// answers 304 Not Modified and byte ranges are honoured. Any other path,
// including one that tries to climb out with "..", is 404 Not Found, and a
// method other than GET and HEAD is 405.
//
// Handler reads the full request path, so mount it as it is at MountPath:
//
//	mux.Handle("GET "+sounds.MountPath, sounds.Handler())
//
// (a "GET" pattern also matches HEAD), not under http.StripPrefix.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	// Only exact names of embedded files match: no cleaning, so "..",
	// "//" and the like never reach another file.
	k, ok := strings.CutPrefix(r.URL.Path, MountPath)
	f, found := index()[k]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+f.version+`"`)
	if r.URL.Query().Get("v") == f.version {
		h.Set("Cache-Control", cacheVersioned)
	} else {
		h.Set("Cache-Control", cacheUnversioned)
	}
	// ServeContent sets Content-Length, answers HEAD, ranges and
	// If-None-Match against the ETag set above.
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(f.data))
}
