package asterisktest

import (
	"os/exec"
	"syscall"
)

// procAttr puts Asterisk in a process group of its own and has the kernel
// kill it if the test binary dies without stopping it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminate signals Asterisk's process group.
func terminate(cmd *exec.Cmd, sig syscall.Signal) {
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
