package sdk

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/internal/testenv"
)

// Under --log-level debug, a plugin's stray stderr line is logged once, at
// warn, not a second time by go-plugin at debug.
func TestLaunch_AStrayLineIsLoggedOnceAtDebugLevel(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out testenv.LogBuffer
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), stderrPluginEnv+"=serve")
	logger := hclog.New(&hclog.LoggerOptions{Name: "realmd", Output: &out, Level: hclog.Debug})
	c, err := Launch(LaunchConfig{Cmd: cmd, Logger: logger, StartTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.Kill() // returns once stderr is read
	if n := strings.Count(out.String(), "a stray line"); n != 1 {
		t.Errorf("the stray line is logged %d times, want once:\n%s", n, out.String())
	}
}
