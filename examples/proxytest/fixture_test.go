package proxytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/realmd/realmd/internal/e2e"
)

// The addresses the example configs are written for. The tests replace
// them with the test's own.
const (
	exampleListen   = "127.0.0.1:8080"
	exampleRealmd   = "127.0.0.1:9200"
	exampleUpstream = "127.0.0.1:8000"
)

// identityHeaders are realmd's default forward-auth header names.
var identityHeaders = []string{"X-Auth-User", "X-Auth-Roles", "X-Auth-Backend-Roles"}

// exampleTemplate reads an example config and turns its addresses into
// template actions. Every replaced text must occur in the file, so an edit
// of the example that the tests would no longer cover fails here.
func exampleTemplate(t *testing.T, path string, replace map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if strings.Contains(text, "{{") {
		t.Fatalf("%s contains {{, which the template would read as an action", path)
	}
	for old, tmpl := range replace {
		if !strings.Contains(text, old) {
			t.Fatalf("%s no longer contains %q", path, old)
		}
		text = strings.ReplaceAll(text, old, tmpl)
	}
	return text
}

// realmd starts the built realmd with the quickstart config (OpenSearch's
// demo users, password = user name). In -short mode the test is skipped:
// it runs real servers.
func realmd(t *testing.T) *e2e.Daemon {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test with realmd and a real proxy: skipped in -short mode")
	}
	dir, err := filepath.Abs(filepath.Join("..", "quickstart"))
	if err != nil {
		t.Fatal(err)
	}
	d := e2e.Start(t, dir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("realmd log, last part:\n%s", tail(d.Log()))
		}
	})
	return d
}

// seen is one request as the upstream received it.
type seen struct {
	Method string
	URI    string
	Body   string
	Header http.Header
}

// identity joins the values of an identity header: "" when absent or
// empty.
func (s seen) identity(name string) string { return strings.Join(s.Header.Values(name), ",") }

// upstream is the protected application: it records every request and
// answers 200 "upstream".
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seen
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, seen{Method: r.Method, URI: r.RequestURI, Body: string(body), Header: r.Header.Clone()})
		u.mu.Unlock()
		_, _ = io.WriteString(w, "upstream")
	}))
	t.Cleanup(u.Close)
	return u
}

// Addr is the upstream's host:port.
func (u *upstream) Addr() string { return u.Listener.Addr().String() }

// hits is how many requests reached the upstream so far.
func (u *upstream) hits() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

// last is the latest request the upstream received.
func (u *upstream) last(t *testing.T) seen {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		t.Fatal("the upstream received no request")
	}
	return u.seen[len(u.seen)-1]
}

// request is what a client sends through the proxy.
type request struct {
	method     string
	path       string
	user, pass string // Basic credentials when user is set
	header     map[string]string
	body       string
}

// response is what the client got back.
type response struct {
	code   int
	header http.Header
	body   string
}

func send(t *testing.T, base string, r request) response {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(method, base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pass)
	}
	for k, v := range r.header {
		req.Header[k] = append(req.Header[k], v) // the name as written, not canonicalised
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, r.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}
