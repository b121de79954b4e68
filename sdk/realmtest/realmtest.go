// Package realmtest is the conformance kit for realmd plugins: it starts a
// plugin through the real go-plugin handshake and checks that it keeps the
// wire contract.
//
// A plugin's tests re-execute their own test binary as the plugin:
//
//	func TestMain(m *testing.M) {
//		realmtest.ServeIfChild(myrealm.Plugin())
//		os.Exit(m.Run())
//	}
//
//	func TestConformance(t *testing.T) {
//		realmtest.Run(t, realmtest.Suite{Backends: []realmtest.Backend{...}})
//	}
//
// Every Configure gets Suite.Dir as its config directory: unless set, the
// package directory, so a config may name a file in testdata/ by a relative
// path (read with sdk.Config.Path). To write the file in the test instead,
// set Dir to a directory of your own:
//
//	dir := t.TempDir()
//	os.WriteFile(filepath.Join(dir, "tokens.txt"), tokens, 0o600)
//	realmtest.Run(t, realmtest.Suite{Dir: dir, Authenticators: []realmtest.Authenticator{{
//		Type: "header-token", Config: map[string]any{"tokens_file": "tokens.txt"}, ...
//	}}})
//
// A plugin built as its own executable is tested with Suite.Command.
package realmtest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// Environment variables through which the kit talks to the processes it
// re-executes. They are the kit's own business.
const (
	pluginEnv   = "REALMTEST_SERVE_PLUGIN"
	launcherEnv = "REALMTEST_LAUNCHER"
)

// ServeIfChild serves p and exits when the process was started by Launch
// (or by the kit's parent-death check); otherwise it returns at once. Call it
// first thing in TestMain, before m.Run and before anything writes to stdout,
// which belongs to the handshake.
func ServeIfChild(p sdk.Plugin) {
	if os.Getenv(launcherEnv) != "" {
		os.Exit(runLauncher())
	}
	if os.Getenv(pluginEnv) == "1" {
		sdk.Serve(p)
		os.Exit(0)
	}
}

// selfCommand is the current test binary, re-executed as the plugin. The
// -test.run pattern matches nothing, so a binary whose TestMain forgot
// ServeIfChild runs no tests and fails the handshake instead. The plugin
// gets the test's whole environment (sdk.Launch passes a command's own
// Env and nothing more): a test may configure its plugin through it.
func selfCommand() *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), pluginEnv+"=1")
	return cmd
}

// Launch starts the current test binary as a plugin (TestMain must call
// ServeIfChild) and returns a client that has completed the handshake. The
// plugin is killed when t's test ends. Launch fails t if the plugin does not
// start.
func Launch(t testing.TB) *sdk.Client {
	t.Helper()
	return launch(t, selfCommand(), "does TestMain call realmtest.ServeIfChild first?")
}

// LaunchCommand starts cmd as a plugin, for instance `realmd plugin basic` or
// a third-party plugin executable, and returns a client that has completed
// the handshake. The plugin is killed when t's test ends. LaunchCommand fails
// t if the plugin does not start. cmd must not have been started.
func LaunchCommand(t testing.TB, cmd *exec.Cmd) *sdk.Client {
	t.Helper()
	return launch(t, cmd, "")
}

func launch(t testing.TB, cmd *exec.Cmd, hint string) *sdk.Client {
	t.Helper()
	w := &testWriter{t: t}
	t.Cleanup(w.close) // runs after Kill: cleanups run last-in first-out
	cmd.Env = append(cmd.Env, raceEnv(t))
	logger := hclog.New(&hclog.LoggerOptions{Name: "realmtest", Output: w, Level: hclog.Warn})
	client, err := sdk.Launch(sdk.LaunchConfig{Cmd: cmd, Logger: logger})
	if err != nil {
		if hint != "" {
			err = fmt.Errorf("%w (%s)", err, hint)
		}
		t.Fatalf("realmtest: launching plugin %s: %v", cmd.Path, err)
	}
	t.Cleanup(client.Kill)
	return client
}

// raceEnv returns a GORACE setting for a plugin built with the race
// detector (a re-executed test binary under go test -race): reports go to
// files that fail t when the test ends, since the plugin's exit status is
// nobody's business, and the exit skips the detector's one-second sleep.
// A GORACE in the environment of the test wins (go-plugin appends it).
func raceEnv(t testing.TB) string {
	dir := t.TempDir()
	t.Cleanup(func() {
		files, _ := filepath.Glob(filepath.Join(dir, "race.*"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
				t.Errorf("realmtest: the plugin process reported a data race:\n%s", b)
			}
		}
	})
	return "GORACE=atexit_sleep_ms=0 log_path=" + filepath.Join(dir, "race")
}

// testWriter sends the plugin's log lines to t.Log until the test ends;
// later lines are dropped, since t.Log must not be called after that.
type testWriter struct {
	t      testing.TB
	mu     sync.Mutex
	closed bool
}

var _ io.Writer = (*testWriter)(nil)

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}
