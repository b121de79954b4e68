package proxytest

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realmd/realmd/internal/testenv/nginx"
)

// TestNginx_ExampleGuardsTheUpstream runs examples/nginx/realmd.conf.
func TestNginx_ExampleGuardsTheUpstream(t *testing.T) {
	t.Parallel()
	d := realmd(t)
	up := newUpstream(t)
	tmpl := exampleTemplate(t, filepath.Join("..", "nginx", "realmd.conf"), map[string]string{
		exampleListen:   "{{.Listen}}",
		exampleRealmd:   "{{.Realmd}}",
		exampleUpstream: "{{.Upstream}}",
	})
	srv := nginx.Start(t, tmpl, d.Addr, up.Addr())
	t.Logf("%s in front of realmd", srv.Version)
	testFrontDoor(t, proxy{
		name: "nginx",
		url:  srv.URL,
		log:  srv.Log,
		// auth_request turns every status but 2xx, 401 and 403 into 500.
		unavailable: func(t *testing.T, r response, log string) {
			if r.code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500; body %q", r.code, r.body)
			}
			if !strings.Contains(log, "auth request unexpected status: 503") {
				t.Errorf("nginx did not see realmd's 503; its log:\n%s", tail(log))
			}
		},
		down: func(t *testing.T, r response, log string) {
			if r.code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500; body %q", r.code, r.body)
			}
			if !strings.Contains(log, "connect() failed") {
				t.Errorf("nginx did not fail to connect to realmd; its log:\n%s", tail(log))
			}
		},
	}, d, up)
}
