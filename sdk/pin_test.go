//go:build linux

package sdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/realmd/realmd/internal/testenv"
)

// The test binary doubles as a plugin: re-executed with pinPluginEnv set, it
// serves a plugin whose version is the label pinnedCopy appended to the
// executable, so a test can tell which file the kernel ran.
const pinPluginEnv = "REALMD_SDK_PIN_PLUGIN"

// labelMark precedes the label at the end of a labelled executable.
const labelMark = "\x00realmd-pin-label:"

func TestMain(m *testing.M) {
	if os.Getenv(pinPluginEnv) != "" {
		Serve(Plugin{Name: "pinned", Version: ownLabel()})
		os.Exit(0)
	}
	if os.Getenv(hugeReplyPluginEnv) != "" {
		serveHugeReplies()
		os.Exit(0)
	}
	if mode := os.Getenv(stderrPluginEnv); mode != "" {
		writeStderrAndServe(mode)
		os.Exit(0)
	}
	if pidFile := os.Getenv(helperPluginEnv); pidFile != "" {
		serveWithAHelper(pidFile)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// ownLabel reads the label at the end of the file this process runs, which
// /proc/self/exe names even after that file was renamed over or unlinked.
func ownLabel() string {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "unreadable: " + err.Error()
	}
	tail := make([]byte, min(fi.Size(), 64))
	if _, err := f.ReadAt(tail, fi.Size()-int64(len(tail))); err != nil {
		return "unreadable: " + err.Error()
	}
	_, label, ok := bytes.Cut(tail, []byte(labelMark))
	if !ok {
		return "unlabelled"
	}
	return string(label)
}

var testBinary = sync.OnceValues(func() ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(exe)
})

// labelledPlugin writes a copy of the test binary, with label appended, to
// path and returns its SHA-256.
func labelledPlugin(t *testing.T, path, label string) []byte {
	t.Helper()
	body, err := testBinary()
	if err != nil {
		t.Fatal(err)
	}
	return writeExecutable(t, path, append(bytes.Clone(body), labelMark+label...))
}

func writeExecutable(t *testing.T, path string, body []byte) []byte {
	t.Helper()
	if err := os.WriteFile(path, body, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	return sum[:]
}

func pinnedConfig(path string, sum []byte) LaunchConfig {
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), pinPluginEnv+"=1")
	cfg := LaunchConfig{Cmd: cmd, Checksum: sum, Logger: hclog.NewNullLogger(), StartTimeout: 30 * time.Second}
	configureChild(cmd)
	return cfg
}

// labelOf returns the version the launched plugin reports: its label.
func labelOf(t *testing.T, c *Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return d.Version
}

func TestLaunch_PinnedExecutable(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	goodSum := labelledPlugin(t, good, "good")
	other := filepath.Join(dir, "other")
	otherSum := labelledPlugin(t, other, "other")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := exec.Command("mkfifo", fifo).Run(); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	tests := []struct {
		name        string
		path        string
		sum         []byte
		wantVersion string
		wantErr     []string
	}{
		{name: "the pinned file starts and answers", path: good, sum: goodSum, wantVersion: "good"},
		{name: "a wrong checksum is refused, naming the path and both checksums", path: other, sum: goodSum,
			wantErr: []string{"checksums did not match", other, fmt.Sprintf("SHA-256 %x", otherSum), fmt.Sprintf("pinned to %x", goodSum), "sha256 in realmd.yml"}},
		{name: "a symlink to the pinned file is refused", path: link, sum: goodSum,
			wantErr: []string{link + " is a symlink", "point the plugin's command in realmd.yml at the real file"}},
		{name: "a directory is refused", path: dir, sum: goodSum, wantErr: []string{dir + ": it is a directory; only regular files"}},
		{name: "a named pipe is refused without blocking", path: fifo, sum: goodSum, wantErr: []string{fifo + ": it is a named pipe; only regular files"}},
		{name: "a missing file is refused", path: filepath.Join(dir, "missing"), sum: goodSum, wantErr: []string{"opening the pinned executable", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Launch(pinnedConfig(tt.path, tt.sum))
			if tt.wantErr != nil {
				if c != nil {
					c.Kill()
				}
				if err == nil || !errors.Is(err, ErrUnavailable) {
					t.Fatalf("err = %v, want an ErrUnavailable", err)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("err = %v, want it to contain %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Kill()
			if v := labelOf(t, c); v != tt.wantVersion {
				t.Errorf("version %q, want %q", v, tt.wantVersion)
			}
		})
	}
}

func TestLaunch_AMismatchNeverStartsTheProcess(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "plugin")
	ran := filepath.Join(dir, "ran")
	sum := writeExecutable(t, script, []byte("#!/bin/sh\ntouch '"+ran+"'\n"))
	tests := []struct {
		name    string
		sum     []byte
		wantRan bool
	}{
		// The script is no plugin, so Launch fails either way; what differs
		// is whether it ran. The first case shows the test can see a run.
		{name: "with the right checksum the script runs", sum: sum, wantRan: true},
		{name: "with a wrong checksum it never runs", sum: make([]byte, sha256.Size)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(ran)
			c, err := Launch(pinnedConfig(script, tt.sum))
			if err == nil {
				c.Kill()
				t.Fatal("a shell script completed the plugin handshake")
			}
			_, statErr := os.Stat(ran)
			if gotRan := statErr == nil; gotRan != tt.wantRan {
				t.Errorf("ran = %v, want %v (launch error: %v)", gotRan, tt.wantRan, err)
			}
			if !tt.wantRan && !errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
				t.Errorf("err = %v, want a checksum mismatch", err)
			}
		})
	}
}

