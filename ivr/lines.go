package ivr

import (
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// Line is a phone number clients call.
type Line struct {
	Number   string          // E.164, e.g. +74996383867
	Name     string          // for logs, e.g. "Moscow"
	Language oncall.Language // spoken first
	Greeting string          // prompt: the greeting of this line
	// Spoken is the prompt of the line's name ("line_moscow"), as page calls
	// say it; "screen_" and Spoken ("screen_line_moscow") is the sentence
	// that opens the engineer's screening of a call to the line.
	Spoken string
}

// Config is the call flow's configuration. DefaultConfig gives the values
// the support page promises.
type Config struct {
	// Lines are the numbers answered; a number not listed is answered as
	// the first line (and logged).
	Lines []Line
	// TicketDigitsMin and TicketDigitsMax bound the length of a ticket id.
	TicketDigitsMin, TicketDigitsMax int
	// LanguageTimeout is how long the one-key language offer waits.
	LanguageTimeout time.Duration
	// DigitTimeout is how long a menu or the engineer screening waits for
	// a key.
	DigitTimeout time.Duration
	// MaxTicketTries failed ticket entries lead to the priority menu.
	MaxTicketTries int
	// MaxPriorityTries failed priority choices lead to normal priority.
	MaxPriorityTries int
	// RingTime is how long one engineer is rung.
	RingTime time.Duration
	// MaxHold is how long a caller waits for an engineer before voicemail.
	MaxHold time.Duration
	// ProgressEvery is how often a caller on hold hears a progress message.
	ProgressEvery time.Duration
	// ScreeningRepeats is how often the screening prompt is played to an
	// engineer who does not press 1.
	ScreeningRepeats int
	// VoicemailMaxLength bounds a voicemail.
	VoicemailMaxLength time.Duration
	// RecordingGrace is how long after VoicemailMaxLength the flow waits
	// for RecordingDone before paging without a recording.
	RecordingGrace time.Duration
	// TicketLookupBudget bounds each call to the ticket system; past it the
	// call goes on without a ticket.
	TicketLookupBudget time.Duration
	// LookupBudget bounds each call to Preferences and Roster.
	LookupBudget time.Duration
	// UnverifiedPriority and UnverifiedLevel route a call whose ticket id
	// could not be looked up (the ticket system down or too slow): the
	// caller keeps the id they keyed, unverified, rather than a new ticket.
	UnverifiedPriority oncall.Priority
	UnverifiedLevel    oncall.Level
}

// DefaultConfig returns the configuration of the company's two lines.
func DefaultConfig() Config {
	return Config{
		Lines: []Line{
			{Number: "+74996383867", Name: "Moscow", Language: oncall.Russian,
				Greeting: "greeting_moscow", Spoken: "line_moscow"},
			{Number: "+12025952118", Name: "Washington", Language: oncall.English,
				Greeting: "greeting_washington", Spoken: "line_washington"},
		},
		TicketDigitsMin:    3,
		TicketDigitsMax:    10,
		LanguageTimeout:    5 * time.Second,
		DigitTimeout:       10 * time.Second,
		MaxTicketTries:     3,
		MaxPriorityTries:   3,
		RingTime:           25 * time.Second,
		MaxHold:            4 * time.Minute,
		ProgressEvery:      30 * time.Second,
		ScreeningRepeats:   3,
		VoicemailMaxLength: 120 * time.Second,
		RecordingGrace:     time.Minute,
		TicketLookupBudget: 3 * time.Second,
		LookupBudget:       2 * time.Second,
		UnverifiedPriority: oncall.Normal,
		UnverifiedLevel:    oncall.L1,
	}
}

// maxVoicemail is the longest recording Twilio's <Record> takes.
const maxVoicemail = 4 * time.Hour

// Validate reports the first setting that cannot work, as errs.Invalid
// naming the field.
func (c Config) Validate() error {
	if len(c.Lines) == 0 {
		return errs.InvalidField("lines", "at least one line is needed")
	}
	seen := map[string]bool{}
	for i, l := range c.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		if !isE164(l.Number) {
			return errs.InvalidField(f+".number", "%q is not an E.164 number such as +74996383867", l.Number)
		}
		if seen[digitsOnly(l.Number)] {
			return errs.InvalidField(f+".number", "%s is listed twice", l.Number)
		}
		seen[digitsOnly(l.Number)] = true
		if !l.Language.Valid() {
			return errs.InvalidField(f+".language", "%q is not a language (ru or en)", l.Language)
		}
		if !hasPrompt(l.Greeting) {
			return errs.InvalidField(f+".greeting", "%q is not in the prompt catalogue", l.Greeting)
		}
		if !hasPrompt(l.Spoken) {
			return errs.InvalidField(f+".spoken", "%q is not in the prompt catalogue", l.Spoken)
		}
		if !hasPrompt(screenLinePrompt(l)) {
			return errs.InvalidField(f+".spoken", "the screening prompt %q is not in the prompt catalogue", screenLinePrompt(l))
		}
	}
	if c.TicketDigitsMin < 1 || c.TicketDigitsMax < c.TicketDigitsMin || c.TicketDigitsMax > 30 {
		return errs.InvalidField("ticket_digits", "need 1 <= min <= max <= 30, have %d..%d", c.TicketDigitsMin, c.TicketDigitsMax)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"language_timeout", c.LanguageTimeout}, {"digit_timeout", c.DigitTimeout},
		{"ring_time", c.RingTime}, {"max_hold", c.MaxHold}, {"progress_every", c.ProgressEvery},
		{"voicemail_max_length", c.VoicemailMaxLength}, {"recording_grace", c.RecordingGrace},
		{"ticket_lookup_budget", c.TicketLookupBudget}, {"lookup_budget", c.LookupBudget},
	} {
		if d.v <= 0 {
			return errs.InvalidField(d.name, "must be positive")
		}
	}
	if !c.UnverifiedPriority.Valid() {
		return errs.InvalidField("unverified_priority", "%q is not a priority (critical, urgent, normal or low)", c.UnverifiedPriority)
	}
	if !c.UnverifiedLevel.Valid() {
		return errs.InvalidField("unverified_level", "%d is not a support level (L1, L2 or L3)", int(c.UnverifiedLevel))
	}
	if c.VoicemailMaxLength > maxVoicemail {
		return errs.InvalidField("voicemail_max_length", "at most %v (Twilio's longest recording)", maxVoicemail)
	}
	for _, n := range []struct {
		name string
		v    int
	}{
		{"max_ticket_tries", c.MaxTicketTries}, {"max_priority_tries", c.MaxPriorityTries},
		{"screening_repeats", c.ScreeningRepeats},
	} {
		if n.v < 1 {
			return errs.InvalidField(n.name, "must be at least 1")
		}
	}
	return nil
}

// line returns the line whose number is dialled (compared digit by digit, so
// "74996383867" finds "+74996383867"); the first line and false if none is.
func (c Config) line(dialled string) (Line, bool) {
	d := digitsOnly(dialled)
	for _, l := range c.Lines {
		if d != "" && digitsOnly(l.Number) == d {
			return l, true
		}
	}
	return c.Lines[0], false
}

func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return digitsOnly(s[1:]) == s[1:]
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// withheldNumbers are the caller ids providers send for a withheld number:
// Twilio's placeholders spell ANONYMOUS, RESTRICTED, BLOCKED, UNKNOWN and
// UNAVAILABLE on a keypad.
var withheldNumbers = map[string]bool{
	"+266696687": true, "+7378742833": true, "+2562533": true, "+8656696": true, "+86282452253": true,
}

// usableCaller reports whether caller is a real number to remember a
// language for and to call back: not withheld, anonymous or a placeholder.
func usableCaller(caller string) bool {
	c := strings.TrimSpace(caller)
	if withheldNumbers[c] {
		return false
	}
	return len(digitsOnly(c)) >= 5 && strings.TrimLeft(c, "+0123456789 -()") == ""
}
