package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/store"
)

// TestBootstrapToken: IVR_ADMIN_TOKEN names one admin token at a time. An
// operator who changes it expects the old secret to stop working, and one
// who removes it expects the same; the token list tells the values apart.
func TestBootstrapToken(t *testing.T) {
	ctx := context.Background()
	log := zaptest.NewLogger(t)
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "ivr.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const (
		first  = "first-admin-token-0123456789abcdef"
		second = "second-admin-token-0123456789abcdef"
	)
	// valid reports whether secret is an unrevoked admin token.
	valid := func(secret string) bool {
		tok, err := db.TokenByHash(ctx, access.HashSecret(secret))
		return err == nil && tok.RevokedAt == nil && tok.Role == access.Admin
	}
	names := func() map[string]bool {
		list, err := db.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, tok := range list {
			out[tok.Name] = tok.RevokedAt == nil
		}
		return out
	}
	// A legacy bootstrap token, named before fingerprints, and an admin
	// token made through the API, which bootstrapping must leave alone.
	legacy, err := db.CreateToken(ctx, "IVR_ADMIN_TOKEN", access.Token{Name: "bootstrap (IVR_ADMIN_TOKEN)", Role: access.Admin,
		Hash: access.HashSecret("legacy-admin-token-0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	_, ops, err := access.Issue(ctx, db, "test", "ops laptop", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}

	if err := bootstrapToken(ctx, db, first, log); err != nil {
		t.Fatal(err)
	}
	if !valid(first) || valid("legacy-admin-token-0123456789abcdef") || !valid(ops) {
		t.Errorf("after the first IVR_ADMIN_TOKEN: first %v, legacy %v, ops %v; want true, false, true",
			valid(first), valid("legacy-admin-token-0123456789abcdef"), valid(ops))
	}
	firstName := access.BootstrapName(access.HashSecret(first))
	if !strings.HasPrefix(firstName, "bootstrap (IVR_ADMIN_TOKEN …") || !names()[firstName] {
		t.Errorf("tokens %v, want a live %q with the secret's fingerprint", names(), firstName)
	}
	if got, _ := db.TokenByHash(ctx, legacy.Hash); got.RevokedAt == nil {
		t.Error("the legacy bootstrap token was not revoked")
	}

	// The same value again changes nothing.
	before, _ := db.Tokens(ctx)
	if err := bootstrapToken(ctx, db, first, log); err != nil {
		t.Fatal(err)
	}
	if after, _ := db.Tokens(ctx); len(after) != len(before) || !valid(first) {
		t.Errorf("the same IVR_ADMIN_TOKEN again: %d tokens → %d, first valid %v", len(before), len(after), valid(first))
	}

	// A new value replaces the old one.
	if err := bootstrapToken(ctx, db, second, log); err != nil {
		t.Fatal(err)
	}
	secondName := access.BootstrapName(access.HashSecret(second))
	if valid(first) || !valid(second) || !valid(ops) {
		t.Errorf("after changing IVR_ADMIN_TOKEN: first %v, second %v, ops %v; want false, true, true", valid(first), valid(second), valid(ops))
	}
	if secondName == firstName || !names()[secondName] || names()[firstName] {
		t.Errorf("tokens %v: want %q live and %q revoked", names(), secondName, firstName)
	}

	// Removing the variable revokes the last one.
	if err := bootstrapToken(ctx, db, "", log); err != nil {
		t.Fatal(err)
	}
	if valid(second) || !valid(ops) {
		t.Errorf("after removing IVR_ADMIN_TOKEN: second %v, ops %v; want false, true", valid(second), valid(ops))
	}

	// A revoked value cannot come back, and a short one is refused.
	for _, secret := range []string{first, "short"} {
		if err := bootstrapToken(ctx, db, secret, log); err == nil || !strings.Contains(err.Error(), "IVR_ADMIN_TOKEN") {
			t.Errorf("IVR_ADMIN_TOKEN=%s: %v, want a refusal naming the variable", secret, err)
		}
	}

	// Nobody else may take a bootstrap token's name.
	if _, _, err := access.Issue(ctx, db, "test", firstName, "admin", 0); err == nil {
		t.Errorf("a token named %q was issued through the API", firstName)
	}
}

// TestServeRefusesServiceNumbersForEngineers: serve tells the on-call
// service its own numbers (the lines, the pager's caller id), and an
// engineer given one is refused: a page to them would call the IVR.
func TestServeRefusesServiceNumbersForEngineers(t *testing.T) {
	base := startServeEnv(t, map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_PAGER_CALLER_ID": "+12025550199"})
	rig := &pagerRig{t: t, base: base}
	for _, phone := range []string{"+12025952118", "+74996383867", "+12025550199"} {
		var out struct {
			Error struct {
				Field, Message string
			} `json:"error"`
		}
		code := rig.post("/api/v1/engineers", map[string]any{"name": "Eve", "level": "L1", "languages": []string{"en"},
			"time_zone": "America/New_York", "contacts": []map[string]any{{"phone": phone}}}, &out)
		if code != 400 || out.Error.Field != "contacts[0].phone" || !strings.Contains(out.Error.Message, "number of this service") {
			t.Errorf("engineer on %s: %d %+v, want 400 naming contacts[0].phone as the service's own", phone, code, out.Error)
		}
	}
}
