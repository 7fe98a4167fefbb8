package webhooks_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
)

// TestSignatureMatchesTwiliosNodeHelper cross-checks the signature scheme
// with Twilio's official Node helper (npm package twilio,
// getExpectedTwilioSignature): what Node signs the driver accepts, and
// what the fake Twilio signs Node accepts. It installs the package into a
// cache directory outside the repository (IVR_TEST_NODE_MODULES, default
// <tmp>/ivr-twilio-node) and skips without node and npm, unless
// IVR_TEST_NODE=require.
func TestSignatureMatchesTwiliosNodeHelper(t *testing.T) {
	dir := nodeModules(t)
	e := newEnv(t)
	const sid = "CA00000000000000000000000000000003"
	e.startCall(sid)
	type tc struct {
		URL         string            `json:"url"`
		Params      map[string]string `json:"params"`
		GoSignature string            `json:"goSignature"`
	}
	cases := []tc{
		{URL: e.srv.URL + "/webhooks/twilio/voice/gather?seq=1", Params: map[string]string{"CallSid": sid, "Digits": "9", "FinishedOnKey": ""}},
		{URL: e.srv.URL + "/webhooks/twilio/voice/status", Params: map[string]string{"CallSid": sid, "CallStatus": "in-progress",
			"Caller": "+1 (202) 555-0123", "Note": "ünïcode & spaces=+ok"}},
	}
	for i := range cases {
		p := map[string][]string{}
		for k, v := range cases[i].Params {
			p[k] = []string{v}
		}
		cases[i].GoSignature = faketwilio.Signature(e.tw.AuthToken(), cases[i].URL, p)
	}
	in, _ := json.Marshal(map[string]any{"token": e.tw.AuthToken(), "cases": cases})
	cmd := exec.Command("node", filepath.Join("testdata", "sign.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v: %s", err, stderr.String())
	}
	var got []struct {
		Signature  string `json:"signature"`
		GoAccepted bool   `json:"goAccepted"`
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(cases) {
		t.Fatalf("node said %s (%v)", out, err)
	}
	for i, c := range cases {
		if !got[i].GoAccepted {
			t.Errorf("case %d: Twilio's Node helper refuses the signature Go computed", i)
		}
		if got[i].Signature != c.GoSignature {
			t.Errorf("case %d: Node signs %s, Go %s", i, got[i].Signature, c.GoSignature)
		}
		path := strings.TrimPrefix(c.URL, e.srv.URL)
		code, body := e.post(path, c.Params, func(string, map[string][]string) string { return got[i].Signature })
		if code == http.StatusForbidden {
			t.Errorf("case %d: the driver refused Node's signature: %s", i, body)
		}
	}
}

func nodeModules(t *testing.T) string {
	t.Helper()
	require := os.Getenv("IVR_TEST_NODE") == "require"
	skip := func(why string) {
		if require {
			t.Fatalf("IVR_TEST_NODE=require but %s", why)
		}
		t.Skipf("skipping the cross-check with Twilio's Node helper: %s (set IVR_TEST_NODE=require to make this fail)", why)
	}
	if _, err := exec.LookPath("node"); err != nil {
		skip("node is not installed")
	}
	dir := os.Getenv("IVR_TEST_NODE_MODULES")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ivr-twilio-node")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "twilio", "lib", "webhooks", "webhooks.js")); err == nil {
		return dir
	}
	if _, err := exec.LookPath("npm"); err != nil {
		skip("npm is not installed")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", dir, "twilio@5")
	if out, err := cmd.CombinedOutput(); err != nil {
		skip("npm install twilio failed: " + err.Error() + ": " + string(out))
	}
	return dir
}
