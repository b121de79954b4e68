package config

import (
	"reflect"
	"regexp"
	"strconv"
	"testing"
)

const (
	sampleDir    = "testdata/opensearch/config"
	resourcesDir = "testdata/opensearch/src/test/resources/"
	legacyDir    = "testdata/opensearch/branch-2.x/legacy/securityconfig_v6"
)

func TestLoad_OpenSearchSampleConfigLoadsWithoutProblems(t *testing.T) {
	s, ps := loadDir(sampleDir, nil)
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	sec := s.Security
	if len(sec.Authc) != 1 {
		t.Fatalf("authc = %d domains, want only the enabled basic_internal_auth_domain", len(sec.Authc))
	}
	d := sec.Authc[0]
	if d.Name != "basic_internal_auth_domain" || d.Order != 4 || !d.Challenge ||
		d.Description != "Authenticate via HTTP Basic against internal users database" {
		t.Errorf("domain = %+v", d)
	}
	if d.Authenticator.Type != "basic" || d.Backend.Type != TypeInternal || d.Backend.RawType != "intern" {
		t.Errorf("types = %q/%q (raw %q)", d.Authenticator.Type, d.Backend.Type, d.Backend.RawType)
	}
	if d.Backend.Path != "config.dynamic.authc.basic_internal_auth_domain.authentication_backend" || d.Backend.Pos.Line != 108 {
		t.Errorf("backend at %s line %d", d.Backend.Path, d.Backend.Pos.Line)
	}
	if len(sec.Authz) != 0 {
		t.Errorf("authz = %+v, want none (both sample authz domains are disabled)", sec.Authz)
	}
	if want := (XFF{Enabled: false, InternalProxies: `192\.168\.0\.10|192\.168\.0\.11`, RemoteIPHeader: "X-Forwarded-For"}); sec.XFF != want {
		t.Errorf("xff = %+v, want %+v", sec.XFF, want)
	}
	if sec.AnonymousAuthEnabled || sec.Legacy || sec.HostsResolverMode != "ip-only" {
		t.Errorf("security = %+v", sec)
	}

	var names []string
	for _, u := range s.Users {
		names = append(names, u.Name)
	}
	if want := []string{"admin", "anomalyadmin", "kibanaserver", "kibanaro", "logstash", "readall", "snapshotrestore"}; !reflect.DeepEqual(names, want) {
		t.Errorf("users = %v, want %v (file order)", names, want)
	}
	kibanaro := s.Users[3]
	if !reflect.DeepEqual(kibanaro.BackendRoles, []string{"kibanauser", "readall"}) ||
		!reflect.DeepEqual(kibanaro.Attributes, map[string]string{"attribute1": "value1", "attribute2": "value2", "attribute3": "value3"}) {
		t.Errorf("kibanaro = %+v", kibanaro)
	}
	if !reflect.DeepEqual(s.Users[1].SecurityRoles, []string{"anomaly_full_access"}) {
		t.Errorf("anomalyadmin security roles = %v", s.Users[1].SecurityRoles)
	}

	var roles []string
	for _, m := range s.RoleMappings {
		roles = append(roles, m.Role)
	}
	if want := []string{"all_access", "logstash", "kibana_user", "readall", "manage_snapshots", "kibana_server"}; !reflect.DeepEqual(roles, want) {
		t.Errorf("mappings = %v, want %v", roles, want)
	}
	if got := s.RoleMappings[5].Users; !reflect.DeepEqual(got, []string{"kibanaserver"}) {
		t.Errorf("kibana_server users = %v", got)
	}
	for _, r := range []string{"anomaly_full_access", "kibana_read_only", "all_access", "readall"} {
		if !s.Roles[r] {
			t.Errorf("role %q missing from Roles", r)
		}
	}
	if s.Roles["_meta"] {
		t.Error("_meta counted as a role")
	}
	if s.Realmd.Listen != "127.0.0.1:9200" || s.Realmd.PasswordHashing.Algorithm != "bcrypt" {
		t.Errorf("realmd defaults = %+v", s.Realmd)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(s.Hash) {
		t.Errorf("hash = %q", s.Hash)
	}
}

// userWarnings are about OpenSearch's test users: one whose role is not in
// the sample roles.yml. (Hashes are the basic plugin's to check, and these
// tests run no plugin.)
var userWarnings = []string{
	"internal_users.yml:404: warning: hidden_test.opendistro_security_roles[0]: role \"hidden_test\" is neither in roles.yml nor one of OpenSearch's static roles, so it is ignored, as OpenSearch ignores it",
}

// domains lists the enabled authc domains as name:order:authenticator/backend.
func domains(s *Settings) []string {
	var out []string
	for _, d := range s.Security.Authc {
		out = append(out, d.Name+":"+strconv.Itoa(d.Order)+":"+d.Authenticator.Type+"/"+d.Backend.Type)
	}
	return out
}

func TestLoad_OpenSearchTestResources(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string // problems besides userWarnings
		check  func(t *testing.T, s *Settings)
	}{
		{name: "config", config: "config.yml", check: func(t *testing.T, s *Settings) {
			wantDomains(t, s, "authentication_domain_basic_internal:0:basic/internal")
			if len(s.Security.Authz) != 0 {
				t.Errorf("authz = %v, want none (both disabled)", s.Security.Authz)
			}
		}},
		{name: "anonymous", config: "config_anon.yml", check: func(t *testing.T, s *Settings) {
			if !s.Security.AnonymousAuthEnabled {
				t.Error("anonymous auth not enabled")
			}
		}},
		{name: "rate limiting", config: "config_auth_ratelimiting.yml", want: []string{
			"config.yml:21: warning: config.dynamic.auth_failure_listeners.ip_rate_limiting: blocks the TCP peer's address, and behind a reverse proxy every request comes from the proxy's, so one client's failures would block everyone; enable config.dynamic.http.xff with internalProxies matching the proxy, so that realmd blocks the client it names",
		}, check: func(t *testing.T, s *Settings) {
			ls := s.Security.AuthFailureListeners
			if len(ls) != 2 || ls[0].Name != "ip_rate_limiting" || ls[0].Type != "ip" || ls[0].AllowedTries != 10 ||
				ls[1].Type != "username" || ls[1].AuthenticationBackend != TypeInternal || ls[1].AllowedTries != 3 {
				t.Errorf("listeners = %+v", ls)
			}
		}},
		{name: "client certificates", config: "config_clientcert.yml", check: func(t *testing.T, s *Settings) {
			wantDomains(t, s, "authentication_domain_clientcert:0:clientcert/noop")
		}},
		{name: "plugins.security form is refused", config: "config_ldap.yml", want: []string{
			`config.yml:1: plugins.security: "plugins.security: dynamic:" (with authcz:) is not a config.yml format OpenSearch reads; ` +
				`it is a leftover in OpenSearch's test resources. Use _meta: {type: config, config_version: 2} and config: dynamic: with separate authc: and authz: maps`,
		}},
		{name: "proxy", config: "config_proxy.yml", check: func(t *testing.T, s *Settings) {
			wantDomains(t, s, "authentication_domain_proxy:0:proxy/noop", "authentication_domain_basic_internal:1:basic/internal")
			if x := s.Security.XFF; !x.Enabled || x.InternalProxies != ".*" {
				t.Errorf("xff = %+v", x)
			}
			p := s.Security.Authc[0]
			if p.Challenge || p.Authenticator.Config["user_header"] != "x-proxy-user" {
				t.Errorf("proxy domain = %+v", p)
			}
		}},
		{name: "proxy with custom headers", config: "config_proxy_custom.yml", check: func(t *testing.T, s *Settings) {
			if got := s.Security.Authc[0].Authenticator.Config["roles_separator"]; got != ";" {
				t.Errorf("roles_separator = %v", got)
			}
		}},
		{name: "xff", config: "config_xff.yml", check: func(t *testing.T, s *Settings) {
			if x := s.Security.XFF; !x.Enabled || x.RemoteIPHeader != "x-forwarded-for" {
				t.Errorf("xff = %+v", x)
			}
		}},
		{name: "ldap", config: "ldap/config.yml", check: func(t *testing.T, s *Settings) {
			wantDomains(t, s, "authentication_ldap:0:basic/ldap")
			c := s.Security.Authc[0].Backend.Config
			// ${ldapsPort} is not an ${env.X} reference: it stays as written.
			if c["hosts"] != "localhost:${ldapsPort}" || c["enable_ssl"] != true || c["verify_hostnames"] != false {
				t.Errorf("ldap config = %v", c)
			}
		}},
		{name: "ldap2 class name", config: "ldap/config_ldap2.yml", check: func(t *testing.T, s *Settings) {
			wantDomains(t, s, "authentication_ldap:0:basic/ldap")
			if raw := s.Security.Authc[0].Backend.RawType; raw != "org.opensearch.security.auth.ldap2.LDAPAuthenticationBackend2" {
				t.Errorf("raw type = %q", raw)
			}
		}},
		{name: "multitenancy", config: "multitenancy/config.yml", check: func(t *testing.T, s *Settings) {
			// Disabled domains share orders 0, 1 and 3: not a problem.
			wantDomains(t, s, "basic_internal_auth_domain:0:basic/internal")
		}},
		{name: "restapi", config: "restapi/config.yml", check: func(t *testing.T, s *Settings) {
			wantDomains(t, s, "authentication_domain_basic_internal:0:basic/internal", "openid_auth_domain:4:openid/noop")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, nil)
			copyFile(t, resourcesDir+tt.config, dir, ConfigFile)
			copyFile(t, resourcesDir+"internal_users.yml", dir, InternalUsersFile)
			copyFile(t, resourcesDir+"roles_mapping.yml", dir, RolesMappingFile)
			copyFile(t, sampleDir+"/roles.yml", dir, RolesFile)
			s, ps := loadDir(dir, nil)
			assertProblems(t, s, ps, append(tt.want, userWarnings...)...)
			if s == nil || tt.check == nil {
				return
			}
			tt.check(t, s)
			checkTestUsers(t, s)
		})
	}
}

