// Package nginx runs a private nginx for integration tests: it installs
// nginx if missing, renders a site config template, starts nginx on a free
// loopback port from a temp dir and stops it when the test ends.
package nginx

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"
)

// Params are what a site config template sees.
type Params struct {
	// Listen is the loopback host:port nginx must listen on; Host and Port
	// are its two halves.
	Listen string
	Host   string
	Port   int
	// Realmd is realmd's host:port.
	Realmd string
	// Upstream is the protected application's host:port.
	Upstream string
	// Dir is the server's directory.
	Dir string
}

// Server is a running nginx. Its fields are read-only.
type Server struct {
	// Dir holds nginx.conf, site.conf, the logs, the pid file and the
	// temp directories.
	Dir string
	// Addr is the host:port nginx listens on; URL is http://Addr.
	Addr string
	URL  string
	// Version is what `nginx -v` prints, e.g. "nginx/1.22.1".
	Version string

	t       testing.TB
	bin     string
	conf    string
	logPath string

	mu   sync.Mutex
	proc *process
}

// Start installs nginx if needed, renders tmpl (a text/template over
// Params) as a config for nginx's http{} context, starts nginx with it and
// registers its shutdown with t.Cleanup. The harness writes the main
// config: a single nginx process in the foreground (master_process off;
// auth_request and proxying behave as in a worker), `user root` when running
// as root, the pid file, logs and every temp path under Dir. The template
// must make nginx listen on Params.Listen.
//
// When nginx cannot be installed the test is skipped, unless the CI
// environment variable is "true", where it fails. In -short mode the test
// is skipped: it is an integration test.
func Start(t testing.TB, tmpl, realmd, upstream string) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with a real nginx: skipped in -short mode")
	}
	site, err := template.New("site").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		t.Fatalf("nginx: parsing the config template: %v", err)
	}
	bin, err := ensureInstalled()
	if err != nil {
		unavailable(t, "nginx is not available: %v", err)
	}
	s := &Server{Dir: t.TempDir(), t: t, bin: bin, Version: version(bin)}
	s.conf = filepath.Join(s.Dir, "nginx.conf")
	s.logPath = filepath.Join(s.Dir, "error.log")
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			s.dumpLog()
		}
	})

	// A port picked by listening on :0 may be taken again before nginx
	// binds it; pick another one a few times.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = s.build(site, realmd, upstream); lastErr != nil {
			break
		}
		if lastErr = s.launch(); lastErr == nil {
			return s
		}
		if !strings.Contains(lastErr.Error(), "Address already in use") {
			break
		}
	}
	t.Fatalf("nginx: %v", lastErr)
	return nil
}

// build picks a port and writes nginx.conf and site.conf.
func (s *Server) build(site *template.Template, realmd, upstream string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.URL = "http://" + s.Addr
	p := Params{Listen: s.Addr, Host: "127.0.0.1", Port: port, Realmd: realmd, Upstream: upstream, Dir: s.Dir}
	var b bytes.Buffer
	if err := site.Execute(&b, p); err != nil {
		return fmt.Errorf("rendering the config template: %w", err)
	}
	sitePath := filepath.Join(s.Dir, "site.conf")
	if err := os.WriteFile(sitePath, b.Bytes(), 0o600); err != nil {
		return err
	}
	return os.WriteFile(s.conf, []byte(s.mainConf(sitePath)), 0o600)
}

// mainConf is the top-level nginx.conf that includes the rendered site.
func (s *Server) mainConf(sitePath string) string {
	var b strings.Builder
	b.WriteString("# written by realmd's nginx test harness\n")
	if os.Geteuid() == 0 {
		b.WriteString("user root;\n")
	}
	// One process in the foreground: the parent-death signal then reaches
	// the process that serves, so a crashed test leaves no worker behind
	// (an orphaned worker keeps serving when only its master is killed).
	fmt.Fprintf(&b, "master_process off;\ndaemon off;\npid %s;\nerror_log %s warn;\n",
		filepath.Join(s.Dir, "nginx.pid"), s.logPath)
	b.WriteString("events { worker_connections 256; }\nhttp {\n")
	fmt.Fprintf(&b, "  access_log %s;\n", filepath.Join(s.Dir, "access.log"))
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "  %s_temp_path %s;\n", kind, filepath.Join(s.Dir, "tmp", kind))
	}
	fmt.Fprintf(&b, "  include %s;\n}\n", sitePath)
	return b.String()
}

// Log is nginx's error log so far (level warn and above): auth_request
// failures such as "auth request unexpected status: 503" are written here.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func (s *Server) dumpLog() {
	b := []byte(s.Log())
	if len(b) == 0 {
		return
	}
	if len(b) > 8192 {
		b = b[len(b)-8192:]
	}
	s.t.Logf("nginx error log (%s), last part:\n%s", s.logPath, b)
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// waitTimeout bounds how long Start waits for nginx to listen.
const waitTimeout = 20 * time.Second
