package proxytest

import (
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/realmd/realmd/internal/e2e"
)

// challenge is what the quickstart's basic domain asks for.
const challenge = `Basic realm="OpenSearch Security"`

// proxy is a real proxy running one of the example configs in front of
// realmd and the upstream.
type proxy struct {
	name string
	url  string
	// log is the proxy's own log so far.
	log func() string
	// unavailable checks the client's answer when realmd answered 503.
	unavailable func(t *testing.T, r response, log string)
	// down checks the client's answer when realmd is not running.
	down func(t *testing.T, r response, log string)
}

// testFrontDoor runs every check against p, in order: the identity cases,
// realmd answering 503, then realmd stopped.
func testFrontDoor(t *testing.T, p proxy, d *e2e.Daemon, up *upstream) {
	t.Run("identity", func(t *testing.T) { identityCases(t, p, up) })
	t.Run("realmd sees the original URI, not the one a client claims", func(t *testing.T) {
		path := "/uri-check/" + p.name
		resp := send(t, p.url, request{path: path, user: "kibanaro", pass: "kibanaro", header: map[string]string{
			"X-Forwarded-Uri": "/forged-uri", "X-Original-URI": "/forged-uri",
		}})
		if resp.code != http.StatusOK {
			t.Fatalf("status %d, want 200; body %q", resp.code, resp.body)
		}
		if !d.WaitLog("request answered: path=\""+path+"\" ", 5*time.Second) { // quoted, as every client-chosen value (LogText)
			t.Errorf("realmd did not log path=%q; its log:\n%s", path, tail(d.Log()))
		}
		if log := d.Log(); strings.Contains(log, "/forged-uri") {
			t.Errorf("realmd saw the client's forged URI; its log:\n%s", tail(log))
		}
	})
	t.Run("identity headers spelled with underscores never reach the upstream", func(t *testing.T) {
		// CGI-style apps (WSGI, Rack) read X_Auth_Roles as X-Auth-Roles
		// and join the values (found by review: Caddy passed them on).
		// realmd refuses them (403); nginx drops underscore headers itself.
		before := up.hits()
		resp := send(t, p.url, request{path: "/underscores", user: "kibanaro", pass: "kibanaro", header: map[string]string{
			"X_Auth_User": "admin", "X_Auth_Roles": "all_access", "x_auth_backend_roles": "admin",
		}})
		switch resp.code {
		case http.StatusForbidden:
			if up.hits() != before {
				t.Fatalf("the upstream was reached: %+v", up.last(t))
			}
		case http.StatusOK:
			for name := range up.last(t).Header {
				if strings.Contains(name, "_") && slices.ContainsFunc(identityHeaders, func(h string) bool {
					return strings.EqualFold(strings.ReplaceAll(name, "_", "-"), h)
				}) {
					t.Errorf("the upstream got %s", name)
				}
			}
		default:
			t.Fatalf("status %d, want 403 (realmd refused) or 200 without the headers; body %q", resp.code, resp.body)
		}
	})
	t.Run("realmd answering 503 does not let the request through", func(t *testing.T) {
		unavailableCase(t, p, d, up)
	})
	t.Run("realmd stopped does not let the request through", func(t *testing.T) {
		d.Stop(t)
		before := up.hits()
		resp := send(t, p.url, request{path: "/while-down", user: "kibanaro", pass: "kibanaro"})
		if got := up.hits(); got != before {
			t.Fatalf("the upstream was reached while realmd was stopped (answer %d)", resp.code)
		}
		p.down(t, resp, p.log())
	})
}

