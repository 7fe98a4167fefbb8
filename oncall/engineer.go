package oncall

import (
	"fmt"
	"strings"
	"time"

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
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "+") {
		return "", fmt.Errorf("%q must be in international form, starting with + and the country code", s)
	}
	num, err := phonenumbers.Parse(t, "")
	if err != nil {
		return "", fmt.Errorf("%q is not a phone number", s)
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return "", fmt.Errorf("%q is not a possible phone number for its country", s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
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
	e.Name = strings.TrimSpace(e.Name)
	if e.Name == "" {
		return e, errs.InvalidField("name", "is required")
	}
	if len(e.Name) > 200 {
		return e, errs.InvalidField("name", "is longer than 200 characters")
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
		p, err := NormalizePhone(c.Phone)
		if err != nil {
			return e, errs.InvalidField(fmt.Sprintf("contacts[%d].phone", i), "%s", err)
		}
		for _, prev := range contacts {
			if prev.Phone == p {
				return e, errs.InvalidField(fmt.Sprintf("contacts[%d].phone", i), "%s is listed twice", p)
			}
		}
		contacts = append(contacts, ContactMethod{Phone: p, SMS: c.SMS})
	}
	e.Contacts = contacts
	return e, nil
}

func containsLang(ls []Language, l Language) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}
