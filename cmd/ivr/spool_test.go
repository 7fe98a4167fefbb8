package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/spool"
)

// The spool lives where it was put, else beside the SQLite file, else (with
// PostgreSQL) in the user's state directory.
func TestSpoolDir(t *testing.T) {
	env, _, _ := testEnv(map[string]string{"XDG_STATE_HOME": "/var/lib/me"})
	for _, c := range []struct{ dir, db, want string }{
		{"/srv/spool", "/data/ivr.db", "/srv/spool"},
		{"", "/data/ivr.db", "/data/ivr.db.spool"},
		{"", "ivr.db", "ivr.db.spool"},
		{"", "postgres://ivr@db/ivr", "/var/lib/me/ivr/spool"},
	} {
		if got, err := spoolDir(c.dir, c.db, env); err != nil || got != c.want {
			t.Errorf("spoolDir(%q, %q) = %q, %v; want %q", c.dir, c.db, got, err, c.want)
		}
	}
}

// serve creates the spool readable by its user only (it keeps callers'
// numbers and voicemails), and a second serve given the same spool
// directory refuses to start, saying why: the two would lose each other's
// records.
func TestServeSpoolPrivateAndOwn(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ivr.db")
	startServe(t, db)
	st, err := os.Stat(filepath.Join(db+".spool", spool.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("spool file mode %v; want 0600", st.Mode().Perm())
	}
	env, _, _ := testEnv(map[string]string{"IVR_DB": filepath.Join(dir, "other.db"), "IVR_SPOOL_DIR": db + ".spool"})
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, env)
	if err == nil || !strings.Contains(err.Error(), "its own spool directory") {
		t.Fatalf("second serve on one spool: %v; want refused", err)
	}
}
