package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/supportdesk/ivr/sounds"
)

const asteriskUsage = `usage: ivr asterisk sounds --dir DIR [--check]
  writes the prompt audio (both languages, the hold music) into DIR for Asterisk to play:
  DIR/<lang>/<name>.wav and DIR/hold.wav; --check changes nothing and exits 1 if DIR differs
`

// asteriskCmd dispatches `ivr asterisk SUBCOMMAND`.
func asteriskCmd(ctx context.Context, args []string, env environ) error {
	if len(args) == 0 || args[0] != "sounds" {
		_, _ = fmt.Fprint(env.stderr, asteriskUsage) // usage text, as in run
		return errUsage
	}
	return asteriskSounds(ctx, args[1:], env)
}

// asteriskSounds installs the sounds catalogue into the folder Asterisk
// plays it from (sounds.Install), or with --check says what differs
// there (sounds.Check) and exits 1 if anything does.
func asteriskSounds(_ context.Context, args []string, env environ) error {
	var (
		dir   string
		check bool
	)
	fs := flag.NewFlagSet("asterisk sounds", flag.ContinueOnError)
	fs.StringVar(&dir, "dir", "", "the folder to install into, readable by Asterisk (required), e.g. /var/lib/asterisk/sounds/ivr")
	fs.BoolVar(&check, "check", false, "change nothing: name the files missing, stale or obsolete in --dir and exit 1 if there is one")
	fs.Usage = func() {
		_, _ = fmt.Fprint(env.stderr, asteriskUsage) // usage text, as in run
		fs.PrintDefaults()
	}
	if err := parse(fs, args, env); err != nil {
		return err
	}
	if dir == "" {
		_, _ = fmt.Fprint(env.stderr, "--dir is required\n", asteriskUsage)
		return errUsage
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	out := env.stdout
	if check {
		problems, err := sounds.Check(abs)
		if err != nil {
			return err
		}
		for _, p := range problems {
			_, _ = fmt.Fprintf(out, "%s: %s\n", p.Path, p.Kind) // the report is the command's output
		}
		if len(problems) > 0 {
			what := fmt.Sprintf("%d files differ", len(problems))
			if len(problems) == 1 {
				what = "1 file differs"
			}
			_, _ = fmt.Fprintf(out, "%s: %s from the catalogue; install with: ivr asterisk sounds --dir %s\n", abs, what, abs)
			return exitStatus(1)
		}
		_, _ = fmt.Fprintf(out, "%s: every file of the catalogue is installed\n", abs)
		return nil
	}
	done, err := sounds.Install(abs)
	if err != nil {
		return err
	}
	count := map[sounds.Action]int{}
	for _, c := range done.Changes {
		_, _ = fmt.Fprintf(out, "%s: %s\n", c.Path, c.Action)
		count[c.Action]++
	}
	_, _ = fmt.Fprintf(out, "%s: %d added, %d replaced, %d removed, %d unchanged", abs,
		count[sounds.Added], count[sounds.Replaced], count[sounds.Removed], done.Unchanged)
	if count[sounds.Kept] > 0 {
		_, _ = fmt.Fprintf(out, ", %d no longer in the catalogue but changed by someone else, left there", count[sounds.Kept])
	}
	greeting, _ := sounds.InstallPath("en", "greeting_washington")
	_, _ = fmt.Fprintf(out, "\nAsterisk plays them as sound:%s, e.g. sound:%s\n", filepath.Join(abs, "<lang>", "<name>"), filepath.Join(abs, greeting))
	return nil
}
