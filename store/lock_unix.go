//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on path+".lock" without waiting, so that
// a second process on the same SQLite file fails at once. The lock lasts
// until the returned file is closed (or the process dies). The lock file is
// never removed: removing it would let two processes lock different files.
func lockFile(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &lockedError{path: path, lock: name}
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return f, nil
}
