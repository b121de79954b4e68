package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// noUsers is an internal_users.yml without users, for tests that change
// the hashing algorithm.
const noUsers = "_meta: {type: internalusers, config_version: 2}\n"

func TestRealmd_AbsentFileMeansDefaults(t *testing.T) {
	s, ps := loadDir(writeDir(t, nil), nil)
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	want := DefaultRealmd()
	want.Pos = Pos{}
	if !reflect.DeepEqual(s.Realmd, want) {
		t.Errorf("realmd = %+v\nwant %+v", s.Realmd, want)
	}
	if d := DefaultRealmd(); d.Listen != "127.0.0.1:9200" || d.CacheTTL != time.Hour || d.RolesMappingResolution != "MAPPING_ONLY" ||
		d.Headers.User != "X-Auth-User" || d.PasswordHashing.BcryptRounds != 12 || d.MaxHeaderBytes != 65536 ||
		d.QueueSize != 1024 || d.RequestTimeout != 10*time.Second {
		t.Errorf("defaults = %+v", d)
	}
}

func TestRealmd_EveryKeyIsRead(t *testing.T) {
	dir := writeDir(t, map[string]string{InternalUsersFile: noUsers, RealmdFile: `listen: "[::1]:9300"
plugin_directory: plugins
plugins:
  apikey:
    command: bin/realmd-apikey
    args: [--mode, strict]
    env: ["APIKEY_DB=/var/lib/apikeys", "EMPTY="]
    sha256: ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789
  radius:
    command: radius
cache: {ttl_minutes: 0}
roles_mapping_resolution: backendroles_only
headers: {user: X-User, roles: X-Roles, backend_roles: X-Backend-Roles}
password_hashing:
  algorithm: PBKDF2
  bcrypt: {rounds: 10, minor: b}
  pbkdf2: {function: sha512, iterations: 310000, length: 512}
  argon2: {memory: 19456, iterations: 2, parallelism: 4, length: 64, type: ARGON2I, version: 16}
max_header_bytes: 32768
queue_size: 64
request_timeout: 2.5s
plugins.security.compliance.disable_anonymous_authentication: true
plugins.security.kerberos.krb5_filepath: /etc/krb5.conf
plugins.security.kerberos:
  acceptor_keytab_filepath: http.keytab
  acceptor_principal: [HTTP/a.example.com, HTTP/b.example.com]
`})
	if err := os.MkdirAll(filepath.Join(dir, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, ps := loadDir(dir, nil)
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	r := s.Realmd
	want := Realmd{
		Listen:    "[::1]:9300",
		PluginDir: filepath.Join(dir, "plugins"),
		Catalog: map[string]CatalogEntry{
			"apikey": {Name: "apikey", Command: "bin/realmd-apikey", Args: []string{"--mode", "strict"},
				Env: []string{"APIKEY_DB=/var/lib/apikeys", "EMPTY="}, SHA256: "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
				Pos: Pos{File: RealmdFile, Line: 4}},
			"radius": {Name: "radius", Command: "radius", Pos: Pos{File: RealmdFile, Line: 9}},
		},
		CacheTTL:               0,
		RolesMappingResolution: "BACKENDROLES_ONLY",
		Headers:                IdentityHeaders{User: "X-User", Roles: "X-Roles", BackendRoles: "X-Backend-Roles"},
		PasswordHashing: PasswordHashing{
			Algorithm: "pbkdf2", BcryptRounds: 10, BcryptMinor: "B",
			PBKDF2Function: "SHA512", PBKDF2Iterations: 310000, PBKDF2Length: 512,
			Argon2Memory: 19456, Argon2Iterations: 2, Argon2Parallelism: 4, Argon2Length: 64, Argon2Type: "argon2i", Argon2Version: 16,
		},
		DisableAnonymous: true,
		MaxHeaderBytes:   32768,
		QueueSize:        64,
		RequestTimeout:   2500 * time.Millisecond,
		NodeSettings: map[string]string{
			"plugins.security.kerberos.krb5_filepath":            "/etc/krb5.conf",
			"plugins.security.kerberos.acceptor_keytab_filepath": "http.keytab",
			"plugins.security.kerberos.acceptor_principal":       "HTTP/a.example.com,HTTP/b.example.com",
		},
		Pos: Pos{File: RealmdFile},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("realmd =\n%+v\nwant\n%+v", r, want)
	}
}

func TestRealmd_NodeSettingNamesMeanTheSame(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{InternalUsersFile: noUsers, RealmdFile: `plugins.security.cache.ttl_minutes: 5
plugins.security.roles_mapping_resolution: BOTH
plugins.security.password.hashing.algorithm: argon2
plugins.security.password.hashing.argon2.memory: 1024
plugins.security.password:
  hashing.bcrypt.rounds: 14
`}), nil)
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	r := s.Realmd
	if r.CacheTTL != 5*time.Minute || r.RolesMappingResolution != "BOTH" || r.PasswordHashing.Algorithm != "argon2" ||
		r.PasswordHashing.Argon2Memory != 1024 || r.PasswordHashing.BcryptRounds != 14 {
		t.Errorf("realmd = %+v", r)
	}
}

