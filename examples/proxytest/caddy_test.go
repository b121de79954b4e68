package proxytest

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realmd/realmd/internal/testenv/caddy"
)

// TestCaddy_ExampleGuardsTheUpstream runs examples/caddy/Caddyfile.
func TestCaddy_ExampleGuardsTheUpstream(t *testing.T) {
	t.Parallel()
	d := realmd(t)
	up := newUpstream(t)
	tmpl := exampleTemplate(t, filepath.Join("..", "caddy", "Caddyfile"), map[string]string{
		"http://:8080":   "http://:{{.Port}}",
		"bind 127.0.0.1": "bind {{.Host}}",
		exampleRealmd:    "{{.Realmd}}",
		exampleUpstream:  "{{.Upstream}}",
	})
	srv := caddy.Start(t, tmpl, d.Addr, up.Addr())
	t.Logf("Caddy %s in front of realmd", srv.Version)
	testFrontDoor(t, proxy{
		name: "caddy",
		url:  srv.URL,
		log:  srv.Log,
		// forward_auth hands any non-2xx answer to the client as is.
		unavailable: func(t *testing.T, r response, _ string) {
			if r.code != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503; body %q", r.code, r.body)
			}
			if got := r.header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After %q, want 1", got)
			}
			if !strings.Contains(r.body, "temporarily unavailable") {
				t.Errorf("body %q, want realmd's", r.body)
			}
		},
		down: func(t *testing.T, r response, _ string) {
			if r.code != http.StatusBadGateway {
				t.Errorf("status %d, want 502; body %q", r.code, r.body)
			}
		},
	}, d, up)
}
