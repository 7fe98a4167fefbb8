package main

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/verify"
)

// codeKeys makes (once, in the store, so that every instance shares them)
// the keys of the codes that confirm engineers' numbers: one seals their
// messages in the pager's outbox, one keys their hashes.
func (c *pagerConfig) codeKeys(ctx context.Context, db *store.DB) error {
	seal, err := db.Secret(ctx, "contact-code-seal", pager.SealKeySize)
	if err != nil {
		return err
	}
	if c.codeSealer, err = pager.NewSealer(seal); err != nil {
		return err
	}
	c.codeHashKey, err = db.Secret(ctx, "contact-code-hash", 32)
	return err
}

// verification is the service that sends and confirms those codes through
// the pager eng: by text when the pager texts, else by call.
func (c *pagerConfig) verification(db *store.DB, svc *oncall.Service, eng *pager.Engine, lines []ivr.Line, clock pager.Clock,
	log *zap.Logger) (*verify.Service, error) {
	callerID, smsFrom := c.senders(lines)
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	v, err := verify.New(verify.Config{Store: db, Engineers: svc, Outbox: eng, Sealer: c.codeSealer, HashKey: c.codeHashKey,
		Texts: smsFrom != "", Calls: callerID != "", OptOuts: db, Now: now, Log: log})
	if err != nil {
		return nil, fmt.Errorf("number verification: %w", err)
	}
	return v, nil
}
