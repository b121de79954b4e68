package config

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/realmd/realmd/pipeline"
	"github.com/realmd/realmd/sdk"
)

func TestLoad_UsesTheProcessEnvironment(t *testing.T) {
	t.Setenv("REALMD_CONFIG_TEST_LISTEN", "127.0.0.1:9555")
	s, ps := Load(writeDir(t, map[string]string{RealmdFile: "listen: ${env.REALMD_CONFIG_TEST_LISTEN}\n"}))
	assertProblems(t, s, ps)
	if s != nil && s.Realmd.Listen != "127.0.0.1:9555" {
		t.Errorf("listen = %q", s.Realmd.Listen)
	}
}

func TestLoad_DirectoryProblems(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(file, []byte(minimalConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(t.TempDir(), "nope"), file} {
		s, ps := Load(dir)
		if s != nil || len(ps) != 1 || ps[0].File != dir || !strings.HasPrefix(ps[0].Message, "cannot read the config directory: ") {
			t.Errorf("Load(%q) = %v, %v", dir, s, ps)
		}
	}
}

func TestLoad_RelativeDirIsMadeAbsolute(t *testing.T) {
	s, ps := Load(sampleDir)
	assertProblems(t, s, ps)
	if s != nil && !filepath.IsAbs(s.Dir) {
		t.Errorf("dir = %q, want absolute", s.Dir)
	}
}

func TestLoadFS_ReadsAnyFileSystem(t *testing.T) {
	fsys := fstest.MapFS{}
	for n, c := range defaultFiles {
		fsys[n] = &fstest.MapFile{Data: []byte(c)}
	}
	s, ps := LoadFS(fsys, "/etc/realmd")
	assertProblems(t, s, ps)
	if s == nil || s.Dir != "/etc/realmd" || len(s.Users) != 1 || s.Users[0].Name != "admin" {
		t.Errorf("settings = %+v", s)
	}
}

func TestLoad_HashChangesOnlyWithTheFilesRead(t *testing.T) {
	hash := func(files map[string]string) string {
		t.Helper()
		s, ps := loadDir(writeDir(t, files), nil)
		if s == nil {
			t.Fatalf("load: %v", ps)
		}
		return s.Hash
	}
	base := hash(nil)
	tests := []struct {
		name  string
		files map[string]string
		same  bool
	}{
		{name: "same files", same: true},
		{name: "an ignored file added", files: map[string]string{"tenants.yml": "_meta: {type: tenants, config_version: 2}\n"}, same: true},
		{name: "a comment in config.yml", files: map[string]string{ConfigFile: minimalConfig + "# changed\n"}},
		{name: "a role added", files: map[string]string{RolesFile: minimalRoles + "reader: {}\n"}},
		{name: "realmd.yml added", files: map[string]string{RealmdFile: "queue_size: 10\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hash(tt.files); (got == base) != tt.same {
				t.Errorf("hash %s vs base %s; want same=%v", got, base, tt.same)
			}
		})
	}
}

func TestLoad_ProblemsAreSortedByFileThenLine(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{
		RealmdFile: "queue_size: 0\n",
		ConfigFile: minimalConfig + "    bad2: 1\n",
		RolesMappingFile: `_meta: {type: rolesmapping, config_version: 2}
b:
  users: ["/(/"]
a:
  bogus: 1
`,
	}), nil)
	assertProblems(t, s, ps,
		`config.yml:9: config.dynamic.bad2: unknown key "bad2"; the keys allowed here are: api_tokens, auth_failure_listeners, authc, authz, `+
			`disable_intertransport_auth, disable_rest_auth, do_not_fail_on_forbidden, do_not_fail_on_forbidden_empty, filtered_alias_mode, `+
			`hosts_resolver_mode, http, kibana, license, multi_rolespan_enabled, on_behalf_of, privileges_evaluation_ignore_unauthorized_indices, `+
			`privileges_evaluation_type, respect_request_indices_options, transport_userrname_attribute`,
		`realmd.yml:1: queue_size: must be between 1 and 1048576, not 0`,
		"roles_mapping.yml:3: b.users[0]: pattern \"/(/\": error parsing regexp: missing closing ): `(`",
		`roles_mapping.yml:5: a.bogus: unknown key "bogus"; the keys allowed here are: and_backend_roles, backend_roles, description, hidden, hosts, reserved, users`,
	)
}

