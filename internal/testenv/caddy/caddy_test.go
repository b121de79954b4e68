package caddy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/realmd/realmd/internal/testenv/caddy"
)

// site protects every path with forward_auth and passes the user on.
const site = `
http://:{{.Port}} {
	bind {{.Host}}
	forward_auth {{.Realmd}} {
		uri /check
		copy_headers X-User
	}
	reverse_proxy {{.Upstream}}
}
`

// servers starts a fake auth server (token "good" is alice) and an
// upstream that echoes X-User.
func servers(t *testing.T) (auth, app *httptest.Server) {
	t.Helper()
	auth = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-User", "alice")
	}))
	t.Cleanup(auth.Close)
	app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "user="+r.Header.Get("X-User"))
	}))
	t.Cleanup(app.Close)
	return auth, app
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

func TestStart_RendersTheTemplateAndProxiesThroughForwardAuth(t *testing.T) {
	auth, app := servers(t)
	s := caddy.Start(t, site, auth.Listener.Addr().String(), app.Listener.Addr().String())
	if s.Version == "" || s.Version == "unknown" {
		t.Errorf("Version = %q", s.Version)
	}
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
}

func TestServer_StopThenStartKeepsThePort(t *testing.T) {
	auth, app := servers(t)
	s := caddy.Start(t, site, auth.Listener.Addr().String(), app.Listener.Addr().String())
	url := s.URL
	s.Stop()
	if s.Running() {
		t.Fatal("running after Stop")
	}
	if resp, err := http.Get(url + "/x"); err == nil {
		resp.Body.Close()
		t.Fatal("request succeeded while caddy is stopped")
	}
	s.Start()
	if s.URL != url {
		t.Fatalf("URL changed from %s to %s", url, s.URL)
	}
	if code, body, _ := get(t, url+"/x", "good"); code != 200 || body != "user=alice" {
		t.Fatalf("after restart: %d %q", code, body)
	}
}

func TestStart_TemplateSeesItsParams(t *testing.T) {
	auth, app := servers(t)
	const echo = `
http://:{{.Port}} {
	bind {{.Host}}
	respond "{{.Listen}} {{.Realmd}} {{.Upstream}} {{.Dir}}"
}
`
	s := caddy.Start(t, echo, auth.Listener.Addr().String(), app.Listener.Addr().String())
	_, body, _ := get(t, s.URL+"/", "")
	want := strings.Join([]string{s.Addr, auth.Listener.Addr().String(), app.Listener.Addr().String(), s.Dir}, " ")
	if body != want {
		t.Fatalf("body %q, want %q", body, want)
	}
}
