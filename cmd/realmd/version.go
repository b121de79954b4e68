package main

import (
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// buildVersion is what `realmd version` prints: set, when the build set
// one (make build), else what the Go toolchain recorded in info: the main
// module's version, or the VCS revision it was built from, with "+dirty"
// when the work tree had changes. A plain `go build` sets no -X flag, and
// "dev" alone said nothing about which code was running.
func buildVersion(set string, info *debug.BuildInfo) string {
	if set != "dev" || info == nil {
		return set
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return set
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// currentVersion is this binary's version (see buildVersion).
func currentVersion() string {
	info, _ := debug.ReadBuildInfo()
	return buildVersion(version, info)
}