func TestRealmd_PluginDirectoryChecks(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "real"), filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir string
		want      []string
	}{
		{name: "absolute directory", dir: filepath.Join(base, "real")},
		{name: "symlink", dir: filepath.Join(base, "link"),
			want: []string{`realmd.yml:1: plugin_directory: "` + filepath.Join(base, "link") + `" is a symlink; name the real directory (a plugin directory must not be a symlink)`}},
		{name: "missing", dir: filepath.Join(base, "nope"),
			want: []string{`realmd.yml:1: plugin_directory: "` + filepath.Join(base, "nope") + `" does not exist`}},
		{name: "a file", dir: filepath.Join(base, "file"),
			want: []string{`realmd.yml:1: plugin_directory: "` + filepath.Join(base, "file") + `" is not a directory`}},
		{name: "relative and missing", dir: "plugins",
			want: []string{`realmd.yml:1: plugin_directory: "plugins" does not exist`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{RealmdFile: "plugin_directory: " + tt.dir + "\n"}), nil)
			assertProblems(t, s, ps, tt.want...)
			if s != nil && s.Realmd.PluginDir != tt.dir {
				t.Errorf("plugin dir = %q, want %q", s.Realmd.PluginDir, tt.dir)
			}
		})
	}
}

func TestRealmd_ListenAddresses(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:9200", true}, {":9200", true}, {"localhost:0", true}, {"[::1]:80", true}, {"auth.internal:9200", true},
		{"127.0.0.1", false}, {"127.0.0.1:http", false}, {"127.0.0.1:70000", false}, {"bad host:1", false}, {"::1:80", false},
	}
	for _, tt := range tests {
		if err := validListen(tt.addr); (err == nil) != tt.ok {
			t.Errorf("validListen(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
		}
	}
}

func TestValidHeaderName(t *testing.T) {
	for _, s := range []string{"X-Auth-User", "x_user", "A1!#$%&'*+-.^_`|~"} {
		if !validHeaderName(s) {
			t.Errorf("%q should be valid", s)
		}
	}
	for _, s := range []string{"", "X User", "X:User", "X-Ü", "X\tY", "(x)"} {
		if validHeaderName(s) {
			t.Errorf("%q should be invalid", s)
		}
	}
}