func TestLoad_AuthcDomainsAreSortedAndDisabledOnesDropped(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{name: "v2", config: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      c: {order: 5, http_authenticator: {type: basic}}
      a: {order: -1, http_authenticator: {type: proxy}, authentication_backend: {type: noop}}
      off: {order: 2, http_enabled: false, http_authenticator: {type: basic}}
      b: {order: 3, http_authenticator: {type: jwt}, authentication_backend: {type: noop}}
`, want: []string{"a:-1:proxy/noop", "b:3:jwt/noop", "c:5:basic/internal"}},
		{name: "legacy enabled and http_enabled must both be true", config: `opendistro_security:
  dynamic:
    authc:
      both: {order: 1, http_authenticator: {type: basic}}
      not_enabled: {order: 2, enabled: false, http_authenticator: {type: basic}}
      not_http: {order: 3, http_enabled: false, enabled: true, http_authenticator: {type: basic}}
`, want: []string{"both:1:basic/internal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: tt.config}), nil)
			if ps.Err() != nil || s == nil {
				t.Fatalf("problems: %v", ps)
			}
			wantDomains(t, s, tt.want...)
		})
	}
}

func TestLoad_XFFDefaultsDependOnTheFormat(t *testing.T) {
	tests := []struct {
		name, config string
		want         XFF
	}{
		{name: "v2 default off", config: minimalConfig,
			want: XFF{Enabled: false, InternalProxies: defaultInternalProxies, RemoteIPHeader: "X-Forwarded-For"}},
		{name: "legacy default on", config: "opendistro_security:\n  dynamic:\n    authc:\n      b: {http_authenticator: {type: basic}}\n",
			want: XFF{Enabled: true, InternalProxies: defaultInternalProxies, RemoteIPHeader: "X-Forwarded-For"}},
		{name: "empty internalProxies trusts no proxy", config: minimalConfig + "    http: {xff: {enabled: true, internalProxies: ''}}\n",
			want: XFF{Enabled: true, InternalProxies: "", RemoteIPHeader: "X-Forwarded-For"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: tt.config}), nil)
			if s == nil {
				t.Fatalf("problems: %v", ps)
			}
			if s.Security.XFF != tt.want {
				t.Errorf("xff = %+v, want %+v", s.Security.XFF, tt.want)
			}
		})
	}
}

func TestLoad_IgnoredFeaturesWarn(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: minimalConfig + `    hosts_resolver_mode: dns
    on_behalf_of: {enabled: true, signing_key: c2lnbmluZw==}
    api_tokens: {enabled: true, max_tokens: 5}
    kibana: {multitenancy_enabled: false, sign_in_options: [BASIC]}
    privileges_evaluation_type: v4
`}), nil)
	assertProblems(t, s, ps,
		`config.yml:9: warning: config.dynamic.hosts_resolver_mode: "dns" is not ip-only, ip-hostname or ip-hostname-lookup in any letter case; OpenSearch then matches hosts against the IP address only, and so does realmd`,
		"config.yml:10: warning: config.dynamic.on_behalf_of.signing_key: realmd does not issue or accept OpenSearch on-behalf-of tokens; this setting is ignored",
		"config.yml:11: warning: config.dynamic.api_tokens.enabled: realmd does not implement OpenSearch API tokens; this setting is ignored",
	)
	if s != nil && s.Security.HostsResolverMode != "ip-only" {
		t.Errorf("hosts resolver mode = %q", s.Security.HostsResolverMode)
	}
}

// OpenSearch's HostResolverMode.fromConfig compares with
// String.equalsIgnoreCase, so any letter case names a mode.
func TestLoad_HostsResolverModeIgnoresCase(t *testing.T) {
	tests := []struct {
		name, value, want string
		warns             bool
	}{
		{name: "upper case", value: "IP-HOSTNAME", want: "ip-hostname"},
		{name: "mixed case", value: "Ip-HostName-Lookup", want: "ip-hostname-lookup"},
		{name: "ip-only upper case", value: "IP-ONLY", want: "ip-only"},
		{name: "Java folds dotless i", value: "\u0131p-hostname", want: "ip-hostname"},
		{name: "Java folds dotted capital I", value: "\u0130P-HOSTNAME", want: "ip-hostname"},
		{name: "Kelvin sign is k", value: "ip-hostname-loo\u212aup", want: "ip-hostname-lookup"},
		{name: "surrounding space is not trimmed", value: `" ip-hostname"`, want: "ip-only", warns: true},
		{name: "unknown", value: "dns", want: "ip-only", warns: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: minimalConfig + "    hosts_resolver_mode: " + tt.value + "\n"}), nil)
			if s == nil {
				t.Fatalf("problems: %v", lines(ps))
			}
			if s.Security.HostsResolverMode != tt.want {
				t.Errorf("hosts resolver mode = %q, want %q", s.Security.HostsResolverMode, tt.want)
			}
			if got := len(ps) > 0; got != tt.warns {
				t.Errorf("problems: %v, want a warning: %v", lines(ps), tt.warns)
			}
		})
	}
}

func TestLoad_UserNamesAreCaseSensitiveAndUnique(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{InternalUsersFile: `_meta: {type: internalusers, config_version: 2}
admin: {hash: ""}
Admin: {hash: ""}
admin: {hash: ""}
ghost:
`}), nil)
	assertProblems(t, s, ps,
		`internal_users.yml:4: admin: duplicate key "admin" (first at line 2); OpenSearch rejects a file with duplicate keys; keep one`,
		"internal_users.yml:5: warning: ghost: has no settings, so the user has no hash and can never log in with a password (check the indentation)",
	)
	s, _ = loadDir(writeDir(t, map[string]string{InternalUsersFile: `_meta: {type: internalusers, config_version: 2}
admin: {hash: ""}
Admin: {hash: ""}
`}), nil)
	if s == nil {
		t.Fatal("did not load")
	}
	var names []string
	for _, u := range s.Users {
		names = append(names, u.Name)
	}
	if !reflect.DeepEqual(names, []string{"admin", "Admin"}) {
		t.Errorf("users = %v", names)
	}
}

// Only regular files are read: a named pipe blocked the loader (and with it
// reloads and SIGTERM), a link to /dev/zero never ended, and a huge file was
// read whole before its size was checked.
func TestLoad_OnlyRegularFilesOfBoundedSize(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"a named pipe", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Skip("no named pipes here:", err)
			}
		}, "roles.yml: cannot read the file: it is a named pipe; only regular files (or symlinks to them) are read"},
		{"a link to a device", func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}, "roles.yml: cannot read the file: it is a device; only regular files (or symlinks to them) are read"},
		{"a huge file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 2<<30); err != nil { // sparse: no disk used
				t.Fatal(err)
			}
		}, fmt.Sprintf("roles.yml: cannot read the file: the file is %d bytes, more than the limit of %d", 2<<30, sdk.MaxFileBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{RolesFile: "-"})
			tt.setup(t, filepath.Join(dir, RolesFile))
			done := make(chan Problems, 1)
			go func() { _, ps := loadDir(dir, nil); done <- ps }()
			select {
			case ps := <-done:
				if !slices.Contains(lines(ps), tt.want) {
					t.Fatalf("problems %q, want %q", lines(ps), tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the loader hung")
			}
		})
	}
}

func TestLoad_RolesMetaIsChecked(t *testing.T) {
	tests := []struct {
		name  string
		roles string
		want  []string
	}{
		{name: "v2", roles: "_meta:\n  type: \"roles\"\n  config_version: 2\nreader: {}\n"},
		{name: "legacy v1 without _meta", roles: "reader:\n  cluster: [CLUSTER_COMPOSITE_OPS_RO]\n"},
		{name: "wrong type", roles: "_meta: {type: rolesmapping, config_version: 2}\n",
			want: []string{`roles.yml:1: _meta.type: must be "roles" in roles.yml, not "rolesmapping"`}},
		{name: "old version", roles: "reader: {}\n_meta:\n  type: roles\n  config_version: 1\n",
			want: []string{"roles.yml:4: _meta.config_version: config_version 1 is not supported: a file with _meta must have config_version: 2 (the legacy v1 format has no _meta at all)"}},
		{name: "missing type", roles: "_meta:\n  config_version: 2\n",
			want: []string{"roles.yml:2: _meta.type: missing; add type: roles"}},
		{name: "unknown key", roles: "_meta: {type: roles, config_version: 2, version: 2}\n",
			want: []string{`roles.yml:1: _meta.version: unknown key "version"; the keys allowed here are: config_version, type`}},
		{name: "null", roles: "_meta:\n",
			want: []string{"roles.yml:1: _meta: must be a mapping: _meta: {type: roles, config_version: 2}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{RolesFile: tt.roles}), nil)
			assertProblems(t, s, ps, tt.want...)
		})
	}
}

// Jackson keeps a null element of a List<String>, and OpenSearch's
// ConfigurableRoleMapper compiles it with WildcardMatcher.from(null), which
// matches nothing: the file loads, the rest of the entry still maps, and a
// null in and_backend_roles makes that list unsatisfiable.
func TestLoad_NullMappingPatternIsAWarning(t *testing.T) {
	tests := []struct {
		name, file string
		problems   []string
	}{
		{
			name: "v2",
			file: `_meta: {type: rolesmapping, config_version: 2}
all_access:
  users: [alice, null]
  backend_roles:
    - admin
    -
  hosts: [~, 10.0.0.1]
readall:
  and_backend_roles: [admin, null]
  users: [bob]
`,
			problems: []string{
				"roles_mapping.yml:3: warning: all_access.users[1]: null list element; OpenSearch keeps it as a pattern that matches nothing, and realmd skips it; remove it or give it a value",
				"roles_mapping.yml:6: warning: all_access.backend_roles[1]: null list element; OpenSearch keeps it as a pattern that matches nothing, and realmd skips it; remove it or give it a value",
				"roles_mapping.yml:7: warning: all_access.hosts[0]: null list element; OpenSearch keeps it as a pattern that matches nothing, and realmd skips it; remove it or give it a value",
				"roles_mapping.yml:9: warning: readall.and_backend_roles[1]: null list element; OpenSearch keeps it as a pattern that matches no backend role, so this and_backend_roles list never grants the role, and neither does realmd; remove it or give it a value",
			},
		},
		{
			name: "legacy v1",
			file: `all_access:
  users: [alice, null]
  backendroles: [admin, null]
  hosts: [null, 10.0.0.1]
readall:
  and_backendroles: [admin, null]
  users: [bob]
`,
			problems: []string{
				"roles_mapping.yml: warning: no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; consider converting it and adding _meta: {type: rolesmapping, config_version: 2}",
				"roles_mapping.yml:2: warning: all_access.users[1]: null list element; OpenSearch keeps it as a pattern that matches nothing, and realmd skips it; remove it or give it a value",
				"roles_mapping.yml:3: warning: all_access.backendroles[1]: null list element; OpenSearch keeps it as a pattern that matches nothing, and realmd skips it; remove it or give it a value",
				"roles_mapping.yml:4: warning: all_access.hosts[0]: null list element; OpenSearch keeps it as a pattern that matches nothing, and realmd skips it; remove it or give it a value",
				"roles_mapping.yml:6: warning: readall.and_backendroles[1]: null list element; OpenSearch keeps it as a pattern that matches no backend role, so this and_backend_roles list never grants the role, and neither does realmd; remove it or give it a value",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{RolesMappingFile: tt.file}), nil)
			assertProblems(t, s, ps, tt.problems...)
			if s == nil {
				t.FailNow()
			}
			var mappings []pipeline.Mapping
			for _, m := range s.RoleMappings {
				mappings = append(mappings, pipeline.Mapping{Role: m.Role, Users: m.Users, BackendRoles: m.BackendRoles, AndBackendRoles: m.AndBackendRoles, Hosts: m.Hosts})
			}
			rm, err := pipeline.NewRoleMapper(pipeline.MapperConfig{Mappings: mappings})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				user         string
				backendRoles []string
				ip           string
				want         []string
			}{
				{user: "alice", want: []string{"all_access"}},
				{user: "carol", backendRoles: []string{"admin"}, want: []string{"all_access"}}, // never readall: its null matches no role
				{user: "carol", ip: "10.0.0.1", want: []string{"all_access"}},
				{user: "bob", want: []string{"readall"}},
				{user: "carol", want: []string{}},
				{user: "", want: []string{}},
			} {
				got := rm.Map(context.Background(), &sdk.User{Name: c.user, BackendRoles: c.backendRoles}, pipeline.Caller{IP: c.ip})
				if !slices.Equal(got, c.want) {
					t.Errorf("user %q, backend roles %q, ip %q: roles %q, want %q", c.user, c.backendRoles, c.ip, got, c.want)
				}
			}
		})
	}
}

// OpenSearch fails at login on a null internal user backend role, so there
// it stays an error.
func TestLoad_NullUserBackendRoleIsAnError(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{InternalUsersFile: `_meta: {type: internalusers, config_version: 2}
admin:
  hash: ""
  backend_roles: [admin, null]
`}), nil)
	assertProblems(t, s, ps, "internal_users.yml:4: admin.backend_roles[1]: empty list element; remove it or give it a value")
}

// OpenSearch attaches a user name listener to the backends of one Java
// class: the listener's authentication_backend, alias resolved, must be
// the domain backend's class name. ldap and ldap2 load different classes
// (LDAPAuthenticationBackend, LDAPAuthenticationBackend2), though realmd
// runs both with the ldap plugin; intern, internal and
// InternalAuthenticationBackend load one.
func TestLoad_ListenersMatchBackendsByOpenSearchClass(t *testing.T) {
	const (
		ldap1Class = "com.amazon.dlic.auth.ldap.backend.LDAPAuthenticationBackend"
		ldap1Main  = "org.opensearch.security.auth.ldap.backend.LDAPAuthenticationBackend"
		ldap2Class = "com.amazon.dlic.auth.ldap2.LDAPAuthenticationBackend2"
		ldap2Main  = "org.opensearch.security.auth.ldap2.LDAPAuthenticationBackend2"
		internal   = "org.opensearch.security.auth.internal.InternalAuthenticationBackend"
		noop       = "org.opensearch.security.auth.internal.NoOpAuthenticationBackend"
	)
	tests := []struct {
		listener, domain string // as written; domain "" writes no authentication_backend
		same             bool
	}{
		{listener: "ldap", domain: "ldap", same: true},
		{listener: "ldap2", domain: "ldap2", same: true},
		{listener: "ldap", domain: "ldap2"},
		{listener: "ldap2", domain: "ldap"},
		{listener: "ldap", domain: ldap1Class, same: true},
		{listener: ldap1Main, domain: "ldap", same: true},
		{listener: "ldap2", domain: ldap2Main, same: true},
		{listener: ldap2Class, domain: "ldap2", same: true},
		{listener: ldap1Class, domain: ldap2Class},
		{listener: ldap2Main, domain: ldap1Main},
		{listener: "ldap2", domain: ldap1Class},
		{listener: "intern", domain: "internal", same: true},
		{listener: "internal", domain: "intern", same: true},
		{listener: "internal", domain: "", same: true},
		{listener: internal, domain: "intern", same: true},
		{listener: "noop", domain: noop, same: true},
		{listener: "noop", domain: "internal"},
		{listener: "internal", domain: "ldap"},
	}
	for _, tt := range tests {
		t.Run(tt.listener+" on "+tt.domain, func(t *testing.T) {
			backend := ""
			if tt.domain != "" {
				backend = "\n        authentication_backend: {type: " + tt.domain + "}"
			}
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    http: {xff: {enabled: true}}
    auth_failure_listeners:
      users: {type: username, authentication_backend: ` + tt.listener + `}
    authc:
      d:
        order: 0
        http_authenticator: {type: basic}` + backend + `
`}), nil)
			if s == nil || len(ps) > 0 {
				t.Fatalf("problems: %v", lines(ps))
			}
			l, d := s.Security.AuthFailureListeners[0], s.Security.Authc[0]
			if same := l.AuthenticationBackend == d.Backend.Class; same != tt.same {
				t.Errorf("listener %q matches domain class %q: %v, want %v", l.AuthenticationBackend, d.Backend.Class, same, tt.same)
			}
			if strings.HasPrefix(tt.domain, "ldap") || strings.Contains(tt.domain, "LDAP") {
				if d.Backend.Type != TypeLDAP {
					t.Errorf("domain type = %q, want %q (the ldap plugin serves ldap and ldap2)", d.Backend.Type, TypeLDAP)
				}
			}
		})
	}
}

