//go:build !linux

package rttest

import (
	"os/exec"
	"syscall"
)

// procAttr: RT's Debian packages are only found on Linux, so elsewhere the
// server never starts; this only keeps the package building.
func procAttr() *syscall.SysProcAttr { return nil }

func terminate(cmd *exec.Cmd, sig syscall.Signal) { _ = cmd.Process.Signal(sig) }
