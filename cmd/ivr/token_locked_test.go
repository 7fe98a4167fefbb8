package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/store"
)

// TestTokenCreateWhileServeRuns: serve holds the SQLite file, so token
// create cannot open it; the error says to create the token through the
// running service instead.
func TestTokenCreateWhileServeRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ivr.db")
	startServe(t, db)
	env, out, _ := testEnv(map[string]string{"IVR_DB": db})
	err := run(context.Background(), []string{"token", "create", "--role", "admin", "--name", "ops laptop"}, env)
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("token create while serve runs: %v, want the store's lock error", err)
	}
	if !strings.Contains(err.Error(), "POST /api/v1/tokens") {
		t.Errorf("error %q does not point to POST /api/v1/tokens", err)
	}
	if out.String() != "" {
		t.Errorf("printed %q, want no secret", out.String())
	}
}
