//go:build !linux

package sdk

import "os/exec"

// configureChild is a no-op where the kernel has no parent-death signal;
// Serve's parent poll covers it.
func configureChild(*exec.Cmd) {}
