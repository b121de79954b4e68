package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Command says how to run one server program in the foreground.
type Command struct {
	// Name names the server in messages, e.g. "nginx".
	Name string
	// New returns the command for one start; it is called before every
	// start and may prepare the start (e.g. empty a log, so that an old bind
	// error cannot be mistaken for a new one). Process sets the command's
	// Stdout, Stderr and process attributes.
	New func() (*exec.Cmd, error)
	// Output is the file that receives the program's stdout and stderr
	// (appended); empty means Log.
	Output string
	// Log is the server's log file. Process.Log returns it, its last 8 KiB
	// are logged when the test fails, and it is part of the error (with
	// Output) when the program exits during start.
	Log string
	// Ready returns nil once the server answers. It is polled until it does,
	// the program exits, or ReadyTimeout passes.
	Ready func() error
	// Retry reports whether a failed start may be a port that was taken
	// after FreePorts picked it, so that Launch tries again on new ports.
	// nil means every failed start is tried again.
	Retry func(error) bool
}

// ReadyTimeout bounds how long a start waits for the server to answer.
const ReadyTimeout = 20 * time.Second

// attempts is how many times Launch builds and starts a server.
const attempts = 3

// Process runs a Command for one test: Launch starts it, Stop stops it,
// Start restarts it, and the test's cleanup stops it. Stop and Running may
// be called from any goroutine; Launch and Start belong to the test's.
type Process struct {
	t   testing.TB
	cmd Command

	mu  sync.Mutex
	run *run
}

// run is one run of the program, in its own process group.
type run struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the program has exited
	err  error         // set before done is closed
}

// NewProcess returns a stopped Process for c and registers with t.Cleanup
// that it is stopped when the test ends, logging the end of its log if the
// test failed.
func NewProcess(t testing.TB, c Command) *Process {
	if c.Output == "" {
		c.Output = c.Log
	}
	p := &Process{t: t, cmd: c}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

// Launch calls build, which picks ports with FreePorts and writes the
// server's files, then starts the program and waits until it answers. When
// the start fails and Command.Retry allows, it builds and starts again, up
// to three times. On error the program is not running.
func (p *Process) Launch(build func() error) error {
	var err error
	for range attempts {
		if err = build(); err != nil {
			return err
		}
		if err = p.launch(); err == nil || (p.cmd.Retry != nil && !p.cmd.Retry(err)) {
			return err
		}
	}
	return err
}

// launch starts the program and waits until it answers.
func (p *Process) launch() error {
	cmd, err := p.cmd.New()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(p.cmd.Output, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("starting %s: %w", p.cmd.Name, err)
	}
	r := &run{cmd: cmd, done: make(chan struct{})}
	go func() {
		r.err = cmd.Wait()
		out.Close()
		close(r.done)
	}()
	if err := p.waitReady(r); err != nil {
		r.stop()
		return err
	}
	p.mu.Lock()
	p.run = r
	p.mu.Unlock()
	return nil
}

// waitReady polls Command.Ready until it succeeds, the program exits or
// ReadyTimeout passes.
func (p *Process) waitReady(r *run) error {
	deadline := time.Now().Add(ReadyTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return fmt.Errorf("%s exited during start (%v):\n%s", p.cmd.Name, r.err, p.startLog())
		default:
		}
		if lastErr = p.cmd.Ready(); lastErr == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within %s: %w", p.cmd.Name, ReadyTimeout, lastErr)
}

// startLog is the log and, when it is another file, the output.
func (p *Process) startLog() string {
	s := p.Log()
	if p.cmd.Output != p.cmd.Log {
		b, _ := os.ReadFile(p.cmd.Output)
		s += string(b)
	}
	return s
}

// stop sends SIGTERM, waits, then kills the process group.
func (r *run) stop() {
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		killGroup(r.cmd.Process)
	}
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		killGroup(r.cmd.Process)
		<-r.done
	}
}

// Stop stops the server and keeps its files and ports; Start brings it
// back. Stopping a stopped server does nothing.
func (p *Process) Stop() {
	p.mu.Lock()
	r := p.run
	p.run = nil
	p.mu.Unlock()
	if r != nil {
		r.stop()
	}
}

// Start restarts a stopped server on the same ports with the same files
// and waits until it answers; it fails the test when it cannot. Starting a
// running server does nothing.
func (p *Process) Start() {
	p.t.Helper()
	if p.Running() {
		return
	}
	if err := p.launch(); err != nil {
		p.t.Fatalf("%s: restarting: %v", p.cmd.Name, err)
	}
}

// Running reports whether the server is running.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.run != nil
}

// Log is what the server wrote to its log file so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.cmd.Log)
	return string(b)
}

func (p *Process) dumpLog() {
	b := []byte(p.Log())
	if len(b) == 0 {
		return
	}
	if len(b) > 8192 {
		b = b[len(b)-8192:]
	}
	p.t.Logf("%s log (%s), last part:\n%s", p.cmd.Name, p.cmd.Log, b)
}

// Listening is a Command.Ready for servers that answer once they accept
// TCP connections on addr.
func Listening(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}