func wantDomains(t *testing.T, s *Settings, want ...string) {
	t.Helper()
	if got := domains(s); !reflect.DeepEqual(got, want) {
		t.Errorf("authc = %v, want %v", got, want)
	}
}

// checkTestUsers checks edge cases of the test resources' users and mappings.
func checkTestUsers(t *testing.T, s *Settings) {
	t.Helper()
	if len(s.Users) != 68 || len(s.RoleMappings) != 68 {
		t.Errorf("%d users, %d mappings; want 68 and 68", len(s.Users), len(s.RoleMappings))
	}
	users := map[string]InternalUser{}
	for _, u := range s.Users {
		users[u.Name] = u
	}
	for _, name := range []string{"557", "§ÄÖÜäöüß", `"'+-,;_?*@<>!$%&/()=#`, "CN=spock,OU=client,O=client,L=Test,C=DE", "bug.88"} {
		if _, ok := users[name]; !ok {
			t.Errorf("user %q missing", name)
		}
	}
	wantAttrs := map[string]string{"c1": "v1", "c2": "v2", "c3.c4.cd": "test1", "c4.c4.cd": "test2", "null": "abc"}
	if got := users["custattr"].Attributes; !reflect.DeepEqual(got, wantAttrs) {
		t.Errorf("custattr attributes = %v, want %v (a null value left out)", got, wantAttrs)
	}
	if got := users["bug.99"].Attributes; got["service"] != "true" {
		t.Errorf("bug.99 attributes = %v", got)
	}
	if users["userwithnopasswd"].Hash != "" || users["userwithblankpasswd"].Hash != "" {
		t.Error("a null or blank hash must read as no hash")
	}
	mappings := map[string]RoleMapping{}
	for _, m := range s.RoleMappings {
		mappings[m.Role] = m
	}
	if m := mappings["role_starfleet"]; !reflect.DeepEqual(m.Hosts, []string{"*.starfleetintranet.com"}) || len(m.BackendRoles) != 3 {
		t.Errorf("role_starfleet = %+v", m)
	}
	if m := mappings["role01_role02"]; !reflect.DeepEqual(m.AndBackendRoles, []string{"role01", "role02"}) {
		t.Errorf("role01_role02 = %+v", m)
	}
	if !mappings["xyz_sr_hidden"].Hidden || mappings["public"].Hidden {
		t.Error("hidden flags not read")
	}
}

