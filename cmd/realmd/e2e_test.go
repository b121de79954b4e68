package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/realmd/realmd/internal/e2e"
)

const basicChallenge = `Basic realm="OpenSearch Security"`

func basicHeader(user, password string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}}
}

type authinfoBody struct {
	User                 string            `json:"user"`
	UserName             string            `json:"user_name"`
	BackendRoles         []string          `json:"backend_roles"`
	CustomAttributeNames []string          `json:"custom_attribute_names"`
	Roles                []string          `json:"roles"`
	Tenants              map[string]bool   `json:"tenants"`
	PeerCertificates     string            `json:"peer_certificates"`
	Domain               string            `json:"domain"`
	Authenticator        string            `json:"authenticator"`
	Attributes           map[string]string `json:"attributes"`
	UserRequestedTenant  *string           `json:"user_requested_tenant"`
}

func TestE2E_OpenSearchSampleConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	d := e2e.Start(t, e2e.CopyDir(t, "testdata/opensearch-sample"))

	t.Run("every demo user authenticates with the sample role mapping", func(t *testing.T) {
		want := map[string][]string{
			"admin":           {"all_access"},
			"anomalyadmin":    {"anomaly_full_access"},
			"kibanaserver":    {"kibana_server"},
			"kibanaro":        {"kibana_user", "readall"},
			"logstash":        {"logstash"},
			"readall":         {"readall"},
			"snapshotrestore": {"manage_snapshots"},
		}
		for user, roles := range want {
			code, _, body := d.Do(t, "GET", "/_plugins/_security/authinfo", basicHeader(user, user))
			if code != http.StatusOK {
				t.Errorf("%s: status %d, body %q", user, code, body)
				continue
			}
			var info authinfoBody
			if err := json.Unmarshal([]byte(body), &info); err != nil {
				t.Fatalf("%s: %v in %q", user, err, body)
			}
			if info.UserName != user || !slices.Equal(info.Roles, roles) {
				t.Errorf("%s: user_name %q roles %v, want roles %v", user, info.UserName, info.Roles, roles)
			}
			if info.Domain != "basic_internal_auth_domain" || info.Authenticator != "basic" || !info.Tenants[user] || info.PeerCertificates != "0" {
				t.Errorf("%s: domain %q authenticator %q tenants %v peer_certificates %q", user, info.Domain, info.Authenticator, info.Tenants, info.PeerCertificates)
			}
		}
	})

	// OpenSearch's REST layer keeps a repeated header's last line only.
	t.Run("a repeated securitytenant header is its last line", func(t *testing.T) {
		h := basicHeader("admin", "admin")
		h["Securitytenant"] = []string{"first", "last"}
		_, _, body := d.Do(t, "GET", "/_plugins/_security/authinfo", h)
		var info authinfoBody
		if err := json.Unmarshal([]byte(body), &info); err != nil {
			t.Fatal(err)
		}
		if info.UserRequestedTenant == nil || *info.UserRequestedTenant != "last" {
			t.Errorf("user_requested_tenant wrong, want last; body %s", body)
		}
	})

	t.Run("kibanaro's attributes appear as attr.internal", func(t *testing.T) {
		_, _, body := d.Do(t, "GET", "/_authenticate", basicHeader("kibanaro", "kibanaro"))
		var info authinfoBody
		if err := json.Unmarshal([]byte(body), &info); err != nil {
			t.Fatal(err)
		}
		wantNames := []string{"attr.internal.attribute1", "attr.internal.attribute2", "attr.internal.attribute3"}
		if !slices.Equal(info.CustomAttributeNames, wantNames) || info.Attributes["attr.internal.attribute2"] != "value2" {
			t.Errorf("custom_attribute_names %v attributes %v", info.CustomAttributeNames, info.Attributes)
		}
		if !slices.Equal(info.BackendRoles, []string{"kibanauser", "readall"}) {
			t.Errorf("backend_roles %v", info.BackendRoles)
		}
		if info.User != "User [name=kibanaro, backend_roles=[kibanauser, readall], requestedTenant=null]" {
			t.Errorf("user %q", info.User)
		}
	})

	t.Run("forward auth answers with identity headers", func(t *testing.T) {
		// /auth/... is how Envoy's ext_authz asks (path_prefix + original path).
		for _, path := range []string{"/auth", "/auth/app/index.html?x=1"} {
			code, h, _ := d.Do(t, "GET", path, basicHeader("kibanaro", "kibanaro"))
			if code != http.StatusOK || h.Get("X-Auth-User") != "kibanaro" || h.Get("X-Auth-Roles") != "kibana_user,readall" || h.Get("X-Auth-Backend-Roles") != "kibanauser,readall" {
				t.Errorf("%s: status %d headers %v", path, code, h)
			}
		}
	})

	t.Run("bad credentials get 401 with the exact challenge", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			header http.Header
		}{
			{"no header", nil},
			{"wrong password", basicHeader("admin", "wrong")},
			{"unknown user", basicHeader("nosuchuser", "nosuchuser")},
			{"user name in the wrong case", basicHeader("Admin", "admin")},
			{"empty header", http.Header{"Authorization": {""}}},
			{"Basic alone", http.Header{"Authorization": {"Basic"}}},
			{"Basic and a space", http.Header{"Authorization": {"Basic "}}},
			{"Basic wrongheader", http.Header{"Authorization": {"Basic wrongheader"}}},
			{"two spaces before the token", http.Header{"Authorization": {"Basic  " + base64.StdEncoding.EncodeToString([]byte("admin:admin"))}}},
			// A leading space cannot be tested here: HTTP servers, Go's and
			// Netty alike, strip it; plugins/basic tests the header parser.
			{"url-safe base64", http.Header{"Authorization": {"Basic " + base64.URLEncoding.EncodeToString([]byte("admin:??>admin"))}}},
			{"empty password", basicHeader("admin", "")},
			{"empty user name", basicHeader("", "admin")},
			{"no colon", http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("admin"))}}},
			{"bearer token", http.Header{"Authorization": {"Bearer abc.def.ghi"}}},
		} {
			for _, path := range []string{"/_plugins/_security/authinfo", "/auth"} {
				code, h, body := d.Do(t, "GET", path, tc.header)
				if code != http.StatusUnauthorized || h.Get("WWW-Authenticate") != basicChallenge || body != "Unauthorized" {
					t.Errorf("%s on %s: status %d, WWW-Authenticate %q, body %q", tc.name, path, code, h.Get("WWW-Authenticate"), body)
				}
			}
		}
	})

	t.Run("reserved opendistro headers are refused", func(t *testing.T) {
		h := basicHeader("admin", "admin")
		h.Set("_opendistro_security_user", "admin")
		if code, _, _ := d.Do(t, "GET", "/auth", h); code != http.StatusForbidden {
			t.Errorf("status %d, want 403", code)
		}
	})

	t.Run("oversized headers are refused", func(t *testing.T) {
		h := basicHeader("admin", "admin")
		h.Set("X-Padding", strings.Repeat("x", 128<<10))
		if code, _, _ := d.Do(t, "GET", "/auth", h); code != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", code)
		}
	})
}

