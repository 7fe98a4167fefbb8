package faketwilio

import (
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/sounds/wav"
)

// recording is one recording resource and its WAV bytes. Guarded by Server.mu.
type recording struct {
	sid, callSid string
	wav          []byte
	duration     int
	created      time.Time
	deleted      bool
}

// AddRecording stores wav as a recording of call callSid (which need not
// exist) and returns its SID and its URL, the RecordingUrl Twilio would send:
// the media is served there and at URL+".wav". The URL is absolute once the
// server is started (Start, Serve, SetURL), a path before.
func (s *Server) AddRecording(callSid string, wav []byte) (sid, mediaURL string) {
	rec := &recording{sid: newSID("RE"), callSid: callSid, wav: append([]byte(nil), wav...), duration: wavSeconds(wav), created: s.now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordings[rec.sid] = rec
	return rec.sid, s.url + s.recordingPath(rec.sid)
}

func (s *Server) recordingPath(sid string) string {
	return "/2010-04-01/Accounts/" + s.opts.AccountSID + "/Recordings/" + sid
}

// wavSeconds is how many whole seconds the samples of wav play, as its
// header says (wav.Parse: other chunks are not audio); 0 if it is not a
// WAV file or is torn.
func wavSeconds(b []byte) int {
	info, err := wav.Parse(b)
	if err != nil {
		return 0
	}
	return int(info.Duration() / time.Second)
}

func (s *Server) fetchRecording(r *http.Request, p map[string]string) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.recordings[p["Sid"]]
	if rec == nil || (rec.deleted && r.URL.Query().Get("IncludeSoftDeleted") != "true") {
		return result{}, errNotFound("Recording " + p["Sid"])
	}
	return result{status: http.StatusOK, body: s.recordingJSON(r, rec)}, nil
}

func (s *Server) deleteRecording(_ *http.Request, p map[string]string) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.recordings[p["Sid"]]
	if rec == nil || rec.deleted {
		return result{}, errNotFound("Recording " + p["Sid"])
	}
	rec.deleted, rec.wav = true, nil
	s.log.Info("recording deleted", zap.String(keyRecording, rec.sid))
	return result{status: http.StatusNoContent}, nil
}

// recordingJSON renders api.v2010.account.recording. s.mu is held.
func (s *Server) recordingJSON(r *http.Request, rec *recording) map[string]any {
	base := s.recordingPath(rec.sid)
	status := "completed"
	if rec.deleted {
		status = "deleted"
	}
	origin := s.url
	if origin == "" {
		origin = "http://" + r.Host
	}
	return map[string]any{
		"account_sid":        s.opts.AccountSID,
		"api_version":        apiVersion,
		"call_sid":           nullable(rec.callSid),
		"conference_sid":     nil,
		"date_created":       rfc2822(rec.created),
		"date_updated":       rfc2822(rec.created),
		"start_time":         rfc2822(rec.created),
		"duration":           strconv.Itoa(rec.duration),
		"sid":                rec.sid,
		"price":              nil,
		"price_unit":         "USD",
		"status":             status,
		"channels":           1,
		"source":             "RecordVerb",
		"error_code":         nil,
		"uri":                base + ".json",
		"encryption_details": nil,
		"subresource_uris": map[string]any{
			"add_on_results": base + "/AddOnResults.json",
			"transcriptions": base + "/Transcriptions.json",
		},
		"media_url": origin + base,
	}
}

// serveMedia serves a recording's WAV. Like Twilio's default, media needs no
// credentials, but wrong credentials are refused.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, account, sid, ext string) {
	what := "GET recording media " + sid + ext
	if user, pass, ok := r.BasicAuth(); ok && (user != s.opts.AccountSID || pass != s.opts.AuthToken) {
		s.reject(w, &apiError{Status: 401, Code: 20003, Message: "Authenticate"}, what+": wrong credentials")
		return
	}
	if account != s.opts.AccountSID {
		s.reject(w, errNotFound(r.URL.Path), what+": account "+account)
		return
	}
	if ext == ".mp3" {
		s.reject(w, &apiError{Status: 501, Code: 20501, Message: "faketwilio serves recordings as WAV only"}, what+": MP3 not implemented")
		return
	}
	s.mu.Lock()
	rec := s.recordings[sid]
	var wav []byte
	if rec != nil && !rec.deleted {
		wav = rec.wav
	}
	s.mu.Unlock()
	if wav == nil {
		writeError(w, errNotFound(r.URL.Path))
		return
	}
	if st := s.mediaStorage(); st != nil {
		st.redirect(w, sid)
		return
	}
	w.Header().Set("Content-Type", "audio/x-wav")
	w.Header().Set("Content-Length", strconv.Itoa(len(wav)))
	_, _ = w.Write(wav)
}
