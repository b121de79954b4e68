package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/internal/testenv"
	"github.com/realmd/realmd/sdk"
)

func TestInstance_RestartsACrashedPlugin(t *testing.T) {
	var logs testenv.LogBuffer
	in, err := StartInstance(context.Background(), fakeSpec(t, `{}`), hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Error}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Stop)
	req := &sdk.Request{Header: map[string][]string{"X-User": {"alice"}}}
	if c, _, err := in.Extract(context.Background(), req); err != nil || c == nil || c.Username != "alice" {
		t.Fatalf("Extract = %v, %v", c, err)
	}
	if ch := in.Configured().Challenge.WWWAuthenticate; ch != `Fake realm="test"` {
		t.Errorf("challenge %q", ch)
	}
	first := in.Status()
	if first.State != StateRunning || first.PID == 0 {
		t.Fatalf("status %+v", first)
	}
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Calls fail fast with ErrUnavailable until the restart, then succeed.
	sawUnavailable := false
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, _, err := in.Extract(context.Background(), req)
		if err != nil {
			if !isUnavailable(err) {
				t.Fatalf("error %v does not wrap ErrUnavailable", err)
			}
			sawUnavailable = true
		} else if c != nil && sawUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no restart; status %+v", in.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := in.Status()
	if st.Restarts != 1 || st.PID == first.PID || st.State != StateRunning {
		t.Errorf("after restart: %+v (first pid %d)", st, first.PID)
	}
	if l := logs.String(); !strings.Contains(l, "plugin connection ended; restarting the plugin") || !strings.Contains(l, "reason=") || !strings.Contains(l, "plugin stream closed") {
		t.Errorf("the restart's log line lacks its reason:\n%s", l)
	}
}

// HTTP allows header bytes that are not UTF-8, and a realm may answer such
// bytes by mistake. Neither may break the stream that other calls share.
func TestInstance_TextThatIsNotUTF8BreaksNoOtherCall(t *testing.T) {
	in := startFake(t)
	raw := &sdk.Request{Header: map[string][]string{"X-Raw": {"\xff\xfe tail"}}}
	c, _, err := in.Extract(context.Background(), raw)
	if err != nil || c == nil || c.Attributes["raw.hex"] != "fffe207461696c" {
		t.Fatalf("header bytes did not arrive intact: %+v, %v", c, err)
	}

	// A client address is host text: it is checked before it is queued.
	bad := &sdk.Request{Header: map[string][]string{"X-User": {"alice"}}, ClientAddress: "fe80::1%\xff"}
	if _, _, err := in.Extract(context.Background(), bad); !errors.Is(err, sdk.ErrMalformed) {
		t.Fatalf("a client address that is not UTF-8: error %v, want ErrMalformed", err)
	}

	callsShareTheStream(t, in, 40, func(i int) error {
		name := fmt.Sprintf("user-%d", i)
		if i%4 == 0 {
			name = "bad-\xff" // the fake answers it as the user name
		}
		c, _, err := in.Extract(context.Background(), &sdk.Request{Header: map[string][]string{"X-User": {name}}})
		switch {
		case i%4 == 0 && !errors.Is(err, sdk.ErrInternal):
			return fmt.Errorf("%q: error %v, want ErrInternal", name, err)
		case i%4 != 0 && (err != nil || c == nil || c.Username != name):
			return fmt.Errorf("%q: %+v, %v", name, c, err)
		}
		return nil
	})
}

// Large headers from many clients at once (each within max_header_bytes)
// must not add up to a stream message a plugin refuses: that broke the
// stream for every call in flight and restarted the plugin.
func TestInstance_ManyLargeCallsBreakNothing(t *testing.T) {
	in := startFake(t)
	big := strings.Repeat("A", 60<<10)
	callsShareTheStream(t, in, 300, func(int) error {
		// The fake answers with the header's bytes in hex: replies are
		// twice as large as the calls.
		c, _, err := in.Extract(context.Background(), &sdk.Request{Header: map[string][]string{"X-Raw": {big}}})
		if err != nil || c == nil || len(c.Attributes["raw.hex"]) != 2*len(big) {
			return fmt.Errorf("answered %v, error %v", c != nil, err)
		}
		return nil
	})
}

// startFake starts the fake plugin as an instance the test stops.
func startFake(t *testing.T) *Instance {
	t.Helper()
	in, err := StartInstance(context.Background(), fakeSpec(t, `{}`), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Stop)
	return in
}

// callsShareTheStream makes n calls at once, reports each one's error, and
// fails the test if the plugin restarted meanwhile.
func callsShareTheStream(t *testing.T, in *Instance, n int, call func(i int) error) {
	t.Helper()
	pid := in.Status().PID
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if err := call(i); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := in.Status(); st.PID != pid || st.Restarts != 0 {
		t.Errorf("the plugin restarted: %+v (pid was %d)", st, pid)
	}
}

