package conf_test

import "syscall"

// procAttr has the kernel kill the sample Asterisk if the test binary dies
// without stopping it.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
