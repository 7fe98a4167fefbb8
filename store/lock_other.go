//go:build !unix

package store

import "os"

// lockFile does nothing where flock does not exist: nothing stops a second
// process from opening the same SQLite file there.
func lockFile(path string) (*os.File, error) { return nil, nil }
