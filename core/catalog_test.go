package core

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/sdk"
)

func testCatalog(t *testing.T, r config.Realmd) *Catalog {
	t.Helper()
	basic := sdk.Plugin{
		Name:           "basic",
		Authenticators: map[string]sdk.Factory[sdk.Authenticator]{"basic": nil},
		Backends:       map[string]sdk.Factory[sdk.Backend]{"internal": nil},
		Authorizers:    map[string]sdk.Factory[sdk.Authorizer]{"internal": nil},
	}
	return NewCatalog([]sdk.Plugin{basic}, "/usr/bin/realmd", r)
}

func TestCatalog_Resolve(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "apikey")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notexec"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(exe, filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "real", "ldap-plugin"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	withDir := testCatalog(t, config.Realmd{PluginDir: dir, Catalog: map[string]config.CatalogEntry{
		"radius":     {Command: "radius-plugin", SHA256: "00ff"},
		"ldap":       {Command: "real/ldap-plugin", SHA256: "00ff"},
		"linked":     {Command: "linked", SHA256: "00ff"},
		"linked-dir": {Command: "sub/ldap-plugin", SHA256: "00ff"},
	}})
	noDir := testCatalog(t, config.Realmd{})
	tests := []struct {
		name     string
		cat      *Catalog
		role     sdk.Role
		typ      string
		wantPath string
		wantArgs []string
		wantErr  string
	}{
		{name: "built-in authenticator", cat: noDir, role: sdk.RoleAuthenticator, typ: "basic", wantPath: "/usr/bin/realmd", wantArgs: []string{"plugin", "basic"}},
		{name: "built-in backend", cat: noDir, role: sdk.RoleBackend, typ: "internal", wantPath: "/usr/bin/realmd", wantArgs: []string{"plugin", "basic"}},
		{name: "executable in the plugin directory", cat: withDir, role: sdk.RoleAuthenticator, typ: "apikey", wantPath: exe},
		{name: "pinned catalog entry", cat: withDir, role: sdk.RoleBackend, typ: "radius", wantPath: filepath.Join(dir, "radius-plugin")},
		{name: "pinned catalog entry in a subdirectory", cat: withDir, role: sdk.RoleBackend, typ: "ldap", wantPath: filepath.Join(dir, "real", "ldap-plugin")},
		{name: "a pinned catalog entry that is a symlink is refused", cat: withDir, role: sdk.RoleBackend, typ: "linked",
			wantErr: `catalog entry "linked": plugins.linked.command in realmd.yml names ` + filepath.Join(dir, "linked") + `, which is a symlink: point command at the real file in plugin_directory, or copy the file in (a pinned plugin must not be a symlink)`},
		{name: "a pinned catalog entry reached through a symlinked directory is refused", cat: withDir, role: sdk.RoleBackend, typ: "linked-dir",
			wantErr: `catalog entry "linked-dir": plugins.linked-dir.command in realmd.yml names ` + filepath.Join(dir, "sub") + `, which is a symlink`},
		{name: "a file that is not executable is no plugin", cat: withDir, role: sdk.RoleBackend, typ: "notexec", wantErr: `unknown authentication_backend type "notexec": name a built-in type (internal), or put an executable named "notexec" in ` + dir +
			"; " + filepath.Join(dir, "notexec") + " is there, but is not executable: chmod +x it"},
		{name: "no plugin directory", cat: noDir, role: sdk.RoleAuthenticator, typ: "apikey", wantErr: `unknown http_authenticator type "apikey": name a built-in type (basic), or set plugin_directory in realmd.yml for third-party plugins`},
		{name: "saml says why", cat: noDir, role: sdk.RoleAuthenticator, typ: "saml", wantErr: `type "saml" is not supported: SAML is a browser redirect flow between OpenSearch Dashboards and the identity provider; realmd answers per request and does not run that flow. For the tokens an identity provider issues, use a jwt domain with jwks_uri set to the provider's key set`},
		{name: "a backend type used as an authenticator", cat: noDir, role: sdk.RoleAuthenticator, typ: "internal", wantErr: `type "internal" cannot be used as http_authenticator`},
		{name: "path tricks are not plugin names", cat: withDir, role: sdk.RoleBackend, typ: "../apikey", wantErr: `unknown authentication_backend type "../apikey"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := tt.cat.Resolve(tt.role, tt.typ)
			if tt.wantErr != "" {
				if err == nil || !contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ref.Path != tt.wantPath || len(ref.Args) != len(tt.wantArgs) {
				t.Errorf("ref = %+v", ref)
			}
		})
	}
	ref, _ := withDir.Resolve(sdk.RoleBackend, "radius")
	if string(ref.Checksum) != "\x00\xff" {
		t.Errorf("checksum %x", ref.Checksum)
	}
}

// A plugin starts with the host variables a process needs and its catalog
// entry's env, never the rest of realmd's environment, where secrets for
// ${env.NAME} substitution live (found by review).
func TestPluginEnv_OnlyWhatAProcessNeedsAndTheEntryNames(t *testing.T) {
	host := []string{"PATH=/usr/bin", "LDAP_BIND_PASSWORD=s3cret", "REALMD_PLUGIN_LOG_LEVEL=debug", "LC_ALL=C.UTF-8",
		"GOGC=200", "HTTPS_PROXY=http://proxy:3128", "AWS_REGION=eu-west-1", "PATHX=no"}
	got := pluginEnv(host, []string{"A=1", "AWS_REGION", "UNSET"})
	want := []string{"PATH=/usr/bin", "REALMD_PLUGIN_LOG_LEVEL=debug", "LC_ALL=C.UTF-8", "GOGC=200", "HTTPS_PROXY=http://proxy:3128",
		"A=1", "AWS_REGION=eu-west-1", "GODEBUG=" + Schedtrace}
	if !slices.Equal(got, want) {
		t.Fatalf("pluginEnv = %q\nwant %q", got, want)
	}
	if env := pluginEnv(nil, nil); env == nil {
		t.Fatal("an empty environment is nil, which exec reads as all of realmd's")
	}
}

// A plugin's Go runtime keeps its monitor thread out of deep sleep
// (Schedtrace) unless the GODEBUG it gets sets schedtrace: the
// operator's (realmd's own GODEBUG, passed through) or its catalog entry's,
// which wins over realmd's.
func TestPluginEnv_GODEBUGKeepsTheMonitorAwakeUnlessSchedtraceIsSet(t *testing.T) {
	for _, tt := range []struct {
		name        string
		host, entry []string
		want        string
	}{
		{"no GODEBUG", nil, nil, "GODEBUG=" + Schedtrace},
		{"realmd's GODEBUG is kept", []string{"GODEBUG=http2client=0"}, nil, "GODEBUG=http2client=0," + Schedtrace},
		{"an empty GODEBUG", []string{"GODEBUG="}, nil, "GODEBUG=" + Schedtrace},
		{"realmd's schedtrace wins", []string{"GODEBUG=schedtrace=0,gctrace=1"}, nil, "GODEBUG=schedtrace=0,gctrace=1"},
		{"the entry's GODEBUG wins over realmd's", []string{"GODEBUG=schedtrace=0"}, []string{"GODEBUG=madvdontneed=1"}, "GODEBUG=madvdontneed=1," + Schedtrace},
		{"the entry's schedtrace", nil, []string{"GODEBUG=schedtrace=1000"}, "GODEBUG=schedtrace=1000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var godebug []string
			for _, kv := range pluginEnv(tt.host, tt.entry) {
				if strings.HasPrefix(kv, "GODEBUG=") {
					godebug = append(godebug, kv)
				}
			}
			// exec keeps the last of a repeated variable
			if len(godebug) == 0 || godebug[len(godebug)-1] != tt.want {
				t.Fatalf("GODEBUG entries %q; want the last to be %q", godebug, tt.want)
			}
		})
	}
}
