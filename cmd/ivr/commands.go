package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/store"
)

func migrate(ctx context.Context, args []string, env environ) error {
	var c common
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	c.register(fs, env)
	if err := parse(fs, args, env); err != nil {
		return err
	}
	return withStore(ctx, c, env, func(*store.DB) error {
		_, _ = fmt.Fprintf(env.stdout, "%s is migrated\n", redact(c.db)) // to the terminal, as run's usage
		return nil
	})
}

// withStore opens and migrates the store c names, runs fn, and closes it.
func withStore(ctx context.Context, c common, env environ, fn func(db *store.DB) error) error {
	log, err := newLogger(c.logLevel, env)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, c.db, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Warn("could not close the store", zap.Error(err))
		}
	}()
	return fn(db)
}

// tokenCreate issues a token and prints its secret once: the way an admin
// gets in without IVR_ADMIN_TOKEN.
func tokenCreate(ctx context.Context, args []string, env environ) error {
	var (
		c          common
		role, name string
		engineerID int64
	)
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	c.register(fs, env)
	fs.StringVar(&role, "role", "", "admin or engineer (required)")
	fs.StringVar(&name, "name", "", "who or what the token is for (required)")
	fs.Int64Var(&engineerID, "engineer", 0, "for an engineer token: the engineer's id")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	err := withStore(ctx, c, env, func(db *store.DB) error {
		tok, secret, err := access.Issue(ctx, db, "cli", name, role, engineerID)
		if err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		_, _ = fmt.Fprintf(env.stderr, "token %d (%s, role %s) created; its secret is shown this once:\n", tok.ID, tok.Name, tok.Role)
		// A secret that could not be written is lost: say so.
		if _, err := fmt.Fprintln(env.stdout, secret); err != nil {
			return fmt.Errorf("token create: token %d was created but its secret could not be printed (revoke it): %w", tok.ID, err)
		}
		return nil
	})
	if errors.Is(err, store.ErrLocked) {
		// serve holds the SQLite file; the running service issues tokens too.
		return fmt.Errorf("token create: %w; while ivr serve runs, create the token through it instead: "+
			"POST /api/v1/tokens with an admin token (see the README)", err)
	}
	return err
}
