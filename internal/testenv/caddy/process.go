package caddy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is one run of `caddy run`, in its own process group.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // set before done is closed
}

// launch starts Caddy on the server's port and waits until it listens.
func (s *Server) launch() error {
	// Each attempt starts with an empty log, so an old bind error cannot
	// be mistaken for a new one.
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "run", "--config", s.conf, "--adapter", "caddyfile")
	cmd.Dir = s.Dir
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting caddy: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	if err := s.waitReady(p); err != nil {
		p.stop()
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// waitReady polls until Caddy accepts connections on its port.
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(waitTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("caddy exited during start (%v):\n%s", p.err, s.Log())
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("caddy did not listen on %s within %s: %w", s.Addr, waitTimeout, lastErr)
}

// stop sends SIGTERM (Caddy stops gracefully within its grace period),
// waits, then kills the process group.
func (p *process) stop() {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		killGroup(p.cmd.Process)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		killGroup(p.cmd.Process)
		<-p.done
	}
}

// Stop stops Caddy and keeps its config and port; Start brings it back.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// Start restarts a stopped server on the same port with the same config
// and waits until it listens. Starting a running server does nothing.
func (s *Server) Start() {
	s.t.Helper()
	if s.Running() {
		return
	}
	if err := s.launch(); err != nil {
		s.t.Fatalf("caddy: restarting: %v", err)
	}
}

// Running reports whether Caddy is running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}
