package main

// `ivr oncall now|shifts|gaps`: the schedule for people at a terminal and for
// scripts, read from a running service's admin API (never from the store, so
// it works against any instance, with the API's own rules and tokens).

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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

const oncallUsage = `usage:
  ivr oncall now [--level L2] [--at TIME]                    who is on call, each level and layer
  ivr oncall shifts [--level L1] [--from TIME] [--to TIME]   the shifts in a window (default the next 7 days)
  ivr oncall gaps [--level L1] [--from TIME] [--days 14]     times a level has nobody on call

Common flags: --server URL (default IVR_SERVER, else http://127.0.0.1:8080),
--tz ZONE (times shown in this IANA zone, such as Europe/Moscow, America/New_York
or UTC; default the local zone), --json (the API's JSON answer as is, for scripts).
TIME is RFC 3339 (2026-03-08T09:00:00+03:00) or a date (2026-03-08, midnight in --tz).

The API token is read from IVR_TOKEN only, never from a flag: a flag's value
is visible to every user of the machine in ps. Any role may read schedules.

Exit status: 0 ok; for gaps, 1 when a level has a gap in the window;
2 an error (unreachable server, refused token, bad flag).
`

// exitStatus is an outcome that is not an error but must still reach the
// shell as a status of its own (gaps: 1, a gap exists). main exits with it
// and prints nothing more: the command has said everything.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// exitCode is the process status for run's error: an exitStatus as is, any
// other error 2.
func exitCode(err error) int {
	var st exitStatus
	if errors.As(err, &st) {
		return int(st)
	}
	return 2
}

// oncallCmd dispatches `ivr oncall SUBCOMMAND`.
func oncallCmd(ctx context.Context, args []string, env environ) error {
	return subcommand(ctx, "oncall", oncallUsage, map[string]command{"now": oncallNow, "shifts": oncallShifts, "gaps": oncallGaps}, args, env)
}

// command is one sub-command: its arguments after its name.
type command func(ctx context.Context, args []string, env environ) error

// subcommand runs the sub-command of group args[0] names, with the rest
// of args; none or an unknown one prints usage to stderr (errUsage), help
// prints it to stdout.
func subcommand(ctx context.Context, group, usage string, cmds map[string]command, args []string, env environ) error {
	if len(args) == 0 {
		_, _ = fmt.Fprint(env.stderr, usage)
		return errUsage
	}
	if run, ok := cmds[args[0]]; ok {
		return run(ctx, args[1:], env)
	}
	switch args[0] {
	case "help", "-h", "--help":
		_, _ = fmt.Fprint(env.stdout, usage)
		return nil
	}
	_, _ = fmt.Fprintf(env.stderr, "unknown %s command %q\n\n%s", group, args[0], usage)
	return errUsage
}

// oncallClient is what every oncall sub-command shares: the server, the
// token, the viewer's zone and the output form.
type oncallClient struct {
	server string
	token  string
	loc    *time.Location
	asJSON bool
	out    io.Writer
	// fields maps the API's error field names to this command's flags.
	fields map[string]string
	// need names the token a refused (403) request needs; default an
	// engineer or admin token.
	need string
	// invalid, when set, words a 400 whose field is no flag (the field of
	// a file the command sent, say).
	invalid func(field, msg string) error
}

type oncallFlags struct {
	fs     *flag.FlagSet
	server *string
	tz     *string
	asJSON *bool
	level  *string
}

// serverFlag adds --server to fs: the service's base URL, default
// IVR_SERVER, else http://127.0.0.1:8080.
func serverFlag(fs *flag.FlagSet, env environ) *string {
	server := env.getenv("IVR_SERVER")
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	return fs.String("server", server, "the service's base URL (env IVR_SERVER)")
}

func newOncallFlags(name string, env environ) oncallFlags {
	fs := flag.NewFlagSet("ivr oncall "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprint(env.stderr, oncallUsage, "\nFlags of ivr oncall "+name+":\n")
		fs.PrintDefaults()
	}
	return oncallFlags{
		fs:     fs,
		server: serverFlag(fs, env),
		tz:     fs.String("tz", "", "show times in this IANA zone (default the local zone)"),
		asJSON: fs.Bool("json", false, "print the API's JSON answer as is"),
		level:  fs.String("level", "", "one level, L1, L2 or L3 (default every level)"),
	}
}

