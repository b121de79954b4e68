//go:build !unix

package main

// keepMonitorAwake does nothing where a process cannot re-execute itself
// in place; see monitor_unix.go.
func keepMonitorAwake() {}
