package store_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/store"
)

// openMigrated opens and migrates the SQLite store at path, closed when the
// test ends unless the test closes it first.
func openMigrated(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), path, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

// TestOpenSecondByAnotherName: two stores on one SQLite file under two
// names (a hard link, a symbolic link) would each keep their own WAL and
// lose each other's writes; the second Open is refused, the first store
// keeps working and keeps SQLite's own locks, and the file is free again
// once the first store closes.
func TestOpenSecondByAnotherName(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the database file itself is locked on Linux only (flock there is independent of SQLite's POSIX locks)")
	}
	for _, c := range []struct {
		name string
		link func(oldname, newname string) error
	}{{"HardLink", os.Link}, {"Symlink", os.Symlink}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path, other := filepath.Join(dir, "ivr.db"), filepath.Join(dir, "same.db")
			first := openMigrated(t, path)
			if _, err := first.CreateEngineer(t.Context(), actor, newEngineer("Anna")); err != nil {
				t.Fatal(err)
			}
			if err := c.link(path, other); err != nil {
				t.Fatal(err)
			}
			locksBefore := posixLocks(t, path)

			_, err := store.Open(t.Context(), other, zaptest.NewLogger(t))
			if !errors.Is(err, store.ErrLocked) {
				t.Fatalf("Open through the %s: err = %v, want ErrLocked", c.name, err)
			}
			for _, s := range []string{other, "another name", path, "IVR_DB=postgres://"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}

			// The refused Open closed no descriptor of the file: SQLite's
			// POSIX locks of the first store are all still there (closing
			// any descriptor of the file would have dropped them).
			if after := posixLocks(t, path); after != locksBefore {
				t.Errorf("this process's POSIX locks on the file: %q before the refused Open, %q after", locksBefore, after)
			}
			if _, err := first.CreateEngineer(t.Context(), actor, newEngineer("Boris")); err != nil {
				t.Fatalf("first store after the refused Open: %v", err)
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			again := openMigrated(t, other)
			list, err := again.Engineers(t.Context())
			if err != nil || len(list) != 2 {
				t.Fatalf("through the %s after Close: %d engineers, %v; want both", c.name, len(list), err)
			}
		})
	}
}

// TestOpenSecondProcessByHardLink: another process opening the file by
// another name is refused too (flock conflicts across processes as it does
// within one).
func TestOpenSecondProcessByHardLink(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the database file itself is locked on Linux only")
	}
	if p := os.Getenv("IVR_TEST_OPEN_PATH"); p != "" {
		_, err := store.Open(t.Context(), p, nil)
		if !errors.Is(err, store.ErrLocked) {
			t.Fatalf("child: Open %s: err = %v, want ErrLocked", p, err)
		}
		return
	}
	dir := t.TempDir()
	path, link := filepath.Join(dir, "ivr.db"), filepath.Join(dir, "link.db")
	openMigrated(t, path)
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}
	runChild(t, "TestOpenSecondProcessByHardLink", "IVR_TEST_OPEN_PATH="+link)
}

// TestOpenFileMode: the database and SQLite's -wal and -shm files beside it
// hold voicemails, callers' numbers and token hashes: only the service's
// user may read them.
func TestOpenFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	path := filepath.Join(t.TempDir(), "ivr.db")
	db := openMigrated(t, path)
	if _, err := db.CreateEngineer(t.Context(), actor, newEngineer("Anna")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm", path + ".lock"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(name), m)
		}
	}
}

// posixLocks lists this process's POSIX (fcntl) locks on path's file, from
// /proc/locks; the test is skipped where there is no /proc/locks.
func posixLocks(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	f, err := os.Open("/proc/locks")
	if err != nil {
		t.Skipf("no /proc/locks: %v", err)
	}
	defer f.Close()
	// A line: "1: POSIX  ADVISORY  READ 1234 08:01:5678 128 128".
	inode := fmt.Sprintf(":%d", st.Ino)
	pid := fmt.Sprint(os.Getpid())
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 8 && fields[1] == "POSIX" && fields[4] == pid && strings.HasSuffix(fields[5], inode) {
			out = append(out, strings.Join(fields[3:], " "))
		}
	}
	return strings.Join(out, "; ")
}

// runChild runs test name of this test binary in a child process with env
// added, and fails if the child fails.
func runChild(t *testing.T, name string, env ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^"+name+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("child process ran no test:\n%s", out)
	}
}
