//go:build linux

package sdk

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
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
