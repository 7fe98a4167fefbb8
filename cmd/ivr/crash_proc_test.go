//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash tests' processes: the real ivr binary run as a child, its log
// read line by line for readiness and for the pager's pause marker; the
// gate that keeps the scripted engineer from talking to an instance that
// is about to die.

var (
	crashBuildOnce sync.Once
	crashBin       string
	crashBuildErr  error
)

// ivrBinary builds cmd/ivr once per test binary, without -race whatever
// the tests run with: the process under test does the work at full speed.
func ivrBinary(t *testing.T) string {
	t.Helper()
	crashBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ivr-crash-")
		if err != nil {
			crashBuildErr = err
			return
		}
		crashBinDir = dir
		// go test puts its own GOROOT/bin first on the PATH (since Go 1.19).
		goTool, err := exec.LookPath("go")
		if err != nil {
			crashBuildErr = err
			return
		}
		bin := filepath.Join(dir, "ivr")
		// -o: a bare `go build ./cmd/ivr` would collide with the ivr/
		// folder at the module's root.
		out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			crashBuildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		crashBin = bin
	})
	if crashBuildErr != nil {
		t.Fatalf("build the ivr binary: %v", crashBuildErr)
	}
	return crashBin
}

// pauseEvent is the pager's pause marker: where it stopped for the kill.
type pauseEvent struct {
	Phase     string `json:"phase"`
	PageID    int64  `json:"page_id"`
	AttemptID int64  `json:"attempt_id"`
}

// logLine is what the tests read of a line of the service's log.
type logLine struct {
	Level      string `json:"level"`
	Msg        string `json:"msg"`
	pauseEvent        // and page_id, attempt_id of any line
}

// ivrProc is one run of `ivr serve`.
type ivrProc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	ready   chan struct{}   // closed when it logs "serving"
	paused  chan pauseEvent // the pause marker, once
	exited  chan struct{}   // closed once it has ended and its log is read
	exitErr error

	mu     sync.Mutex
	errors []string       // its error lines, for the test's log
	counts map[string]int // lines by message
}

// startIVR runs bin serve with args and env (nothing inherited but PATH),
// its log in dir.
func startIVR(t *testing.T, bin, name, dir string, args, env []string) *ivrProc {
	t.Helper()
	p := &ivrProc{name: name, logPath: filepath.Join(dir, name+".log"), counts: map[string]int{},
		ready: make(chan struct{}), paused: make(chan pauseEvent, 1), exited: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	// A test binary that dies takes its children with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.cmd.Stdout = logFile
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		defer close(p.exited)
		defer logFile.Close()
		rd := bufio.NewReaderSize(stderr, 64<<10)
		for {
			line, err := rd.ReadString('\n')
			if line != "" {
				_, _ = logFile.WriteString(line)
				p.read(line)
			}
			if err != nil {
				break
			}
		}
		p.exitErr = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

func (p *ivrProc) read(line string) {
	var l logLine
	if json.Unmarshal([]byte(line), &l) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[l.Msg]++
	switch {
	case l.Msg == "serving" && p.counts[l.Msg] == 1:
		close(p.ready)
	case l.Msg == pauseMarker:
		select {
		case p.paused <- l.pauseEvent:
		default:
		}
	case l.Level == "error" && len(p.errors) < 20:
		p.errors = append(p.errors, strings.TrimSpace(line))
	}
}

// count returns how many lines with message msg the process logged.
func (p *ivrProc) count(msg string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[msg]
}

func (p *ivrProc) errorLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// kill ends the process with SIGKILL and waits until it has gone.
func (p *ivrProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop ends the process as an operator would (SIGTERM) and waits.
func (p *ivrProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	select {
	case <-p.exited:
	case <-deadline.C:
		t.Errorf("%s did not stop within 20 s of SIGTERM", p.name)
		p.kill()
	}
}

// tail returns the end of the process's log, for a failure message.
func (p *ivrProc) tail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// gate says whether the service is up, for the scripted engineer and the
// test's own requests: an exchange with the service runs under it, and
// taking the service down waits for the exchanges under way, so that a
// kill never cuts one in half (Twilio's own callbacks still may be).
type gate struct {
	mu   sync.RWMutex // read: an exchange under way
	st   sync.Mutex
	up   bool
	upCh chan struct{} // closed when the service comes up
}

func newGate() *gate { return &gate{upCh: make(chan struct{})} }

// do runs fn while the service is up, waiting for it to come up; false if
// ctx ended first. fn must not call do.
func (g *gate) do(ctx context.Context, fn func()) bool {
	for {
		g.mu.RLock()
		g.st.Lock()
		up, ch := g.up, g.upCh
		g.st.Unlock()
		if up {
			defer g.mu.RUnlock()
			fn()
			return true
		}
		g.mu.RUnlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (g *gate) open() {
	g.st.Lock()
	defer g.st.Unlock()
	if !g.up {
		g.up = true
		close(g.upCh)
	}
}

// close marks the service down and waits for the exchanges under way.
func (g *gate) close() {
	g.st.Lock()
	if g.up {
		g.up = false
		g.upCh = make(chan struct{})
	}
	g.st.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock() // nothing to guard: waiting for the readers is the point
}

// crashTB is the fake's TB: its fluent helpers run on the engineer's
// goroutines, so a failure is reported and ends the one scripted action
// (a panic the action recovers) rather than calling FailNow off the test's
// goroutine.
type crashTB struct{ t *testing.T }

type scriptFailed struct{}

func (c crashTB) Helper()                           {}
func (c crashTB) Cleanup(f func())                  { c.t.Cleanup(f) }
func (c crashTB) Errorf(format string, args ...any) { c.t.Errorf(format, args...) }
func (c crashTB) Skip(args ...any)                  { c.t.Skip(args...) }
func (c crashTB) Fatalf(format string, args ...any) {
	c.t.Errorf(format, args...)
	panic(scriptFailed{})
}