func TestInstance_StopKillsThePlugin(t *testing.T) {
	in, err := StartInstance(context.Background(), fakeSpec(t, `{}`), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	pid := in.Status().PID
	in.Stop()
	in.Stop() // twice is fine
	if st := in.Status(); st.State != StateStopped || st.PID != 0 {
		t.Errorf("status %+v", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		var ws syscall.WaitStatus
		if p, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); p == pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin %d still alive after Stop", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := in.Extract(context.Background(), &sdk.Request{}); !isUnavailable(err) {
		t.Errorf("Extract after Stop: %v, want ErrUnavailable", err)
	}
}

// A plugin that no longer answers (stopped with SIGSTOP) is killed by Stop
// after a short grace period: Stop used to wait for its shutdown answer for
// ever, so SIGTERM hung realmd and a reload left the process behind (found
// by review).
func TestInstance_StopKillsAPluginThatDoesNotAnswer(t *testing.T) {
	in, err := StartInstance(context.Background(), fakeSpec(t, `{}`), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	pid := in.Status().PID
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // never leave it behind
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		in.Stop()
	}()
	select {
	case <-stopped:
	case <-time.After(60 * time.Second): // a guard against a hang, not a timing
		t.Fatal("Stop did not return for a stopped plugin")
	}
	if alive(pid) {
		t.Errorf("plugin %d still alive after Stop", pid)
	}
}

func TestInstance_RefusedConfigIsReportedWithKeys(t *testing.T) {
	_, err := StartInstance(context.Background(), fakeSpec(t, `{"refuse": true, "typo": 1}`), hclog.NewNullLogger())
	cp, ok := err.(*ConfigProblems)
	if !ok {
		t.Fatalf("err = %v, want *ConfigProblems", err)
	}
	got := map[string]string{}
	for _, p := range cp.Problems {
		got[p.Key] = p.Message
	}
	if got["refuse"] != "refused on purpose" || got["typo"] != `unknown key "typo"; the keys allowed here are: ca_file, edit_ca_to, refuse` || len(got) != 2 {
		t.Errorf("problems %v", cp.Problems)
	}
}

func TestInstance_WrongRoleIsRefused(t *testing.T) {
	spec := fakeSpec(t, `{}`)
	spec.Role = sdk.RoleBackend
	_, err := StartInstance(context.Background(), spec, hclog.NewNullLogger())
	if err == nil || !contains(err.Error(), `does not serve authentication_backend type "fake"`) {
		t.Errorf("err = %v", err)
	}
}

func TestPool_ReusesAnUnchangedInstance(t *testing.T) {
	pool := newInstancePool()
	log := hclog.NewNullLogger()
	a, err := pool.acquire(context.Background(), fakeSpec(t, `{}`), log)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pool.acquire(context.Background(), fakeSpec(t, `{}`), log)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("same spec started a second process")
	}
	c, err := pool.acquire(context.Background(), fakeSpec(t, `{"refuse": false}`), log)
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Fatal("a changed config reused the old process")
	}
	pool.release(a)
	if a.Status().State != StateRunning {
		t.Error("released while still referenced")
	}
	pool.release(b)
	pool.release(c)
	if a.Status().State != StateStopped || c.Status().State != StateStopped {
		t.Errorf("last release did not stop: %v %v", a.Status().State, c.Status().State)
	}
}