// client checks the common flags and the token.
func (f oncallFlags) client(env environ, fields map[string]string) (*oncallClient, error) {
	if f.fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see ivr oncall -h)", f.fs.Arg(0))
	}
	c, err := newAPIClient(env, *f.server, fields)
	if err != nil {
		return nil, err
	}
	if *f.tz != "" {
		if c.loc, err = time.LoadLocation(*f.tz); err != nil {
			return nil, fmt.Errorf("--tz: %q is not a known IANA time zone such as Europe/Moscow, America/New_York or UTC", *f.tz)
		}
	}
	fields["level"] = "--level"
	c.asJSON = *f.asJSON
	return c, nil
}

// newAPIClient checks --server and the token, which every command that
// talks to a running service needs.
func newAPIClient(env environ, server string, fields map[string]string) (*oncallClient, error) {
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server: %q is not a URL such as http://127.0.0.1:8080", server)
	}
	token := env.getenv("IVR_TOKEN")
	if token == "" {
		return nil, errors.New("IVR_TOKEN is not set: export an API token in it (create one with `ivr token create` or POST /api/v1/tokens); it is never taken as a flag")
	}
	return &oncallClient{server: u.String(), token: token, loc: time.Local, out: env.stdout, fields: fields}, nil
}

// parseFlagTime reads a TIME flag: RFC 3339, or a date meaning midnight in loc.
func parseFlagTime(name, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s: %q is not an RFC 3339 time such as 2026-03-08T09:00:00+03:00 or a date such as 2026-03-08", name, s)
}

// apiError is the admin API's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

// get fetches path with query into out, and returns the body as it came
// (for --json). Errors say what to do, and name flags rather than the API's
// fields.
func (c *oncallClient) get(ctx context.Context, path string, query url.Values, out any) ([]byte, error) {
	body, err := c.send(ctx, http.MethodGet, path, query, "", nil)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("the answer of %s is not the API's JSON (is --server an ivr service?): %w", c.server+path, err)
	}
	return body, nil
}

// send makes one request of the API (a body of contentType, if any) and
// returns the body of its 200 answer.
func (c *oncallClient) send(ctx context.Context, method, path string, query url.Values, contentType string, body io.Reader) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	target := c.server + path
	if q := query.Encode(); q != "" {
		target += "?" + q
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req) //nolint:gosec // G704: the URL is the operator's own --server (or IVR_SERVER)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already, without the query
		}
		return nil, fmt.Errorf("cannot reach the service at %s (--server or IVR_SERVER): is `ivr serve` running there? %w", c.server, err)
	}
	defer func() { _ = res.Body.Close() }()
	answer, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", target, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, c.statusError(res.StatusCode, path, answer)
	}
	return answer, nil
}

func (c *oncallClient) statusError(status int, path string, body []byte) error {
	var e apiError
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
	}
	switch {
	case status == http.StatusUnauthorized:
		return errors.New("IVR_TOKEN was refused: create a token with `ivr token create` or POST /api/v1/tokens, and export it in IVR_TOKEN")
	case status == http.StatusForbidden:
		need := c.need
		if need == "" {
			need = "an engineer or admin token"
		}
		return fmt.Errorf("IVR_TOKEN may not use %s (%s): use %s", path, msg, need)
	case status == http.StatusNotFound:
		return fmt.Errorf("%s has no %s (%s): is --server (or IVR_SERVER) the ivr service's base URL?", c.server, path, msg)
	case status == http.StatusBadRequest && c.invalid != nil && e.Error.Field == "":
		return c.invalid("", msg)
	case status == http.StatusBadRequest && e.Error.Field != "":
		if flagName, ok := c.fields[e.Error.Field]; ok {
			return fmt.Errorf("%s: %s", flagName, msg)
		}
		if c.invalid != nil {
			return c.invalid(e.Error.Field, msg)
		}
		return fmt.Errorf("the service refused the request (%s): %s", e.Error.Field, msg)
	case status == http.StatusServiceUnavailable:
		return fmt.Errorf("the service is not ready (%s): try again later, or see its log", msg)
	case status >= 500:
		return fmt.Errorf("the service failed (%d %s): see its log", status, msg)
	}
	return fmt.Errorf("the service answered %d: %s", status, msg)
}

