package oncall

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/supportdesk/ivr/errs"
)

// Language is a language an engineer speaks with clients and a caller hears
// prompts in.
type Language string

const (
	Russian Language = "ru"
	English Language = "en"
)

// Valid reports whether l is a language the support desk offers.
func (l Language) Valid() bool { return l == Russian || l == English }

// ContactMethod is a phone number an engineer is called (and, when SMS is
// set, texted) on.
type ContactMethod struct {
	Phone string `json:"phone"` // E.164, e.g. +12025550142
	SMS   bool   `json:"sms"`   // the number receives text messages
	// Unverified says that no page or support call goes to the number yet:
	// the engineer's own token (or session) added it, and nobody has
	// confirmed the code sent to it (package verify). The zero value is a
	// verified number, as every number an admin enters is and every
	// number stored before verification existed was: a mistyped or
	// hostile number an engineer adds for themselves receives nothing
	// until its owner proves they hold it. JSON shows it as "verified".
	Unverified bool `json:"-"`
}

// Verified reports whether pages and support calls go to the number.
func (c ContactMethod) Verified() bool { return !c.Unverified }

// contactJSON is a ContactMethod as JSON has it.
type contactJSON struct {
	Phone    string `json:"phone"`
	SMS      bool   `json:"sms"`
	Verified *bool  `json:"verified,omitempty"`
}

// MarshalJSON writes {"phone", "sms", "verified"}.
func (c ContactMethod) MarshalJSON() ([]byte, error) {
	v := c.Verified()
	return json.Marshal(contactJSON{Phone: c.Phone, SMS: c.SMS, Verified: &v})
}

// UnmarshalJSON reads {"phone", "sms", "verified"}; a number without
// "verified" (stored before verification existed) is verified.
func (c *ContactMethod) UnmarshalJSON(b []byte) error {
	var in contactJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*c = ContactMethod{Phone: in.Phone, SMS: in.SMS, Unverified: in.Verified != nil && !*in.Verified}
	return nil
}

// Engineer is a person who takes support calls and pages.
type Engineer struct {
	ID        int64           `json:"id"`
	Name      string          `json:"name"`
	Level     Level           `json:"level"`
	Languages []Language      `json:"languages"`
	TimeZone  string          `json:"time_zone"` // IANA, e.g. Europe/Moscow
	Contacts  []ContactMethod `json:"contacts"`
	CreatedAt time.Time       `json:"created_at"`
}

// NormalizePhone parses a phone number written in international form (a
// leading +, spaces, dashes and brackets allowed) and returns it in E.164.
func NormalizePhone(s string) (string, error) {
	num, err := parsePhone(s)
	if err != nil {
		return "", err
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

func parsePhone(s string) (*phonenumbers.PhoneNumber, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "+") {
		return nil, fmt.Errorf("%q must be in international form, starting with + and the country code", s)
	}
	num, err := phonenumbers.Parse(t, "")
	if err != nil {
		return nil, fmt.Errorf("%q is not a phone number", s)
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return nil, fmt.Errorf("%q is not a possible phone number for its country", s)
	}
	return num, nil
}

// ContactPhone is NormalizePhone for a number engineers are paged on,
// which must ring the engineer when dialled as it is stored. It refuses:
//   - an extension: E.164 has none, so it would be dropped and the page
//     would ring a switchboard at night; nothing dials it after the call
//     connects;
//   - a premium-rate number: every page and every rung support call would
//     cost the service by the minute, and pointing an engineer's number
//     (which their own token may edit) at one is the classic toll-fraud
//     route; no support desk needs one, so no setting allows it.
func ContactPhone(s string) (string, error) {
	num, err := parsePhone(s)
	if err != nil {
		return "", err
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if ext := num.GetExtension(); ext != "" {
		return "", fmt.Errorf("%q has extension %s, which a page cannot dial: give a number that rings the engineer directly (%s rings the switchboard)",
			s, ext, e164)
	}
	if phonenumbers.GetNumberType(num) == phonenumbers.PREMIUM_RATE {
		return "", fmt.Errorf("%s is a premium-rate number: every page to it would be charged by the minute; give the engineer's mobile or landline", e164)
	}
	return e164, nil
}

// LoadZone loads an IANA time zone, rejecting the empty name (which Go would
// take for UTC) and "Local" (which depends on the machine).
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/Moscow", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a known IANA time zone such as Europe/Moscow", name)
	}
	return loc, nil
}

