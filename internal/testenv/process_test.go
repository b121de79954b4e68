package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The test binary doubles as the server a Process runs: with
// TESTENV_CHILD=listen it listens on TESTENV_ADDR until killed; with
// TESTENV_CHILD=fail it writes a bind error and exits.
func TestMain(m *testing.M) {
	switch os.Getenv("TESTENV_CHILD") {
	case "listen":
		// Written before listening, so that it is in the log once the
		// server answers.
		fmt.Println("listening on", os.Getenv("TESTENV_ADDR"))
		l, err := net.Listen("tcp", os.Getenv("TESTENV_ADDR"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(2)
			}
			c.Close()
		}
	case "fail":
		fmt.Fprintln(os.Stderr, "bind: address already in use")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// child is a Command that runs the test binary in the given mode on a port
// that build picks; it counts the builds.
type child struct {
	dir    string
	addr   string
	builds int
}

func (c *child) build() error {
	c.builds++
	ports, err := FreePorts(1)
	if err != nil {
		return err
	}
	c.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	return nil
}

func (c *child) command(mode string, retry func(error) bool) Command {
	return Command{
		Name: "child",
		New: func() (*exec.Cmd, error) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "TESTENV_CHILD="+mode, "TESTENV_ADDR="+c.addr)
			return cmd, nil
		},
		Log:   filepath.Join(c.dir, "child.log"),
		Ready: func() error { return Listening(c.addr) },
		Retry: retry,
	}
}

func TestProcess_StopThenStartKeepsThePort(t *testing.T) {
	c := &child{dir: t.TempDir()}
	p := NewProcess(t, c.command("listen", nil))
	if err := p.Launch(c.build); err != nil {
		t.Fatal(err)
	}
	if !p.Running() {
		t.Fatal("not running after Launch")
	}
	if err := Listening(c.addr); err != nil {
		t.Fatalf("not answering after Launch: %v", err)
	}
	p.Stop()
	if p.Running() {
		t.Fatal("running after Stop")
	}
	if err := Listening(c.addr); err == nil {
		t.Fatal("answering after Stop")
	}
	p.Start()
	if err := Listening(c.addr); err != nil {
		t.Fatalf("not answering after Start: %v", err)
	}
	if got := strings.Count(p.Log(), "listening on "+c.addr); got != 2 {
		t.Fatalf("log has %d starts on %s, want 2 (appended):\n%s", got, c.addr, p.Log())
	}
	if c.builds != 1 {
		t.Fatalf("built %d times, want 1", c.builds)
	}
}

func TestProcess_LaunchRetriesWhatRetryAllows(t *testing.T) {
	tests := []struct {
		name       string
		retry      func(error) bool
		wantBuilds int
	}{
		{name: "nil retry tries every failure three times", retry: nil, wantBuilds: 3},
		{name: "retry on a taken port tries three times", retry: func(err error) bool {
			return strings.Contains(err.Error(), "address already in use")
		}, wantBuilds: 3},
		{name: "retry refusing gives up at once", retry: func(error) bool { return false }, wantBuilds: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &child{dir: t.TempDir()}
			p := NewProcess(t, c.command("fail", tt.retry))
			err := p.Launch(c.build)
			if err == nil || !strings.Contains(err.Error(), "child exited during start") ||
				!strings.Contains(err.Error(), "bind: address already in use") {
				t.Fatalf("Launch: %v, want the exit with the log", err)
			}
			if c.builds != tt.wantBuilds {
				t.Fatalf("built %d times, want %d", c.builds, tt.wantBuilds)
			}
			if p.Running() {
				t.Fatal("running after a failed Launch")
			}
		})
	}
}

func TestProcess_LaunchStopsAtABuildError(t *testing.T) {
	c := &child{dir: t.TempDir()}
	p := NewProcess(t, c.command("listen", nil))
	boom := errors.New("boom")
	builds := 0
	err := p.Launch(func() error { builds++; return boom })
	if !errors.Is(err, boom) || builds != 1 {
		t.Fatalf("Launch: %v after %d builds, want boom after 1", err, builds)
	}
}

func TestProcess_ExitDuringStartShowsLogAndOutput(t *testing.T) {
	c := &child{dir: t.TempDir()}
	cmd := c.command("fail", func(error) bool { return false })
	cmd.Output = filepath.Join(c.dir, "stderr.log")
	if err := os.WriteFile(cmd.Log, []byte("from the log\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := NewProcess(t, cmd).Launch(c.build)
	if err == nil || !strings.Contains(err.Error(), "from the log\nbind: address already in use") {
		t.Fatalf("Launch: %v, want the log then the output", err)
	}
}
