package main

import (
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildVersion_FallsBackToWhatTheToolchainRecorded(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "21006bb1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7"
	tests := []struct {
		name string
		set  string
		info *debug.BuildInfo
		want string
	}{
		{name: "make build's -X wins", set: "v1.2.0", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.1.0"}, Settings: vcs(rev, "true")}, want: "v1.2.0"},
		{name: "main module version", set: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.1.0"}, Settings: vcs(rev, "false")}, want: "v1.1.0"},
		{name: "clean revision", set: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, want: "21006bb1c2d3"},
		{name: "modified work tree", set: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, want: "21006bb1c2d3+dirty"},
		{name: "nothing recorded", set: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, want: "dev"},
		{name: "no build info", set: "dev", info: nil, want: "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildVersion(tt.set, tt.info); got != tt.want {
				t.Errorf("buildVersion(%q, ...) = %q, want %q", tt.set, got, tt.want)
			}
		})
	}
}

// A binary built with plain `go build` prints the version its own build
// info records, not "dev" (found by review: only make build set -X
// main.version). -buildvcs=true overrides a GOFLAGS=-buildvcs=false in
// the environment, which leaves nothing to fall back to.
func TestVersion_PlainGoBuildPrintsItsBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if _, err := os.Stat("../../.git"); err != nil {
		t.Skip("not a git checkout: go build records no revision")
	}
	bin := filepath.Join(t.TempDir(), "realmd")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	want := buildVersion("dev", info)
	if want == "dev" {
		t.Fatalf("go build recorded neither a module version nor a VCS revision: %v", info.Settings)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "realmd "+want {
		t.Errorf("realmd version printed %q, want %q", got, "realmd "+want)
	}
}
