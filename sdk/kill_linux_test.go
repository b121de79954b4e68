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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// syncBuffer is a log destination that Kill's goroutines and the test may
// use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A plugin that stops answering (here: SIGSTOP) is killed once the grace
// period is over: go-plugin's Kill waited for its shutdown answer for ever,
// so realmd's SIGTERM hung and a reload left the process behind (found by
// review).
func TestClient_KillEndsAPluginThatDoesNotAnswer(t *testing.T) {
	grace, wait := killGrace, killWait
	killGrace, killWait = 100*time.Millisecond, 20*time.Second
	t.Cleanup(func() { killGrace, killWait = grace, wait })

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), pinPluginEnv+"=1")
	var logs syncBuffer
	c, err := Launch(LaunchConfig{Cmd: cmd, Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug}), StartTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	pid := c.Pid()
	if pid == 0 {
		t.Fatal("no pid")
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // never leave it behind
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}

	killed := make(chan struct{})
	go func() {
		defer close(killed)
		c.Kill()
	}()
	select {
	case <-killed:
	case <-time.After(60 * time.Second): // a guard against a hang, not a timing
		t.Fatal("Kill did not return for a stopped plugin")
	}
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
	grace, wait := killGrace, killWait
	killGrace, killWait = 300*time.Millisecond, 20*time.Second
	t.Cleanup(func() { killGrace, killWait = grace, wait })

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(t.TempDir(), "helper.pid")
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperPluginEnv+"="+pidFile)
	var logs syncBuffer
	c, err := Launch(LaunchConfig{Cmd: cmd, Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug}), StartTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	helper, _ := strconv.Atoi(string(b))
	t.Cleanup(func() { _ = syscall.Kill(helper, syscall.SIGKILL) }) // never leave it behind

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
	// The helper is reaped by init once killed; until then it is a zombie,
	// which signal 0 still finds, so look at its state.
	if state := procState(helper); state != "" && state != "Z" {
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
