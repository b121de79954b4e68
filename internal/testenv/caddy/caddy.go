// Package caddy runs a private Caddy for integration tests: it installs
// Caddy if missing, renders a Caddyfile template, starts Caddy on a free
// loopback port from a temp dir and stops it when the test ends.
package caddy

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

// Params are what a Caddyfile template sees.
type Params struct {
	// Listen is the loopback host:port Caddy must listen on; Host and Port
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

// Server is a running Caddy. Its fields are read-only.
type Server struct {
	// Dir holds the Caddyfiles, the log, Caddy's storage and its HOME.
	Dir string
	// Addr is the host:port Caddy listens on; URL is http://Addr.
	Addr string
	URL  string
	// Version is what `caddy version` prints, e.g. "2.6.2".
	Version string

	t       testing.TB
	bin     string
	conf    string
	logPath string

	mu   sync.Mutex
	proc *process
}

// Start installs Caddy if needed, renders tmpl (a text/template over Params)
// as Caddyfile site blocks, starts Caddy with them and registers its
// shutdown with t.Cleanup. The harness writes the global options (admin
// endpoint off, automatic HTTPS off, storage under Dir, a short grace
// period) and imports the rendered sites, so the template has no global
// options block. HOME and XDG_DATA_HOME/XDG_CONFIG_HOME point into Dir. The
// template must make Caddy listen on Params.Listen (a site `http://:{{.Port}}`
// with `bind {{.Host}}`).
//
// When Caddy cannot be installed the test is skipped, unless the CI
// environment variable is "true", where it fails. In -short mode the test
// is skipped: it is an integration test.
func Start(t testing.TB, tmpl, realmd, upstream string) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with a real Caddy: skipped in -short mode")
	}
	site, err := template.New("site").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		t.Fatalf("caddy: parsing the Caddyfile template: %v", err)
	}
	bin, err := ensureInstalled()
	if err != nil {
		unavailable(t, "caddy is not available: %v", err)
	}
	s := &Server{Dir: t.TempDir(), t: t, bin: bin, Version: version(bin)}
	s.conf = filepath.Join(s.Dir, "Caddyfile")
	s.logPath = filepath.Join(s.Dir, "caddy.log")
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			s.dumpLog()
		}
	})

	// A port picked by listening on :0 may be taken again before Caddy
	// binds it; pick another one a few times.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = s.build(site, realmd, upstream); lastErr != nil {
			break
		}
		if lastErr = s.launch(); lastErr == nil {
			return s
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("caddy: %v", lastErr)
	return nil
}

// build picks a port and writes the Caddyfile and the site file.
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
		return fmt.Errorf("rendering the Caddyfile template: %w", err)
	}
	sitePath := filepath.Join(s.Dir, "site.Caddyfile")
	if err := os.WriteFile(sitePath, b.Bytes(), 0o600); err != nil {
		return err
	}
	for _, d := range []string{"data", "config"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o700); err != nil {
			return err
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
`, filepath.Join(s.Dir, "data"), sitePath)
	return os.WriteFile(s.conf, []byte(main), 0o600)
}

// env is Caddy's environment: HOME and the XDG directories in Dir, so
// nothing is written to the real home directory.
func (s *Server) env() []string {
	return append(os.Environ(),
		"HOME="+s.Dir,
		"XDG_DATA_HOME="+filepath.Join(s.Dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(s.Dir, "config"),
	)
}

// Log is what Caddy wrote so far (JSON lines on stderr).
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
	s.t.Logf("caddy log (%s), last part:\n%s", s.logPath, b)
}

// version asks the binary for its version; Debian's build prints "2.6.2".
func version(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
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

// waitTimeout bounds how long Start waits for Caddy to listen.
const waitTimeout = 20 * time.Second
