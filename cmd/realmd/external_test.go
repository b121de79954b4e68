package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/internal/e2e"
)

const apikeyConfig = `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      service_accounts:
        order: 0
        http_authenticator:
          type: apikey
          challenge: false
          config:
            keys: {ci-bot: "k-123"}
        authentication_backend: {type: noop}
`

// buildApikey builds the SDK README's example plugin into dir.
func buildApikey(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "apikey")
	if b, err := exec.Command("go", "build", "-o", out, "./testdata/apikey").CombinedOutput(); err != nil {
		t.Fatalf("building the example plugin: %v\n%s", err, b)
	}
	return out
}

// apikeyDir writes a config dir whose one domain is served by the example
// plugin, built into dir/plugins; realmdYML follows plugin_directory.
func apikeyDir(t *testing.T, mapping, realmdYML string) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	bin = buildApikey(t, plugins)
	e2e.WriteFiles(t, dir, map[string]string{
		"config.yml":         apikeyConfig,
		"internal_users.yml": "_meta: {type: internalusers, config_version: 2}\n",
		"roles_mapping.yml":  "_meta: {type: rolesmapping, config_version: 2}\n" + mapping,
		"realmd.yml":         "plugin_directory: plugins\n" + realmdYML,
	})
	return dir, bin
}

func TestE2E_ThirdPartyPluginFromPluginDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir, _ := apikeyDir(t, "readall:\n  backend_roles: [service]\n", "")
	d := e2e.Start(t, dir)
	code, h, _ := d.Do(t, "GET", "/auth", http.Header{"X-Api-Key": {"k-123"}})
	if code != http.StatusOK || h.Get("X-Auth-User") != "ci-bot" || h.Get("X-Auth-Roles") != "readall" {
		t.Errorf("status %d headers %v", code, h)
	}
	if code, _, _ := d.Do(t, "GET", "/auth", http.Header{"X-Api-Key": {"wrong"}}); code != http.StatusUnauthorized {
		t.Errorf("wrong key: status %d", code)
	}
	st := d.Status(t)
	if len(st.Plugins) != 1 || !strings.HasSuffix(e2e.Cmdline(st.Plugins[0].PID), filepath.Join("plugins", "apikey")) {
		t.Errorf("plugins %+v", st.Plugins)
	}
}

func TestE2E_PinnedPluginChecksumIsEnforced(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir, bin := apikeyDir(t, "", "")
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	files := func(sha string) map[string]string {
		return map[string]string{"realmd.yml": "plugin_directory: plugins\nplugins:\n  apikey: {command: apikey, sha256: " + sha + "}\n"}
	}
	t.Run("the right checksum starts", func(t *testing.T) {
		e2e.WriteFiles(t, dir, files(hex.EncodeToString(sum[:])))
		d := e2e.Start(t, dir)
		if code, _, _ := d.Do(t, "GET", "/auth", http.Header{"X-Api-Key": {"k-123"}}); code != http.StatusOK {
			t.Errorf("status %d", code)
		}
	})
	t.Run("a wrong checksum refuses to start", func(t *testing.T) {
		e2e.WriteFiles(t, dir, files(strings.Repeat("ab", 32)))
		d := e2e.Launch(t, dir)
		_ = d.Cmd.Wait()
		if d.Cmd.ProcessState.ExitCode() == 0 || !strings.Contains(d.Log(), "checksums did not match") {
			t.Errorf("exit %d, log:\n%s", d.Cmd.ProcessState.ExitCode(), d.Log())
		}
	})
}

func TestReload_AReplacedPluginExecutableRestartsItsInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir, bin := apikeyDir(t, "", "")
	plugins := filepath.Dir(bin)
	d := e2e.Start(t, dir)
	before := d.Status(t).Plugins[0].PID

	// A new build of the plugin, installed the way package managers do:
	// written beside it, then renamed over it.
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	e2e.WriteFiles(t, plugins, map[string]string{"apikey": string(append(body, '\n'))})
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Now(), 5*time.Second, "the instance restarts on the new executable", func() bool {
		st := d.Status(t)
		return len(st.Plugins) == 1 && st.Plugins[0].PID != before && st.Plugins[0].PID != 0
	})
	if code, _, _ := d.Do(t, "GET", "/auth", http.Header{"X-Api-Key": {"k-123"}}); code != http.StatusOK {
		t.Errorf("status %d after the restart", code)
	}
}
