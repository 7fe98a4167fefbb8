package rttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/loopback"
)

// EnvRequire names the environment variable that, set to "require", turns
// the skip for a missing Request Tracker into a failure (for CI).
const EnvRequire = "IVR_TEST_RT"

// The users the test site has. Root is RT's initial superuser, the "person"
// of the tests; APIUser is the service's own user, whose changes show in
// RT's history with Creator "ivr".
const (
	RootUser     = "root"
	RootPassword = "password" //nolint:gosec // G101: RT's well-known initial password, on a throw-away test site
	APIUser      = "ivr"
	APIPassword  = "ivr-password" //nolint:gosec // G101: a fixture of the throw-away test site
)

// Queues are the queues the test site has besides RT's own General: one per
// support level.
var Queues = []string{"L1", "L2", "L3"}

// The Debian packages the helper runs RT from.
const (
	rtServerPath = "/usr/share/request-tracker5/libexec/rt-server"
	setupPath    = "/usr/sbin/rt-setup-database-5"
)

// errNotInstalled means RT's Debian packages are missing.
var errNotInstalled = errors.New("no Request Tracker 5 here: install Debian's request-tracker5, " +
	"rt5-db-sqlite and rt5-standalone (preseed request-tracker5/dbconfig-install false), " +
	"or set " + EnvRequire + "=require in CI to fail instead of skipping")

var (
	once   sync.Once
	srv    *server
	srvErr error
)

// RT is a test's handle on the shared RT server of its test binary.
type RT struct {
	// URL is the site's base URL, http://127.0.0.1:<port>, without
	// /REST/2.0.
	URL string
	// Token is an auth token of APIUser, for the code under test
	// ("Authorization: token <Token>").
	Token string

	srv *server
}

// server is the running RT: its files, its port and the rt-server process.
type server struct {
	dir   string // temporary: site config, SQLite database, Mason caches, log
	port  int
	token string
	env   []string // the environment of every RT program, with the site config
	lib   string   // RT's Perl library

	mu      sync.Mutex
	cmd     *exec.Cmd     // nil while stopped
	exited  chan struct{} // closed when cmd has exited
	stopped bool          // stopped by Stop, to be started again
}

// Start returns a handle on the RT of this test binary, starting it on the
// first call: a fresh site in a temporary directory with queues L1, L2 and
// L3, user APIUser and its token, served by rt-server on a free port of
// 127.0.0.1. Without RT's packages tb is skipped, or fails if
// IVR_TEST_RT=require.
//
// The server lives until the test binary exits: call Main from TestMain to
// stop it and remove its files then. Tests share it, so they make their own
// tickets and users (CreateTicket, CreateUser with Unique names and Phone
// numbers) and look only at those.
func Start(tb testing.TB) *RT {
	tb.Helper()
	once.Do(func() { srv, srvErr = start() })
	switch {
	case errors.Is(srvErr, errNotInstalled) && os.Getenv(EnvRequire) != "require":
		tb.Skip(srvErr)
	case errors.Is(srvErr, errNotInstalled):
		tb.Fatalf("rttest: %s=require but %v", EnvRequire, srvErr)
	case srvErr != nil:
		tb.Fatalf("rttest: %v", srvErr)
	}
	return &RT{URL: srv.url(), Token: srv.token, srv: srv}
}

