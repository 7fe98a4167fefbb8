package main

import (
	"os"
	"testing"

	"github.com/supportdesk/ivr/internal/pgtest"
)

// crashBinDir holds the ivr binary the crash tests build and kill; removed
// when the tests end.
var crashBinDir string

// TestMain stops the throw-away PostgreSQL the crash tests start and
// removes the binary they built and the tests' state directory.
func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if crashBinDir != "" {
		_ = os.RemoveAll(crashBinDir)
	}
	if testStatePath != "" {
		_ = os.RemoveAll(testStatePath)
	}
	os.Exit(code)
}
