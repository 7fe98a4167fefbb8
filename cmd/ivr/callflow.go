package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/admin"
	"github.com/supportdesk/ivr/calls"
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
}

func (c *flowConfig) register(fs *flag.FlagSet, env environ) {
	def := ivr.DefaultConfig()
	fs.StringVar(&c.ticketsURL, "tickets-url", env.getenv("IVR_TICKETS_URL"), "base URL of an external ticket system's JSON API; empty: the built-in tickets (env IVR_TICKETS_URL)")
	fs.StringVar(&c.ticketsToken, "tickets-token", env.getenv("IVR_TICKETS_TOKEN"), "bearer token for the external ticket system (env IVR_TICKETS_TOKEN)")
	fs.DurationVar(&c.ticketsTimeout, "tickets-timeout", def.TicketLookupBudget, "time allowed for each ticket system request")
	fs.DurationVar(&c.ringTime, "ring-time", def.RingTime, "how long each engineer's phone rings")
	fs.DurationVar(&c.maxHold, "max-hold", def.MaxHold, "how long a caller waits for an engineer before voicemail")
}

// roster answers the call flow's on-call questions from the schedule
// snapshot: no database round trip per ring.
type roster struct{ svc *oncall.Service }

func (r roster) OnCall(_ context.Context, level oncall.Level, layer oncall.Layer, at time.Time) (oncall.Engineer, bool, error) {
	a, ok := r.svc.OnCall(level, layer, at)
	return a.Engineer, ok, nil
}

// newFlow builds the call flow over the store, the on-call service and the
// configured ticket system.
func newFlow(c flowConfig, db *store.DB, svc *oncall.Service, log *zap.Logger) (*ivr.Flow, error) {
	cfg := ivr.DefaultConfig()
	cfg.RingTime, cfg.MaxHold, cfg.TicketLookupBudget = c.ringTime, c.maxHold, c.ticketsTimeout
	var tix ivr.Tickets = tickets.NewBuiltin(db)
	if c.ticketsURL != "" {
		client, err := httpjson.New(c.ticketsURL, c.ticketsToken, c.ticketsTimeout)
		if err != nil {
			return nil, fmt.Errorf("--tickets-url: %w", err)
		}
		tix = client
	}
	flow, err := ivr.New(cfg, ivr.Deps{Tickets: tix, Roster: roster{svc}, Pages: db, Preferences: db, Calls: db, Log: log})
	if err != nil {
		return nil, fmt.Errorf("call flow: %w", err)
	}
	return flow, nil
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
