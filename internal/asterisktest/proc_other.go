//go:build !linux

package asterisktest

import (
	"os/exec"
	"syscall"
)

// procAttr: the cached build is made on Linux (Debian), so elsewhere only
// an install named by IVR_ASTERISK_PREFIX runs, without a parent-death
// signal.
func procAttr() *syscall.SysProcAttr { return nil }

func terminate(cmd *exec.Cmd, sig syscall.Signal) { _ = cmd.Process.Signal(sig) }
