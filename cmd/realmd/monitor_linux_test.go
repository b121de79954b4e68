package main

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/realmd/realmd/core"
	"github.com/realmd/realmd/internal/e2e"
)

// environGODEBUG is the GODEBUG in process pid's environment, as the
// kernel has it since the process's last exec.
func environGODEBUG(t *testing.T, pid int) string {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(string(raw), "\x00") {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			return v
		}
	}
	return ""
}

// realmd serve runs with Go's monitor thread kept awake: it re-executes
// itself once, in place (its pid stays), with core.Schedtrace in its
// GODEBUG, and its plugins get the setting too. An operator's GODEBUG that
// sets schedtrace is kept as it is, which turns it off.
func TestServe_KeepsGosMonitorAwake(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	for _, tt := range []struct{ name, godebug, want string }{
		{"by default", "", core.Schedtrace},
		{"beside other settings", "http2client=0", "http2client=0," + core.Schedtrace},
		{"turned off", "schedtrace=0", "schedtrace=0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GODEBUG", tt.godebug)
			d := e2e.Start(t, e2e.CopyDir(t, "testdata/opensearch-sample"))
			if got := environGODEBUG(t, d.Cmd.Process.Pid); got != tt.want {
				t.Errorf("realmd's GODEBUG %q, want %q", got, tt.want)
			}
			pids := d.Status(t).PluginPIDs()
			if len(pids) == 0 {
				t.Fatal("no plugin running")
			}
			for name, pid := range pids {
				if got := environGODEBUG(t, pid); got != tt.want {
					t.Errorf("plugin %s's GODEBUG %q, want %q", name, got, tt.want)
				}
			}
		})
	}
}