func identityCases(t *testing.T, p proxy, up *upstream) {
	forged := map[string]string{"X-Auth-User": "admin", "X-Auth-Roles": "all_access", "X-Auth-Backend-Roles": "admin"}
	kibanaro := map[string]string{"X-Auth-User": "kibanaro", "X-Auth-Roles": "kibana_user,readall", "X-Auth-Backend-Roles": "kibanauser,readall"}
	tests := []struct {
		name string
		req  request
		// wantCode is the client's status; a 401 must carry realmd's challenge.
		wantCode int
		// want is the identity the upstream sees; nil means the upstream
		// must not be reached.
		want                          map[string]string
		wantMethod, wantURI, wantBody string
	}{
		{name: "no credentials are challenged", req: request{path: "/a"}, wantCode: 401},
		{name: "a wrong password is challenged", req: request{path: "/a", user: "kibanaro", pass: "wrong"}, wantCode: 401},
		{name: "an unknown user is challenged", req: request{path: "/a", user: "nobody", pass: "nobody"}, wantCode: 401},
		{name: "a forged identity without credentials is challenged", req: request{path: "/a", header: forged}, wantCode: 401},
		{
			name:     "kibanaro reaches the upstream with realmd's identity",
			req:      request{path: "/a", user: "kibanaro", pass: "kibanaro"},
			wantCode: 200, want: kibanaro, wantMethod: "GET", wantURI: "/a",
		},
		{
			name:     "a forged identity with kibanaro's credentials is replaced by realmd's",
			req:      request{path: "/b", user: "kibanaro", pass: "kibanaro", header: forged},
			wantCode: 200, want: kibanaro, wantMethod: "GET", wantURI: "/b",
		},
		{
			name:     "forged backend roles are dropped for a user who has none",
			req:      request{path: "/c", user: "kibanaserver", pass: "kibanaserver", header: forged},
			wantCode: 200, want: map[string]string{"X-Auth-User": "kibanaserver", "X-Auth-Roles": "kibana_server", "X-Auth-Backend-Roles": ""},
			wantMethod: "GET", wantURI: "/c",
		},
		{
			name:     "a POST keeps its method, query and body",
			req:      request{method: "POST", path: "/idx/_search?q=a", user: "kibanaro", pass: "kibanaro", body: `{"query":{}}`},
			wantCode: 200, want: kibanaro, wantMethod: "POST", wantURI: "/idx/_search?q=a", wantBody: `{"query":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := up.hits()
			resp := send(t, p.url, tt.req)
			if resp.code != tt.wantCode {
				t.Fatalf("status %d, want %d; body %q", resp.code, tt.wantCode, resp.body)
			}
			if tt.wantCode == http.StatusUnauthorized {
				if got := resp.header.Get("WWW-Authenticate"); got != challenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
				}
			}
			if tt.want == nil {
				if up.hits() != before {
					t.Fatalf("the upstream was reached: %+v", up.last(t))
				}
				return
			}
			if got := up.hits(); got != before+1 {
				t.Fatalf("the upstream got %d requests, want 1", got-before)
			}
			got := up.last(t)
			for _, h := range identityHeaders {
				if v := got.identity(h); v != tt.want[h] {
					t.Errorf("upstream saw %s %q, want %q", h, v, tt.want[h])
				}
			}
			if got.Method != tt.wantMethod || got.URI != tt.wantURI || got.Body != tt.wantBody {
				t.Errorf("upstream saw %s %s body %q, want %s %s body %q",
					got.Method, got.URI, got.Body, tt.wantMethod, tt.wantURI, tt.wantBody)
			}
		})
	}
}

// backendName is the quickstart's authentication backend instance.
const backendName = "authc.basic_internal_auth_domain.authentication_backend"

// unavailableCase kills realmd's authentication backend and at once sends
// valid, never cached credentials through the proxy, so realmd answers 503.
// The backend restarts within about 100 ms: when the request got there
// first (200), it tries again with the next user.
func unavailableCase(t *testing.T, p proxy, d *e2e.Daemon, up *upstream) {
	killed := 0
	for _, user := range []string{"readall", "logstash", "snapshotrestore", "anomalyadmin", "admin"} {
		pid := runningPlugin(t, d, backendName, killed)
		if !slices.Contains(e2e.Children(d.Cmd.Process.Pid), pid) {
			t.Fatalf("plugin pid %d is not a child of this test's realmd (%d)", pid, d.Cmd.Process.Pid)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("killing the backend plugin %d: %v", pid, err)
		}
		killed = pid
		before := up.hits()
		resp := send(t, p.url, request{path: "/while-unavailable", user: user, pass: user})
		if resp.code == http.StatusOK {
			t.Logf("%s got through: the backend restarted first; trying again", user)
			continue
		}
		if got := up.hits(); got != before {
			t.Fatalf("the upstream was reached while realmd answered an error (client got %d)", resp.code)
		}
		p.unavailable(t, resp, p.log())
		return
	}
	t.Fatal("every request got through after the backend restarted; realmd never answered 503")
}

// runningPlugin waits until the named plugin runs with a pid other than
// old and returns that pid.
func runningPlugin(t *testing.T, d *e2e.Daemon, name string, old int) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, pl := range d.Status(t).Plugins {
			if pl.Name == name && pl.State == "running" && pl.PID > 0 && pl.PID != old {
				return pl.PID
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin %s not running again after 15s; status %+v", name, d.Status(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string) string {
	if len(s) > 4096 {
		return s[len(s)-4096:]
	}
	return s
}