func TestPool_AChangedFileRestartsItsInstance(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := fakeSpec(t, `{"ca_file": "ca.pem"}`)
	spec.Dir = dir
	pool := newInstancePool()
	log := hclog.NewNullLogger()
	a, err := pool.acquire(context.Background(), spec, log)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.release(a)
	if got := a.Files(); len(got) != 1 || got[0] != ca {
		t.Fatalf("files %v, want [%s]", got, ca)
	}
	if a.FilesChanged() {
		t.Fatal("unchanged file reported as changed")
	}
	b, _ := pool.acquire(context.Background(), spec, log)
	if b != a {
		t.Fatal("an unchanged file restarted the instance")
	}
	pool.release(b)
	if err := os.WriteFile(ca, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !a.FilesChanged() {
		t.Fatal("changed file not noticed")
	}
	c, err := pool.acquire(context.Background(), spec, log)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.release(c)
	if c == a {
		t.Fatal("a changed file reused the old process")
	}
	if a.Status().State != StateRunning {
		t.Error("the old instance stopped while its generation still holds it")
	}
}

// The plugin serves the file's content from when it read it. An edit made
// after that read, while Configure is still running, must count as a
// change, or no reload would ever pick it up.
func TestInstance_AFileEditedDuringConfigureCountsAsChanged(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := fakeSpec(t, `{"ca_file": "ca.pem", "edit_ca_to": "two"}`)
	spec.Dir = dir
	in, err := StartInstance(context.Background(), spec, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Stop)
	if b, _ := os.ReadFile(ca); string(b) != "two" {
		t.Fatalf("the fake did not edit the file: %q", b)
	}
	if !in.FilesChanged() {
		t.Fatal("the instance read \"one\", the file holds \"two\", and FilesChanged is false")
	}
	// A second start, with nothing edited while it configures, is clean.
	again, err := StartInstance(context.Background(), spec, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(again.Stop)
	if again.FilesChanged() {
		t.Error("an instance that read the current content reports a change")
	}
}

// wedgeEnv makes the test binary serve wedgePlugin instead of running
// tests. It is checked in init, before TestMain, so that the shared fake in
// main_test.go stays as it is.
const wedgeEnv = "REALMD_CORE_WEDGE_PLUGIN"

func init() {
	if os.Getenv(wedgeEnv) != "" {
		sdk.Serve(wedgePlugin())
		os.Exit(0)
	}
}

// wedgeAuthn finds the user named in X-User. X-Crash makes the process exit
// at once (a request that crashes the plugin); X-Hang makes the call never
// return, whatever its context says (a realm wedged while its process
// lives).
type wedgeAuthn struct{}

func (wedgeAuthn) Inputs() sdk.Inputs {
	return sdk.Inputs{Headers: []string{"X-User", "X-Crash", "X-Hang"}}
}

func (wedgeAuthn) Extract(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
	if r.HeaderValue("X-Crash") != "" {
		os.Exit(3)
	}
	if r.HeaderValue("X-Hang") != "" {
		select {} // never returns; the process is killed when the test ends
	}
	if u := r.HeaderValue("X-User"); u != "" {
		return &sdk.Credentials{Username: u}, nil
	}
	return nil, nil
}

func wedgePlugin() sdk.Plugin {
	return sdk.Plugin{Name: "wedge", Version: "0", Authenticators: map[string]sdk.Factory[sdk.Authenticator]{
		"wedge": func(*sdk.Config) (sdk.Authenticator, error) { return wedgeAuthn{}, nil },
	}}
}

func wedgeSpec(t *testing.T) InstanceSpec {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ref := PluginRef{Name: "wedge", Path: exe, Args: []string{"-test.run=^$"}, Env: []string{wedgeEnv + "=1"}}
	return InstanceSpec{Name: "authc.wedge.http_authenticator", Role: sdk.RoleAuthenticator, Type: "wedge", Plugin: ref, Config: []byte(`{}`)}
}

// waitState polls in's state until it is want; guard bounds a failing test
// and is no timing.
func waitState(t *testing.T, in *Instance, want string, guard time.Duration) {
	t.Helper()
	for end := time.Now().Add(guard); ; time.Sleep(10 * time.Millisecond) {
		st := in.Status()
		if st.State == want {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("state %q after %v, want %q (status %+v)", st.State, guard, want, st)
		}
	}
}

// waitStopped waits until every thread of process pid is stopped: SIGSTOP
// takes effect on each as it next runs.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		stopped := len(tasks) > 0
		for _, task := range tasks {
			b, _ := os.ReadFile(task)
			if i := strings.LastIndexByte(string(b), ')'); i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
				stopped = false
			}
		}
		if stopped {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("plugin %d did not stop", pid)
		}
	}
}

// extractWithin makes one call bounded by timeout, as request_timeout
// bounds realmd's.
func extractWithin(in *Instance, timeout time.Duration, header, value string) (*sdk.Credentials, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, _, err := in.Extract(ctx, &sdk.Request{Header: map[string][]string{header: {value}}})
	return c, err
}

// A plugin whose process lives but answers nothing (stopped with SIGSTOP)
// makes the instance not ready once a call it was sent is overdue, and
// ready again once it answers. realmd's sends never blocked (the stream's
// windows hold megabytes), so /readyz said ready for as long as the
// plugin stayed stopped (found by review).
func TestInstance_AStoppedPluginIsNotReadyUntilItAnswers(t *testing.T) {
	in, err := StartInstance(context.Background(), wedgeSpec(t), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Stop)
	pid := in.Status().PID
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // never leave it stopped
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, pid)
	if _, err := extractWithin(in, 100*time.Millisecond, "X-User", "alice"); !isUnavailable(err) {
		t.Fatalf("a call to a stopped plugin: %v, want ErrUnavailable", err)
	}
	// Guards, not timings: the call's deadline plus a few seconds.
	waitState(t, in, "unresponsive", 20*time.Second)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitState(t, in, StateRunning, 20*time.Second)
	if c, err := extractWithin(in, 10*time.Second, "X-User", "bob"); err != nil || c == nil || c.Username != "bob" {
		t.Fatalf("after SIGCONT: %+v, %v", c, err)
	}
	if st := in.Status(); st.Restarts != 0 || st.PID != pid {
		t.Errorf("the plugin was restarted: %+v", st)
	}
}

