package access_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/store/storetest"
)

// TestApplyBootstrap: IVR_ADMIN_TOKEN names one admin token at a time. An
// operator who changes it expects the old secret to stop working, and one
// who removes it expects the same; the token list tells the values apart,
// and the log says which token went and why.
func TestApplyBootstrap(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	core, logs := observer.New(zap.InfoLevel)
	log := zap.New(core)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	apply := func(secret string) error { return access.ApplyBootstrap(ctx, db, secret, now, log) }
	// logged returns the messages logged since the last call, each with
	// the token's name.
	logged := func() []string {
		var out []string
		for _, e := range logs.TakeAll() {
			out = append(out, e.Level.String()+" "+e.Message+" "+e.ContextMap()["token_name"].(string))
		}
		return out
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
	wantLogged := func(when string, want ...string) {
		t.Helper()
		got := logged()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s, logged:\n%s\nwant:\n%s", when, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
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

	if err := apply(first); err != nil {
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
	wantLogged("the first IVR_ADMIN_TOKEN",
		"warn bootstrap admin token revoked: IVR_ADMIN_TOKEN changed bootstrap (IVR_ADMIN_TOKEN)",
		"info admin token from IVR_ADMIN_TOKEN registered "+firstName)

	// The same value again changes nothing.
	before, _ := db.Tokens(ctx)
	if err := apply(first); err != nil {
		t.Fatal(err)
	}
	if after, _ := db.Tokens(ctx); len(after) != len(before) || !valid(first) {
		t.Errorf("the same IVR_ADMIN_TOKEN again: %d tokens → %d, first valid %v", len(before), len(after), valid(first))
	}
	wantLogged("the same IVR_ADMIN_TOKEN again")

	// A new value replaces the old one.
	if err := apply(second); err != nil {
		t.Fatal(err)
	}
	secondName := access.BootstrapName(access.HashSecret(second))
	if valid(first) || !valid(second) || !valid(ops) {
		t.Errorf("after changing IVR_ADMIN_TOKEN: first %v, second %v, ops %v; want false, true, true", valid(first), valid(second), valid(ops))
	}
	if secondName == firstName || !names()[secondName] || names()[firstName] {
		t.Errorf("tokens %v: want %q live and %q revoked", names(), secondName, firstName)
	}
	wantLogged("a new IVR_ADMIN_TOKEN",
		"warn bootstrap admin token revoked: IVR_ADMIN_TOKEN changed "+firstName,
		"info admin token from IVR_ADMIN_TOKEN registered "+secondName)

	// Removing the variable revokes the last one.
	if err := apply(""); err != nil {
		t.Fatal(err)
	}
	if valid(second) || !valid(ops) {
		t.Errorf("after removing IVR_ADMIN_TOKEN: second %v, ops %v; want false, true", valid(second), valid(ops))
	}
	wantLogged("IVR_ADMIN_TOKEN removed", "warn bootstrap admin token revoked: IVR_ADMIN_TOKEN is not set "+secondName)

	// A revoked value cannot come back, and a short one is refused.
	for _, secret := range []string{first, "short"} {
		if err := apply(secret); err == nil || !strings.Contains(err.Error(), "IVR_ADMIN_TOKEN") {
			t.Errorf("IVR_ADMIN_TOKEN=%s: %v, want a refusal naming the variable", secret, err)
		}
	}

	// Nobody else may take a bootstrap token's name.
	if _, _, err := access.Issue(ctx, db, "test", firstName, "admin", 0); err == nil {
		t.Errorf("a token named %q was issued through the API", firstName)
	}
}
