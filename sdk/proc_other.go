//go:build !linux

package sdk

import "os/exec"

// setParentDeathSignal is a no-op where the kernel has no parent-death
// signal; Serve's parent poll covers it.
func setParentDeathSignal(*exec.Cmd) {}