func TestRealmd_DuplicateHeaderIsReportedAtTheKeyWritten(t *testing.T) {
	tests := []struct {
		name   string
		realmd string
		want   string
	}{
		{name: "a header takes another's default", realmd: "listen: 127.0.0.1:9300\nheaders:\n  user: X-Auth-Roles\n",
			want: `realmd.yml:3: headers.user: "X-Auth-Roles" is already the default of headers.roles; each identity header needs its own name`},
		{name: "a later header takes an earlier one's default, ignoring case", realmd: "headers:\n  backend_roles: x-auth-user\n",
			want: `realmd.yml:2: headers.backend_roles: "x-auth-user" is already the default of headers.user; each identity header needs its own name`},
		{name: "both written: reported at the second", realmd: "headers:\n  roles: X-Same\n  user: X-Same\n",
			want: `realmd.yml:3: headers.user: "X-Same" is already headers.roles (line 2); each identity header needs its own name`},
		{name: "dotted keys", realmd: "headers.roles: X-A\nheaders.backend_roles: X-A\n",
			want: `realmd.yml:2: headers.backend_roles: "X-A" is already headers.roles (line 1); each identity header needs its own name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{RealmdFile: tt.realmd}), nil)
			assertProblems(t, s, ps, tt.want)
		})
	}
}

// A huge cache.ttl_minutes saturates, as Guava's expireAfterWrite does,
// instead of overflowing into a negative or short TTL (found by review).
func TestRealmd_HugeCacheTTLSaturates(t *testing.T) {
	for _, n := range []string{"153722868", "307445735", "2147483647"} {
		s, ps := loadDir(writeDir(t, map[string]string{InternalUsersFile: noUsers, RealmdFile: "cache.ttl_minutes: " + n + "\n"}), nil)
		assertProblems(t, s, ps)
		if s == nil {
			t.FailNow()
		}
		if s.Realmd.CacheTTL < 290*365*24*time.Hour {
			t.Errorf("cache.ttl_minutes %s: CacheTTL %v, want the longest duration", n, s.Realmd.CacheTTL)
		}
	}
}

// OpenSearch node settings nested under plugins: read as the third-party
// plugin catalog, which gave three errors that never said why (no
// plugin_directory, no command, unknown key "cache"). They are one error
// now, which shows the flat dotted spelling realmd reads.
func TestRealmd_NestedNodeSettingsUnderPluginsAreOneClearError(t *testing.T) {
	const msg = `plugins.security: OpenSearch node settings are accepted only in the flat dotted spelling, at the top level of realmd.yml; ` +
		`nested under plugins: they read as the third-party plugin catalog. Write `
	tests := []struct {
		name, realmd string
		want         []string
	}{
		{name: "one setting", realmd: "plugins:\n  security:\n    cache:\n      ttl_minutes: 5\n",
			want: []string{`realmd.yml:2: ` + msg + `"plugins.security.cache.ttl_minutes: 5"`}},
		{name: "several settings", realmd: `plugins:
  security:
    cache.ttl_minutes: 5
    roles_mapping_resolution: BOTH
    kerberos:
      acceptor_principal: [HTTP/a.example.com, HTTP/b.example.com]
      krb5_filepath: /etc/krb5.conf
`,
			want: []string{`realmd.yml:2: ` + msg + `"plugins.security.cache.ttl_minutes: 5", "plugins.security.roles_mapping_resolution: BOTH", ` +
				`"plugins.security.kerberos.acceptor_principal: [HTTP/a.example.com, HTTP/b.example.com]" (and 1 more)`}},
		{name: "beside a catalog entry, which is still read", realmd: "plugin_directory: .\nplugins:\n  radius: {command: radius}\n  security: {cache: {ttl_minutes: 5}}\n",
			want: []string{`realmd.yml:4: ` + msg + `"plugins.security.cache.ttl_minutes: 5"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{InternalUsersFile: noUsers, RealmdFile: tt.realmd}), nil)
			assertProblems(t, s, ps, tt.want...)
		})
	}
}

// A catalog entry for a third-party plugin type named security, with only
// the keys of a catalog entry, is still a catalog entry.
func TestRealmd_APluginNamedSecurityIsACatalogEntry(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{InternalUsersFile: noUsers, RealmdFile: "plugin_directory: .\nplugins:\n  security:\n    command: security-realm\n"}), nil)
	assertProblems(t, s, ps)
	if s == nil || s.Realmd.Catalog["security"].Command != "security-realm" {
		t.Fatalf("catalog entry security not read: %+v", s)
	}
}

// An entry named security with a typo in one key is still a catalog entry
// with a typo, not nested node settings (found by review: sha265 gave the
// node-settings message, telling the operator to write
// plugins.security.command).
func TestRealmd_APluginNamedSecurityWithATypoIsACatalogEntryWithATypo(t *testing.T) {
	_, ps := loadDir(writeDir(t, map[string]string{InternalUsersFile: noUsers,
		RealmdFile: "plugin_directory: .\nplugins:\n  security:\n    command: security-realm\n    sha265: abc\n"}), nil)
	if len(ps) != 1 || !strings.Contains(ps[0].String(), `plugins.security.sha265: unknown key "sha265"; did you mean "sha256"?`) {
		t.Errorf("problems %q, want one unknown key with a suggestion", ps)
	}
}

// realmd.yml is realmd's own file, which OpenSearch never reads: its
// whole numbers are read as YAML reads them, not refused for spellings
// OpenSearch versions read differently (found by review: a realmd.yml
// with max_header_bytes: 65_536 stopped loading).
func TestRealmd_WholeNumbersAreReadAsYAMLReadsThem(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{RealmdFile: "max_header_bytes: 65_536\nqueue_size: 0x40\ncache:\n  ttl_minutes: 010\n"}), nil)
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	if r := s.Realmd; r.MaxHeaderBytes != 65536 || r.QueueSize != 64 || r.CacheTTL != 8*time.Minute {
		t.Errorf("max_header_bytes %d, queue_size %d, cache TTL %v; want 65536, 64, 8m", r.MaxHeaderBytes, r.QueueSize, r.CacheTTL)
	}
}
