// Package caddy runs a private Caddy for integration tests: it installs
// Caddy if missing, renders a Caddyfile template, starts Caddy on a free
// loopback port from a temp dir and stops it when the test ends.
package caddy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realmd/realmd/internal/testenv/proxy"
)

// Server is a running Caddy. Dir holds the Caddyfiles, the log, Caddy's
// storage and its HOME; Version is what `caddy version` prints, e.g.
// "2.6.2"; Log returns what Caddy wrote (JSON lines on stderr).
type Server = proxy.Server

// Start runs Caddy as proxy.Start describes (install if missing, skip or
// fail, cleanup) with tmpl, a text/template over proxy.Params, as Caddyfile
// site blocks that must listen on Params.Listen (a site `http://:{{.Port}}`
// with `bind {{.Host}}`). The harness writes the global options (admin
// endpoint off, automatic HTTPS off, storage under Dir, a short grace
// period) and imports the rendered sites, so the template has no global
// options block. HOME and XDG_DATA_HOME/XDG_CONFIG_HOME point into Dir.
func Start(t testing.TB, tmpl, realmd, upstream string) *Server {
	t.Helper()
	return proxy.Start(t, kind, tmpl, realmd, upstream)
}

var kind = proxy.Kind{
	Name: "caddy",
	// Debian 12 ships Caddy 2.6.2, with forward_auth.
	Packages: []string{"caddy"},
	Version:  version,
	Site:     "site.Caddyfile",
	Main:     mainConf,
	Command:  command,
	Log:      logFile,
}

// logFile receives Caddy's stdout and stderr.
const logFile = "caddy.log"

// mainConf writes the Caddyfile with the global options that imports the
// rendered site, and the data and config directories.
func mainConf(dir, site string) (string, error) {
	for _, d := range []string{"data", "config"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return "", err
		}
	}
	main := fmt.Sprintf(`# written by realmd's caddy test harness
{
	admin off
	auto_https off
	storage file_system %s
	grace_period 2s
}
import %s
`, filepath.Join(dir, "data"), site)
	conf := filepath.Join(dir, "Caddyfile")
	return conf, os.WriteFile(conf, []byte(main), 0o600)
}

// command runs `caddy run` with HOME and the XDG directories in dir, so
// nothing is written to the real home directory. Each start begins with an
// empty log, so an old bind error cannot be mistaken for a new one. Caddy
// stops gracefully on SIGTERM within its grace period.
func command(bin, dir, conf string) (*exec.Cmd, error) {
	if err := os.WriteFile(filepath.Join(dir, logFile), nil, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", conf, "--adapter", "caddyfile")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+dir,
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
	)
	return cmd, nil
}

// version asks the binary for its version; Debian's build prints "2.6.2".
func version(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
