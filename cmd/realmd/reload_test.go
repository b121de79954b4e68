package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/realmd/realmd/internal/e2e"
)

// reloadBound is how soon an edit must answer requests (the hot-reload
// issue's promise).
const reloadBound = time.Second

const reloadConfig = `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      basic:
        order: 0
        http_authenticator: {type: basic, challenge: true}
        authentication_backend: {type: internal}
`

// fastHash is a bcrypt hash of password with cost 4, so that tests are quick.
func fastHash(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), 4)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// usersFile writes internal_users.yml with user → backend role; every
// password is the user name.
func usersFile(t *testing.T, users map[string]string) string {
	var b strings.Builder
	b.WriteString("_meta: {type: internalusers, config_version: 2}\n")
	for u, role := range users {
		fmt.Fprintf(&b, "%s:\n  hash: %q\n  backend_roles: [%s]\n", u, fastHash(t, u), role)
	}
	return b.String()
}

func mappingFile(role, backendRole string) string {
	return fmt.Sprintf("_meta: {type: rolesmapping, config_version: 2}\n%s:\n  backend_roles: [%s]\n", role, backendRole)
}

func reloadDir(t *testing.T) string {
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"config.yml":         reloadConfig,
		"internal_users.yml": usersFile(t, map[string]string{"alice": "staff"}),
		"roles_mapping.yml":  mappingFile("readall", "staff"),
	})
	return dir
}

