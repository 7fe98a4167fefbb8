//go:build unix

package spool

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f without waiting: two processes
// appending to and compacting one spool would lose each other's records.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
