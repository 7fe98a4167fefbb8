// Package loopback owns finding a free TCP port on 127.0.0.1 for the
// throw-away servers tests start (PostgreSQL, Request Tracker). For tests
// only.
package loopback

import (
	"fmt"
	"net"
)

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
