package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/simulator"
	"github.com/supportdesk/ivr/sounds"
	"github.com/supportdesk/ivr/store"
)

// simulate lets a person phone the call flow from the terminal, over the
// same store and schedules as serve. With SQLite, serve must not be
// running on the same file (one process per file); with PostgreSQL both
// may run.
func simulate(ctx context.Context, args []string, env environ) error {
	var (
		c          common
		fc         flowConfig
		line, from string
		seed, play bool
	)
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	c.register(fs, env)
	fc.register(fs, env)
	fs.StringVar(&line, "line", ivr.DefaultConfig().Lines[0].Number, "the support line dialled (+74996383867 Moscow, +12025952118 Washington)")
	fs.StringVar(&from, "from", "+15550001111", "the caller's number; empty for a withheld one")
	fs.BoolVar(&seed, "demo", false, "seed the demo team and tickets into an empty store first")
	fs.BoolVar(&play, "play", false, "also play the prompts (needs sox's play command)")
	if c.logLevel == "info" {
		c.logLevel = "warn" // the terminal is for the call, not for logs
	}
	if err := parse(fs, args, env); err != nil {
		return err
	}
	opts := simulator.Options{Line: line, Caller: from}
	if play {
		p, err := promptPlayer()
		if err != nil {
			return err
		}
		opts.Play = p
	}
	return withStore(ctx, c, env, func(db *store.DB) error {
		log, err := newLogger(c.logLevel, env)
		if err != nil {
			return err
		}
		svc := oncall.NewService(db, log.Named("oncall"), oncall.ServiceOptions{})
		if seed {
			if _, err := demo.Seed(ctx, svc); err != nil {
				return fmt.Errorf("seed demo team: %w", err)
			}
			if _, err := demo.SeedTickets(ctx, db); err != nil {
				return fmt.Errorf("seed demo tickets: %w", err)
			}
		}
		if err := svc.Refresh(ctx); err != nil {
			return fmt.Errorf("load schedules: %w", err)
		}
		tix, err := newTickets(fc, db)
		if err != nil {
			return err
		}
		flow, _, err := newFlow(fc, db, svc, tix, db, log)
		if err != nil {
			return err
		}
		return simulator.Run(ctx, flow, env.stdin, env.stdout, opts)
	})
}

// promptPlayer plays prompt audio through sox's play command.
func promptPlayer() (func(ivr.Prompt), error) {
	bin, err := exec.LookPath("play")
	if err != nil {
		return nil, fmt.Errorf("--play needs the play command from sox (apt-get install sox)")
	}
	return func(p ivr.Prompt) {
		data, ok := sounds.Bytes(string(p.Lang), p.Name)
		if !ok {
			return
		}
		f, err := os.CreateTemp("", "ivr-prompt-*.wav")
		if err != nil {
			return
		}
		defer os.Remove(f.Name())
		_, werr := f.Write(data)
		if cerr := f.Close(); werr != nil || cerr != nil {
			return
		}
		_ = exec.Command(bin, "-q", f.Name()).Run()
	}, nil
}
