package arilink

import (
	"strings"

	"github.com/supportdesk/ivr/errs"
)

// How Asterisk dials a phone number, for the driver's engineer legs and
// for page calls (both take --ari-dial): the endpoint Endpoints gives for
// the number, else DialString with "{phone}" replaced by it, as in
// "PJSIP/{phone}@trunk".

// CheckDialing returns errs.Invalid naming dial_string unless one of the
// two can dial a number.
func CheckDialing(dialString string, endpoints map[string]string) error {
	switch {
	case dialString == "" && len(endpoints) == 0:
		return errs.InvalidField("dial_string", "is required (or endpoints): how engineers are dialled, such as PJSIP/{phone}@trunk")
	case dialString != "" && !strings.Contains(dialString, "{phone}"):
		return errs.InvalidField("dial_string", "%q has no {phone} for the engineer's number", dialString)
	}
	return nil
}

// Endpoint is the endpoint that dials phone; false if neither
// endpoints nor dialString can.
func Endpoint(dialString string, endpoints map[string]string, phone string) (string, bool) {
	if e, ok := endpoints[phone]; ok {
		return e, true
	}
	if dialString == "" {
		return "", false
	}
	return strings.ReplaceAll(dialString, "{phone}", phone), true
}
