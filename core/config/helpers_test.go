package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Minimal valid files, for tests about one of the others.
const (
	minimalConfig = `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      basic:
        order: 0
        http_authenticator: {type: basic}
        authentication_backend: {type: intern}
`
	minimalUsers = `_meta: {type: internalusers, config_version: 2}
admin:
  hash: "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"
  backend_roles: [admin]
`
	minimalMappings = `_meta: {type: rolesmapping, config_version: 2}
all_access:
  backend_roles: [admin]
`
	minimalRoles = `_meta: {type: roles, config_version: 2}
`
)

// defaultFiles are the required files, each minimal and valid.
var defaultFiles = map[string]string{
	ConfigFile:        minimalConfig,
	InternalUsersFile: minimalUsers,
	RolesMappingFile:  minimalMappings,
	RolesFile:         minimalRoles,
}

// writeDir writes files into a new temporary directory. The required files
// not in files are written with their defaults; a file mapped to "-" is
// left out.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{}
	for n, c := range defaultFiles {
		all[n] = c
	}
	for n, c := range files {
		all[n] = c
	}
	for n, c := range all {
		if c == "-" {
			continue
		}
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyFile copies src to dir/name.
func copyFile(t *testing.T, src, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// envMap is a fixed environment for substitution.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// loadDir loads dir with a fixed environment.
func loadDir(dir string, env map[string]string) (*Settings, Problems) {
	return load(os.DirFS(dir), dir, envMap(env))
}

func lines(ps Problems) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// assertProblems compares the problems, as file:line: key: message lines,
// with want, and checks that Settings is nil exactly when one is an error.
func assertProblems(t *testing.T, s *Settings, ps Problems, want ...string) {
	t.Helper()
	got := lines(ps)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n  got:\n    %s\n  want:\n    %s", strings.Join(got, "\n    "), strings.Join(want, "\n    "))
	}
	if (s == nil) != (ps.Err() != nil) {
		t.Errorf("settings nil = %v, but problems.Err() = %v", s == nil, ps.Err())
	}
}