// raw prints an API answer for --json.
func (c *oncallClient) raw(body []byte) error {
	if !bytes.HasSuffix(body, []byte("\n")) {
		body = append(body, '\n')
	}
	_, err := c.out.Write(body)
	return err
}

// when shows t in the viewer's zone, with the zone's abbreviation (it may
// change within a window, at a DST switch).
func (c *oncallClient) when(t time.Time) string {
	return t.In(c.loc).Format("Mon 2006-01-02 15:04 MST")
}

// zoneLine names the zone every time of a table is shown in.
func (c *oncallClient) zoneLine() string {
	name := c.loc.String()
	if c.loc == time.Local {
		name = "the local zone (" + time.Now().Format("MST, UTC-07:00") + ")"
	}
	return "Times in " + name + "."
}

// length shows d to the minute for people: "13d 21h 34m", "23h 00m".
func length(d time.Duration) string {
	m := int64(d.Round(time.Minute) / time.Minute)
	days, hours, mins := m/(24*60), m/60%24, m%60
	if days > 0 {
		return fmt.Sprintf("%dd %dh %02dm", days, hours, mins)
	}
	return fmt.Sprintf("%dh %02dm", hours, mins)
}

// openEnded reports whether t is the schedule's "no end" (year 2262, the last
// instant it represents), shown as such instead of a date.
type apiEngineer struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Phones []string `json:"phones"`
}

func oncallNow(ctx context.Context, args []string, env environ) error {
	f := newOncallFlags("now", env)
	at := f.fs.String("at", "", "the time to ask about (default now)")
	if err := f.fs.Parse(args); err != nil {
		return errUsage
	}
	c, err := f.client(env, map[string]string{"at": "--at"})
	if err != nil {
		return err
	}
	q := url.Values{}
	if *f.level != "" {
		q.Set("level", *f.level)
	}
	if *at != "" {
		t, err := parseFlagTime("at", *at, c.loc)
		if err != nil {
			return err
		}
		q.Set("at", t.Format(time.RFC3339))
	}
	var ans struct {
		At     time.Time `json:"at"`
		OnCall []struct {
			Level      string       `json:"level"`
			Layer      string       `json:"layer"`
			Engineer   *apiEngineer `json:"engineer"`
			Start      *time.Time   `json:"start"`
			End        *time.Time   `json:"end"`
			OverrideID int64        `json:"override_id"`
		} `json:"oncall"`
	}
	body, err := c.get(ctx, "/api/v1/oncall", q, &ans)
	if err != nil {
		return err
	}
	if c.asJSON {
		return c.raw(body)
	}
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintf(w, "On call at %s. %s\n\n", c.when(ans.At), c.zoneLine())
	_, _ = fmt.Fprintln(w, "LEVEL\tLAYER\tENGINEER\tPHONE\tFROM\tUNTIL")
	for _, e := range ans.OnCall {
		if e.Engineer == nil {
			_, _ = fmt.Fprintf(w, "%s\t%s\t(nobody: a gap)\n", e.Level, e.Layer)
			continue
		}
		phone, from, until := "", "", "further notice"
		if len(e.Engineer.Phones) > 0 {
			phone = e.Engineer.Phones[0]
		}
		if e.Start != nil {
			from = c.when(*e.Start)
		}
		if e.End != nil {
			until = c.when(*e.End)
		}
		name := e.Engineer.Name
		if e.OverrideID != 0 {
			name += " (override)"
		}
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Level, e.Layer, name, phone, from, until)
	}
	return w.Flush()
}