// Normalize validates e and returns it with phone numbers in E.164, languages
// deduplicated and the name trimmed. Errors are *errs.Error naming the field.
func (e Engineer) Normalize() (Engineer, error) {
	var err error
	if e.Name, err = CheckName("name", e.Name); err != nil {
		return e, err
	}
	if !e.Level.Valid() {
		return e, errs.InvalidField("level", "must be L1, L2 or L3")
	}
	if len(e.Languages) == 0 {
		return e, errs.InvalidField("languages", "needs at least one of ru, en")
	}
	var langs []Language
	for i, l := range e.Languages {
		if !l.Valid() {
			return e, errs.InvalidField(fmt.Sprintf("languages[%d]", i), "%q is not a language (ru or en)", l)
		}
		if !containsLang(langs, l) {
			langs = append(langs, l)
		}
	}
	e.Languages = langs
	if _, err := LoadZone(e.TimeZone); err != nil {
		return e, errs.InvalidField("time_zone", "%s", err)
	}
	if len(e.Contacts) == 0 {
		return e, errs.InvalidField("contacts", "needs at least one phone number")
	}
	contacts := make([]ContactMethod, 0, len(e.Contacts))
	for i, c := range e.Contacts {
		p, err := ContactPhone(c.Phone)
		if err != nil {
			return e, errs.InvalidField(fmt.Sprintf("contacts[%d].phone", i), "%s", err)
		}
		for _, prev := range contacts {
			if prev.Phone == p {
				return e, errs.InvalidField(fmt.Sprintf("contacts[%d].phone", i), "%s is listed twice", p)
			}
		}
		contacts = append(contacts, ContactMethod{Phone: p, SMS: c.SMS, Unverified: c.Unverified})
	}
	e.Contacts = contacts
	return e, nil
}

// Reachable is the engineer's numbers that pages and support calls go to,
// in their order: the verified ones. An engineer with none is reached as
// one without numbers is (the pager skips them, the ring plan passes them
// over).
func (e Engineer) Reachable() []ContactMethod {
	out := make([]ContactMethod, 0, len(e.Contacts))
	for _, c := range e.Contacts {
		if c.Verified() {
			out = append(out, c)
		}
	}
	return out
}

// Contact returns the engineer's contact method with phone (E.164); false
// if they have none.
func (e Engineer) Contact(phone string) (ContactMethod, bool) {
	for _, c := range e.Contacts {
		if c.Phone == phone {
			return c, true
		}
	}
	return ContactMethod{}, false
}

// trustContacts marks every contact method of e verified: numbers an admin
// enters are trusted.
func (e Engineer) trustContacts() Engineer {
	cs := make([]ContactMethod, len(e.Contacts))
	for i, c := range e.Contacts {
		c.Unverified = false
		cs[i] = c
	}
	e.Contacts = cs
	return e
}

// keepVerified marks verified those contact methods of e whose number is
// verified on before, and no other: what an engineer's own edit may keep.
func (e Engineer) keepVerified(before Engineer) Engineer {
	cs := make([]ContactMethod, len(e.Contacts))
	for i, c := range e.Contacts {
		old, ok := before.Contact(c.Phone)
		c.Unverified = !ok || old.Unverified
		cs[i] = c
	}
	e.Contacts = cs
	return e
}

// notServiceNumber refuses a contact number that is one of the service's
// own (a line, the pager's caller id: ServiceOptions.ServiceNumbers): a page
// to it would call the service, not the engineer. e is normalised.
func (e Engineer) notServiceNumber(own map[string]string) error {
	for i, c := range e.Contacts {
		if what, ok := own[c.Phone]; ok {
			return errs.InvalidField(fmt.Sprintf("contacts[%d].phone", i),
				"%s is %s, a number of this service: a page to it would call the service, not the engineer", c.Phone, what)
		}
	}
	return nil
}

func containsLang(ls []Language, l Language) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// MaxName is the longest name a token, an engineer or a rotation may have,
// in bytes.
const MaxName = 200

// CheckName trims a name (of a token, an engineer, a rotation) and checks
// that it is given, at most MaxName bytes of valid UTF-8 on one line, with
// no control characters: a name is shown in lists and logs and written
// into ticket notes and texts, and a NUL or an escape sequence in it could
// garble a terminal or make a ticket system refuse a note. Invalid naming
// field otherwise.
func CheckName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return name, errs.InvalidField(field, "is required")
	case len(name) > MaxName:
		return name, errs.InvalidField(field, "is longer than %d characters", MaxName)
	case !utf8.ValidString(name):
		return name, errs.InvalidField(field, "is not valid UTF-8")
	}
	if i := strings.IndexFunc(name, Unprintable); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return name, errs.InvalidField(field, "must be one line without control characters; it has %U at byte %d", r, i)
	}
	return name, nil
}

// PrintableName is an engineer's name as a note, a text or a log shows it:
// on one line, with no control characters. Names are checked when they are
// written (CheckName), but one stored before that may hold any, and a
// ticket system refuses a note with them: a note would be lost for a name.
// What cannot be shown becomes a space; a name with nothing left is the
// engineer's id.
func PrintableName(name string, id int64) string {
	name = strings.Map(func(r rune) rune {
		if Unprintable(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(name, " "))
	if name = strings.Join(strings.Fields(name), " "); name == "" {
		return fmt.Sprintf("#%d", id)
	}
	return name
}

// Unprintable reports whether r has no place in a name: a control
// character (NUL, ESC, a line break, DEL, C1), a line or paragraph
// separator, or a bidirectional override or isolate, which makes text read
// differently from how it is stored.
func Unprintable(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
