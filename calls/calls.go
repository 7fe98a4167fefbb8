// Package calls owns what the service keeps about calls once the flow is
// done with them: the query over the call log (whose records are
// ivr.CallRecord), voicemail recordings, and the pages the flow requested
// for calls nobody took (kept until the pager takes them over). It is a
// domain package: it imports no transport, provider or database package.
package calls

import (
	"mime"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// Filter selects a page of the call log, newest first.
type Filter struct {
	TicketID string    // "": calls with any ticket or none
	Before   time.Time // zero: from the newest; else calls started before it
	Limit    int       // 0: a default of 100
}

// Recording is a voicemail's audio, kept by the service for a retention
// period and shown only to signed-in staff.
type Recording struct {
	ID          string    `json:"id"` // the provider's id, e.g. Twilio's RE… sid
	CallID      string    `json:"call_id"`
	ContentType string    `json:"content_type"` // an audio/… media type
	Data        []byte    `json:"-"`
	Seconds     int       `json:"seconds"`
	CreatedAt   time.Time `json:"created_at"` // zero: the store's clock when saved
}

// MaxRecordingBytes bounds a recording: ten minutes of 16-bit 16 kHz WAV
// with room to spare.
const MaxRecordingBytes = 32 << 20

// maxIDLength bounds recording ids, which appear in URLs.
const maxIDLength = 64

// ValidRecordingID reports whether id can name a recording: 1 to 64
// letters, digits, '-' and '_', so that it is safe in a URL path.
func ValidRecordingID(id string) bool {
	if id == "" || len(id) > maxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Validate reports the first field of r that cannot be stored, as
// errs.Invalid naming it. The content type must be audio, so that serving a
// recording can never serve a page or a script.
func (r Recording) Validate() error {
	switch {
	case !ValidRecordingID(r.ID):
		return errs.InvalidField("id", "%q is not a recording id (1 to %d letters, digits, - and _)", r.ID, maxIDLength)
	case strings.TrimSpace(r.CallID) == "":
		return errs.InvalidField("call_id", "is required")
	case len(r.Data) == 0:
		return errs.InvalidField("data", "the recording is empty")
	case len(r.Data) > MaxRecordingBytes:
		return errs.InvalidField("data", "the recording is larger than %d bytes", MaxRecordingBytes)
	case r.Seconds < 0:
		return errs.InvalidField("seconds", "must not be negative")
	}
	mt, _, err := mime.ParseMediaType(r.ContentType)
	if err != nil || !strings.HasPrefix(mt, "audio/") {
		return errs.InvalidField("content_type", "%q is not an audio media type such as audio/wav", r.ContentType)
	}
	return nil
}

// PageStatus is where a requested page is in its life.
type PageStatus string

const (
	// PageRequested: the flow asked for the page before the pager existed;
	// the pager has not taken it over yet.
	PageRequested PageStatus = "requested"
	// PageTaken: the pager took the request over as a page of its own.
	PageTaken PageStatus = "taken"
)

// PageRecord is a page the flow requested for a call nobody took, as
// stored: one per call.
type PageRecord struct {
	ID               int64           `json:"id"`
	CallID           string          `json:"call_id"`
	TicketID         string          `json:"ticket_id,omitempty"`
	Priority         oncall.Priority `json:"priority"`
	Level            oncall.Level    `json:"level"`
	VoicemailURL     string          `json:"voicemail_url,omitempty"`
	VoicemailSeconds int             `json:"voicemail_seconds,omitempty"`
	Line             string          `json:"line"`
	Caller           string          `json:"caller,omitempty"`
	RequestedAt      time.Time       `json:"requested_at"`
	Status           PageStatus      `json:"status"`
}
