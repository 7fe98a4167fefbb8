package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// errorBody is the one error shape of the whole API:
//
//	{"error": {"code": "invalid", "field": "time_zone", "message": "…"}}
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    errs.Code `json:"code"`
	Field   string    `json:"field,omitempty"`
	Message string    `json:"message"`
}

// Error writes err as the API's error body with the status its code maps
// to. Errors that are not *errs.Error are internal: they are logged with the
// request and shown only as "internal error".
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	var e *errs.Error
	if !errors.As(err, &e) {
		s.log.Error("internal error", zap.String(keyMethod, r.Method), zap.String(keyPath, r.URL.Path), zap.Error(err))
		e = &errs.Error{Code: errs.Internal, Message: "internal error"}
	} else if e.Code == errs.Internal {
		s.log.Error("internal error", zap.String(keyMethod, r.Method), zap.String(keyPath, r.URL.Path), zap.Error(err))
		e = &errs.Error{Code: errs.Internal, Message: "internal error"}
	}
	s.metrics.errors.WithLabelValues(string(e.Code)).Inc()
	if e.Code == errs.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ivr"`)
	}
	writeJSON(w, errs.HTTPStatus(e.Code), errorBody{Error: errorDetail{Code: e.Code, Field: e.Field, Message: e.Message}})
}

// apiHandler is an API handler that returns its failure instead of writing
// it: Server.api writes a returned error through Error, the one mapping of
// errors to statuses, so no handler chooses a status for a failure. A
// handler returns an error only before it has written anything.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// api adapts h to an http.HandlerFunc that answers h's error with Error.
func (s *Server) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.Error(w, r, err)
		}
	}
}

// writeJSON writes v with status. An encoding failure can only be a bug in
// a response type; the status line has gone out by then, so it is dropped.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// orEmpty is s, or an empty list for nil, so that an empty list is written as
// [] rather than null: a client iterates without a check.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// maxBody bounds a request body; no admin resource comes near it.
const maxBody = 1 << 20

// decode reads one JSON object from r's body into v, strictly: unknown
// fields, trailing data, wrong types and oversized bodies are Invalid errors
// that name the field by its whole path (contacts[1].phone). The
// Content-Type is not checked: the body is JSON whatever a client (curl -d,
// say) labels it.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return errs.InvalidField("", "the body is larger than %d bytes", maxBody)
	case err != nil:
		return errs.InvalidField("", "the body could not be read: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if dec.More() {
			return errs.InvalidField("", "the body holds more than one JSON value")
		}
		if _, err := dec.Token(); err != io.EOF {
			return errs.InvalidField("", "the body holds more than one JSON value")
		}
		return nil
	}
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	unknown := strings.HasPrefix(err.Error(), "json: unknown field ")
	if errors.As(err, &typ) || unknown {
		// The decoder's own names lack the indices and the parents: walk
		// the body for the exact path.
		if m, ok := findMisfit(body, reflect.TypeOf(v)); ok {
			return m.err()
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		return errs.InvalidField("", "the body is empty; a JSON object is expected")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.InvalidField("", "the body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	case errors.As(err, &typ):
		return errs.InvalidField(typ.Field, "must be a JSON %s, not %s", jsonKind(typ.Type.Kind()), typ.Value)
	case unknown:
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.InvalidField(field, "is not a known field")
	}
	return errs.InvalidField("", "the body could not be read: %v", err)
}