// eventually polls check until it is true or bound passes since start.
func eventually(t *testing.T, start time.Time, bound time.Duration, what string, check func() bool) {
	t.Helper()
	for !check() {
		if time.Since(start) > bound {
			t.Fatalf("%s: not within %s", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func authStatus(t *testing.T, d *e2e.Daemon, user string) int {
	code, _, _ := d.Do(t, "GET", "/auth", basicHeader(user, user))
	return code
}

func TestReload_UsersComeAndGoWithinASecond(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir := reloadDir(t)
	d := e2e.Start(t, dir)
	if authStatus(t, d, "bob") != http.StatusUnauthorized {
		t.Fatal("bob exists before he is added")
	}

	t.Run("add a user with a rename-write", func(t *testing.T) {
		start := time.Now()
		e2e.WriteFiles(t, dir, map[string]string{"internal_users.yml": usersFile(t, map[string]string{"alice": "staff", "bob": "staff"})})
		eventually(t, start, reloadBound, "bob can log in", func() bool { return authStatus(t, d, "bob") == http.StatusOK })
	})
	t.Run("remove a user with an in-place write", func(t *testing.T) {
		start := time.Now()
		if err := os.WriteFile(filepath.Join(dir, "internal_users.yml"), []byte(usersFile(t, map[string]string{"alice": "staff"})), 0o644); err != nil {
			t.Fatal(err)
		}
		eventually(t, start, reloadBound, "bob is refused", func() bool { return authStatus(t, d, "bob") == http.StatusUnauthorized })
	})
	t.Run("delete and re-create", func(t *testing.T) {
		path := filepath.Join(dir, "internal_users.yml")
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // let the watcher see the file gone
		if authStatus(t, d, "alice") != http.StatusOK {
			t.Error("a missing internal_users.yml stopped the old config from serving")
		}
		start := time.Now()
		if err := os.WriteFile(path, []byte(usersFile(t, map[string]string{"alice": "staff", "carol": "staff"})), 0o644); err != nil {
			t.Fatal(err)
		}
		eventually(t, start, reloadBound, "carol can log in", func() bool { return authStatus(t, d, "carol") == http.StatusOK })
	})
	t.Run("unchanged content does not reload", func(t *testing.T) {
		before := d.Status(t).Generation
		body, _ := os.ReadFile(filepath.Join(dir, "config.yml"))
		e2e.WriteFiles(t, dir, map[string]string{"config.yml": string(body)})
		time.Sleep(500 * time.Millisecond)
		if after := d.Status(t).Generation; after != before {
			t.Errorf("generation %d -> %d for the same content", before, after)
		}
	})
}

func TestReload_BrokenEditKeepsTheLastGoodConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir := reloadDir(t)
	d := e2e.Start(t, dir)
	gen := d.Status(t).Generation

	e2e.WriteFiles(t, dir, map[string]string{"roles_mapping.yml": "_meta: {type: rolesmapping, config_version: 2}\nreadall:\n  backend_roles: [staff]\n  bakend_roles: [x]\n"})
	start := time.Now()
	var st e2e.Status
	eventually(t, start, 5*time.Second, "the refused reload is reported", func() bool {
		st = d.Status(t)
		return st.LastError != nil
	})
	if st.LastError.File != "roles_mapping.yml" || st.LastError.Line != 4 || st.LastError.Key != "readall.bakend_roles" || st.Generation != gen {
		t.Errorf("status after a broken edit: %+v generation %d (was %d)", st.LastError, st.Generation, gen)
	}
	if !strings.Contains(d.Log(), "reload refused") {
		t.Error("no log line for the refused reload")
	}
	if code, h, _ := d.Do(t, "GET", "/auth", basicHeader("alice", "alice")); code != http.StatusOK || h.Get("X-Auth-Roles") != "readall" {
		t.Errorf("old config not serving: %d %v", code, h)
	}

	e2e.WriteFiles(t, dir, map[string]string{"roles_mapping.yml": mappingFile("kibana_user", "staff")})
	eventually(t, time.Now(), reloadBound, "the fixed file is picked up", func() bool {
		_, h, _ := d.Do(t, "GET", "/auth", basicHeader("alice", "alice"))
		return h.Get("X-Auth-Roles") == "kibana_user"
	})
	if st := d.Status(t); st.LastError != nil {
		t.Errorf("last_error after the fix: %+v", st.LastError)
	}
}

func TestReload_OnlyChangedPluginsRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir := reloadDir(t)
	d := e2e.Start(t, dir)
	before := d.Status(t).PluginPIDs()

	t.Run("roles_mapping.yml keeps every plugin", func(t *testing.T) {
		gen := d.Status(t).Generation
		e2e.WriteFiles(t, dir, map[string]string{"roles_mapping.yml": mappingFile("kibana_user", "staff")})
		eventually(t, time.Now(), reloadBound, "the new mapping answers", func() bool {
			_, h, _ := d.Do(t, "GET", "/auth", basicHeader("alice", "alice"))
			return h.Get("X-Auth-Roles") == "kibana_user"
		})
		st := d.Status(t)
		if st.Generation == gen {
			t.Fatal("no new generation")
		}
		if got := st.PluginPIDs(); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Errorf("plugin pids changed: %v -> %v", before, got)
		}
	})
	t.Run("a domain added to config.yml starts its plugins", func(t *testing.T) {
		e2e.WriteFiles(t, dir, map[string]string{"config.yml": reloadConfig + `      second:
        order: 1
        http_authenticator: {type: basic, challenge: false}
        authentication_backend: {type: internal}
`})
		eventually(t, time.Now(), 5*time.Second, "the second domain's plugins run", func() bool {
			pids := d.Status(t).PluginPIDs()
			return pids["authc.second.http_authenticator"] != 0 && pids["authc.second.authentication_backend"] != 0
		})
		after := d.Status(t).PluginPIDs()
		for name, pid := range before {
			if after[name] != pid {
				t.Errorf("%s restarted (%d -> %d) though its domain did not change", name, pid, after[name])
			}
		}
	})
	t.Run("editing one domain restarts only its plugins", func(t *testing.T) {
		mid := d.Status(t).PluginPIDs()
		e2e.WriteFiles(t, dir, map[string]string{"config.yml": reloadConfig + `      second:
        order: 1
        http_authenticator: {type: basic, challenge: false}
        authentication_backend: {type: noop}
`})
		eventually(t, time.Now(), 5*time.Second, "the second domain's backend is gone", func() bool {
			_, ok := d.Status(t).PluginPIDs()["authc.second.authentication_backend"]
			return !ok
		})
		after := d.Status(t).PluginPIDs()
		for _, name := range []string{"authc.basic.http_authenticator", "authc.basic.authentication_backend", "authc.second.http_authenticator"} {
			if after[name] != mid[name] {
				t.Errorf("%s restarted (%d -> %d)", name, mid[name], after[name])
			}
		}
		// The old generation drains before its unused processes stop.
		eventually(t, time.Now(), 5*time.Second, "the dropped backend's process stops", func() bool {
			return !e2e.Alive(mid["authc.second.authentication_backend"])
		})
	})
}

func TestReload_KubernetesConfigMapSwap(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	// The layout kubelet makes: files are symlinks into ..data, which is a
	// symlink to a timestamped directory swapped atomically by a rename.
	dir := t.TempDir()
	version := func(name string, files map[string]string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		e2e.WriteFiles(t, filepath.Join(dir, name), files)
	}
	v1 := map[string]string{
		"config.yml":         reloadConfig,
		"internal_users.yml": usersFile(t, map[string]string{"alice": "staff"}),
		"roles_mapping.yml":  mappingFile("readall", "staff"),
	}
	version("..2026_11_22_v1", v1)
	if err := os.Symlink("..2026_11_22_v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for name := range v1 {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	d := e2e.Start(t, dir)

	v2 := map[string]string{"config.yml": v1["config.yml"], "internal_users.yml": v1["internal_users.yml"], "roles_mapping.yml": mappingFile("kibana_user", "staff")}
	version("..2026_11_22_v2", v2)
	start := time.Now()
	if err := os.Symlink("..2026_11_22_v2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	eventually(t, start, reloadBound, "the swapped ConfigMap answers", func() bool {
		_, h, _ := d.Do(t, "GET", "/auth", basicHeader("alice", "alice"))
		return h.Get("X-Auth-Roles") == "kibana_user"
	})
}

// TestReload_NoRequestFailsDuringReloads keeps requests going while at
// least 40 reloads swap plugin processes, and checks that every answer is
// right for either the old or the new config.
func TestReload_NoRequestFailsDuringReloads(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir := t.TempDir()
	alice := fastHash(t, "alice")
	users := func(role string) string {
		return fmt.Sprintf("_meta: {type: internalusers, config_version: 2}\nalice:\n  hash: %q\n  backend_roles: [%s]\n", alice, role)
	}
	e2e.WriteFiles(t, dir, map[string]string{
		"config.yml":         reloadConfig,
		"internal_users.yml": users("one"),
		"roles_mapping.yml":  "_meta: {type: rolesmapping, config_version: 2}\nrole_one:\n  backend_roles: [one]\nrole_two:\n  backend_roles: [two]\n",
	})
	d := e2e.Start(t, dir, "--log-level", "info")

	var stop atomic.Bool
	var requests, failures atomic.Int64
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				code, h, body := d.Do(t, "GET", "/auth", basicHeader("alice", "alice"))
				requests.Add(1)
				roles := h.Get("X-Auth-Roles")
				if code != http.StatusOK || (roles != "role_one" && roles != "role_two") {
					failures.Add(1)
					mu.Lock()
					if len(bad) < 5 {
						bad = append(bad, fmt.Sprintf("%d roles=%q body=%q", code, roles, body))
					}
					mu.Unlock()
				}
			}
		}()
	}
	const reloads = 40
	gen := d.Status(t).Generation
	for i := range reloads {
		role := []string{"two", "one"}[i%2]
		e2e.WriteFiles(t, dir, map[string]string{"internal_users.yml": users(role)})
		want := gen + 1
		eventually(t, time.Now(), 10*time.Second, fmt.Sprintf("reload %d", i+1), func() bool {
			gen = d.Status(t).Generation
			return gen >= want
		})
	}
	stop.Store(true)
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d of %d requests failed during %d reloads; first: %v", failures.Load(), requests.Load(), reloads, bad)
	}
	if requests.Load() < reloads {
		t.Errorf("only %d requests ran during %d reloads", requests.Load(), reloads)
	}
	t.Logf("%d requests, 0 failed, during %d reloads", requests.Load(), reloads)
}

