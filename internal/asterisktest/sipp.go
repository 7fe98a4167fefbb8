package asterisktest

import (
	"bytes"
	"context"
	_ "embed" // the caller scenario
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// CallerScenario is a sipp scenario of a caller (testdata/caller.xml):
// it INVITEs the number given with -s as From user [from_user] (the name
// of its endpoint), offering PCMA with RFC 4733 events; once answered it
// sends the RTP of sip-tester's g711a.pcap, ACKs, and waits for the far
// end's BYE, which it answers. sipp exits 0 when all of that happened.
//
//go:embed testdata/caller.xml
var CallerScenario string

// sippAudio is sip-tester's sample RTP (PCMA), which CallerScenario plays.
const sippAudio = "/usr/share/sip-tester/g711a.pcap"

// UA is a SIP user agent run by sipp (Debian's sip-tester) on 127.0.0.1.
type UA struct {
	// Name is its endpoint's name and the user of its From header.
	Name string
	// Port is its SIP port on 127.0.0.1; MediaPort its RTP port.
	Port, MediaPort int

	out  lockedBuffer
	done chan struct{}
	err  error // set before done is closed
}

// StartUA starts sipp as the user agent name, for one call towards
// Asterisk's SIP port, its signalling and media on free ports of
// 127.0.0.1, bounded to 60 s. args choose the scenario ("-sn", "uas" for
// sipp's own answering one; "-sf", path for a file) and add options
// ("-s", number; "-key", k, v; "-rtp_echo" ...). [from_user] in a scenario
// is name. Without sipp tb is skipped, or fails if IVR_TEST_ASTERISK=
// require. The user agent is stopped when tb ends; on failure its output
// is logged.
//
// It gets no endpoint: AddEndpoint(tb, ua.Name, ua.Port) gives it one.
func (a *Asterisk) StartUA(tb testing.TB, name string, args ...string) *UA {
	tb.Helper()
	return a.startUA(tb, name, 0, args)
}

// startUA is StartUA on SIP port port, or a free one if 0.
func (a *Asterisk) startUA(tb testing.TB, name string, port int, args []string) *UA {
	tb.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv(EnvRequire) == "require" {
			tb.Fatalf("asterisktest: %s=require but no sipp: install Debian's sip-tester", EnvRequire)
		}
		tb.Skip("no sipp: install Debian's sip-tester, or set " + EnvRequire + "=require to fail instead")
	}
	u := &UA{Name: name, Port: port, done: make(chan struct{})}
	if u.Port == 0 {
		if u.Port, err = FreeUDPPort(); err != nil {
			tb.Fatal(err)
		}
	}
	if u.MediaPort, err = FreeUDPPort(); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	args = append(args, "-key", "from_user", name,
		"-i", "127.0.0.1", "-p", strconv.Itoa(u.Port), "-mi", "127.0.0.1", "-mp", strconv.Itoa(u.MediaPort),
		"-m", "1", "-l", "1", "-timeout", "55s", "-timeout_error", "-nostdin",
		"127.0.0.1:"+strconv.Itoa(a.SIPPort))
	cmd := exec.CommandContext(ctx, bin, args...) //nolint:gosec // G204: sipp with the test's scenario
	// sipp writes its logs (if asked) into its working folder.
	cmd.Dir = tb.TempDir()
	cmd.Stdout, cmd.Stderr = &u.out, &u.out
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("asterisktest: sipp: %v", err)
	}
	go func() {
		u.err = cmd.Wait()
		cancel()
		close(u.done)
	}()
	tb.Cleanup(func() {
		cancel()
		<-u.done
		if tb.Failed() {
			tb.Logf("sipp %s's output (the end):\n%s", name, lastLines(u.out.String(), 40))
		}
	})
	return u
}

// Call has a new user agent name call number with CallerScenario, giving
// it an endpoint first. On failure Asterisk's log is logged too.
func (a *Asterisk) Call(tb testing.TB, name, number string) *UA {
	tb.Helper()
	if _, err := os.Stat(sippAudio); err != nil {
		tb.Fatalf("asterisktest: the caller's audio: %v (install Debian's sip-tester)", err)
	}
	// sipp reads the audio when it loads the scenario, from beside it.
	dir := tb.TempDir()
	scenario := filepath.Join(dir, "caller.xml")
	if err := os.WriteFile(scenario, []byte(CallerScenario), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink(sippAudio, filepath.Join(dir, filepath.Base(sippAudio))); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("Asterisk's log (the end):\n%s", a.LogTail())
		}
	})
	// The endpoint before the user agent: sipp sends its INVITE at once.
	port, err := FreeUDPPort()
	if err != nil {
		tb.Fatal(err)
	}
	a.AddEndpoint(tb, name, port)
	return a.startUA(tb, name, port, []string{"-sf", scenario, "-s", number})
}

// Wait waits for sipp to end and returns its error: nil when it exited 0,
// its scenario run to the end.
func (u *UA) Wait() error {
	<-u.done
	if u.err != nil {
		return errors.New("sipp " + u.Name + ": " + u.err.Error())
	}
	return nil
}

// Done is closed when sipp has ended.
func (u *UA) Done() <-chan struct{} { return u.done }

// Output is what sipp printed so far.
func (u *UA) Output() string { return u.out.String() }

// lockedBuffer is sipp's output, written by exec's copying goroutine and
// read by the test.
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

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
