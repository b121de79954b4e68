// Package proxy runs a private reverse proxy (nginx, Caddy) for integration
// tests: it installs the proxy if missing, renders a site template, starts
// the proxy on a free loopback port from a temp dir and stops it when the
// test ends. What differs between proxies is a Kind.
package proxy

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/realmd/realmd/internal/testenv"
)

// Params are what a site template sees.
type Params struct {
	// Listen is the loopback host:port the proxy must listen on; Host and
	// Port are its two halves.
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

// Kind is what the harness needs to know about one proxy.
type Kind struct {
	// Name is the proxy's program, also used in messages: "nginx".
	Name string
	// Packages are the Debian packages that bring the program.
	Packages []string
	// Version asks the program for its version.
	Version func(bin string) string
	// Site is the file name in the server's directory that the rendered
	// template is written to.
	Site string
	// Main writes the main config, which includes the site file, and the
	// directories it names, into dir; it returns the config's path.
	Main func(dir, site string) (string, error)
	// Command returns the command that runs the proxy in the foreground with
	// the main config. It is called before every start and may prepare the
	// start, e.g. empty the log.
	Command func(bin, dir, conf string) (*exec.Cmd, error)
	// Log is the file name of the proxy's log in the server's directory;
	// Output, when not empty, the one that receives its stdout and stderr.
	Log, Output string
}

// Server is a running proxy. Its fields are read-only. The embedded Process
// stops the proxy and keeps its config and port (Stop), brings it back
// (Start), reports whether it runs (Running) and returns its log (Log).
type Server struct {
	*testenv.Process

	// Dir holds the configs, the logs and the proxy's other files.
	Dir string
	// Addr is the host:port the proxy listens on; URL is http://Addr.
	Addr string
	URL  string
	// Version is what the proxy says its version is, or "unknown".
	Version string
}

// Start installs the proxy if needed, renders tmpl (a text/template over
// Params; a missing key is an error) as the site config, starts the proxy
// with it and registers its shutdown with t.Cleanup. The template must make
// the proxy listen on Params.Listen.
//
// When the proxy cannot be installed the test is skipped, unless the CI
// environment variable is "true", where it fails. In -short mode the test
// is skipped: it is an integration test.
func Start(t testing.TB, k Kind, tmpl, realmd, upstream string) *Server {
	t.Helper()
	testenv.SkipShort(t, "a real "+k.Name)
	site, err := template.New("site").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		t.Fatalf("%s: parsing the site template: %v", k.Name, err)
	}
	bin := testenv.Install(t, k.Packages, k.Name)[0]
	s := &Server{Dir: t.TempDir(), Version: k.Version(bin)}
	var conf string
	c := testenv.Command{
		Name:  k.Name,
		New:   func() (*exec.Cmd, error) { return k.Command(bin, s.Dir, conf) },
		Log:   filepath.Join(s.Dir, k.Log),
		Ready: func() error { return testenv.Listening(s.Addr) },
		// Only a port taken since it was picked is worth another try.
		Retry: func(err error) bool {
			return strings.Contains(strings.ToLower(err.Error()), "address already in use")
		},
	}
	if k.Output != "" {
		c.Output = filepath.Join(s.Dir, k.Output)
	}
	s.Process = testenv.NewProcess(t, c)
	err = s.Launch(func() error {
		var err error
		conf, err = s.build(k, site, realmd, upstream)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", k.Name, err)
	}
	return s
}

// build picks a port, writes the rendered site and the main config, and
// returns the main config's path.
func (s *Server) build(k Kind, site *template.Template, realmd, upstream string) (string, error) {
	ports, err := testenv.FreePorts(1)
	if err != nil {
		return "", err
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	s.URL = "http://" + s.Addr
	p := Params{Listen: s.Addr, Host: "127.0.0.1", Port: ports[0], Realmd: realmd, Upstream: upstream, Dir: s.Dir}
	var b bytes.Buffer
	if err := site.Execute(&b, p); err != nil {
		return "", fmt.Errorf("rendering the site template: %w", err)
	}
	sitePath := filepath.Join(s.Dir, k.Site)
	if err := os.WriteFile(sitePath, b.Bytes(), 0o600); err != nil {
		return "", err
	}
	return k.Main(s.Dir, sitePath)
}