// pluginPIDs returns realmd's plugin children by name ("basic").
func pluginPIDs(t *testing.T, d *e2e.Daemon) []int {
	t.Helper()
	var pids []int
	for _, pid := range e2e.Children(d.Cmd.Process.Pid) {
		if strings.Contains(e2e.Cmdline(pid), " plugin ") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestE2E_PluginsAreSupervisedProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	d := e2e.Start(t, e2e.CopyDir(t, "testdata/opensearch-sample"))

	pids := pluginPIDs(t, d)
	if len(pids) != 2 {
		t.Fatalf("want 2 plugin processes (basic authenticator, internal backend), got %v", pids)
	}
	for _, pid := range pids {
		if pid == d.Cmd.Process.Pid || e2e.Cmdline(pid) != e2e.Binary(t)+" plugin basic" {
			t.Errorf("pid %d: cmdline %q", pid, e2e.Cmdline(pid))
		}
	}

	// Kill the internal backend (the authenticator answers without it).
	var status struct {
		Plugins []struct {
			Name     string `json:"name"`
			PID      int    `json:"pid"`
			Restarts int    `json:"restarts"`
		} `json:"plugins"`
	}
	_, _, body := d.Do(t, "GET", "/_realmd/status", nil)
	if err := json.Unmarshal([]byte(body), &status); err != nil {
		t.Fatal(err)
	}
	backend := 0
	for _, p := range status.Plugins {
		if strings.HasSuffix(p.Name, ".authentication_backend") {
			backend = p.PID
		}
	}
	if backend == 0 || !slices.Contains(pids, backend) {
		t.Fatalf("no backend pid in status %s", body)
	}
	if err := syscall.Kill(backend, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	code, h, body := d.Do(t, "GET", "/auth", basicHeader("readall", "readall"))
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Errorf("right after the kill: status %d Retry-After %q body %q, want 503 with Retry-After", code, h.Get("Retry-After"), body)
	}
	for {
		code, _, _ = d.Do(t, "GET", "/auth", basicHeader("logstash", "logstash"))
		if code == http.StatusOK {
			break
		}
		if time.Since(killed) > 2*time.Second {
			t.Fatalf("no recovery within 2s of the kill; last status %d; log:\n%s", code, d.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d.Cmd.ProcessState != nil {
		t.Fatal("realmd itself restarted")
	}
	after := pluginPIDs(t, d)
	if len(after) != 2 || slices.Contains(after, backend) {
		t.Errorf("plugins after restart %v (killed %d)", after, backend)
	}
	_, _, metrics := d.Do(t, "GET", "/metrics", nil)
	for _, want := range []string{
		`realmd_plugin_restarts_total{instance="authc.basic_internal_auth_domain.authentication_backend",plugin="basic"} 1`,
		`realmd_plugin_up{instance="authc.basic_internal_auth_domain.authentication_backend",plugin="basic"} 1`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !regexp.MustCompile(`(?m)^realmd_requests_total\{outcome="unavailable"\} [1-9]`).MatchString(metrics) {
		t.Error("/metrics counts no 503 while the backend was down")
	}

	// SIGKILL realmd: no plugin may outlive it.
	if err := d.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = d.Cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range after {
		for e2e.Alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("plugin %d (%s) still alive 5s after realmd was killed", pid, e2e.Cmdline(pid))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// auth_failure_listeners through the built binary: OpenSearch's
// IpBruteForceAttacksPreventionTests and UserBruteForceAttacksPreventionTests
// in one config. Every request comes from 127.0.0.1, so the address count
// runs through both halves.
func TestE2E_FailedLoginsBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir := e2e.CopyDir(t, "testdata/opensearch-sample")
	e2e.WriteFiles(t, dir, map[string]string{"config.yml": `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      basic_internal_auth_domain:
        order: 0
        http_authenticator: {type: basic, challenge: true}
        authentication_backend: {type: intern}
    auth_failure_listeners:
      ip_rate_limiting:
        type: ip
        allowed_tries: 5
        time_window_seconds: 3600
        block_expiry_seconds: 600
      internal_authentication_backend_limiting:
        type: username
        authentication_backend: intern
        allowed_tries: 2
        time_window_seconds: 3600
        block_expiry_seconds: 600
`})
	d := e2e.Start(t, dir)
	expect := func(what string, h http.Header, wantCode int, wantChallenge string) {
		t.Helper()
		code, hdr, body := d.Do(t, "GET", "/_plugins/_security/authinfo", h)
		if code != wantCode || hdr.Get("WWW-Authenticate") != wantChallenge {
			t.Fatalf("%s: %d %q %q, want %d with challenge %q", what, code, hdr.Get("WWW-Authenticate"), body, wantCode, wantChallenge)
		}
	}
	const basic = `Basic realm="OpenSearch Security"`

	// The user name limit: two wrong passwords block kibanaro, not admin.
	expect("kibanaro, wrong password", basicHeader("kibanaro", "wrong"), 401, basic)    // address failures: 1
	expect("kibanaro, wrong password", basicHeader("kibanaro", "wrong"), 401, basic)    // 2
	expect("kibanaro, right password", basicHeader("kibanaro", "kibanaro"), 401, basic) // 3
	expect("admin", basicHeader("admin", "admin"), 200, "")

	// The address limit: its fifth 401 blocks 127.0.0.1 for everyone.
	expect("admin, wrong password", basicHeader("admin", "wrong"), 401, basic) // 4
	expect("admin, wrong password", basicHeader("admin", "wrong"), 401, basic) // 5: blocked
	code, hdr, body := d.Do(t, "GET", "/_plugins/_security/authinfo", basicHeader("admin", "admin"))
	if code != 401 || hdr.Get("WWW-Authenticate") != "" || body != "Authentication finally failed" {
		t.Fatalf("a blocked address with the right password: %d %q %q, want 401 with OpenSearch's final failure", code, hdr.Get("WWW-Authenticate"), body)
	}
}
