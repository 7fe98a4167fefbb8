package conf_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/internal/loopback"
	"github.com/supportdesk/ivr/sounds"
)

// samples are the files of this folder the sample PBX runs on.
var samples = []string{"http.conf", "ari.conf", "pjsip.conf", "extensions.conf", "rtp.conf", "modules.conf", "musiconhold.conf", "voicemail.conf"}

// pbx is an Asterisk running on the samples, in a temporary folder, on
// loopback ports.
type pbx struct {
	binary, dir     string
	httpPort        int
	sipPort         int
	carrierPort     int // where the sample's carrier takes calls (sipp, when a test says)
	registrarPort   int // where the sample registers to
	registrar       *ua // the carrier's registrar (testdata/registrar.xml)
	ariPassword     string
	softphoneSecret string
	sounds          string // where the prompts are installed
	exited          chan struct{}
}

// sampleRTPPorts is the size of the RTP range the test gives the sample.
const sampleRTPPorts = 200

// startSamples starts an Asterisk of the install prefix (the one
// internal/asterisktest found) on the sample configuration, with only
// these changes: every address on 127.0.0.1, free ports, the carrier
// at 127.0.0.1 (on a port nothing listens on), passwords of the test's
// own, and the prompts installed by sounds.Install into a folder of the
// test's. Each change must find its placeholder in the sample, so that a
// sample edited out of shape fails here instead of binding 5060.
func startSamples(t *testing.T, prefix string) *pbx {
	t.Helper()
	p := &pbx{binary: filepath.Join(prefix, "sbin", "asterisk"), dir: t.TempDir()}
	modules, err := filepath.Glob(filepath.Join(prefix, "lib*", "asterisk", "modules", "app_stasis.so"))
	if err != nil || len(modules) == 0 {
		modules, _ = filepath.Glob(filepath.Join(prefix, "lib", "*", "asterisk", "modules", "app_stasis.so"))
	}
	if len(modules) == 0 {
		t.Fatalf("no asterisk modules under %s", prefix)
	}
	if p.httpPort, err = loopback.FreePort(); err != nil {
		t.Fatal(err)
	}
	if p.sipPort, err = asterisktest.FreeUDPPort(); err != nil {
		t.Fatal(err)
	}
	if p.carrierPort, err = asterisktest.FreeUDPPort(); err != nil {
		t.Fatal(err)
	}
	if p.registrarPort, err = asterisktest.FreeUDPPort(); err != nil {
		t.Fatal(err)
	}
	rtpStart, err := asterisktest.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	rtpStart = min(rtpStart&^1, 65534-sampleRTPPorts)
	p.ariPassword, p.softphoneSecret = secret(t), secret(t)

	for _, d := range []string{"etc", "run", "log", "spool", "lib", "data", "cache"} {
		if err := os.MkdirAll(filepath.Join(p.dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	// The install's own data (its REST API descriptions), where
	// internal/asterisktest looks for it too.
	data := filepath.Join(prefix, "var", "lib", "asterisk")
	if !isDir(data) {
		data = filepath.Join(prefix, "share", "asterisk")
	}
	if isDir(data) {
		entries, err := os.ReadDir(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if err := os.Symlink(filepath.Join(data, e.Name()), filepath.Join(p.dir, "data", e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.sounds = filepath.Join(p.dir, "ivr-sounds")
	if _, err := sounds.Install(p.sounds); err != nil {
		t.Fatal(err)
	}

	carrier, registrar := fmt.Sprintf("127.0.0.1:%d", p.carrierPort), fmt.Sprintf("127.0.0.1:%d", p.registrarPort)
	edits := map[string][][2]string{
		"http.conf": {{"bindport = 8088", "bindport = " + strconv.Itoa(p.httpPort)}},
		"ari.conf":  {{"password = CHANGE-ME-ari-password", "password = " + p.ariPassword}},
		"pjsip.conf": {
			{"bind = 0.0.0.0:5060", fmt.Sprintf("bind = 127.0.0.1:%d", p.sipPort)},
			{"server_uri = sip:sip.carrier.example", "server_uri = sip:" + registrar},
			{"@sip.carrier.example", "@" + registrar},
			{"sip.carrier.example", carrier},
			{"match = 192.0.2.10", "match = 127.0.0.1"},
			{"password = CHANGE-ME-softphone-password", "password = " + p.softphoneSecret},
		},
		"rtp.conf":         {{"rtpstart = 10000", "rtpstart = " + strconv.Itoa(rtpStart)}, {"rtpend = 20000", "rtpend = " + strconv.Itoa(rtpStart+sampleRTPPorts)}},
		"extensions.conf":  {{"IVR_SOUNDS = /var/lib/asterisk/sounds/ivr", "IVR_SOUNDS = " + p.sounds}},
		"musiconhold.conf": {{"directory = /var/lib/asterisk/sounds/ivr", "directory = " + p.sounds}},
	}
	for _, name := range samples {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, e := range edits[name] {
			if !strings.Contains(text, e[0]) {
				t.Fatalf("%s: no %q to replace for the test: keep the sample's placeholder (or change the test with it)", name, e[0])
			}
			text = strings.ReplaceAll(text, e[0], e[1])
		}
		if err := os.WriteFile(filepath.Join(p.dir, "etc", name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := func(sub string) string { return filepath.Join(p.dir, sub) }
	asteriskConf := strings.Join([]string{
		"[directories]",
		"astetcdir => " + d("etc"), "astmoddir => " + filepath.Dir(modules[0]),
		"astvarlibdir => " + d("lib"), "astdbdir => " + d("lib"), "astkeydir => " + d("lib"),
		"astdatadir => " + d("data"), "astagidir => " + d("lib"), "astspooldir => " + d("spool"),
		"astrundir => " + d("run"), "astlogdir => " + d("log"), "astcachedir => " + d("cache"),
		"astsbindir => " + filepath.Dir(p.binary),
		"[options]", "verbose = 3", "nocolor = yes", "hideconnect = yes", "",
	}, "\n")
	logger := "[general]\n[logfiles]\nmessages.log => notice,warning,error,verbose(3)\n"
	for name, text := range map[string]string{"asterisk.conf": asteriskConf, "logger.conf": logger} {
		if err := os.WriteFile(d("etc/"+name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// The registrar listens before Asterisk registers, at its start.
	scenario, err := os.ReadFile(filepath.Join("testdata", "registrar.xml"))
	if err != nil {
		t.Fatal(err)
	}
	p.registrar = p.sippAt(t, p.registrarPort, "registrar.xml", carrierCredentials.Replace(string(scenario)), "registrar")
	p.start(t)
	return p
}

// carrierCredentials writes the sample's carrier username and password
// into a carrier scenario, which checks them.
var carrierCredentials = strings.NewReplacer("CARRIER_USER", "CHANGE-ME-carrier-username", "CARRIER_PASSWORD", "CHANGE-ME-carrier-password")

// start starts Asterisk on p's configuration (p.dir/etc/asterisk.conf) and
// waits until ARI answers and Asterisk is fully booted; it is stopped when
// the test ends.
func (p *pbx) start(t *testing.T) {
	t.Helper()
	p.exited = make(chan struct{})
	out, err := os.Create(filepath.Join(p.dir, "log", "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.binary, "-f", "-n", "-C", p.conf()) //nolint:gosec // G204: the test's Asterisk on the test's configuration
	cmd.Dir, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = p.dir, out, out, procAttr()
	exited := p.exited
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.binary, err)
	}
	go func() {
		_ = cmd.Wait()
		_ = out.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("the sample Asterisk's log (the end):\n%s", p.logTail())
		}
	})
	waitFor(t, 60*time.Second, "the sample Asterisk's ARI", func() bool {
		select {
		case <-exited:
			t.Fatalf("the sample Asterisk exited:\n%s", p.logTail())
		default:
		}
		code, err := p.ari(http.MethodGet, "/asterisk/info", nil)
		return err == nil && code == http.StatusOK
	})
	p.cli(t, "core waitfullybooted")
}

func (p *pbx) conf() string { return filepath.Join(p.dir, "etc", "asterisk.conf") }

// cli runs an Asterisk CLI command on the sample Asterisk.
func (p *pbx) cli(t *testing.T, command string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p.binary, "-C", p.conf(), "-rx", command).CombinedOutput() //nolint:gosec // G204: the test's Asterisk
	if err != nil {
		t.Fatalf("asterisk -rx %q: %v\n%s", command, err, out)
	}
	return string(out)
}

// ari sends a request to the sample's ARI (path after /ari) as the
// sample's user ivr and decodes a 2xx JSON answer into out.
func (p *pbx) ari(method, path string, out any) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.ariURL()+path, nil)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth("ivr", p.ariPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode/100 == 2 && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", body, err)
		}
	}
	return resp.StatusCode, nil
}

func (p *pbx) mustARI(t *testing.T, method, path string, out any) int {
	t.Helper()
	code, err := p.ari(method, path, out)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return code
}

func (p *pbx) ariURL() string { return "http://127.0.0.1:" + strconv.Itoa(p.httpPort) + "/ari" }

func (p *pbx) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "log", "messages.log"))
	return string(b)
}

func (p *pbx) logTail() string {
	var b []byte
	for _, f := range []string{"stdout.log", "messages.log"} {
		data, _ := os.ReadFile(filepath.Join(p.dir, "log", f))
		if len(data) > 12000 {
			data = data[len(data)-12000:]
		}
		b = append(b, "--- "+f+"\n"...)
		b = append(b, data...)
	}
	return string(b)
}

// ua is a sipp user agent.
type ua struct {
	name string
	dir  string // its working folder, where it traces its messages
	out  lockedBuffer
	done chan struct{}
	err  error // set before done is closed
}

// sipp runs sipp with scenario (a file of testdata/) towards the sample
// Asterisk, on free loopback ports, for one call bounded to 60 s;
// sip-tester's g711a.pcap is linked beside the scenario. [from_user] is
// from.
func (p *pbx) sipp(t *testing.T, scenario, from string, args ...string) *ua {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	return p.sippAt(t, 0, scenario, string(b), from, args...)
}

// sippAt is sipp with the scenario's text given, on SIP port port of
// 127.0.0.1 (0: a free one; args may give another loopback address with
// -i and -mi). sipp traces the messages it exchanges
// (ua.messages), and answers OPTIONS itself (-aa).
func (p *pbx) sippAt(t *testing.T, port int, scenario, text, from string, args ...string) *ua {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv(asterisktest.EnvRequire) == "require" {
			t.Fatalf("%s=require but no sipp: install Debian's sip-tester", asterisktest.EnvRequire)
		}
		t.Skip("no sipp: install Debian's sip-tester")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, scenario), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/share/sip-tester/g711a.pcap", filepath.Join(dir, "g711a.pcap")); err != nil {
		t.Fatal(err)
	}
	if port == 0 {
		if port, err = asterisktest.FreeUDPPort(); err != nil {
			t.Fatal(err)
		}
	}
	media, err := asterisktest.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	u := &ua{name: from + " (" + scenario + ")", dir: dir, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	args = append([]string{"-sf", filepath.Join(dir, scenario), "-key", "from_user", from}, args...)
	if !slices.Contains(args, "-i") {
		args = append(args, "-i", "127.0.0.1", "-mi", "127.0.0.1")
	}
	args = append(args, "-p", strconv.Itoa(port), "-mp", strconv.Itoa(media),
		"-m", "1", "-l", "1", "-timeout", "55s", "-timeout_error", "-nostdin", "-aa", "-trace_msg", "127.0.0.1:"+strconv.Itoa(p.sipPort))
	cmd := exec.CommandContext(ctx, bin, args...) //nolint:gosec // G204: sipp with the test's scenario
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &u.out, &u.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("sipp: %v", err)
	}
	go func() {
		u.err = cmd.Wait()
		cancel()
		close(u.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-u.done
		if t.Failed() {
			t.Logf("sipp %s's output:\n%s", u.name, u.out.String())
		}
	})
	return u
}

// wait waits for sipp to end and fails the test unless its scenario ran to
// the end.
func (u *ua) wait(t *testing.T) {
	t.Helper()
	<-u.done
	if u.err != nil {
		t.Errorf("sipp %s: %v, want exit status 0", u.name, u.err)
	}
}

// messages is what sipp traced of the messages it sent and received.
func (u *ua) messages(t *testing.T) string {
	t.Helper()
	found, _ := filepath.Glob(filepath.Join(u.dir, "*_messages.log"))
	var b []byte
	for _, f := range found {
		data, err := os.ReadFile(f) //nolint:gosec // G304: sipp's trace in the test's folder
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, data...)
	}
	return string(b)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("no %s within %v", what, within)
		case <-tick.C:
		}
	}
}

func secret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
