package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/supportdesk/ivr/internal/asterisktest"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/internal/rttest"
)

// crashBinDir holds the ivr binary the crash tests build and kill; removed
// when the tests end.
var crashBinDir string

// TestMain stops the throw-away PostgreSQL the crash tests start (and
// RT, and the Asterisk of the ARI driver's kill test) and removes the
// binary they built and the tests' state directory.
func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if err := rttest.Shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "rttest: %v\n", err)
		code = max(code, 1)
	}
	if err := asterisktest.Shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "asterisktest: %v\n", err)
		code = max(code, 1)
	}
	if crashBinDir != "" {
		_ = os.RemoveAll(crashBinDir)
	}
	if testStatePath != "" {
		_ = os.RemoveAll(testStatePath)
	}
	os.Exit(code)
}
