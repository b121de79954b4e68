// Package testenv holds what the real-server harnesses below it share:
// installing Debian packages when a program is missing, skipping or failing
// when a server is unavailable, picking free loopback ports and running a
// server program in the foreground for the length of one test.
package testenv

import (
	"fmt"
	"net"
	"os"
	"testing"
)

// SkipShort skips the test in -short mode: a test that runs server (e.g.
// "a real slapd") is an integration test.
func SkipShort(t testing.TB, server string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("integration test with %s: skipped in -short mode", server)
	}
}

// Unavailable ends a test whose server cannot run: it is skipped, unless the
// CI environment variable is "true", where a missing server is a failure.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	} else {
		t.Skipf(format, args...)
	}
}

// FreePorts returns n distinct TCP ports that were free on 127.0.0.1 a
// moment ago. Another process may take one before the server binds it:
// Process.Launch retries on new ports.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("picking a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
