package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/admin"
	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/tickets"
	"github.com/supportdesk/ivr/tickets/httpjson"
)

// flowConfig holds the settings of the call flow shared by serve and
// simulate.
type flowConfig struct {
	ticketsURL     string
	ticketsToken   string
	ticketsTimeout time.Duration
	ringTime       time.Duration
	maxHold        time.Duration
	voicemailMax   time.Duration
	ticketDigits   string // "min-max"
	lines          string // "number=name:lang,…"
}

func (c *flowConfig) register(fs *flag.FlagSet, env environ) {
	def := ivr.DefaultConfig()
	fs.StringVar(&c.ticketsURL, "tickets-url", env.getenv("IVR_TICKETS_URL"), "base URL of an external ticket system's JSON API; empty: the built-in tickets (env IVR_TICKETS_URL)")
	fs.StringVar(&c.ticketsToken, "tickets-token", env.getenv("IVR_TICKETS_TOKEN"), "bearer token for the external ticket system (env IVR_TICKETS_TOKEN)")
	fs.DurationVar(&c.ticketsTimeout, "tickets-timeout", def.TicketLookupBudget, "time allowed for each ticket system request")
	fs.DurationVar(&c.ringTime, "ring-time", def.RingTime, "how long each engineer's phone rings")
	fs.DurationVar(&c.maxHold, "max-hold", def.MaxHold, "how long a caller waits for an engineer before voicemail")
	fs.DurationVar(&c.voicemailMax, "voicemail-max", def.VoicemailMaxLength, "the longest voicemail a caller can leave")
	fs.StringVar(&c.ticketDigits, "ticket-digits", orDefault(env.getenv("IVR_TICKET_DIGITS"), fmt.Sprintf("%d-%d", def.TicketDigitsMin, def.TicketDigitsMax)),
		"shortest and longest ticket id callers key in, as min-max (env IVR_TICKET_DIGITS)")
	fs.StringVar(&c.lines, "lines", orDefault(env.getenv("IVR_LINES"), formatLines(def.Lines)),
		fmt.Sprintf("the lines answered, as number=name:language,… where name picks the line's recorded greeting (%s) (env IVR_LINES)",
			strings.Join(lineNames(), " or ")))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// flowSettings is the call flow's configuration from the flags, checked;
// errors name the flag.
func (c flowConfig) flowSettings() (ivr.Config, error) {
	cfg := ivr.DefaultConfig()
	cfg.RingTime, cfg.MaxHold, cfg.TicketLookupBudget, cfg.VoicemailMaxLength = c.ringTime, c.maxHold, c.ticketsTimeout, c.voicemailMax
	minS, maxS, ok := strings.Cut(c.ticketDigits, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(minS))
	hi, err2 := strconv.Atoi(strings.TrimSpace(maxS))
	if !ok || err1 != nil || err2 != nil {
		return cfg, fmt.Errorf("--ticket-digits: %q is not min-max, such as 3-10", c.ticketDigits)
	}
	cfg.TicketDigitsMin, cfg.TicketDigitsMax = lo, hi
	lines, err := parseLines(c.lines)
	if err != nil {
		return cfg, fmt.Errorf("--lines: %w", err)
	}
	cfg.Lines = lines
	if err := cfg.Validate(); err != nil {
		flag := map[string]string{"ticket_digits": "--ticket-digits", "voicemail_max_length": "--voicemail-max",
			"ring_time": "--ring-time", "max_hold": "--max-hold", "ticket_lookup_budget": "--tickets-timeout"}
		var e *errs.Error
		if errors.As(err, &e) {
			if f, ok := flag[e.Field]; ok {
				return cfg, fmt.Errorf("%s: %s", f, e.Message)
			}
			if strings.HasPrefix(e.Field, "lines") {
				return cfg, fmt.Errorf("--lines: %s %s", e.Field, e.Message)
			}
		}
		return cfg, fmt.Errorf("call flow settings: %w", err)
	}
	return cfg, nil
}

// parseLines reads "number=name:language,…". A line's name picks its
// prompts, greeting_<name>, line_<name> and screen_line_<name>, which must
// be in the catalogue (ivr/prompts.go, with audio in sounds/).
func parseLines(s string) ([]ivr.Line, error) {
	var lines []ivr.Line
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		number, rest, ok1 := strings.Cut(item, "=")
		name, lang, ok2 := strings.Cut(rest, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok1 || !ok2 || name == "" {
			return nil, fmt.Errorf("line %d, %q: want number=name:language, such as +74996383867=moscow:ru", i+1, item)
		}
		l := ivr.Line{Number: strings.TrimSpace(number), Name: strings.ToUpper(name[:1]) + name[1:],
			Language: oncall.Language(strings.TrimSpace(lang)), Greeting: "greeting_" + name, Spoken: "line_" + name}
		if !hasLinePrompts(name) {
			return nil, fmt.Errorf("line %d: no recorded greeting for %q (the prompt catalogue has %s); "+
				"a new line needs greeting_%s, line_%s and screen_line_%s in ivr/prompts.go and go generate ./sounds/",
				i+1, name, strings.Join(lineNames(), " and "), name, name, name)
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// lineNames are the names of the lines the prompt catalogue has a greeting
// and a spoken name for.
func lineNames() []string {
	var names []string
	for _, p := range ivr.Catalogue() {
		if n, ok := strings.CutPrefix(p.Name, "greeting_"); ok && hasLinePrompts(n) {
			names = append(names, n)
		}
	}
	return names
}

func hasLinePrompts(name string) bool {
	has := func(prompt string) bool { return ivr.Text(ivr.Prompt{Name: prompt, Lang: oncall.English}) != "" }
	return has("greeting_"+name) && has("line_"+name) && has("screen_line_"+name)
}

func formatLines(lines []ivr.Line) string {
	var parts []string
	for _, l := range lines {
		parts = append(parts, fmt.Sprintf("%s=%s:%s", l.Number, strings.ToLower(l.Name), l.Language))
	}
	return strings.Join(parts, ",")
}

// roster answers the call flow's on-call questions from the schedule
// snapshot: no database round trip per ring.
type roster struct{ svc *oncall.Service }

func (r roster) OnCall(_ context.Context, level oncall.Level, layer oncall.Layer, at time.Time) (oncall.Engineer, bool, error) {
	a, ok := r.svc.OnCall(level, layer, at)
	return a.Engineer, ok, nil
}

// newTickets returns the configured ticket system: the built-in one over
// the store, or an external one's JSON API.
func newTickets(c flowConfig, db *store.DB) (ivr.Tickets, error) {
	if c.ticketsURL == "" {
		return tickets.NewBuiltin(db), nil
	}
	client, err := httpjson.New(c.ticketsURL, c.ticketsToken, c.ticketsTimeout)
	if err != nil {
		return nil, fmt.Errorf("--tickets-url: %w", err)
	}
	return client, nil
}

// newFlow builds the call flow over the store, the on-call service, the
// ticket system and the pager, and returns it with its settings.
func newFlow(c flowConfig, db *store.DB, svc *oncall.Service, tix ivr.Tickets, pages ivr.Pages, busy ivr.OtherCalls, log *zap.Logger) (*ivr.Flow, ivr.Config, error) {
	cfg, err := c.flowSettings()
	if err != nil {
		return nil, cfg, err
	}
	flow, err := ivr.New(cfg, ivr.Deps{Tickets: tix, Roster: roster{svc}, Pages: pages, Preferences: db, Calls: db,
		OtherCalls: busy, Log: log})
	if err != nil {
		return nil, cfg, fmt.Errorf("call flow: %w", err)
	}
	return flow, cfg, nil
}

// voicemails keeps voicemails fetched from Twilio in the store and hands
// out the staff-only URL they are served at.
type voicemails struct {
	db        *store.DB
	publicURL string
}

func (v voicemails) SaveRecording(ctx context.Context, callID, sid, contentType string, data []byte, seconds int) (string, error) {
	err := v.db.SaveRecording(ctx, calls.Recording{ID: sid, CallID: callID, ContentType: contentType, Data: data, Seconds: seconds})
	if err != nil {
		return "", err
	}
	return v.publicURL + admin.RecordingPath(sid), nil
}
