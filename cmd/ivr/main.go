// Command ivr is the support line's one binary: `serve` runs the service,
// `migrate` applies database migrations, `token create` issues an API token,
// `simulate` phones the call flow from a terminal, `oncall` reads the schedule
// from a running service, `schedule` exports and imports the team as YAML
// through it, `fake-twilio` stands in for Twilio's REST API on
// loopback, `asterisk sounds` installs the prompt audio for Asterisk.
// This package only wires the others together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/supportdesk/ivr/pager"

	// Zone data inside the binary, so that rotations in any IANA zone work
	// on machines without /usr/share/zoneinfo.
	_ "time/tzdata"
)

const usage = `ivr — the 24/7 support line: IVR, on-call schedules and paging.

Usage:
  ivr serve [--addr 127.0.0.1:8080] [--db ivr.db] [--demo]   run the service
  ivr migrate [--db ivr.db]                                 apply database migrations
  ivr simulate [--demo] [--line +74996383867] [--from +15550001111] [--play]
                                                            phone the support line from this terminal
  ivr fake-twilio [--addr 127.0.0.1:8089]                   a fake Twilio REST API on loopback
  ivr token create --role admin|engineer --name NAME [--engineer ID]
                                                            issue an API token (printed once)
  ivr rt seed --rt-url URL --rt-user root [--rt-queues L1=L1,L2=L2,L3=L3]
                                                            create the level queues and the demo tickets in
                                                            Request Tracker (password in IVR_RT_PASSWORD)
  ivr oncall now [--level L2] | shifts [--level L1 --from … --to …] | gaps [--days 14]
                                                            the schedule from a running service (--server,
                                                            IVR_SERVER; token in IVR_TOKEN only, never a flag:
                                                            flags show in ps); gaps exits 1 when there is one
  ivr schedule export > team.yaml | import [--dry-run] team.yaml
                                                            the whole team as one YAML document, from and to a
                                                            running service (admin token in IVR_TOKEN)
  ivr asterisk sounds --dir DIR [--check]                   install the prompt audio where Asterisk plays it
                                                            (DIR/<lang>/<name>.wav); --check exits 1 if DIR differs

Environment (flags win): IVR_ADDR, IVR_DB (an SQLite file, or a postgres:// URL),
IVR_ADMIN_TOKEN (an admin bearer token accepted from start), IVR_LOG_LEVEL,
IVR_PUBLIC_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, IVR_TWILIO_API_URL,
IVR_TICKETS_URL, IVR_TICKETS_TOKEN. Run "ivr COMMAND -h" for every flag.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := environ{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	if err := run(ctx, os.Args[1:], env); err != nil {
		var st exitStatus
		if !errors.Is(err, errUsage) && !errors.As(err, &st) {
			fmt.Fprintln(os.Stderr, "ivr:", err)
		}
		os.Exit(exitCode(err))
	}
}

// environ is what a command may read and write besides its arguments, so
// tests run commands in-process with their own.
type environ struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// onListen, when set, learns the address serve listens on (tests pass
	// --addr 127.0.0.1:0).
	onListen func(addr string)
	// clock, when set, is the pager's clock (tests drive its timers);
	// default the real one.
	clock pager.Clock
}

var errUsage = errors.New("usage")

// run runs the command args name. Usage text goes to the operator's
// terminal; a failed write there has nowhere better to be reported, so its
// error is dropped (`_, _ =`).
func run(ctx context.Context, args []string, env environ) error {
	if len(args) == 0 {
		_, _ = fmt.Fprint(env.stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], env)
	case "migrate":
		return migrate(ctx, args[1:], env)
	case "simulate":
		return simulate(ctx, args[1:], env)
	case "fake-twilio":
		return fakeTwilio(ctx, args[1:], env)
	case "token":
		if len(args) < 2 || args[1] != "create" {
			_, _ = fmt.Fprint(env.stderr, "usage: ivr token create --role admin|engineer --name NAME [--engineer ID]\n")
			return errUsage
		}
		return tokenCreate(ctx, args[2:], env)
	case "rt":
		if len(args) < 2 || args[1] != "seed" {
			_, _ = fmt.Fprint(env.stderr, "usage: ivr rt seed --rt-url URL --rt-user root (password in IVR_RT_PASSWORD) [--rt-queues …]\n")
			return errUsage
		}
		return rtSeed(ctx, args[2:], env)
	case "oncall":
		return oncallCmd(ctx, args[1:], env)
	case "schedule":
		return scheduleCmd(ctx, args[1:], env)
	case "asterisk":
		return asteriskCmd(ctx, args[1:], env)
	case "help", "-h", "--help":
		_, _ = fmt.Fprint(env.stdout, usage)
		return nil
	}
	_, _ = fmt.Fprintf(env.stderr, "unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
