package calendar

import (
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// Log keys used by this package.
const (
	keyFeedID = "calendar_feed_id"
	keyPath   = "path"
)

// Handler serves GET /calendar/<token>.ics. The token is the credential (no
// bearer token: calendar apps fetch the URL as it is); an unknown or revoked
// token gets 404, like a feed that does not exist.
type Handler struct {
	Feeds    Store
	Schedule Schedule
	Host     string // names events in UIDs: the public URL's host
	Log      *zap.Logger
}

// ServeHTTP serves one feed.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/calendar/")
	token, ok2 := strings.CutSuffix(rest, ".ics")
	if !ok || !ok2 || !strings.HasPrefix(token, TokenPrefix) || strings.Contains(token, "/") {
		http.NotFound(w, r)
		return
	}
	f, err := h.Feeds.CalendarFeedByHash(r.Context(), HashToken(token))
	switch {
	case errs.Is(err, errs.NotFound) || (err == nil && f.RevokedAt != nil):
		http.NotFound(w, r)
		return
	case err != nil:
		h.Log.Error("look up calendar feed", zap.String(keyPath, "/calendar/…"), zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	body, err := Build(r.Context(), h.Schedule, f, h.Host, h.Schedule.Now())
	if err != nil {
		h.Log.Error("build calendar feed", zap.Int64(keyFeedID, f.ID), zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(body)
}
