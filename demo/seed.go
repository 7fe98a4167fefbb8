package demo

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/tickets"
)

// Log keys of SeedAll.
const (
	logEngineers = "engineers"
	logTickets   = "tickets"
)

// SeedAll is what --demo does, for serve and simulate alike: the demo team
// into svc unless it has engineers (Seed), then the demo tickets into tix
// unless it has tickets (SeedTickets), logging which were seeded and which
// were not. Errors say which of the two failed.
func SeedAll(ctx context.Context, svc *oncall.Service, tix tickets.Store, log *zap.Logger) error {
	seeded, err := Seed(ctx, svc)
	if err != nil {
		return fmt.Errorf("seed demo team: %w", err)
	}
	if seeded {
		log.Info("demo team seeded", zap.Int(logEngineers, len(Team)))
	} else {
		log.Info("store already has engineers; demo data not seeded")
	}
	seeded, err = SeedTickets(ctx, tix)
	if err != nil {
		return fmt.Errorf("seed demo tickets: %w", err)
	}
	if seeded {
		log.Info("demo tickets seeded", zap.Int(logTickets, len(Tickets)))
	} else {
		log.Info("store already has tickets; demo tickets not seeded")
	}
	return nil
}