func TestReload_SIGHUPForcesAReload(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir := reloadDir(t)
	d := e2e.Start(t, dir, "--watch=false")
	e2e.WriteFiles(t, dir, map[string]string{"roles_mapping.yml": mappingFile("kibana_user", "staff")})
	time.Sleep(300 * time.Millisecond)
	if _, h, _ := d.Do(t, "GET", "/auth", basicHeader("alice", "alice")); h.Get("X-Auth-Roles") != "readall" {
		t.Fatalf("reloaded without the watcher or SIGHUP: roles %q", h.Get("X-Auth-Roles"))
	}
	if err := d.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Now(), reloadBound, "SIGHUP reloads", func() bool {
		_, h, _ := d.Do(t, "GET", "/auth", basicHeader("alice", "alice"))
		return h.Get("X-Auth-Roles") == "kibana_user"
	})
}

// A reload cannot rebuild the listener: an edit of max_header_bytes (or of
// listen) is reported, in the log and at /_realmd/status, never silent.
func TestReload_ListenerSettingsNeedARestartAndSaySo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir := reloadDir(t)
	d := e2e.Start(t, dir)
	if st := d.Status(t); len(st.RestartNeeded) != 0 {
		t.Fatalf("restart_needed %q before any edit", st.RestartNeeded)
	}
	e2e.WriteFiles(t, dir, map[string]string{"realmd.yml": "max_header_bytes: 32768\n"})
	eventually(t, time.Now(), reloadBound, "the edit is reported", func() bool {
		st := d.Status(t)
		return len(st.RestartNeeded) == 1 && strings.Contains(st.RestartNeeded[0], "max_header_bytes is 32768 in realmd.yml, but realmd keeps 65536 until it restarts")
	})
	if !strings.Contains(d.Log(), "setting needs a restart") {
		t.Errorf("no warning in the log:\n%s", d.Log())
	}
}
