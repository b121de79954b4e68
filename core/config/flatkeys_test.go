package config

import (
	"strings"
	"testing"

	"github.com/realmd/realmd/sdk"
)

// withBackendConfig is a config.yml whose LDAP backend has the given
// `config:` lines, indented under it; the first of them is line 11.
func withBackendConfig(lines ...string) string {
	return `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      ldap:
        order: 1
        http_authenticator: {type: basic}
        authentication_backend:
          type: ldap
          config:
            ` + strings.Join(lines, "\n            ") + "\n"
}

func TestComponent_SettingWrittenTwice(t *testing.T) {
	const at = "config.dynamic.authc.ldap.authentication_backend.config."
	tests := []struct {
		name   string
		config []string
		want   []string
	}{
		{
			name:   "dotted then nested is a problem",
			config: []string{"validation.strategy: search", "validation: {strategy: bogus}"},
			want: []string{"config.yml:12: " + at + "validation.strategy: set both as `validation.strategy` (line 11) and nested under `validation`; " +
				"OpenSearch refuses a setting written twice; keep one"},
		},
		{
			name:   "nested then dotted is a problem",
			config: []string{"validation:", "  strategy: bogus", "validation.strategy: search"},
			want: []string{"config.yml:13: " + at + "validation.strategy: set both nested under `validation` (line 12) and as `validation.strategy`; " +
				"OpenSearch refuses a setting written twice; keep one"},
		},
		{
			name:   "null counts as written",
			config: []string{"pool.enabled: null", "pool: {enabled: true}"},
			want: []string{"config.yml:12: " + at + "pool.enabled: set both as `pool.enabled` (line 11) and nested under `pool`; " +
				"OpenSearch refuses a setting written twice; keep one"},
		},
		{
			name:   "different settings under a shared dotted prefix are fine",
			config: []string{"users.a: {base: ou=a}", "users: {a: {search: '(uid={0})'}, b.base: ou=b}", "hosts: [ldap:389]"},
		},
		{
			name:   "maps inside lists are not flattened",
			config: []string{"hosts: [ldap:389]", "list: [{x.y: 1, x: {y: 2}}]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: withBackendConfig(tt.config...)}), nil)
			assertProblems(t, s, ps, tt.want...)
		})
	}
}

// Every map the loader accepts must flatten in the SDK without a
// written-twice problem, or `realmd check` would pass a config that the
// plugin then refuses.
func TestComponent_AcceptedConfigFlattensCleanlyInTheSDK(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: withBackendConfig(
		"users.a: {base: ou=a}", "users: {a: {search: '(uid={0})'}, b.base: ou=b}", "list: [{x.y: 1, x: {y: 2}}]", "hosts: [ldap:389]",
	)}), nil)
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	for _, p := range sdk.NewConfigMap(s.Security.Authc[0].Backend.Config, "", nil).Problems() {
		if !strings.HasPrefix(p.Message, "unknown key ") {
			t.Errorf("sdk problem %v", p)
		}
	}
}
