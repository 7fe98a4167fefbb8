package rttest

import (
	"os/exec"
	"syscall"
)

// procAttr puts rt-server in a process group of its own, so that a signal
// reaches its workers too, and has the kernel send it SIGTERM if the test
// binary dies without stopping it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// terminate signals rt-server's process group.
func terminate(cmd *exec.Cmd, sig syscall.Signal) {
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