// Main runs the tests, then stops RT if it was started and removes its
// files, and returns the exit code (m.Run's, or 1 if RT could not be
// stopped). Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(rttest.Main(m)) }
//
// Without it the server is still ended when the test binary exits (it is
// started with a parent-death signal), but its temporary directory stays.
func Main(m *testing.M) int {
	code := m.Run()
	if err := Shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "rttest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Shutdown stops RT if it was started and removes its files: Main's
// ending, for a TestMain that runs the tests through another helper's
// Main (pgtest.Main).
func Shutdown() error {
	if srv == nil {
		return nil
	}
	return errors.Join(srv.stop(), os.RemoveAll(srv.dir))
}

// Stop stops rt-server (SIGTERM, as RT wants: SIGINT as root chowns its
// directories), for tests of RT down mid-call. The site's database stays;
// Restart serves it again on the same URL. If the test ends with RT still
// stopped, its cleanup restarts it for the tests after it. A test that
// stops RT must not run in parallel with other tests of its binary that use
// RT.
func (r *RT) Stop(tb testing.TB) {
	tb.Helper()
	r.srv.mu.Lock()
	defer r.srv.mu.Unlock()
	if err := r.srv.stopLocked(); err != nil {
		tb.Fatalf("rttest: stop: %v", err)
	}
	r.srv.stopped = true
	tb.Cleanup(func() {
		r.srv.mu.Lock()
		defer r.srv.mu.Unlock()
		if r.srv.stopped {
			if err := r.srv.startLocked(); err != nil {
				tb.Errorf("rttest: restart after the test: %v", err)
			}
		}
	})
}

// Restart stops rt-server if it runs and starts it again on the same port
// and database, returning once it answers authenticated REST 2 requests.
func (r *RT) Restart(tb testing.TB) {
	tb.Helper()
	r.srv.mu.Lock()
	defer r.srv.mu.Unlock()
	if err := r.srv.stopLocked(); err != nil {
		tb.Fatalf("rttest: restart: stop: %v", err)
	}
	if err := r.srv.startLocked(); err != nil {
		tb.Fatalf("rttest: restart: %v", err)
	}
}

func (s *server) url() string { return "http://127.0.0.1:" + strconv.Itoa(s.port) }

// start makes a site in a temporary directory, fills its database and
// starts rt-server.
func start() (*server, error) {
	if !isFile(rtServerPath) || !isFile(setupPath) ||
		!isFile("/var/lib/dpkg/info/rt5-db-sqlite.list") || !isFile("/var/lib/dpkg/info/rt5-standalone.list") {
		return nil, errNotInstalled
	}
	dir, err := os.MkdirTemp("", "ivr-rttest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, lib: filepath.Join(filepath.Dir(filepath.Dir(rtServerPath)), "lib")}
	if err := s.create(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startLocked(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// create writes the site config and initialises the database: RT's schema
// and initial data, then the queues, the API user and its token.
func (s *server) create() error {
	port, err := loopback.FreePort()
	if err != nil {
		return err
	}
	s.port = port
	configDir := filepath.Join(s.dir, "RT_SiteConfig.d")
	for _, d := range []string{configDir, filepath.Join(s.dir, "mason"), filepath.Join(s.dir, "sessions")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	config := filepath.Join(s.dir, "RT_SiteConfig.pm")
	if err := os.WriteFile(config, []byte(s.siteConfig()), 0o600); err != nil {
		return err
	}
	// Both: with RT_SITE_CONFIG alone, Debian's snippets in
	// /etc/request-tracker5/RT_SiteConfig.d load after it and override the
	// database and the URL.
	s.env = append(os.Environ(), "RT_SITE_CONFIG="+config, "RT_SITE_CONFIG_DIR="+configDir)

	if _, err := s.run(setupPath, "--action", "init", "--skip-create"); err != nil {
		return err
	}
	out, err := s.run("perl", "-e", setupScript, s.lib, APIUser, APIPassword, strings.Join(Queues, ","))
	if err != nil {
		return err
	}
	s.token = strings.TrimSpace(out)
	if s.token == "" {
		return errors.New("site setup printed no token")
	}
	return nil
}

// siteConfig is RT_SiteConfig.pm. The priorities are the four-level scale
// the README recommends; the phone fields are searchable through REST 2 by
// users without AdminUsers; bcrypt is cheap (see the package
// documentation).
func (s *server) siteConfig() string {
	q := func(v string) string { return "'" + strings.ReplaceAll(v, "'", `\'`) + "'" }
	return strings.Join([]string{
		`Set($rtname, 'ivr-test');`,
		`Set($Organization, 'ivr-test');`,
		`Set($DatabaseType, 'SQLite');`,
		`Set($DatabaseName, ` + q(filepath.Join(s.dir, "rt.db")) + `);`,
		`Set($WebDomain, '127.0.0.1');`,
		`Set($WebPort, ` + strconv.Itoa(s.port) + `);`,
		`Set($WebPath, '');`,
		`Set($WebBaseURL, ` + q(s.url()) + `);`,
		`Set($WebSecureCookies, 0);`,
		`Set($Timezone, 'UTC');`,
		`Set($LogToSTDERR, 'warning');`,
		`Set($LogToSyslog, undef);`,
		`Set($LogToFile, undef);`,
		`Set($MailCommand, 'testfile');`,
		`Set($MasonDataDir, ` + q(filepath.Join(s.dir, "mason")) + `);`,
		`Set($MasonSessionDir, ` + q(filepath.Join(s.dir, "sessions")) + `);`,
		`Set(%PriorityAsString, Default => { Low => 0, Normal => 30, Urgent => 70, Critical => 90 });`,
		// RT checks the password or token of every REST 2 request with
		// bcrypt; at RT's cost of 12 that is about 210 ms a request here,
		// at 4 a few milliseconds. Hashes made at init take this cost.
		`Set($BcryptCost, 4);`,
		`Set($UserSummaryExtraInfo, 'RealName, EmailAddress, Name, MobilePhone, WorkPhone, HomePhone');`,
		`1;`,
	}, "\n") + "\n"
}

// setupScript runs once on the new database, as RT's system user: the
// level queues, the API user with the rights the service needs in every
// queue (not SuperUser, and not AdminUsers, so that it sees what a
// production API user sees), and that user's auth token, printed.
// Arguments: RT's lib directory, user name, password, queues (a,b,c).
const setupScript = `
use strict; use warnings;
my ($lib, $name, $password, $queues) = @ARGV;
unshift @INC, $lib;
require RT;
RT::LoadConfig(); RT::Init();
my $sys = RT->SystemUser;
for my $q (split /,/, $queues) {
    my ($ok, $msg) = RT::Queue->new($sys)->Create(Name => $q);
    die "queue $q: $msg\n" unless $ok;
}
my $user = RT::User->new($sys);
my ($id, $msg) = $user->Create(Name => $name, Password => $password, Privileged => 1,
    Timezone => 'UTC', RealName => 'IVR service');
die "user $name: $msg\n" unless $id;
for my $right (qw(SeeQueue ShowTicket CreateTicket CommentOnTicket ModifyTicket
                  ShowTicketComments SeeCustomField ModifyCustomField)) {
    my ($ok, $msg) = $user->PrincipalObj->GrantRight(Right => $right, Object => RT->System);
    die "right $right: $msg\n" unless $ok;
}
my ($tid, $tmsg, $token) = RT::AuthToken->new($sys)->Create(Owner => $user->id, Description => 'rttest');
die "token: $tmsg\n" unless $tid;
print "$token\n";
`

// startLocked starts rt-server and waits until it answers. s.mu is held.
func (s *server) startLocked() error {
	logFile, err := os.OpenFile(filepath.Join(s.dir, "rt-server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(rtServerPath, "--host", "127.0.0.1", "--port", strconv.Itoa(s.port), "--max-workers", "2") //nolint:gosec // G204: RT's own program, fixed path
	cmd.Env = s.env
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("rt-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(exited)
	}()
	s.cmd, s.exited, s.stopped = cmd, exited, false
	if err := s.waitReady(exited); err != nil {
		_ = s.stopLocked()
		return fmt.Errorf("%w\nrt-server log:\n%s", err, s.logTail())
	}
	return nil
}

// waitReady polls an authenticated REST 2 URL until it answers 200. RT
// prints nothing when it is ready, and an uninitialised site answers in
// install mode, so only an authenticated answer says the site is up.
func (s *server) waitReady(exited <-chan struct{}) error {
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.url()+"/REST/2.0/queues/all", nil)
		if err != nil {
			return err
		}
		req.SetBasicAuth(RootUser, RootPassword)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("rt-server exited before it answered")
		case <-deadline.C:
			return errors.New("rt-server did not answer within 60 s")
		case <-tick.C:
		}
	}
}

// stopLocked sends SIGTERM to rt-server's process group (the server and
// its workers) and waits for it to exit; SIGKILL after 30 s. s.mu is held.
func (s *server) stopLocked() error {
	if s.cmd == nil {
		return nil
	}
	defer func() { s.cmd = nil }()
	terminate(s.cmd, syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(30 * time.Second):
		terminate(s.cmd, syscall.SIGKILL)
		<-s.exited
		return errors.New("rt-server ignored SIGTERM for 30 s and was killed")
	}
}

func (s *server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

// run runs an RT program with the site's environment and returns its
// standard output; its standard error (RT's log) goes into the error.
func (s *server) run(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...) //nolint:gosec // G204: RT's own programs and perl, fixed paths
	cmd.Env = s.env
	cmd.Dir = s.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s%s", filepath.Base(bin), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String(), nil
}

// logTail returns the end of rt-server's log, for errors.
func (s *server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "rt-server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
