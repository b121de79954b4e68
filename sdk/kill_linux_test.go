//go:build linux

package sdk

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/internal/testenv"
)

// launchForKill starts the test binary as a plugin with env added and
// grace as Kill's grace period, and returns it with its log.
func launchForKill(t *testing.T, grace time.Duration, env string) (*Client, *testenv.LogBuffer) {
	t.Helper()
	oldGrace, oldWait := killGrace, killWait
	killGrace, killWait = grace, 20*time.Second
	t.Cleanup(func() { killGrace, killWait = oldGrace, oldWait })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	logs := &testenv.LogBuffer{}
	c, err := Launch(LaunchConfig{Cmd: cmd, Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}), StartTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

// killWithin calls c.Kill and fails the test if it does not return.
func killWithin(t *testing.T, c *Client) {
	t.Helper()
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		c.Kill()
	}()
	select {
	case <-killed:
	case <-time.After(60 * time.Second): // a guard against a hang, not a timing
		t.Fatal("Kill did not return")
	}
}

// A plugin that stops answering (here: SIGSTOP) is killed once the grace
// period is over: go-plugin's Kill waited for its shutdown answer for ever,
// so realmd's SIGTERM hung and a reload left the process behind (found by
// review).
func TestClient_KillEndsAPluginThatDoesNotAnswer(t *testing.T) {
	c, logs := launchForKill(t, 100*time.Millisecond, pinPluginEnv+"=1")
	pid := c.Pid()
	if pid == 0 {
		t.Fatal("no pid")
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // never leave it behind
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}

	killWithin(t, c)
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("plugin %d still exists after Kill (signal 0: %v)", pid, err)
	}
	if !strings.Contains(logs.String(), "plugin did not stop within the grace period; killing it") {
		t.Errorf("no log line says the plugin was killed:\n%s", logs.String())
	}
	c.Kill() // again: returns at once
}

// helperPluginEnv makes the test binary a plugin that starts a helper
// process sharing its stderr, and writes the helper's pid to the file the
// variable names.
const helperPluginEnv = "REALMD_TEST_HELPER_PLUGIN"

func serveWithAHelper(pidFile string) {
	h := exec.Command("sleep", "300")
	h.Stderr = os.Stderr
	if err := h.Start(); err != nil {
		panic(err)
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(h.Process.Pid)), 0o600); err != nil {
		panic(err)
	}
	Serve(Plugin{Name: "helper", Version: "1"})
}

// A helper the plugin started that holds the plugin's stderr open kept
// go-plugin's Kill waiting for ever: Kill logged a plugin that had exited
// as one that "did not stop", left the helper running and a goroutine
// behind (found by review). The plugin's process group is killed instead.
func TestClient_KillEndsWhatThePluginStarted(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "helper.pid")
	c, logs := launchForKill(t, 300*time.Millisecond, helperPluginEnv+"="+pidFile)
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	helper, _ := strconv.Atoi(string(b))
	t.Cleanup(func() { _ = syscall.Kill(helper, syscall.SIGKILL) }) // never leave it behind

	killWithin(t, c)
	// The helper is reaped by init once killed; until then it is a zombie,
	// which signal 0 still finds, so look at its state. A SIGKILL takes
	// effect when the process next runs, which on a busy machine may be
	// after Kill returns: give it a few seconds (a guard, not a timing).
	deadline := time.Now().Add(5 * time.Second)
	state := procState(helper)
	for state != "" && state != "Z" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		state = procState(helper)
	}
	if state != "" && state != "Z" {
		t.Errorf("the plugin's helper %d survived Kill (state %s)", helper, state)
	}
	if strings.Contains(logs.String(), "not reaped") {
		t.Errorf("Kill gave up on the plugin:\n%s", logs.String())
	}
}

// procState is the state letter of process pid ("" when it is gone).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// pid (comm) state ...: comm may hold spaces, so read after the last ')'.
	rest := string(b[bytes.LastIndexByte(b, ')')+1:])
	if f := strings.Fields(rest); len(f) > 0 {
		return f[0]
	}
	return ""
}
