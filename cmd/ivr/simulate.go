package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
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
		pc         pagerConfig
		line, from string
		seed, play bool
	)
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	c.register(fs, env)
	fc.register(fs, env)
	pc.register(fs, env)
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
			if err := demo.SeedAll(ctx, svc, db, log); err != nil {
				return err
			}
		}
		if err := svc.Refresh(ctx); err != nil {
			return fmt.Errorf("load schedules: %w", err)
		}
		tix, err := newTickets(fc, db)
		if err != nil {
			return err
		}
		settings, err := fc.flowSettings()
		if err != nil {
			return err
		}
		eng, pg, err := simulatedPager(pc, db, svc, tix, settings.Lines, log)
		if err != nil {
			return err
		}
		flow, _, err := newFlow(fc, db, svc, tix, eng, eng, log)
		if err != nil {
			return err
		}
		if db.Backend() == store.SQLite {
			opts.Pager = pg
		} else {
			// Other instances may be serving this store: their pager
			// sends the page, which this one must not take from them.
			_, _ = fmt.Fprintf(env.stdout, "(PostgreSQL: a page this call raises is sent by the pager of ivr serve, not shown here)\n")
		}
		return simulator.Run(ctx, flow, env.stdin, env.stdout, opts)
	})
}

// simulatedPager is the pager's engine over the store and the schedules,
// as serve builds it, but with the simulator's phones for channels: page
// calls and texts are shown on the terminal, not placed through Twilio.
// Ticket notes are written as serve writes them.
func simulatedPager(pc pagerConfig, db *store.DB, svc *oncall.Service, tix ivr.Tickets, lines []ivr.Line, log *zap.Logger) (*pager.Engine, *simulator.Pager, error) {
	rules, err := pc.rules(lines)
	if err != nil {
		return nil, nil, err
	}
	callerID, smsFrom := pc.senders(lines)
	phones := simulator.NewPhones()
	channels := phones.Channels()
	channels[pager.KindNote] = pager.NoteChannel{Tickets: tix}
	if smsFrom == "" {
		delete(channels, pager.KindSMS) // as serve: no number to text from
	}
	eng, err := pager.New(pager.Config{Store: db, Channels: channels, Roster: pagerRoster{svc}, Policies: svc,
		Rules: rules, Log: log.Named("pager")})
	if err != nil {
		return nil, nil, err
	}
	return eng, &simulator.Pager{Engine: eng, Phones: phones, Rules: rules, CallerID: callerID, SMSFrom: smsFrom}, nil
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
		defer func() { _ = os.Remove(f.Name()) }() // a prompt left in the temp directory harms nothing
		_, werr := f.Write(data)
		if cerr := f.Close(); werr != nil || cerr != nil {
			return
		}
		_ = exec.Command(bin, "-q", f.Name()).Run() //nolint:gosec // G204: sox's play found on PATH, playing our own temp file
	}, nil
}
