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

// TestServePagerVoiceSettings: --pager-voice takes twilio, asterisk or
// both in order; Asterisk's page calls need its ARI URL and prompts, and
// an application other than the lines'. A refusal names the flag.
func TestServePagerVoiceSettings(t *testing.T) {
	ari := []string{"--ari-url", "http://127.0.0.1:1/ari", "--ari-sounds-dir", "/var/lib/ivr/sounds"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown channel", []string{"--pager-voice", "pigeon"}, "--pager-voice"},
		{"asterisk without ARI", []string{"--pager-voice", "twilio,asterisk"}, "--ari-url"},
		{"asterisk without prompts", []string{"--pager-voice", "asterisk", "--ari-url", "http://127.0.0.1:1/ari"}, "--ari-sounds-dir"},
		{"the lines' application", append([]string{"--pager-voice", "asterisk", "--pager-ari-app", "ivr"}, ari...), "--pager-ari-app"},
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

// TestServePagerVoiceReadyWaitsForAsterisk: with page calls through an
// Asterisk that does not answer, serve starts (the connection is made in
// the background) and /readyz says page calls are not ready.
func TestServePagerVoiceReadyWaitsForAsterisk(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := ln.Addr().String()
	_ = ln.Close()
	base := startServeEnv(t, map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"ARI_URL": "http://" + nobody + "/ari", "ARI_USERNAME": "ivr", "ARI_PASSWORD": "secret"},
		"--ari-sounds-dir", "/var/lib/ivr/sounds", "--pager-voice", "twilio,asterisk")
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK || !strings.Contains(string(body), "page calls through Asterisk") {
		t.Errorf("/readyz: %d %s, want not ready, naming page calls through Asterisk", resp.StatusCode, body)
	}
}
