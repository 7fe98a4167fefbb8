package main

// `ivr schedule export|import`: the whole team as one YAML document, read
// from and applied to a running service's admin API, which parses,
// validates, diffs and applies it (so the rules are the API's, and it works
// against any instance, on SQLite or PostgreSQL).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
)

const scheduleUsage = `usage:
  ivr schedule export > team.yaml                 the whole team as one commented YAML document
  ivr schedule import [--dry-run] [--json] FILE   make the team what FILE says (- reads stdin)

The team is engineers, rotations (the version in force now and those to come),
overrides from now on and the escalation policies. import checks all of FILE
first and lists every change (create, update, delete, each with before and
after); --dry-run stops there. Otherwise the changes are applied in one
transaction with one audit entry. What FILE leaves out is removed: engineers
deleted, rotations ended now, overrides to come deleted (see the file's
header). Errors name the line and the field of FILE.

Flags: --server URL (default IVR_SERVER, else http://127.0.0.1:8080),
--json (import: the API's JSON answer as is, for scripts).
The API token is read from IVR_TOKEN only, never from a flag: a flag's value
is visible to every user of the machine in ps. Both need an admin token.

Exit status: 0 done; 2 an error (a refused file, unreachable server,
refused token, bad flag).
`

// scheduleCmd dispatches `ivr schedule SUBCOMMAND`.
func scheduleCmd(ctx context.Context, args []string, env environ) error {
	return subcommand(ctx, "schedule", scheduleUsage, map[string]command{"export": scheduleExport, "import": scheduleImport}, args, env)
}

func scheduleFlags(name string, env environ) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("ivr schedule "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprint(env.stderr, scheduleUsage, "\nFlags of ivr schedule "+name+":\n")
		fs.PrintDefaults()
	}
	return fs, serverFlag(fs, env)
}

// parseInterspersed parses flags before and after the arguments
// (`import team.yaml --dry-run` as well as `import --dry-run team.yaml`) and
// returns the arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func scheduleExport(ctx context.Context, args []string, env environ) error {
	fs, server := scheduleFlags("export", env)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected argument %q: the document goes to stdout (ivr schedule export > team.yaml)", rest[0])
	}
	c, err := newAPIClient(env, *server, map[string]string{})
	if err != nil {
		return err
	}
	c.need = "an admin token"
	doc, err := c.send(ctx, http.MethodGet, "/api/v1/team", nil, "", nil)
	if err != nil {
		return err
	}
	return c.raw(doc)
}

// teamChanges is the API's answer to an import.
type teamChanges struct {
	DryRun  bool `json:"dry_run"`
	Applied bool `json:"applied"`
	Changes []struct {
		Entity  string `json:"entity"`
		ID      string `json:"id"`
		Name    string `json:"name"`
		Action  string `json:"action"`
		Summary string `json:"summary"`
	} `json:"changes"`
}

func scheduleImport(ctx context.Context, args []string, env environ) error {
	fs, server := scheduleFlags("import", env)
	dry := fs.Bool("dry-run", false, "check the file and show the changes; apply nothing")
	asJSON := fs.Bool("json", false, "print the API's JSON answer as is")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	switch {
	case len(rest) == 0:
		return errors.New("name the file to import: ivr schedule import [--dry-run] team.yaml (- for stdin)")
	case len(rest) > 1:
		return fmt.Errorf("unexpected argument %q: import reads one file", rest[1])
	}
	file := rest[0]
	label := file // how messages name the document
	if file == "-" {
		label = "stdin"
	}
	c, err := newAPIClient(env, *server, map[string]string{"dry_run": "--dry-run"})
	if err != nil {
		return err
	}
	c.need = "an admin token"
	c.invalid = func(field, msg string) error {
		if field == "" {
			return fmt.Errorf("%s: %s", label, msg)
		}
		return fmt.Errorf("%s: %s: %s", label, field, msg)
	}
	var doc []byte
	if file == "-" {
		if env.stdin == nil {
			return errors.New("no stdin to read the document from")
		}
		doc, err = io.ReadAll(env.stdin)
	} else {
		doc, err = os.ReadFile(file) //nolint:gosec // G703: the file the operator named on the command line
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	q := url.Values{"dry_run": {fmt.Sprint(*dry)}}
	body, err := c.send(ctx, http.MethodPost, "/api/v1/team/import", q, "application/yaml", bytes.NewReader(doc))
	if err != nil {
		return err
	}
	if *asJSON {
		return c.raw(body)
	}
	var ans teamChanges
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("the answer of %s is not the API's JSON (is --server an ivr service?): %w", c.server, err)
	}
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	n := len(ans.Changes)
	switch {
	case n == 0:
		_, _ = fmt.Fprintf(w, "No change: the service already matches %s.\n", label)
		return w.Flush()
	case ans.DryRun:
		_, _ = fmt.Fprintf(w, "Dry run: %s would make %d change(s); nothing is applied.\n\n", label, n)
	default:
		_, _ = fmt.Fprintf(w, "Applied %d change(s) from %s in one transaction, with one audit entry (entity team).\n\n", n, label)
	}
	_, _ = fmt.Fprintln(w, "ACTION\tENTITY\tID\tNAME\tCHANGE")
	for _, ch := range ans.Changes {
		id := ch.ID
		if id == "" {
			id = "(new)"
		}
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", ch.Action, ch.Entity, id, oneLine(ch.Name), oneLine(ch.Summary))
	}
	if ans.DryRun {
		_, _ = fmt.Fprintf(w, "\nRun without --dry-run to apply them.\n")
	}
	return w.Flush()
}

// oneLine keeps a table cell on its line (and its column) whatever a name
// holds.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == '\t' }), " ")
}