// A realm whose call never returns, while its process lives, makes the
// instance not ready; a later call it answers makes it ready again.
func TestInstance_ARealmThatNeverAnswersIsNotReadyUntilItAnswers(t *testing.T) {
	in, err := StartInstance(context.Background(), wedgeSpec(t), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Stop)
	if _, err := extractWithin(in, 100*time.Millisecond, "X-Hang", "1"); !isUnavailable(err) {
		t.Fatalf("a call that hangs: %v, want ErrUnavailable", err)
	}
	waitState(t, in, "unresponsive", 20*time.Second)
	if c, err := extractWithin(in, 10*time.Second, "X-User", "bob"); err != nil || c == nil || c.Username != "bob" {
		t.Fatalf("a call the realm answers: %+v, %v", c, err)
	}
	waitState(t, in, StateRunning, 20*time.Second)
}

// restartDelays are the delays the restart log lines announce, in order.
func restartDelays(logs string) []string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, "plugin connection ended; restarting the plugin") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "backoff="); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// crashAndWait sends a request that crashes the plugin, then calls until
// the restarted plugin answers.
func crashAndWait(t *testing.T, in *Instance, first int) {
	t.Helper()
	if _, err := extractWithin(in, 10*time.Second, "X-Crash", "1"); !isUnavailable(err) {
		t.Fatalf("a call that crashes the plugin: %v, want ErrUnavailable", err)
	}
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if st := in.Status(); st.State == StateRunning && st.PID != 0 && st.PID != first {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("no restart; status %+v", in.Status())
		}
	}
}

// A request that crashes the plugin, sent again and again between requests
// the plugin answers, costs each time the shortest restart delay: the
// plugin proved it serves. The backoff used to grow to 10 s unless the
// plugin had run 30 s, so each such request gave a longer outage.
func TestInstance_ACrashingRequestBetweenAnsweredOnesRestartsAtOnce(t *testing.T) {
	var logs testenv.LogBuffer
	in, err := StartInstance(context.Background(), wedgeSpec(t), hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Stop)
	for range 4 {
		if c, err := extractWithin(in, 10*time.Second, "X-User", "alice"); err != nil || c == nil {
			t.Fatalf("a call before the crash: %+v, %v", c, err)
		}
		crashAndWait(t, in, in.Status().PID)
	}
	want := []string{"50ms", "50ms", "50ms", "50ms"}
	if got := restartDelays(logs.String()); !slices.Equal(got, want) {
		t.Errorf("restart delays %v, want %v:\n%s", got, want, logs.String())
	}
}

// A plugin that dies before answering any call (here: the crashing request
// is each restarted plugin's first) backs off exponentially, so a crash
// loop does not spin the CPU.
func TestInstance_APluginThatDiesBeforeAnsweringBacksOff(t *testing.T) {
	var logs testenv.LogBuffer
	in, err := StartInstance(context.Background(), wedgeSpec(t), hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Stop)
	for range 3 {
		crashAndWait(t, in, in.Status().PID)
	}
	want := []string{"50ms", "100ms", "200ms"}
	if got := restartDelays(logs.String()); !slices.Equal(got, want) {
		t.Errorf("restart delays %v, want %v:\n%s", got, want, logs.String())
	}
}

// A plugin that answers calls and still dies again and again (a realm
// whose background goroutine panics soon after each start, under traffic)
// is restarted at once 5 times within 30 s, then backs off as a crash
// loop, saying why. Found by review: each death after an answered call
// restarted it after 50 ms, for ever.
func TestInstance_APluginThatKeepsDyingAfterAnsweringBacksOffAfter5FastRestarts(t *testing.T) {
	var logs testenv.LogBuffer
	in, err := StartInstance(context.Background(), wedgeSpec(t), hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Stop)
	for range 7 {
		if c, err := extractWithin(in, 10*time.Second, "X-User", "alice"); err != nil || c == nil {
			t.Fatalf("a call before the crash: %+v, %v", c, err)
		}
		crashAndWait(t, in, in.Status().PID)
	}
	want := []string{"50ms", "50ms", "50ms", "50ms", "50ms", "100ms", "200ms"}
	if got := restartDelays(logs.String()); !slices.Equal(got, want) {
		t.Errorf("restart delays %v, want %v:\n%s", got, want, logs.String())
	}
	if !strings.Contains(logs.String(), "a crash loop") {
		t.Errorf("no restart line says it backs off as a crash loop:\n%s", logs.String())
	}
}
