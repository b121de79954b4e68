package nginx

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// process is one run of nginx in the foreground (daemon off, one process,
// in its own process group).
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the master has exited
	err  error         // set before done is closed
}

// launch starts nginx on the server's port and waits until it listens.
func (s *Server) launch() error {
	if err := os.MkdirAll(filepath.Join(s.Dir, "tmp"), 0o700); err != nil {
		return err
	}
	// Each attempt starts with an empty log, so an old bind error cannot
	// be mistaken for a new one.
	if err := os.WriteFile(s.logPath, nil, 0o600); err != nil {
		return err
	}
	out, err := os.OpenFile(filepath.Join(s.Dir, "stderr.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "-p", s.Dir+"/", "-e", s.logPath, "-c", s.conf)
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("starting nginx: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
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

// waitReady polls until nginx accepts connections on its port.
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(waitTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			stderr, _ := os.ReadFile(filepath.Join(s.Dir, "stderr.log"))
			return fmt.Errorf("nginx exited during start (%v):\n%s%s", p.err, s.Log(), stderr)
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
	return fmt.Errorf("nginx did not listen on %s within %s: %w", s.Addr, waitTimeout, lastErr)
}

// stop sends SIGTERM (fast shutdown), waits, then kills the process group.
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

// Stop stops nginx and keeps its config and port; Start brings it back.
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
		s.t.Fatalf("nginx: restarting: %v", err)
	}
}

// Running reports whether nginx is running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}