// TestLoad_OpenSearchAuditlogHashesLoadWithAnyAlgorithm: realmd recognises
// a hash's algorithm from the hash (a deliberate difference from OpenSearch,
// which verifies only the configured one), so no setting is needed.
func TestLoad_OpenSearchAuditlogHashesLoadWithAnyAlgorithm(t *testing.T) {
	tests := []struct{ name, users, realmd string }{
		{name: "pbkdf2 hashes with the default bcrypt", users: "internal_users_pbkdf2.yml"},
		{name: "pbkdf2 hashes with the node setting", users: "internal_users_pbkdf2.yml", realmd: "plugins.security.password.hashing.algorithm: PBKDF2\n"},
		{name: "argon2 hashes with pbkdf2", users: "internal_users_argon2.yml", realmd: "password_hashing: {algorithm: pbkdf2}\n"},
		{name: "argon2 hashes with argon2", users: "internal_users_argon2.yml", realmd: "password_hashing: {algorithm: argon2}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			if tt.realmd != "" {
				files[RealmdFile] = tt.realmd
			}
			dir := writeDir(t, files)
			copyFile(t, resourcesDir+"auditlog/"+tt.users, dir, InternalUsersFile)
			s, ps := loadDir(dir, nil)
			assertProblems(t, s, ps)
		})
	}
}

