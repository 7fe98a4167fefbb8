//go:build !unix

package spool

import "os"

// lockFile does nothing where flock is not available: give each process
// its own spool directory there.
func lockFile(*os.File) error { return nil }
