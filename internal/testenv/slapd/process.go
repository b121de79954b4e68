package slapd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// process is one run of slapd in the foreground (-d 0).
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // set before done is closed
}

// launch starts slapd on the server's ports and waits until it answers.
func (s *Server) launch() error {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	urls := fmt.Sprintf("ldap://%s/ ldaps://%s/", s.LDAPAddr(), s.LDAPSAddr())
	cmd := exec.Command(s.tools.slapd, "-d", "0", "-n", "realmd-test-slapd", "-f", s.conf, "-h", urls)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setParentDeath(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting slapd: %w", err)
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

// waitReady polls until both listeners accept and the root DSE answers.
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(waitTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			b, _ := os.ReadFile(s.logPath)
			return fmt.Errorf("slapd exited during start (%v):\n%s", p.err, b)
		default:
		}
		if lastErr = s.ping(); lastErr == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("slapd did not answer within %s: %w", waitTimeout, lastErr)
}

func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp", s.LDAPSAddr(), time.Second)
	if err != nil {
		return err
	}
	c.Close()
	l, err := ldap.DialURL(s.LDAPURL(), ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return err
	}
	defer l.Close()
	l.SetTimeout(time.Second)
	_, err = l.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 1, false,
		"(objectClass=*)", []string{"namingContexts"}, nil))
	return err
}

// stop sends SIGTERM, waits, then kills.
func (p *process) stop() {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Stop stops slapd and keeps its data and ports; Start brings it back.
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

// Start restarts a stopped server on the same ports with the same data and
// waits until it answers. Starting a running server does nothing.
func (s *Server) Start() {
	s.t.Helper()
	if s.Running() {
		return
	}
	if err := s.launch(); err != nil {
		s.t.Fatalf("slapd: restarting: %v", err)
	}
}

// Running reports whether slapd is running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}
