package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realmd/realmd/internal/e2e"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestCheck_OpenSearchTestResources runs `realmd check` on every config file
// of OpenSearch's src/test/resources, each in a directory with that
// directory's internal_users.yml and roles_mapping.yml, and compares the
// output with its golden file: each config either loads or is refused with
// the precise reason.
func TestCheck_OpenSearchTestResources(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary")
	}
	const src = "testdata/opensearch-resources"
	cases := []struct {
		name   string
		config string
		users  string
	}{
		{"config", "config.yml", "internal_users.yml"},
		{"config_anon", "config_anon.yml", "internal_users.yml"},
		{"config_auth_ratelimiting", "config_auth_ratelimiting.yml", "internal_users.yml"},
		{"config_clientcert", "config_clientcert.yml", "internal_users.yml"},
		{"config_ldap", "config_ldap.yml", "internal_users.yml"},
		{"config_proxy", "config_proxy.yml", "internal_users.yml"},
		{"config_proxy_custom", "config_proxy_custom.yml", "internal_users.yml"},
		{"config_xff", "config_xff.yml", "internal_users.yml"},
		{"ldap_config", "ldap_config.yml", "internal_users.yml"},
		{"ldap_config_ldap2", "ldap_config_ldap2.yml", "internal_users.yml"},
		{"multitenancy_config", "multitenancy_config.yml", "internal_users.yml"},
		{"restapi_config", "restapi_config.yml", "internal_users.yml"},
		{"auditlog_pbkdf2_users", "config_anon.yml", "internal_users_pbkdf2.yml"},
		{"auditlog_argon2_users", "config_anon.yml", "internal_users_argon2.yml"},
	}
	bin := e2e.Binary(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, filepath.Join(src, tc.config), filepath.Join(dir, "config.yml"))
			copyFile(t, filepath.Join(src, tc.users), filepath.Join(dir, "internal_users.yml"))
			copyFile(t, filepath.Join(src, "roles_mapping.yml"), filepath.Join(dir, "roles_mapping.yml"))
			out, err := exec.Command(bin, "check", "--config", dir).Output() // stdout: the problems
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(string(out), dir, "DIR")
			got = "exit " + string(rune('0'+code)) + "\n" + got
			golden := filepath.Join(src, "golden", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("realmd check output differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
