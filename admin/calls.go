package admin

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
)

// CallLog is the call log as the API reads it.
type CallLog interface {
	// Calls returns the calls f selects, newest first.
	Calls(ctx context.Context, f calls.Filter) ([]ivr.CallRecord, error)
	// Call returns the record of one call; NotFound if there is none.
	Call(ctx context.Context, id string) (ivr.CallRecord, error)
}

// Recordings are the voicemail recordings as the API reads them.
type Recordings interface {
	// Recording returns a recording with its audio; NotFound if there is
	// none (or it was deleted after the retention).
	Recording(ctx context.Context, id string) (calls.Recording, error)
}

// RecordingPath is the path, under the service's base URL, at which
// signed-in staff fetch recording id: what a driver that saves a voicemail
// gives the call flow as its URL.
func RecordingPath(id string) string { return "/api/v1/recordings/" + id }

// maxCallIDLength bounds a call id in a path or query: providers' ids are
// far shorter.
const maxCallIDLength = 128

// pathCallID reads the {id} path variable as a call id.
func pathCallID(r *http.Request) (string, error) {
	id := mux.Vars(r)["id"]
	if strings.TrimSpace(id) == "" || len(id) > maxCallIDLength {
		return "", errs.InvalidField("id", "is not a call id")
	}
	return id, nil
}

// listCalls pages through the call log, newest first: ?ticket=<ticket id>,
// ?before=<RFC 3339 time: calls started before it>, ?limit= (at most 1000,
// default 100).
func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) error {
	f := calls.Filter{TicketID: strings.TrimSpace(r.URL.Query().Get("ticket"))}
	var err error
	if len(f.TicketID) > maxCallIDLength {
		err = errs.InvalidField("ticket", "is longer than %d characters", maxCallIDLength)
	}
	if err == nil {
		f.Before, err = queryTime(r, "before", time.Time{})
	}
	if err == nil {
		f.Limit, err = queryLimit(r)
	}
	var list []ivr.CallRecord
	if err == nil {
		list, err = s.calls.Calls(r.Context(), f)
	}
	if err != nil {
		return err
	}
	out := make([]callJSON, len(list))
	for i, rec := range list {
		out[i] = newCallJSON(rec)
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": out})
	return nil
}

// getCall shows one call: its steps, who answered, the voicemail.
func (s *Server) getCall(w http.ResponseWriter, r *http.Request) error {
	id, err := pathCallID(r)
	var rec ivr.CallRecord
	if err == nil {
		rec, err = s.calls.Call(r.Context(), id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newCallJSON(rec))
	return nil
}

// callJSON is a call as the API shows it: the stored record, whose
// "duration" stays integer nanoseconds (time.Duration's JSON, as stored and
// as clients already read it), and its duration in seconds.
type callJSON struct {
	ivr.CallRecord
	DurationSeconds float64 `json:"duration_seconds"`
}

func newCallJSON(rec ivr.CallRecord) callJSON {
	return callJSON{CallRecord: rec, DurationSeconds: math.Round(rec.Duration.Seconds()*1000) / 1000}
}

// getRecording serves a voicemail's audio with its own content type, to
// signed-in staff only (the route authenticates). Range requests are
// answered, so that players can seek. Every access is logged with who
// listened.
func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if !calls.ValidRecordingID(id) {
		return errs.InvalidField("id", "%q is not a recording id", id)
	}
	rec, err := s.recordings.Recording(r.Context(), id)
	if err != nil {
		return err
	}
	s.log.Info("recording served", zap.String(keyRecording, id), zap.String(keyCallID, rec.CallID),
		zap.String(keyActor, actor(r)))
	h := w.Header()
	h.Set("Content-Type", rec.ContentType)
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", rec.CreatedAt, bytes.NewReader(rec.Data))
	return nil
}
