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
	tickets        string // ticketsBuiltin, ticketsHTTP or ticketsRT
	rt             rtConfig
	ticketsURL     string
	ticketsToken   string
	ticketsTimeout time.Duration
	ringTime       time.Duration
	maxHold        time.Duration
	voicemailMax   time.Duration
	ticketDigits   string // "min-max"; "" for the ticket system's default
	unverifiedPrio string
	unverifiedLvl  string
	lines          string // "number=name:lang,…"
}

func (c *flowConfig) register(fs *flag.FlagSet, env environ) {
	def := ivr.DefaultConfig()
	fs.StringVar(&c.tickets, "tickets", env.getenv("IVR_TICKETS"), "the ticket system: builtin, http (a JSON API at --tickets-url) or rt (Request Tracker at --rt-url); default http when --tickets-url is set, else builtin (env IVR_TICKETS)")
	c.rt.register(fs, env)
	fs.StringVar(&c.unverifiedPrio, "tickets-unverified-priority", orDefault(env.getenv("IVR_TICKETS_UNVERIFIED_PRIORITY"), string(def.UnverifiedPriority)),
		"the priority of a call whose ticket id the ticket system could not look up, the id kept unverified (env IVR_TICKETS_UNVERIFIED_PRIORITY)")
	fs.StringVar(&c.unverifiedLvl, "tickets-unverified-level", orDefault(env.getenv("IVR_TICKETS_UNVERIFIED_LEVEL"), def.UnverifiedLevel.String()),
		"the support level such a call is routed at (env IVR_TICKETS_UNVERIFIED_LEVEL)")
	fs.StringVar(&c.ticketsURL, "tickets-url", env.getenv("IVR_TICKETS_URL"), "base URL of an external ticket system's JSON API; empty: the built-in tickets (env IVR_TICKETS_URL)")
	fs.StringVar(&c.ticketsToken, "tickets-token", env.getenv("IVR_TICKETS_TOKEN"), "bearer token for the external ticket system (env IVR_TICKETS_TOKEN)")
	fs.DurationVar(&c.ticketsTimeout, "tickets-timeout", def.TicketLookupBudget, "time allowed for each ticket system request")
	fs.DurationVar(&c.ringTime, "ring-time", def.RingTime, "how long each engineer's phone rings")
	fs.DurationVar(&c.maxHold, "max-hold", def.MaxHold, "how long a caller waits for an engineer before voicemail")
	fs.DurationVar(&c.voicemailMax, "voicemail-max", def.VoicemailMaxLength, "the longest voicemail a caller can leave")
	fs.StringVar(&c.ticketDigits, "ticket-digits", env.getenv("IVR_TICKET_DIGITS"),
		fmt.Sprintf("shortest and longest ticket id callers key in, as min-max; default %d-%d, and 1-%d with RT, whose ids start at 1 (env IVR_TICKET_DIGITS)",
			def.TicketDigitsMin, def.TicketDigitsMax, def.TicketDigitsMax))
	fs.StringVar(&c.lines, "lines", orDefault(env.getenv("IVR_LINES"), ivr.FormatLines(def.Lines)),
		fmt.Sprintf("the lines answered, as number=name:language,… where name picks the line's recorded greeting (%s) (env IVR_LINES)",
			strings.Join(ivr.LineNames(), " or ")))
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
	kind, err := c.ticketSystem()
	if err != nil {
		return cfg, err
	}
	digits := c.ticketDigits
	switch {
	case digits == "" && kind == ticketsRT:
		digits = fmt.Sprintf("1-%d", cfg.TicketDigitsMax)
	case digits == "":
		digits = fmt.Sprintf("%d-%d", cfg.TicketDigitsMin, cfg.TicketDigitsMax)
	}
	if cfg.UnverifiedPriority, err = oncall.ParsePriority(c.unverifiedPrio); err != nil {
		return cfg, fmt.Errorf("--tickets-unverified-priority: %q is not a priority (critical, urgent, normal or low)", c.unverifiedPrio)
	}
	if cfg.UnverifiedLevel, err = oncall.ParseLevel(c.unverifiedLvl); err != nil {
		return cfg, fmt.Errorf("--tickets-unverified-level: %q is not a support level (L1, L2 or L3)", c.unverifiedLvl)
	}
	minS, maxS, ok := strings.Cut(digits, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(minS))
	hi, err2 := strconv.Atoi(strings.TrimSpace(maxS))
	if !ok || err1 != nil || err2 != nil {
		return cfg, fmt.Errorf("--ticket-digits: %q is not min-max, such as 3-10", digits)
	}
	cfg.TicketDigitsMin, cfg.TicketDigitsMax = lo, hi
	lines, err := ivr.ParseLines(c.lines)
	var e *errs.Error
	if errors.As(err, &e) {
		return cfg, fmt.Errorf("--lines: %s", e.Message)
	}
	if err != nil {
		return cfg, fmt.Errorf("--lines: %w", err)
	}
	cfg.Lines = lines
	if err := cfg.Validate(); err != nil {
		flag := map[string]string{"ticket_digits": "--ticket-digits", "voicemail_max_length": "--voicemail-max",
			"ring_time": "--ring-time", "max_hold": "--max-hold", "ticket_lookup_budget": "--tickets-timeout"}
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
	kind, err := c.ticketSystem()
	if err != nil {
		return nil, err
	}
	switch kind {
	case ticketsRT:
		return c.rt.client(c.ticketsTimeout)
	case ticketsHTTP:
		client, err := httpjson.New(c.ticketsURL, c.ticketsToken, c.ticketsTimeout)
		if err != nil {
			return nil, fmt.Errorf("--tickets-url: %w", err)
		}
		return client, nil
	}
	return tickets.NewBuiltin(db), nil
}

// ticketSystem is the ticket system --tickets names, or its default.
func (c flowConfig) ticketSystem() (string, error) {
	switch k := strings.ToLower(strings.TrimSpace(c.tickets)); {
	case k == "" && c.ticketsURL != "":
		return ticketsHTTP, nil
	case k == "":
		return ticketsBuiltin, nil
	case k == ticketsHTTP && c.ticketsURL == "":
		return "", fmt.Errorf("--tickets http: set --tickets-url (IVR_TICKETS_URL) to the JSON API's base URL")
	case k == ticketsBuiltin || k == ticketsHTTP || k == ticketsRT:
		return k, nil
	default:
		return "", fmt.Errorf("--tickets: %q is not a ticket system (builtin, http or rt)", c.tickets)
	}
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
