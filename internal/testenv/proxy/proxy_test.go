package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/realmd/realmd/internal/testenv/caddy"
	"github.com/realmd/realmd/internal/testenv/nginx"
	"github.com/realmd/realmd/internal/testenv/proxy"
)

// proxies are the kinds under test, each with a site that protects every
// path with the fake auth server and passes the user on, and a site that
// answers with the template's params.
var proxies = []struct {
	name      string
	start     func(t testing.TB, tmpl, realmd, upstream string) *proxy.Server
	versionOK func(string) bool
	site      string
	echo      string
}{
	{
		name:      "nginx",
		start:     nginx.Start,
		versionOK: func(v string) bool { return strings.HasPrefix(v, "nginx/") },
		site: `
server {
	listen {{.Listen}};
	location = /_auth {
		internal;
		proxy_pass http://{{.Realmd}}/check;
		proxy_pass_request_body off;
		proxy_set_header Content-Length "";
	}
	location / {
		auth_request /_auth;
		auth_request_set $user $upstream_http_x_user;
		proxy_set_header X-User $user;
		proxy_pass http://{{.Upstream}};
	}
}
`,
		echo: `
server {
	listen {{.Host}}:{{.Port}};
	location / { return 200 "{{.Listen}} {{.Realmd}} {{.Upstream}} {{.Dir}}"; }
}
`,
	},
	{
		name:      "caddy",
		start:     caddy.Start,
		versionOK: func(v string) bool { return v != "" && v != "unknown" },
		site: `
http://:{{.Port}} {
	bind {{.Host}}
	forward_auth {{.Realmd}} {
		uri /check
		copy_headers X-User
	}
	reverse_proxy {{.Upstream}}
}
`,
		echo: `
http://:{{.Port}} {
	bind {{.Host}}
	respond "{{.Listen}} {{.Realmd}} {{.Upstream}} {{.Dir}}"
}
`,
	},
}

// servers starts a fake auth server (token "good" is alice) and an
// upstream that echoes X-User; it returns their addresses.
func servers(t *testing.T) (auth, app string) {
	t.Helper()
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-User", "alice")
	}))
	t.Cleanup(a.Close)
	u := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "user="+r.Header.Get("X-User"))
	}))
	t.Cleanup(u.Close)
	return a.Listener.Addr().String(), u.Listener.Addr().String()
}

func get(t *testing.T, url, token string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestStart_RendersTheTemplateAndProxiesThroughTheAuthServer(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		wantCode  int
		wantBody  string
		challenge string
	}{
		{name: "good token reaches the upstream with the user", token: "good", wantCode: 200, wantBody: "user=alice"},
		{name: "no token is challenged", wantCode: 401, challenge: "Bearer"},
		{name: "bad token is challenged", token: "bad", wantCode: 401, challenge: "Bearer"},
	}
	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) {
			auth, app := servers(t)
			s := p.start(t, p.site, auth, app)
			if !p.versionOK(s.Version) {
				t.Errorf("Version = %q", s.Version)
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					code, body, h := get(t, s.URL+"/x", tt.token)
					if code != tt.wantCode {
						t.Fatalf("status %d, want %d; body %q", code, tt.wantCode, body)
					}
					if tt.wantBody != "" && body != tt.wantBody {
						t.Errorf("body %q, want %q", body, tt.wantBody)
					}
					if got := h.Get("WWW-Authenticate"); got != tt.challenge {
						t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
					}
				})
			}
		})
	}
}

func TestServer_StopThenStartKeepsThePort(t *testing.T) {
	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) {
			auth, app := servers(t)
			s := p.start(t, p.site, auth, app)
			url := s.URL
			s.Stop()
			if s.Running() {
				t.Fatal("running after Stop")
			}
			if resp, err := http.Get(url + "/x"); err == nil {
				resp.Body.Close()
				t.Fatalf("request succeeded while %s is stopped", p.name)
			}
			s.Start()
			if s.URL != url {
				t.Fatalf("URL changed from %s to %s", url, s.URL)
			}
			if code, body, _ := get(t, url+"/x", "good"); code != 200 || body != "user=alice" {
				t.Fatalf("after restart: %d %q", code, body)
			}
		})
	}
}

func TestStart_TemplateSeesItsParams(t *testing.T) {
	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) {
			auth, app := servers(t)
			s := p.start(t, p.echo, auth, app)
			_, body, _ := get(t, s.URL+"/", "")
			if want := strings.Join([]string{s.Addr, auth, app, s.Dir}, " "); body != want {
				t.Fatalf("body %q, want %q", body, want)
			}
		})
	}
}
