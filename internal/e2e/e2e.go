// Package e2e runs the real realmd binary for end-to-end tests: it builds
// bin once per test process, starts `realmd serve` on a free loopback port
// with a config directory, and stops it (and checks its plugins) afterwards.
package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/realmd/realmd/internal/testenv"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds cmd/realmd once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "realmd-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "realmd")
		cmd := exec.Command("go", "build", "-o", buildPath, "github.com/realmd/realmd/cmd/realmd")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Daemon is one running `realmd serve`.
type Daemon struct {
	Cmd  *exec.Cmd
	URL  string // http://127.0.0.1:PORT
	Addr string
	Dir  string
	log  *testenv.LogBuffer
}

// Start runs `realmd serve --config dir` on a free port and waits until
// /readyz answers 200. The daemon is stopped when the test ends.
func Start(t testing.TB, dir string, args ...string) *Daemon {
	t.Helper()
	d := Launch(t, dir, args...)
	if err := d.WaitReady(30 * time.Second); err != nil {
		t.Fatalf("realmd did not become ready: %v\nlog:\n%s", err, d.Log())
	}
	return d
}

// Launch starts realmd without waiting for it to be ready.
func Launch(t testing.TB, dir string, args ...string) *Daemon {
	t.Helper()
	addr := FreeAddr(t)
	d := &Daemon{Addr: addr, URL: "http://" + addr, Dir: dir, log: &testenv.LogBuffer{}}
	all := append([]string{"serve", "--config", dir, "--listen", addr, "--log-level", "debug"}, args...)
	d.Cmd = exec.Command(Binary(t), all...)
	d.Cmd.Stdout = d.log
	d.Cmd.Stderr = d.log
	if err := d.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop(t) })
	return d
}

// WaitReady polls /readyz until it answers 200 or the deadline passes.
func (d *Daemon) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if d.Cmd.ProcessState != nil {
			return fmt.Errorf("realmd exited")
		}
		resp, err := http.Get(d.URL + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = string(body)
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %s", timeout, last)
}

// Stop sends SIGTERM and waits for realmd to exit, killing it after 15s.
func (d *Daemon) Stop(t testing.TB) {
	if d.Cmd.Process == nil || d.Cmd.ProcessState != nil {
		return
	}
	_ = d.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = d.Cmd.Process.Kill()
		<-done
		t.Errorf("realmd did not stop within 15s of SIGTERM; log:\n%s", d.Log())
	}
}

// Log is everything realmd wrote so far.
func (d *Daemon) Log() string { return d.log.String() }

// WaitLog reports whether realmd's log holds substr within timeout: a line
// realmd wrote before answering a request can still be on its way through
// the pipe when the answer arrives.
func (d *Daemon) WaitLog(substr string, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if strings.Contains(d.Log(), substr) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// Do sends a request to realmd and returns status, headers and body.
func (d *Daemon) Do(t testing.TB, method, path string, header http.Header) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, d.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// Children lists the pids whose parent is pid.
func Children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(child); ok && ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name is in parentheses and may contain spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}

// Alive reports whether pid is a running (not zombie) process.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// Cmdline is the process's command line, arguments joined by spaces.
func Cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// FreeAddr returns a loopback address with a free port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// CopyDir copies the regular files of src (recursively) into a new temp dir.
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// WriteFiles writes name → content into dir, each through a temp file and a
// rename, as editors and orchestrators do.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// Status is GET /_realmd/status.
type Status struct {
	Generation uint64 `json:"generation"`
	Hash       string `json:"hash"`
	LastError  *struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Key     string `json:"key"`
		Message string `json:"message"`
	} `json:"last_error"`
	RestartNeeded []string `json:"restart_needed"`
	Plugins       []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		PID      int    `json:"pid"`
		State    string `json:"state"`
		Restarts int    `json:"restarts"`
	} `json:"plugins"`
}

// Status fetches and decodes /_realmd/status.
func (d *Daemon) Status(t testing.TB) Status {
	t.Helper()
	code, _, body := d.Do(t, "GET", "/_realmd/status", nil)
	var st Status
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("status: %d %s", code, body)
	}
	return st
}

// PluginPIDs maps each plugin instance name to its pid.
func (s Status) PluginPIDs() map[string]int {
	out := map[string]int{}
	for _, p := range s.Plugins {
		out[p.Name] = p.PID
	}
	return out
}