func oncallShifts(ctx context.Context, args []string, env environ) error {
	f := newOncallFlags("shifts", env)
	from := f.fs.String("from", "", "the window's start (default now)")
	to := f.fs.String("to", "", "the window's end (default 7 days after --from)")
	if err := f.fs.Parse(args); err != nil {
		return errUsage
	}
	c, err := f.client(env, map[string]string{"from": "--from", "to": "--to"})
	if err != nil {
		return err
	}
	q := url.Values{}
	if *f.level != "" {
		q.Set("level", *f.level)
	}
	for _, p := range []struct{ name, val string }{{"from", *from}, {"to", *to}} {
		if p.val == "" {
			continue
		}
		t, err := parseFlagTime(p.name, p.val, c.loc)
		if err != nil {
			return err
		}
		q.Set(p.name, t.Format(time.RFC3339))
	}
	var ans struct {
		From   time.Time  `json:"from"`
		To     time.Time  `json:"to"`
		Shifts []struct { // the API's shift: the domain's, with the engineer's name
			oncall.Shift
			EngineerName string `json:"engineer_name"`
		} `json:"shifts"`
	}
	body, err := c.get(ctx, "/api/v1/shifts", q, &ans)
	if err != nil {
		return err
	}
	if c.asJSON {
		return c.raw(body)
	}
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintf(w, "Shifts from %s to %s. %s\n\n", c.when(ans.From), c.when(ans.To), c.zoneLine())
	if len(ans.Shifts) == 0 {
		_, _ = fmt.Fprintln(w, "No shifts.")
		return w.Flush()
	}
	_, _ = fmt.Fprintln(w, "LEVEL\tLAYER\tENGINEER\tFROM\tUNTIL\tBY")
	for _, s := range ans.Shifts {
		until, by := "further notice", fmt.Sprintf("rotation %d", s.RotationID)
		if !s.OpenEnded() {
			until = c.when(s.End)
		}
		if s.OverrideID != 0 {
			by = fmt.Sprintf("override %d", s.OverrideID)
		}
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Level, s.Layer, s.EngineerName, c.when(s.Start), until, by)
	}
	return w.Flush()
}

func oncallGaps(ctx context.Context, args []string, env environ) error {
	f := newOncallFlags("gaps", env)
	from := f.fs.String("from", "", "the window's start (default now)")
	days := f.fs.Int("days", 14, "the window's length in days, 1 to 400")
	if err := f.fs.Parse(args); err != nil {
		return errUsage
	}
	c, err := f.client(env, map[string]string{"from": "--from", "to": "--days"})
	if err != nil {
		return err
	}
	if *days < 1 || *days > 400 {
		return fmt.Errorf("--days: %d is not between 1 and 400", *days)
	}
	start := time.Now()
	if *from != "" {
		if start, err = parseFlagTime("from", *from, c.loc); err != nil {
			return err
		}
	}
	q := url.Values{"from": {start.Format(time.RFC3339)}, "to": {start.AddDate(0, 0, *days).Format(time.RFC3339)}}
	if *f.level != "" {
		q.Set("level", *f.level)
	}
	var ans struct {
		From     time.Time        `json:"from"`
		To       time.Time        `json:"to"`
		Gaps     []oncall.Gap     `json:"gaps"` // as the API encodes them
		Overlaps []oncall.Overlap `json:"overlaps"`
	}
	body, err := c.get(ctx, "/api/v1/gaps", q, &ans)
	if err != nil {
		return err
	}
	status := error(nil)
	if len(ans.Gaps) > 0 {
		status = exitStatus(1)
	}
	if c.asJSON {
		if err := c.raw(body); err != nil {
			return err
		}
		return status
	}
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	levels := "every level"
	if *f.level != "" {
		levels = *f.level
	}
	_, _ = fmt.Fprintf(w, "Coverage of %s from %s to %s. %s\n\n", levels, c.when(ans.From), c.when(ans.To), c.zoneLine())
	if len(ans.Gaps) == 0 {
		_, _ = fmt.Fprintln(w, "No gap: someone is on call at every moment.")
	} else {
		_, _ = fmt.Fprintf(w, "%d gap(s): nobody on call in any layer.\n", len(ans.Gaps))
		_, _ = fmt.Fprintln(w, "LEVEL\tFROM\tUNTIL\tLENGTH")
		for _, g := range ans.Gaps {
			_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", g.Level, c.when(g.Start), c.when(g.End), length(g.End.Sub(g.Start)))
		}
	}
	if len(ans.Overlaps) > 0 {
		_, _ = fmt.Fprintf(w, "\n%d overlap(s): rotations of one layer claim the same time (the lowest rotation id wins).\n", len(ans.Overlaps))
		_, _ = fmt.Fprintln(w, "LEVEL\tLAYER\tFROM\tUNTIL\tROTATIONS")
		for _, o := range ans.Overlaps {
			ids := make([]string, len(o.RotationIDs))
			for i, id := range o.RotationIDs {
				ids[i] = fmt.Sprint(id)
			}
			_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", o.Level, o.Layer, c.when(o.Start), c.when(o.End), strings.Join(ids, ", "))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return status
}
