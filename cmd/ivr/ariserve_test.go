package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeAsteriskSettings: the Asterisk driver runs only with an ARI
// URL, and then needs the folder of the prompts and a dial string with
// the engineer's number; a refusal names the flag.
func TestServeAsteriskSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no sounds folder", []string{"--ari-url", "http://127.0.0.1:1/ari"}, "--ari-sounds-dir"},
		{"dial string without the number", []string{"--ari-url", "http://127.0.0.1:1/ari", "--ari-sounds-dir", "/var/lib/ivr/sounds",
			"--ari-dial", "PJSIP/trunk"}, "--ari-dial"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _, _ := testEnv(map[string]string{"ARI_USERNAME": "ivr", "ARI_PASSWORD": "secret"})
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "x.db")}, tc.args...)
			err := run(context.Background(), args, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("serve %v: %v, want a refusal naming %s", tc.args, err, tc.want)
			}
		})
	}
}

// TestServeReadyWaitsForAsterisk: with an ARI URL where no Asterisk
// answers, serve starts all the same (the connection is made in the
// background), /readyz says it is not ready, naming Asterisk, and the
// driver's metrics are exported.
func TestServeReadyWaitsForAsterisk(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := ln.Addr().String()
	_ = ln.Close()
	base := startServeEnv(t, map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"ARI_URL": "http://" + nobody + "/ari", "ARI_USERNAME": "ivr", "ARI_PASSWORD": "secret"},
		"--ari-sounds-dir", "/var/lib/ivr/sounds")
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK || !strings.Contains(string(body), "Asterisk") {
		t.Errorf("/readyz: %d %s, want not ready, naming Asterisk", resp.StatusCode, body)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, want := range []string{"ivr_asterisk_calls 0", "ivr_asterisk_events_dropped_total 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
