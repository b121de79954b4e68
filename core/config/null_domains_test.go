package config

import (
	"testing"
)

// legacyHeader starts a legacy v1 config.yml with one enabled domain.
const legacyHeader = `opendistro_security:
  dynamic:
    authc:
      b: {order: 0, http_authenticator: {type: basic}}
`

// legacyNote is the warning every legacy v1 config.yml gets.
const legacyNote = "config.yml: warning: no _meta: read as the legacy v1 (Open Distro) format, which OpenSearch 2.x converts and 3.x rejects; " +
	"consider converting it and adding _meta: {type: config, config_version: 2}"

// A null in config.yml is what OpenSearch makes of it: Jackson gives a
// null Java boolean or int its zero value (FAIL_ON_NULL_FOR_PRIMITIVES is
// off), and the deep clone through JSON without nulls that OpenSearch uses
// (SecurityDynamicConfiguration.deepClone) gives a null object or String
// its default: a null backend, or backend type, is the default backend.
func TestLoad_NullInADomainIsWhatJacksonMakesOfIt(t *testing.T) {
	off := "null is false to OpenSearch, not the default true: the domain is off, in realmd too; write true, or remove the key, for the default"
	tests := []struct {
		name    string
		config  string
		want    []string
		domains []string // enabled authc domains, when the config loads
		authz   int      // enabled authz domains, when the config loads
		check   func(t *testing.T, s *Settings)
	}{
		{name: "empty http_enabled turns the domain off", config: minimalConfig + `      off:
        http_enabled:
        order: 1
        http_authenticator: {type: basic}
`, want: []string{"config.yml:10: warning: config.dynamic.authc.off.http_enabled: " + off},
			domains: []string{"basic:0:basic/internal"}},
		{name: "null challenge is false", config: minimalConfig + `      quiet:
        order: 1
        http_authenticator: {type: basic, challenge: ~}
`, want: []string{"config.yml:11: warning: config.dynamic.authc.quiet.http_authenticator.challenge: null is false to OpenSearch, " +
			"not the default true: this domain never challenges (no 401 with WWW-Authenticate when it finds no credentials), in realmd too; " +
			"write true, or remove the key, for the default"},
			domains: []string{"basic:0:basic/internal", "quiet:1:basic/internal"},
			check: func(t *testing.T, s *Settings) {
				if !s.Security.Authc[0].Challenge || s.Security.Authc[1].Challenge {
					t.Errorf("challenge = %v, %v; want true, false", s.Security.Authc[0].Challenge, s.Security.Authc[1].Challenge)
				}
			}},
		{name: "null backend type is the default backend", config: minimalConfig + `      nobackend:
        order: 1
        http_authenticator: {type: basic}
        authentication_backend: {type: ~}
`, domains: []string{"basic:0:basic/internal", "nobackend:1:basic/internal"}},
		{name: "null backend is the default backend", config: minimalConfig + `      nobackend:
        order: 1
        http_authenticator: {type: basic}
        authentication_backend:
`, domains: []string{"basic:0:basic/internal", "nobackend:1:basic/internal"}},
		// Guards, as before: a disabled domain's backend is never built,
		// and Java's 0 is order's default.
		{name: "null backend type of a disabled domain is quiet", config: minimalConfig + `      off:
        http_enabled: false
        order: 1
        http_authenticator: {type: basic}
        authentication_backend: {type: ~}
`, domains: []string{"basic:0:basic/internal"}},
		{name: "null order is 0, the default", config: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      basic:
        order: ~
        http_authenticator: {type: basic}
`, domains: []string{"basic:0:basic/internal"}},
		{name: "empty authz http_enabled turns the domain off", config: minimalConfig + `    authz:
      extra:
        http_enabled:
        authorization_backend: {type: internal}
`, want: []string{"config.yml:11: warning: config.dynamic.authz.extra.http_enabled: " + off},
			domains: []string{"basic:0:basic/internal"}},
		{name: "null authz backend type is the default, noop", config: minimalConfig + `    authz:
      extra:
        authorization_backend: {type: ~}
`, domains: []string{"basic:0:basic/internal"}, authz: 1},
		{name: "legacy null enabled turns the domain off", config: legacyHeader + `      off: {order: 1, enabled: ~, http_authenticator: {type: basic}}
`, want: []string{legacyNote, "config.yml:5: warning: opendistro_security.dynamic.authc.off.enabled: " + off},
			domains: []string{"b:0:basic/internal"}},
		{name: "null listener counts are 0, which is refused", config: minimalConfig + `    auth_failure_listeners:
      users:
        type: username
        authentication_backend: internal
        allowed_tries: ~
        block_expiry_seconds:
`, want: []string{
			"config.yml:13: config.dynamic.auth_failure_listeners.users.allowed_tries: null is 0 to OpenSearch, not the default 10, " +
				"and must be at least 1; write 10, or remove the key, for the default",
			"config.yml:14: config.dynamic.auth_failure_listeners.users.block_expiry_seconds: null is 0 to OpenSearch, not the default 600, " +
				"and must be at least 1; write 600, or remove the key, for the default",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: tt.config}), nil)
			assertProblems(t, s, ps, tt.want...)
			if s == nil {
				return
			}
			wantDomains(t, s, tt.domains...)
			if len(s.Security.Authz) != tt.authz {
				t.Errorf("%d authz domains, want %d", len(s.Security.Authz), tt.authz)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}
