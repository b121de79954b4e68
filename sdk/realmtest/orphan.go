package realmtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// launchSpec tells a launcher helper how to start the plugin. Raw starts it
// without the handshake client, so without the parent-death signal that
// sdk.Launch asks the kernel for: only the plugin's own watch can end it.
type launchSpec struct {
	Path string
	Args []string
	Env  []string
	Dir  string
	Raw  bool
}

// checkExitsWithParent starts a helper process (this test binary again)
// that starts the plugin, kills the helper with SIGKILL and waits, bounded,
// for the plugin process to disappear.
func (r *runner) checkExitsWithParent(t *testing.T, raw bool) {
	cmd := selfCommand()
	if r.suite.Command != nil {
		cmd = r.suite.Command()
	}
	if cmd.Err != nil {
		t.Fatalf("plugin command: %v", cmd.Err)
	}
	if _, err := processGone(os.Getpid()); err != nil {
		t.Skipf("cannot watch processes here: %v", err)
	}
	spec, err := json.Marshal(launchSpec{Path: cmd.Path, Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir, Raw: raw})
	if err != nil {
		t.Fatal(err)
	}
	helper := selfCommand()
	helper.Env = append(os.Environ(), launcherEnv+"="+string(spec), raceEnv(t))
	var stderr bytes.Buffer
	helper.Stderr = &stderr
	stdin, err := helper.StdinPipe() // the helper lives until stdin closes
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatalf("starting the launcher helper: %v", err)
	}
	waited := false
	t.Cleanup(func() {
		stdin.Close()
		if !waited {
			_ = helper.Process.Kill()
			_ = helper.Wait()
		}
	})

	pid, err := readPID(stdout)
	if err != nil {
		_ = helper.Process.Kill()
		_ = helper.Wait()
		waited = true
		t.Fatalf("launcher helper: %v (does TestMain call realmtest.ServeIfChild first?); its stderr:\n%s", err, stderr.String())
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatalf("killing the launcher helper: %v", err)
	}
	_ = helper.Wait()
	waited = true

	deadline := time.Now().Add(promptBound)
	for {
		gone, err := processGone(pid)
		if err != nil {
			t.Fatalf("watching plugin process %d: %v", pid, err)
		}
		if gone {
			return
		}
		if time.Now().After(deadline) {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
			t.Fatalf("plugin process %d still runs %v after its parent was killed", pid, promptBound)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readPID reads the helper's "pid N" line, bounded by callBound.
func readPID(r io.Reader) (int, error) {
	type result struct {
		pid int
		err error
	}
	done := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil {
			done <- result{err: fmt.Errorf("reading plugin pid: %w", err)}
			return
		}
		var pid int
		if _, err := fmt.Sscanf(line, "pid %d", &pid); err != nil || pid <= 0 {
			done <- result{err: fmt.Errorf("unexpected helper output %q", strings.TrimSpace(line))}
			return
		}
		done <- result{pid: pid}
	}()
	select {
	case res := <-done:
		return res.pid, res.err
	case <-time.After(callBound):
		return 0, fmt.Errorf("no plugin pid within %v", callBound)
	}
}

// runLauncher is the helper side of checkExitsWithParent: start the plugin,
// print its pid, and wait until stdin closes (or the helper is killed).
func runLauncher() int {
	var spec launchSpec
	if err := json.Unmarshal([]byte(os.Getenv(launcherEnv)), &spec); err != nil || len(spec.Args) == 0 {
		fmt.Fprintf(os.Stderr, "realmtest launcher: bad spec: %v\n", err)
		return 2
	}
	// go-plugin appends this process's environment to the plugin's, and the
	// plugin must not become a launcher too.
	os.Unsetenv(launcherEnv)
	cmd := exec.Command(spec.Path)
	cmd.Args, cmd.Env, cmd.Dir = spec.Args, spec.Env, spec.Dir

	var stop func()
	if spec.Raw {
		cmd.Env = append(append(os.Environ(), spec.Env...), sdk.Handshake.MagicCookieKey+"="+sdk.Handshake.MagicCookieValue)
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err == nil {
			// The handshake line means the plugin is serving.
			_, err = bufio.NewReader(out).ReadString('\n')
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "realmtest launcher: starting plugin: %v\n", err)
			return 1
		}
		stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	} else {
		client, err := sdk.Launch(sdk.LaunchConfig{Cmd: cmd})
		if err != nil {
			fmt.Fprintf(os.Stderr, "realmtest launcher: %v\n", err)
			return 1
		}
		stop = client.Kill
	}
	fmt.Printf("pid %d\n", cmd.Process.Pid)
	_, _ = io.Copy(io.Discard, os.Stdin)
	stop()
	return 0
}
