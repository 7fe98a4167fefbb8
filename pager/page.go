package pager

import (
	"strconv"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// Source says what raised a page.
type Source string

const (
	FromCall     Source = "call"     // the IVR: a voicemail or a caller who gave up waiting
	FromFallback Source = "fallback" // the telephony provider's Fallback URL: the service was down
	FromAPI      Source = "api"      // an admin through POST /api/v1/pages
	FromTickets  Source = "tickets"  // the ticket system's webhook
	FromUpgrade  Source = "upgrade"  // a page request recorded before the pager existed
)

// Status is where a page is in its life.
type Status string

const (
	// Open: escalating; engineers are being paged.
	Open Status = "open"
	// Acknowledged: an engineer took it; nobody else is paged.
	Acknowledged Status = "acknowledged"
	// Resolved: closed; nothing more happens.
	Resolved Status = "resolved"
	// Expired: recorded before the pager existed and already past its
	// response window when the pager took it over: never sent, shown to
	// admins.
	Expired Status = "expired"
)

// Closed reports whether nothing more is sent for a page in status s.
func (s Status) Closed() bool { return s != Open }

// Request asks for a page. Key makes it idempotent: a second request with
// the key of an existing page returns that page and pages nobody.
type Request struct {
	Key      string // e.g. "call:CA…", "ticket:<event id>", "api:<uuid>"
	Source   Source
	TicketID string // "" when there is none
	Priority oncall.Priority
	Level    oncall.Level // the level escalation starts at; 0 means L1
	Summary  string       // one line for people; may be empty for IVR pages
	Line     string       // E.164 of the support line, for IVR pages
	Caller   string       // E.164 of the client to call back; "" when withheld
	// Language is the client's, for the note the ticket gets; "" for
	// English.
	Language oncall.Language
	// Recording is the URL of the voicemail, "" when none was left.
	Recording        string
	RecordingSeconds int
	// RaisedAt is when the event that raised the page happened (the call,
	// the ticket event, the API request): the deadline counts from it.
	RaisedAt time.Time
}

// MaxSummary bounds a page's summary, in bytes.
const MaxSummary = 500

// Validate reports the first field of r that cannot be paged, naming it.
func (r Request) Validate() error {
	switch {
	case strings.TrimSpace(r.Key) == "":
		return errs.InvalidField("key", "is required")
	case len(r.Key) > 200:
		return errs.InvalidField("key", "is longer than 200 characters")
	case !r.Priority.Valid():
		return errs.InvalidField("priority", "%q is not a priority (critical, urgent, normal or low)", r.Priority)
	case r.Level != 0 && !r.Level.Valid():
		return errs.InvalidField("level", "must be L1, L2 or L3")
	case len(r.Summary) > MaxSummary:
		return errs.InvalidField("summary", "is longer than %d bytes", MaxSummary)
	case hasControl(r.Summary):
		return errs.InvalidField("summary", "contains control characters")
	case len(r.TicketID) > 64 || hasControl(r.TicketID):
		return errs.InvalidField("ticket_id", "%q is not a ticket id", r.TicketID)
	case r.Language != "" && !r.Language.Valid():
		return errs.InvalidField("language", "%q is not a language (ru or en)", r.Language)
	case r.RaisedAt.IsZero():
		return errs.InvalidField("raised_at", "is required")
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// Target is an engineer as the pager reaches them.
type Target struct {
	EngineerID int64           `json:"engineer_id"`
	Name       string          `json:"name"`
	Language   oncall.Language `json:"language"`            // the engineer's first language
	Phone      string          `json:"phone"`               // E.164, called for voice pages
	SMSPhone   string          `json:"sms_phone,omitempty"` // E.164 that takes texts; "" when none does
	// SMSOptedOut: every number of theirs that takes texts opted out of
	// them (replied STOP): they get no texts, pages reach them by voice.
	SMSOptedOut bool   `json:"sms_opted_out,omitempty"`
	TimeZone    string `json:"time_zone,omitempty"` // IANA
}

// TargetOf is how the pager reaches engineer e: their first verified
// phone for voice, their first verified SMS-capable phone for texts, their
// first language. Unverified numbers are never paged: an engineer whose
// numbers are all unverified is paged as one without numbers is (each
// channel is skipped, and the page moves on to the next rung).
func TargetOf(e oncall.Engineer) Target {
	t := Target{EngineerID: e.ID, Name: oncall.PrintableName(e.Name, e.ID), Language: oncall.English, TimeZone: e.TimeZone}
	if len(e.Languages) > 0 {
		t.Language = e.Languages[0]
	}
	reach := e.Reachable()
	if len(reach) > 0 {
		t.Phone = reach[0].Phone
	}
	for _, c := range reach {
		if c.SMS {
			t.SMSPhone = c.Phone
			break
		}
	}
	return t
}

// Rung is one step of a page's escalation: the engineer on call at Level
// and Layer is paged on Channels, in order (each the fallback of the one
// before), and has Wait to acknowledge before the next rung.
type Rung struct {
	Level    oncall.Level     `json:"level"`
	Layer    oncall.Layer     `json:"layer"`
	Channels []oncall.Channel `json:"channels"`
	Wait     time.Duration    `json:"wait"`
}

// Current is the rung being paged and how far its engineer has got.
type Current struct {
	Rung    int       `json:"rung"` // index into the plan; past its end, the repeat of the last level
	Started time.Time `json:"started"`
	// Target is the engineer paged on this rung; zero when nobody was on
	// call.
	Target Target `json:"target,omitzero"`
	// Channel is the index into the rung's channels of the one in use.
	Channel int `json:"channel"`
	// Exhausted: every channel of the rung failed to reach the engineer.
	Exhausted bool `json:"exhausted,omitempty"`
	// TextedEarly: the rung's page call had to wait for the engineer's
	// line (another page call rang them), so its text went at once.
	TextedEarly bool `json:"texted_early,omitempty"`
}

// Page is a page and everything the pager knows about it. It is a plain
// value that round-trips through JSON; the store keeps it, and Apply moves
// it on.
type Page struct {
	ID               int64           `json:"id"`
	Key              string          `json:"key"`
	Source           Source          `json:"source"`
	TicketID         string          `json:"ticket_id,omitempty"`
	Priority         oncall.Priority `json:"priority"`
	Level            oncall.Level    `json:"level"`
	Summary          string          `json:"summary,omitempty"`
	Line             string          `json:"line,omitempty"`
	Caller           string          `json:"caller,omitempty"`
	Language         oncall.Language `json:"language,omitempty"` // the client's
	Recording        string          `json:"recording,omitempty"`
	RecordingSeconds int             `json:"recording_seconds,omitempty"`
	RaisedAt         time.Time       `json:"raised_at"`
	Deadline         time.Time       `json:"deadline"`
	CreatedAt        time.Time       `json:"created_at"`

	Status Status `json:"status"`
	// Plan is the escalation, fixed when the page opens (compressed when
	// less time is left than the policy needs).
	Plan []Rung `json:"plan"`
	// Compressed: the plan's waits were shortened to reach L3 in time, or
	// set to the minimum because the page was overdue already.
	Compressed bool    `json:"compressed,omitempty"`
	Current    Current `json:"current"`
	// DueAt is when the current rung's wait ends; zero when the page is
	// closed.
	DueAt time.Time `json:"due_at,omitzero"`
	// Paged lists every engineer paged so far, in order, once each.
	Paged []Target `json:"paged,omitempty"`
	// Overdue: the guaranteed response time has passed unacknowledged
	// (set when noticed).
	Overdue bool `json:"overdue,omitempty"`

	AckedBy     int64     `json:"acked_by,omitempty"`
	AckedByName string    `json:"acked_by_name,omitempty"`
	AckVia      Via       `json:"ack_via,omitempty"`
	AckedAt     time.Time `json:"acked_at,omitzero"`
	ResolvedAt  time.Time `json:"resolved_at,omitzero"`
	ResolvedBy  string    `json:"resolved_by,omitempty"`

	// Digests are this page's calls that also announced other pages (a
	// storm): pressing 1 on one acknowledges them all.
	Digests []Digest `json:"digests,omitempty"`

	// Seq counts the events applied; attempt keys carry it so that each is
	// unique within the page.
	Seq int `json:"seq"`
	// Log is the page's history, for people.
	Log []Entry `json:"log"`
}

// Code is what an engineer texts back to acknowledge the page: its id.
func (p *Page) Code() string { return strconv.FormatInt(p.ID, 10) }

// Digest is a page call that announced other pages too.
type Digest struct {
	AttemptID int64   `json:"attempt_id"`
	Pages     []int64 `json:"pages"` // the other pages it announced
}

// DigestOf returns the other pages attempt id's call announced.
func (p *Page) DigestOf(id int64) []int64 {
	for _, d := range p.Digests {
		if d.AttemptID == id {
			return d.Pages
		}
	}
	return nil
}

// Entry is one line of a page's log.
type Entry struct {
	At     time.Time `json:"at"`
	What   string    `json:"what"`
	Detail string    `json:"detail,omitempty"`
}

// Via is how a page was acknowledged.
type Via string

const (
	ViaVoice Via = "voice" // pressed 1 on the page call
	ViaSMS   Via = "sms"   // texted the code back
	ViaLink  Via = "link"  // the signed link in the text
	ViaAPI   Via = "api"   // POST /api/v1/pages/{id}/ack
	ViaWeb   Via = "web"   // the acknowledge button of the staff's web page
)