// TestLaunch_RunsTheHashedFileEvenIfThePathIsReplaced replaces the pinned
// path between the hash and the start, the window go-plugin's own check left
// open, and checks which file answered.
func TestLaunch_RunsTheHashedFileEvenIfThePathIsReplaced(t *testing.T) {
	tests := []struct {
		name string
		swap func(t *testing.T, path, evil string)
	}{
		{name: "another file renamed over the path", swap: func(t *testing.T, path, evil string) {
			if err := os.Rename(evil, path); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a symlink renamed over the path", swap: func(t *testing.T, path, evil string) {
			link := path + ".link"
			if err := os.Symlink(evil, link); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(link, path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "plugin")
			sum := labelledPlugin(t, path, "good")
			evil := filepath.Join(dir, "evil")
			labelledPlugin(t, evil, "evil")

			cfg := pinnedConfig(path, sum)
			exe, err := openPinned(path, sum)
			if err != nil {
				t.Fatal(err)
			}
			tt.swap(t, path, evil)
			c, err := startPinned(cfg, exe)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Kill()
			if v := labelOf(t, c); v != "good" {
				t.Errorf("the %q file answered; want the hashed one", v)
			}
			if _, err := exe.Stat(); !errors.Is(err, os.ErrClosed) {
				t.Errorf("the parent's copy of the executable is still open (stat: %v)", err)
			}
			if args := cfg.Cmd.Args; len(args) == 0 || args[0] != path {
				t.Errorf("argv %q, want the executable's path first", args)
			}
		})
	}
}

func TestLaunch_PinnedPluginLogsNameTheExecutable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "apikey")
	sum := labelledPlugin(t, path, "good")
	var out testenv.LogBuffer
	cfg := pinnedConfig(path, sum)
	cfg.Cmd.Env = append(cfg.Cmd.Env, LogLevelEnv+"=debug")
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: "realmd", Output: &out, Level: hclog.Trace})
	c, err := Launch(cfg)
	if err != nil {
		t.Fatal(err)
	}
	labelOf(t, c)
	c.Kill()
	log := out.String()
	if strings.Contains(log, "/proc/self/fd") {
		t.Errorf("the log names the descriptor instead of the executable:\n%s", log)
	}
	if !strings.Contains(log, "path="+path) || !strings.Contains(log, "realmd.apikey") {
		t.Errorf("the log does not name %s:\n%s", path, log)
	}
}

// A command with its own environment starts with that environment and the
// handshake's variables only: nothing of the launching process's, where
// secrets for config substitution live (found by review: go-plugin added
// the whole host environment). The plugin here is a script that records
// its environment and exits.
func TestLaunch_CommandEnvironmentIsAllThePluginGets(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "env.out")
	script := filepath.Join(dir, "plugin.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nenv > "+out+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LDAP_BIND_PASSWORD", "s3cret")
	cmd := exec.Command(script)
	cmd.Env = []string{"ONLY_THIS=1"}
	if _, err := Launch(LaunchConfig{Cmd: cmd, StartTimeout: 5 * time.Second}); err == nil {
		t.Fatal("a script that exits launched")
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if env := string(b); !strings.Contains(env, "ONLY_THIS=1") || strings.Contains(env, "s3cret") {
		t.Fatalf("the plugin's environment:\n%s\nwant ONLY_THIS=1 and not LDAP_BIND_PASSWORD", env)
	}
}
