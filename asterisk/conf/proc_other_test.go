//go:build !linux

package conf_test

import "syscall"

// procAttr: no parent-death signal outside Linux; the test stops Asterisk
// itself.
func procAttr() *syscall.SysProcAttr { return nil }
