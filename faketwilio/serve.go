package faketwilio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"go.uber.org/zap"
)

// TB is the part of testing.TB that Start uses; *testing.T and *testing.B
// satisfy it. It keeps package testing out of binaries that embed the fake.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
}

// Start serves a new fake on 127.0.0.1 (a free port) for the rest of the
// test and returns it; URL() is its base URL. Fluent helpers (ExpectCall,
// Answer, …) fail tb with Fatalf, so call them from the test's goroutine
// (elsewhere use WaitCall and WaitSMS). At cleanup the server stops and the
// test fails if ExpectNoMore finds anything unexpected. Without a spec in
// the documented places (see DefaultSpecPath) the test is skipped, saying
// what to set, unless IVR_TEST_SPEC=require (CI), which fails it.
func Start(tb TB, opts Options) *Server {
	tb.Helper()
	if opts.SpecPath == "" && !opts.Unchecked {
		SkipWithoutSpec(tb)
	}
	s, err := New(opts)
	if err != nil {
		tb.Fatalf("%v", err) // New's errors start with "faketwilio:"
		return nil
	}
	s.failf = func(format string, args ...any) {
		tb.Helper()
		tb.Fatalf("faketwilio: "+format, args...)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("faketwilio: %v", err)
		return nil
	}
	s.SetURL("http://" + ln.Addr().String())
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		_ = srv.Close()
		<-done
		s.Close()
		if err := s.ExpectNoMore(); err != nil {
			tb.Errorf("%v", err)
		}
	})
	return s
}

// SkipWithoutSpec skips tb's test when no spec is in the documented places
// (see DefaultSpecPath), saying what to set, unless IVR_TEST_SPEC=require:
// then New's error fails the test. Start calls it; tests that call New
// themselves call it first.
func SkipWithoutSpec(tb TB) {
	tb.Helper()
	if _, err := DefaultSpecPath(); errors.Is(err, ErrNoSpec) && os.Getenv(SpecRequireEnv) != "require" {
		tb.Skip(err.Error() + " (" + SpecRequireEnv + "=require fails instead of skipping)")
	}
}

// Serve runs a new fake at addr, which must be a loopback address
// ("127.0.0.1:8089", "[::1]:0", "localhost:8089"), until ctx is done. Each
// request is logged to opts.Logger. It is what `ivr fake-twilio` runs.
func Serve(ctx context.Context, addr string, opts Options) error {
	s, err := New(opts)
	if err != nil {
		return err
	}
	return s.Serve(ctx, addr)
}

// Serve serves s at the loopback address addr until ctx is done.
func (s *Server) Serve(ctx context.Context, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("faketwilio: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("faketwilio: refusing to listen on %q: loopback addresses only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener serves s on ln, which must listen on a loopback address,
// until ctx is done; it closes ln. Then it logs what was unexpected.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		_ = ln.Close() // refused before serving: the refusal is the error to report
		return fmt.Errorf("faketwilio: refusing to serve on %q: loopback addresses only", ln.Addr())
	}
	s.SetURL("http://" + ln.Addr().String())
	s.log.Info("serving a fake Twilio REST API", zap.String(keyURL, s.URL()),
		zap.String(keyAccountSID, s.opts.AccountSID), zap.String(keySpec, s.opts.SpecPath))
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		// ctx is done: the shutdown gets a budget of its own.
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
		<-stopped
	}
	s.Close()
	if problems := s.ExpectNoMore(); problems != nil {
		s.log.Warn("unexpected traffic", zap.Error(problems))
	}
	return err
}
