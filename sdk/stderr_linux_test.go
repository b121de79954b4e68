package sdk

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/internal/testenv"
)

// Re-executed with stderrPluginEnv set, the test binary writes to stderr
// as its mode says and then exits or serves (see TestMain).
const stderrPluginEnv = "REALMD_SDK_STDERR_PLUGIN"

func writeStderrAndServe(mode string) {
	switch mode {
	case "exit":
		log.Fatal("cannot start: missing something") // writes to stderr and exits 1
	case "serve":
		fmt.Fprintln(os.Stderr, `{"@level":"info","@message":"a log entry","@timestamp":"2026-01-02T03:04:05.000000Z"}`)
		fmt.Fprintln(os.Stderr, "a stray line")
		Serve(Plugin{Name: "stderr", Version: "1"})
	}
}

// A plugin's stderr lines that are not log entries reach the host's log at
// warn, where go-plugin logs them at debug, and the start error of a plugin
// that exits before the handshake ends with them (found by review: a
// plugin's log.Fatal at start was lost at the default level, and the
// operator saw only "Unrecognized remote plugin message").
func TestLaunch_StrayStderrLinesAreWarnings(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		mode      string
		line      string // the line that must be a warning
		wantStart bool
	}{
		{name: "a plugin that exits at start", mode: "exit", line: "cannot start: missing something"},
		{name: "a plugin that serves", mode: "serve", line: "a stray line", wantStart: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, out, err := launchStderrPlugin(t, tt.mode, hclog.Info) // realmd's default level
			if tt.wantStart {
				if err != nil {
					t.Fatal(err)
				}
				c.Kill() // returns once stderr is read
			} else {
				if err == nil {
					c.Kill()
					t.Fatal("a plugin that exits at start launched")
				}
				t.Logf("start error: %v", err)
				if !strings.Contains(err.Error(), tt.line+`"`) {
					t.Errorf("start error = %v; want it to quote the plugin's stderr line %q", err, tt.line)
				}
			}
			var warned bool
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.Contains(l, "[WARN]") && strings.Contains(l, tt.line) && strings.Contains(l, "plugin="+exe) {
					warned = true
				}
				if strings.Contains(l, "a log entry") && !strings.Contains(l, "[INFO]") {
					t.Errorf("a JSON log entry was logged again: %s", l)
				}
			}
			if !warned {
				t.Errorf("no warning with %q naming plugin=%s in the log:\n%s", tt.line, exe, out.String())
			}
		})
	}
}

// Under --log-level debug, a plugin's stray stderr line is logged once, at
// warn, not a second time by go-plugin at debug.
func TestLaunch_AStrayLineIsLoggedOnceAtDebugLevel(t *testing.T) {
	c, out, err := launchStderrPlugin(t, "serve", hclog.Debug)
	if err != nil {
		t.Fatal(err)
	}
	c.Kill() // returns once stderr is read
	if n := strings.Count(out.String(), "a stray line"); n != 1 {
		t.Errorf("the stray line is logged %d times, want once:\n%s", n, out.String())
	}
}

// launchStderrPlugin launches the test binary as the plugin that writes to
// stderr as mode says (see writeStderrAndServe), with a host logger at
// level writing to out.
func launchStderrPlugin(t *testing.T, mode string, level hclog.Level) (*Client, *testenv.LogBuffer, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := &testenv.LogBuffer{}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), stderrPluginEnv+"="+mode)
	logger := hclog.New(&hclog.LoggerOptions{Name: "realmd", Output: out, Level: level})
	c, err := Launch(LaunchConfig{Cmd: cmd, Logger: logger, StartTimeout: 30 * time.Second})
	return c, out, err
}
