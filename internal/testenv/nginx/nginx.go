// Package nginx runs a private nginx for integration tests: it installs
// nginx if missing, renders a site config template, starts nginx on a free
// loopback port from a temp dir and stops it when the test ends.
package nginx

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realmd/realmd/internal/testenv/proxy"
)

// Server is a running nginx. Dir holds nginx.conf, site.conf, the logs, the
// pid file and the temp directories; Version is what `nginx -v` prints,
// e.g. "nginx/1.22.1"; Log returns the error log (level warn and above):
// auth_request failures such as "auth request unexpected status: 503" are
// written there.
type Server = proxy.Server

// Start runs nginx as proxy.Start describes (install if missing, skip or
// fail, cleanup) with tmpl, a text/template over proxy.Params, as a config
// for nginx's http{} context that must listen on Params.Listen. The harness
// writes the main config: a single nginx process in the foreground
// (master_process off; auth_request and proxying behave as in a worker),
// `user root` when running as root, the pid file, logs and every temp path
// under Dir.
func Start(t testing.TB, tmpl, realmd, upstream string) *Server {
	t.Helper()
	return proxy.Start(t, kind, tmpl, realmd, upstream)
}

var kind = proxy.Kind{
	Name: "nginx",
	// Debian's plain nginx package has ngx_http_auth_request_module
	// compiled in.
	Packages: []string{"nginx"},
	Version:  version,
	Site:     "site.conf",
	Main:     mainConf,
	Command:  command,
	Log:      errorLog,
	Output:   "stderr.log",
}

// errorLog is nginx's error log (level warn and above).
const errorLog = "error.log"

// mainConf writes the top-level nginx.conf that includes the rendered site.
func mainConf(dir, site string) (string, error) {
	var b strings.Builder
	b.WriteString("# written by realmd's nginx test harness\n")
	if os.Geteuid() == 0 {
		b.WriteString("user root;\n")
	}
	// One process in the foreground: the parent-death signal then reaches
	// the process that serves, so a crashed test leaves no worker behind
	// (an orphaned worker keeps serving when only its master is killed).
	fmt.Fprintf(&b, "master_process off;\ndaemon off;\npid %s;\nerror_log %s warn;\n",
		filepath.Join(dir, "nginx.pid"), filepath.Join(dir, errorLog))
	b.WriteString("events { worker_connections 256; }\nhttp {\n")
	fmt.Fprintf(&b, "  access_log %s;\n", filepath.Join(dir, "access.log"))
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "  %s_temp_path %s;\n", k, filepath.Join(dir, "tmp", k))
	}
	fmt.Fprintf(&b, "  include %s;\n}\n", site)
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return "", err
	}
	conf := filepath.Join(dir, "nginx.conf")
	return conf, os.WriteFile(conf, []byte(b.String()), 0o600)
}

// command runs nginx with the config. Each start begins with an empty error
// log, so an old bind error cannot be mistaken for a new one.
func command(bin, dir, conf string) (*exec.Cmd, error) {
	log := filepath.Join(dir, errorLog)
	if err := os.WriteFile(log, nil, 0o600); err != nil {
		return nil, err
	}
	return exec.Command(bin, "-p", dir+"/", "-e", log, "-c", conf), nil
}

// version asks the binary for its version; "nginx version: nginx/1.22.1"
// goes to stderr.
func version(bin string) string {
	out, err := exec.Command(bin, "-v").CombinedOutput()
	if err != nil {
		return "unknown"
	}
	v := strings.TrimSpace(string(out))
	if _, after, ok := strings.Cut(v, "version: "); ok {
		return after
	}
	return v
}
