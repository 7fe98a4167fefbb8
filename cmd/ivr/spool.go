package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/spool"
	"github.com/supportdesk/ivr/store"
)

// spoolDir is where the Fallback's spool lives: dir if given (--spool-dir,
// IVR_SPOOL_DIR); else beside an SQLite file, named after it
// (ivr.db.spool/); else, with PostgreSQL, in the user's state directory,
// named after the address served ($XDG_STATE_HOME/ivr/spool-<addr>, by
// default ~/.local/state/ivr/spool-127.0.0.1_8080): several instances on
// one host listen on different addresses, and an instance restarted on its
// address finds its spool again. It is this host's: each instance needs
// its own, and covers only the calls it answered.
func spoolDir(dir, db, addr string, env environ) (string, error) {
	switch {
	case dir != "":
		return dir, nil
	case !store.IsPostgres(db):
		return db + ".spool", nil
	}
	state := env.getenv("XDG_STATE_HOME")
	if state == "" {
		home := env.getenv("HOME")
		if home == "" {
			return "", fmt.Errorf("--spool-dir: neither XDG_STATE_HOME nor HOME is set to keep the Fallback's spool in: give a local directory (IVR_SPOOL_DIR)")
		}
		state = filepath.Join(home, ".local", "state")
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, addr)
	return filepath.Join(state, "ivr", "spool-"+name), nil
}

// openSpool opens the Fallback's spool and says where it is and what it
// still holds (replayed into the store by the Twilio driver's RunSpool).
func openSpool(dir, db, addr string, env environ, log *zap.Logger) (*spool.Spool, error) {
	dir, err := spoolDir(dir, db, addr, env)
	if err != nil {
		return nil, err
	}
	sp, err := spool.Open(dir, log.Named("spool"))
	if err != nil {
		return nil, fmt.Errorf("--spool-dir: %w", err)
	}
	if n := sp.Pending(); n > 0 {
		log.Warn("the Fallback spool holds calls the store did not take yet; replaying them", zap.String(keyDir, dir), zap.Int(keyRecords, n))
	} else {
		log.Info("Fallback spool", zap.String(keyDir, dir))
	}
	return sp, nil
}

// registerSpoolMetrics exports how many records wait in the Fallback's
// spool: above zero for long, the store is down or refusing them.
func registerSpoolMetrics(reg prometheus.Registerer, sp *spool.Spool) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ivr_fallback_spool_records",
		Help: "Records of Fallback calls (caller, voicemail) kept on this host's disk because the store failed, not yet put into the store."},
		func() float64 { return float64(sp.Pending()) }))
}
