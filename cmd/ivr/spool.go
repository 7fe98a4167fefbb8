package main

import (
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/spool"
	"github.com/supportdesk/ivr/store"
)

// spoolDir is where the Fallback's spool lives: dir if given (--spool-dir,
// IVR_SPOOL_DIR); else beside an SQLite file, named after it
// (ivr.db.spool/); else, with PostgreSQL, in the user's state directory
// ($XDG_STATE_HOME/ivr/spool, by default ~/.local/state/ivr/spool). It is
// this host's: each instance needs its own, and covers only the calls it
// answered.
func spoolDir(dir, db string, env environ) (string, error) {
	switch {
	case dir != "":
		return dir, nil
	case !store.IsPostgres(db):
		return db + ".spool", nil
	}
	state := env.getenv("XDG_STATE_HOME")
	if state == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("--spool-dir: no home directory to keep the Fallback's spool in (%v): give a local directory (IVR_SPOOL_DIR)", err)
		}
		state = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(state, "ivr", "spool"), nil
}

// openSpool opens the Fallback's spool and says where it is and what it
// still holds (replayed into the store by the Twilio driver's RunSpool).
func openSpool(dir, db string, env environ, log *zap.Logger) (*spool.Spool, error) {
	dir, err := spoolDir(dir, db, env)
	if err != nil {
		return nil, err
	}
	sp, err := spool.Open(dir, log.Named("spool"))
	if err != nil {
		return nil, fmt.Errorf("--spool-dir: %w", err)
	}
	if n := sp.Pending(); n > 0 {
		log.Warn("the Fallback spool holds calls the store did not take yet; replaying them", zap.String("dir", dir), zap.Int("records", n))
	} else {
		log.Info("Fallback spool", zap.String("dir", dir))
	}
	return sp, nil
}
