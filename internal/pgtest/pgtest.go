// Package pgtest gives tests a throw-away PostgreSQL: one server per test
// binary, started on first use from the system's initdb and pg_ctl, and a
// fresh empty database per test. It is for tests only and owns nothing else.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/supportdesk/ivr/internal/loopback"
)

// EnvRequire names the environment variable that, set to "require", turns
// the skip for missing PostgreSQL binaries into a failure (for CI).
const EnvRequire = "IVR_TEST_POSTGRES"

// errNoBinaries means initdb or pg_ctl is not installed.
var errNoBinaries = errors.New("PostgreSQL binaries (initdb, pg_ctl) not found; " +
	"install Debian's postgresql or set " + EnvRequire + "=require in CI")

var (
	once   sync.Once
	srv    *server
	srvErr error
	dbSeq  atomic.Int64
)

// server is the running PostgreSQL.
type server struct {
	dir   string // temporary: data directory, socket, log
	port  int
	pgCtl string
	admin *sql.DB // connected to the postgres database, creates the others
}

// URL returns the URL of a new, empty database for tb alone, dropped when tb
// ends. The server starts on the first call. Without PostgreSQL binaries tb
// is skipped, or fails if IVR_TEST_POSTGRES=require.
func URL(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { srv, srvErr = start() })
	switch {
	case errors.Is(srvErr, errNoBinaries) && os.Getenv(EnvRequire) != "require":
		tb.Skip(srvErr)
	case errors.Is(srvErr, errNoBinaries):
		tb.Fatalf("pgtest: %s=require but initdb and pg_ctl were found neither on PATH nor in /usr/lib/postgresql/*/bin", EnvRequire)
	case srvErr != nil:
		tb.Fatalf("pgtest: %v", srvErr)
	}
	name := fmt.Sprintf("t_%d", dbSeq.Add(1))
	if _, err := srv.admin.ExecContext(tb.Context(), "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		// FORCE ends connections a test left open.
		if _, err := srv.admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return srv.url(name)
}

// Main runs the tests, then stops the server if one was started and
// removes its files, and returns the exit code (m.Run's, or 1 if the server
// could not be stopped). Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if srv != nil {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

func (s *server) url(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, database)
}

// start initialises a cluster in a temporary directory and starts it on a
// free port of 127.0.0.1, waiting (pg_ctl -w) until it accepts connections.
func start() (*server, error) {
	initdb, pgCtl, err := binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ivr-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, pgCtl: pgCtl}
	if err := s.init(initdb); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.startServer(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.admin, err = sql.Open("pgx", s.url("postgres"))
	if err == nil {
		err = s.admin.PingContext(context.Background())
	}
	if err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return s, nil
}

func (s *server) init(initdb string) error {
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: the cluster belongs to postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs a postgres user to own the cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return err
		}
	}
	return run(initdb, "-D", s.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
}

func (s *server) startServer() error {
	port, err := loopback.FreePort()
	if err != nil {
		return err
	}
	s.port = port
	opts := strings.Join([]string{
		"-p", strconv.Itoa(port),
		"-k", s.dir, // unix socket here, not in /var/run/postgresql
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
	}, " ")
	logFile := filepath.Join(s.dir, "server.log")
	if err := run(s.pgCtl, "start", "-w", "-t", "60", "-D", s.data(), "-l", logFile, "-o", opts); err != nil {
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	return nil
}

func (s *server) stop() error {
	var errs []error
	if s.admin != nil {
		errs = append(errs, s.admin.Close())
	}
	errs = append(errs, run(s.pgCtl, "stop", "-w", "-m", "immediate", "-D", s.data()))
	errs = append(errs, os.RemoveAll(s.dir))
	return errors.Join(errs...)
}

func (s *server) data() string { return filepath.Join(s.dir, "data") }

// run runs a PostgreSQL program, as the postgres user when we are root.
func run(bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), args[0], err, out.Bytes())
	}
	return nil
}

// binaries finds initdb and pg_ctl on PATH or in the newest
// /usr/lib/postgresql/*/bin.
func binaries() (initdb, pgCtl string, err error) {
	initdb, err1 := exec.LookPath("initdb")
	pgCtl, err2 := exec.LookPath("pg_ctl")
	if err1 == nil && err2 == nil {
		return initdb, pgCtl, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		i, p := filepath.Join(d, "initdb"), filepath.Join(d, "pg_ctl")
		if isFile(i) && isFile(p) {
			return i, p, nil
		}
	}
	return "", "", errNoBinaries
}

// version returns the major version in /usr/lib/postgresql/<v>/bin.
func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
