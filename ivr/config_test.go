package ivr_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

func TestDefaultConfig(t *testing.T) {
	c := ivr.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Lines[0].Number != moscow || c.Lines[0].Language != oncall.Russian ||
		c.Lines[1].Number != washington || c.Lines[1].Language != oncall.English {
		t.Errorf("lines %+v", c.Lines)
	}
	if c.TicketDigitsMin != 3 || c.TicketDigitsMax != 10 || c.LanguageTimeout != 5*time.Second ||
		c.DigitTimeout != 10*time.Second || c.MaxTicketTries != 3 || c.RingTime != 25*time.Second ||
		c.MaxHold != 4*time.Minute || c.ProgressEvery != 30*time.Second || c.ScreeningRepeats != 3 ||
		c.VoicemailMaxLength != 120*time.Second || c.TicketLookupBudget != 3*time.Second {
		t.Errorf("defaults %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		field  string
		change func(c *ivr.Config)
	}{
		{"lines", func(c *ivr.Config) { c.Lines = nil }},
		{"lines[0].number", func(c *ivr.Config) { c.Lines[0].Number = "84996383867" }},
		{"lines[1].number", func(c *ivr.Config) { c.Lines[1].Number = c.Lines[0].Number }},
		{"lines[0].language", func(c *ivr.Config) { c.Lines[0].Language = "de" }},
		{"lines[1].greeting", func(c *ivr.Config) { c.Lines[1].Greeting = "greeting_paris" }},
		{"lines[1].spoken", func(c *ivr.Config) { c.Lines[1].Spoken = "" }},
		{"ticket_digits", func(c *ivr.Config) { c.TicketDigitsMin = 0 }},
		{"ticket_digits", func(c *ivr.Config) { c.TicketDigitsMax = 2 }},
		{"ring_time", func(c *ivr.Config) { c.RingTime = 0 }},
		{"ticket_lookup_budget", func(c *ivr.Config) { c.TicketLookupBudget = -time.Second }},
		{"max_ticket_tries", func(c *ivr.Config) { c.MaxTicketTries = 0 }},
		{"screening_repeats", func(c *ivr.Config) { c.ScreeningRepeats = 0 }},
	} {
		c := ivr.DefaultConfig()
		tc.change(&c)
		err := c.Validate()
		var e *errs.Error
		if !errs.Is(err, errs.Invalid) || !asError(err, &e) || e.Field != tc.field {
			t.Errorf("%s: got %v", tc.field, err)
		}
	}
}

func asError(err error, target **errs.Error) bool {
	e, ok := err.(*errs.Error)
	*target = e
	return ok
}

func TestNewNeedsEveryDependency(t *testing.T) {
	e := newEnv(t)
	full := ivr.Deps{Tickets: e.tickets, Roster: e.roster, Pages: e.pages, Preferences: e.prefs, Calls: e.calls}
	if _, err := ivr.New(ivr.DefaultConfig(), full); err != nil {
		t.Fatalf("complete deps: %v", err)
	}
	for name, drop := range map[string]func(d *ivr.Deps){
		"tickets":     func(d *ivr.Deps) { d.Tickets = nil },
		"roster":      func(d *ivr.Deps) { d.Roster = nil },
		"pages":       func(d *ivr.Deps) { d.Pages = nil },
		"preferences": func(d *ivr.Deps) { d.Preferences = nil },
		"calls":       func(d *ivr.Deps) { d.Calls = nil },
	} {
		d := full
		drop(&d)
		if _, err := ivr.New(ivr.DefaultConfig(), d); !errs.Is(err, errs.Invalid) {
			t.Errorf("without %s: %v", name, err)
		}
	}
	bad := ivr.DefaultConfig()
	bad.Lines = nil
	if _, err := ivr.New(bad, full); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad config: %v", err)
	}
}
