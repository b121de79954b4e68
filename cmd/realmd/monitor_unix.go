//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"

	"github.com/realmd/realmd/core"
)

// keepMonitorAwake re-executes `realmd serve` with core.Schedtrace added to
// its GODEBUG, unless GODEBUG sets schedtrace already: Go's runtime reads
// GODEBUG once, at start, so a process cannot set it for itself. The
// setting keeps the runtime's monitor thread out of a deep sleep that
// realmd, waiting on its clients and its plugins, leaves thousands of
// times a second under load (see core.Schedtrace; about 10% more uncached
// logins, measured). Plugins get the same setting through their
// environment. It returns when it does not re-execute: the setting is
// there already, or the exec failed, and realmd then runs without it.
func keepMonitorAwake() {
	env, added := core.WithSchedtrace(os.Environ())
	if !added {
		return
	}
	exe := "/proc/self/exe" // the running binary, even if its file was replaced since
	if runtime.GOOS != "linux" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return
		}
	}
	_ = syscall.Exec(exe, os.Args, env)
}
