// Package errs owns the one error type the service shows to its users: a code
// that says what kind of failure it is, the field it concerns, and a message
// meant for a person. Anything that is not an *Error is internal. It imports
// only the standard library so that every package may use it.
package errs

import (
	"errors"
	"fmt"
	"net/http"
)

// Code classifies an error for callers; transports map it to their own status
// (HTTP does so in one place, HTTPStatus).
type Code string

const (
	Invalid      Code = "invalid"           // the request is malformed or breaks a rule
	NotFound     Code = "not_found"         // the thing named does not exist
	Conflict     Code = "conflict"          // the request clashes with existing state
	Unauthorized Code = "unauthorized"      // no valid credentials
	Forbidden    Code = "forbidden"         // valid credentials, not allowed
	Unavailable  Code = "unavailable"       // a dependency is down; try again later
	TooMany      Code = "too_many_requests" // asked again too soon; the message says when to
	Internal     Code = "internal"          // a bug or an unexpected failure
)

// Error is a failure a user can act on.
type Error struct {
	Code    Code
	Field   string // the input field concerned, e.g. "shift.handoff"; may be empty
	Message string // for a person; never contains internal detail
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// E returns an *Error with the given code, field and message.
func E(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// InvalidField is a shorthand for E(Invalid, field, …).
func InvalidField(field, format string, args ...any) *Error {
	return E(Invalid, field, format, args...)
}

// CodeOf returns the code of the first *Error in err's chain, Internal for any
// other non-nil error and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return CodeOf(err) == code }

// Prefix returns err with field prefixed by prefix (e.g. "steps[2]") when err
// is an *Error; other errors come back unchanged. Validators of nested values
// use it so that the field names the whole path.
func Prefix(prefix string, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	field := prefix
	if e.Field != "" {
		field = prefix + "." + e.Field
	}
	return &Error{Code: e.Code, Field: field, Message: e.Message}
}

// HTTPStatus is the HTTP status an error with code c is answered with: the
// one mapping every HTTP surface of the service (the API, the webhooks)
// uses.
func HTTPStatus(c Code) int {
	switch c {
	case Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case Unavailable:
		return http.StatusServiceUnavailable
	case TooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}