func TestLoad_LegacyV6SamplesLoadLikeTheV2Sample(t *testing.T) {
	s, ps := loadDir(legacyDir, nil)
	assertProblems(t, s, ps,
		"config.yml: warning: no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; consider converting it and adding _meta: {type: config, config_version: 2}",
		"config.yml:74: warning: opendistro_security.dynamic.http.xff.proxiesHeader: accepted and ignored: OpenSearch drops this v1 setting when it converts the file",
		"config.yml:75: warning: opendistro_security.dynamic.http.xff.trustedProxies: accepted and ignored: OpenSearch drops this v1 setting when it converts the file",
		"internal_users.yml: warning: no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; consider converting it and adding _meta: {type: internalusers, config_version: 2}",
		"roles_mapping.yml: warning: no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; consider converting it and adding _meta: {type: rolesmapping, config_version: 2}",
	)
	if s == nil {
		t.FailNow()
	}
	v2, _ := loadDir(sampleDir, nil)
	if !s.Security.Legacy || s.Security.XFF.Enabled {
		t.Errorf("security = %+v; want legacy, xff explicitly disabled", s.Security)
	}
	wantDomains(t, s, "basic_internal_auth_domain:4:basic/internal")
	if got, want := s.Security.Authc[0].Backend.Path, "opendistro_security.dynamic.authc.basic_internal_auth_domain.authentication_backend"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
	v2Users := map[string]InternalUser{}
	for _, u := range v2.Users {
		v2Users[u.Name] = u
	}
	for _, u := range s.Users {
		w := v2Users[u.Name]
		if u.Hash != w.Hash || !reflect.DeepEqual(u.BackendRoles, w.BackendRoles) {
			t.Errorf("legacy user %s = %q %v; v2 sample has %q %v", u.Name, u.Hash, u.BackendRoles, w.Hash, w.BackendRoles)
		}
	}
	if len(s.Users) != 6 || s.Users[0].Name != "admin" || len(s.Users[0].Attributes) != 3 {
		t.Errorf("legacy users = %+v", s.Users)
	}
	byRole := map[string]RoleMapping{}
	for _, m := range s.RoleMappings {
		byRole[m.Role] = m
	}
	if got := byRole["opendistro_security_all_access"].BackendRoles; !reflect.DeepEqual(got, []string{"admin"}) {
		t.Errorf("backendroles = %v", got)
	}
	if got := byRole["opendistro_security_own_index"].Users; !reflect.DeepEqual(got, []string{"*"}) {
		t.Errorf("users = %v", got)
	}
	if !s.Roles["opendistro_security_readall"] {
		t.Error("legacy roles.yml names not read")
	}
}