// OpenSearch drops an internal user's opendistro_security_roles entry that
// names no role without a word; realmd drops it too, but warns at its line
// (found by review: a typo silently cost the user the role).
func TestLoad_UnknownOpendistroSecurityRoleIsAWarning(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{
		RolesFile: minimalRoles + "defined_role: {}\n",
		InternalUsersFile: minimalUsers + `bob:
  hash: "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"
  opendistro_security_roles:
    - all_access
    - defined_role
    - defnied_role
`,
	}), nil)
	assertProblems(t, s, ps,
		`internal_users.yml:10: warning: bob.opendistro_security_roles[2]: role "defnied_role" is neither in roles.yml nor one of OpenSearch's static roles, so it is ignored, as OpenSearch ignores it`)
}

// FileSums holds the SHA-256 of each file Load read, from the bytes it
// read, so that a reload can name the files that changed; a file absent
// (roles.yml here) has none.
func TestLoad_FileSumsSumEachFileRead(t *testing.T) {
	dir := writeDir(t, map[string]string{RolesFile: "-"})
	s, ps := loadDir(dir, nil)
	if s == nil {
		t.Fatalf("load: %v", ps)
	}
	want := map[string]string{}
	for _, name := range []string{ConfigFile, InternalUsersFile, RolesMappingFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		want[name] = hex.EncodeToString(sum[:])
	}
	if !maps.Equal(s.FileSums, want) {
		t.Errorf("FileSums = %v, want %v", s.FileSums, want)
	}
}
