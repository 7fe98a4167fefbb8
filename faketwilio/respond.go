package faketwilio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"go.uber.org/zap"
)

// Twilio error codes the fake answers with. Codes are informative only, as
// Twilio itself advises; codeInvalid is the fake's catch-all for a parameter
// the spec or Twilio's documented rules reject.
const (
	codeInvalid      = 20001
	codeNotFound     = 20404
	codeNoTo         = 21201
	codeNoURL        = 21205
	codeNotInProgess = 21220
	codeNoBody       = 21602
	codeNoFrom       = 21603
)

// apiError is a Twilio REST error: {"code", "message", "more_info", "status"}.
type apiError struct {
	Status     int
	Code       int
	Message    string
	unexpected bool // also record the request as unexpected
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %d %s", e.Status, e.Code, e.Message) }

func errNotFound(path string) *apiError {
	return &apiError{Status: 404, Code: codeNotFound, Message: fmt.Sprintf("The requested resource %s was not found", path)}
}

// errInvalid is a 400 that the spec alone cannot catch; it is unexpected.
func errInvalid(code int, format string, args ...any) *apiError {
	return &apiError{Status: 400, Code: code, Message: fmt.Sprintf(format, args...), unexpected: true}
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code":      e.Code,
		"message":   e.Message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", e.Code),
		"status":    e.Status,
	})
}

// validationError turns kin-openapi's verdict into Twilio's 400, with the
// codes Twilio uses for the commonest omissions.
func validationError(err error) *apiError {
	msg := err.Error()
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		var se *openapi3.SchemaError
		if errors.As(re.Err, &se) {
			msg = se.Error()
			if re.Reason != "" {
				msg = re.Reason + ": " + msg
			}
		}
		if re.Parameter != nil {
			msg = fmt.Sprintf("parameter %q: %s", re.Parameter.Name, msg)
		}
	}
	msg, _, _ = strings.Cut(msg, "\n")
	code := codeInvalid
	switch {
	case strings.Contains(msg, `property "To" is missing`):
		code = codeNoTo
	case strings.Contains(msg, `property "From" is missing`):
		code = codeNoFrom
	}
	return &apiError{Status: 400, Code: code, Message: msg}
}

// result is a successful answer: a status and a JSON body (nil for 204),
// and what the fake does on its own once the answer is written (nil:
// nothing), run in the background.
type result struct {
	status int
	body   any
	after  func()
}

type handler func(s *Server, r *http.Request, p map[string]string) (result, *apiError)

// endpoints maps the spec's operationId to the fault-injection name and the
// implementation. Any other operation gets 501 and counts as unexpected.
var endpoints = map[string]struct {
	name   string
	handle handler
}{
	"CreateCall":      {"Calls.create", (*Server).createCall},
	"FetchCall":       {"Calls.fetch", (*Server).fetchCall},
	"UpdateCall":      {"Calls.update", (*Server).updateCall},
	"ListCall":        {"Calls.list", (*Server).listCalls},
	"CreateMessage":   {"Messages.create", (*Server).createMessage},
	"FetchMessage":    {"Messages.fetch", (*Server).fetchMessage},
	"ListMessage":     {"Messages.list", (*Server).listMessages},
	"FetchRecording":  {"Recordings.fetch", (*Server).fetchRecording},
	"DeleteRecording": {"Recordings.delete", (*Server).deleteRecording},
	"FetchQueue":      {"Queues.fetch", (*Server).fetchQueue},
	"ListQueue":       {"Queues.list", (*Server).listQueues},
	"DeleteQueue":     {"Queues.delete", (*Server).deleteQueue},

	"ListIncomingPhoneNumber": {"IncomingPhoneNumbers.list", (*Server).listIncomingNumbers},
	"ListOutgoingCallerId":    {"OutgoingCallerIds.list", (*Server).listCallerIDs},
}

// writeResult serves res after checking it against the spec's response
// schema, so the fake's bodies stay honest; a mismatch is a bug of the fake
// and is recorded as unexpected.
func (s *Server) writeResult(w http.ResponseWriter, in *openapi3filter.RequestValidationInput, name string, res result) {
	var body []byte
	if res.body != nil {
		var err error
		if body, err = json.Marshal(res.body); err != nil {
			s.reject(w, &apiError{Status: 500, Code: 20500, Message: err.Error()}, name+": cannot encode response")
			return
		}
	}
	h := http.Header{}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	err := openapi3filter.ValidateResponse(in.Request.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.status,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                s.responseOptions(),
	})
	if err != nil {
		s.log.Error("response does not match the spec", zap.String(keyEndpoint, name), zap.Error(err))
		s.unexpectedf("faketwilio bug: %s response does not match the spec: %v", name, err)
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(res.status)
	_, _ = w.Write(body)
}
