package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestSubstitute(t *testing.T) {
	env := envMap(map[string]string{
		"HOST":       "ldap.example.com",
		"PORT":       "636",
		"EMPTY":      "",
		"B64":        "c2VjcmV0",   // "secret"
		"B64_NOPAD":  "c2VjcmV0MQ", // "secret1", padding left off
		"B64_BAD":    "%%%",
		"B64_OF_REF": "JHtlbnYuSE9TVH0=", // "${env.HOST}"
		"A=B":        "odd",
		"WITH(PAR)":  "parens",
		"X:Y":        "colon",
	})
	tests := []struct {
		name   string
		in     string
		want   string
		issues []string // substrings of the issues, in order; "warning:" prefix for warnings
	}{
		{name: "no reference", in: "plain $text {env.X}", want: "plain $text {env.X}"},
		{name: "set variable", in: "${env.HOST}", want: "ldap.example.com"},
		{name: "several references in one value", in: "${env.HOST}:${env.PORT}", want: "ldap.example.com:636"},
		{name: "default unused when set", in: "${env.HOST:-other}", want: "ldap.example.com"},
		{name: "default when unset", in: "${env.NOPE:-localhost}", want: "localhost"},
		{name: "default when empty", in: "${env.EMPTY:-fallback}", want: "fallback"},
		{name: "empty default", in: "x${env.NOPE:-}y", want: "xy"},
		{name: "default may hold the name charset", in: "${env.NOPE:-a=b(c):d-e_f}", want: "a=b(c):d-e_f"},
		{name: "names may hold = ( ) : -", in: "${env.A=B} ${env.WITH(PAR)} ${env.X:Y}", want: "odd parens colon"},
		{name: "unset without default is an error", in: "${env.NOPE}", want: "${env.NOPE}",
			issues: []string{"environment variable NOPE is not set (or is empty); set it, or give a default: ${env.NOPE:-value}"}},
		{name: "empty without default is an error", in: "${env.EMPTY}", want: "${env.EMPTY}",
			issues: []string{"environment variable EMPTY is not set"}},
		{name: "base64", in: "${envbase64.B64}", want: "secret"},
		{name: "base64 without padding", in: "${envbase64.B64_NOPAD}", want: "secret1"},
		{name: "base64 default is decoded too", in: "${envbase64.NOPE:-aGk=}", want: "hi"},
		{name: "base64 runs before env", in: "${envbase64.B64_OF_REF}", want: "ldap.example.com"},
		{name: "bad base64", in: "${envbase64.B64_BAD}", want: "${envbase64.B64_BAD}",
			issues: []string{"the value of B64_BAD (from ${envbase64.B64_BAD}) is not valid base64"}},
		{name: "unset base64", in: "${envbase64.NOPE}", want: "${envbase64.NOPE}",
			issues: []string{"environment variable NOPE is not set (or is empty); set it, or give a default: ${envbase64.NOPE:-value}"}},
		{name: "envbc is refused", in: "${envbc.HOST}", want: "${envbc.HOST}",
			issues: []string{"${envbc.HOST} is not supported: OpenSearch hashes the variable"}},
		{name: "a dot in the name is not a reference", in: "${env.MY.VAR}", want: "${env.MY.VAR}",
			issues: []string{`warning:"${env.MY.VAR}" looks like an environment reference but is not one`}},
		{name: "a dot in the default is not a reference", in: "${env.NOPE:-127.0.0.1}", want: "${env.NOPE:-127.0.0.1}",
			issues: []string{`warning:"${env.NOPE:-127.0.0.1}" looks like an environment reference but is not one`}},
		{name: "an unclosed reference is kept with a warning", in: "${env.HOST", want: "${env.HOST",
			issues: []string{`warning:"${env.HOST" looks like an environment reference`}},
		{name: "an unknown prefix is plain text", in: "${envx.HOST} ${ENV.HOST}", want: "${envx.HOST} ${ENV.HOST}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, issues := substitute(tt.in, env)
			if got != tt.want {
				t.Errorf("substitute(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if len(issues) != len(tt.issues) {
				t.Fatalf("issues = %+v, want %d", issues, len(tt.issues))
			}
			for i, want := range tt.issues {
				warn := strings.HasPrefix(want, "warning:")
				want = strings.TrimPrefix(want, "warning:")
				if issues[i].warning != warn || !strings.Contains(issues[i].msg, want) {
					t.Errorf("issue %d = %+v, want warning=%v containing %q", i, issues[i], warn, want)
				}
			}
		})
	}
}

func TestLoad_EnvSubstitutionReachesTypedFieldsAndConfigMaps(t *testing.T) {
	dir := writeDir(t, map[string]string{
		ConfigFile: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    http:
      anonymous_auth_enabled: ${env.ANON}
    authc:
      ldap:
        order: ${env.ORDER}
        http_authenticator: {type: basic}
        authentication_backend:
          type: ${env.BACKEND:-ldap}
          config:
            bind_dn: "cn=admin,${env.BASE}"
            password: ${envbase64.PASSWORD_B64}
            hosts: ["${env.HOST}:636"]
`,
		InternalUsersFile: `_meta: {type: internalusers, config_version: 2}
${env.OPS_USER}:
  hash: ${env.ADMIN_HASH}
`,
		RealmdFile: "listen: ${env.LISTEN}\n",
	})
	s, ps := loadDir(dir, map[string]string{
		"ANON": "true", "ORDER": "7", "BASE": "dc=example,dc=com", "PASSWORD_B64": "czNjcjN0",
		"HOST": "ldap1", "LISTEN": "127.0.0.1:9301", "OPS_USER": "ops", "ADMIN_HASH": "$2y$12$abcdefghijklmnopqrstuu5Zzq5v0l7Wc0Z5bO4h8y1nT1jE8mUe",
	})
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	if !s.Security.AnonymousAuthEnabled || s.Security.Authc[0].Order != 7 {
		t.Errorf("typed fields not substituted: %+v", s.Security)
	}
	b := s.Security.Authc[0].Backend
	wantConfig := map[string]any{"bind_dn": "cn=admin,dc=example,dc=com", "password": "s3cr3t", "hosts": []any{"ldap1:636"}}
	if b.Type != TypeLDAP || !reflect.DeepEqual(b.Config, wantConfig) {
		t.Errorf("backend = %s %v, want ldap %v", b.Type, b.Config, wantConfig)
	}
	// Keys are substituted too.
	if s.Users[0].Name != "ops" || !strings.HasPrefix(s.Users[0].Hash, "$2y$12$") {
		t.Errorf("user = %+v", s.Users[0])
	}
	if s.Realmd.Listen != "127.0.0.1:9301" {
		t.Errorf("listen = %q", s.Realmd.Listen)
	}
}

func TestLoad_EnvSubstitutionInKeys(t *testing.T) {
	env := map[string]string{"OPS_USER": "ops", "ADMIN": "admin", "ROLE": "ops_role", "KEY": "bind_dn"}
	tests := []struct {
		name  string
		files map[string]string
		want  []string // problems
		check func(t *testing.T, s *Settings)
	}{
		{
			name: "a user is named by the variable",
			files: map[string]string{InternalUsersFile: `_meta: {type: internalusers, config_version: 2}
${env.OPS_USER}:
  hash: "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"
${env.NOPE:-guest}:
  hash: "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"
`},
			check: func(t *testing.T, s *Settings) {
				if len(s.Users) != 2 || s.Users[0].Name != "ops" || s.Users[0].Pos.Line != 2 || s.Users[1].Name != "guest" || s.Users[1].Pos.Line != 4 {
					t.Errorf("users = %+v, want ops at line 2 and guest at line 4", s.Users)
				}
			},
		},
		{
			name: "a key that substitutes to a duplicate is refused at its line",
			files: map[string]string{InternalUsersFile: `_meta: {type: internalusers, config_version: 2}
admin:
  hash: "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"
${env.ADMIN}:
  hash: "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"
`},
			want: []string{`internal_users.yml:4: admin: duplicate key "admin" (written ${env.ADMIN}; first at line 2); OpenSearch rejects a file with duplicate keys; keep one`},
		},
		{
			name: "two substituted keys that collide name both spellings",
			files: map[string]string{RolesMappingFile: `_meta: {type: rolesmapping, config_version: 2}
${env.ROLE}:
  users: [a]
${env.NOPE:-ops_role}:
  users: [b]
`, RolesFile: "_meta: {type: roles, config_version: 2}\nops_role: {}\n"},
			want: []string{`roles_mapping.yml:4: ops_role: duplicate key "ops_role" (written ${env.NOPE:-ops_role}; first at line 2, written ${env.ROLE}); OpenSearch rejects a file with duplicate keys; keep one`},
		},
		{
			// Found by review: the unsubstituted text was then read as
			// the number and reported a second time.
			name: "an unset variable in a typed value is one problem",
			files: map[string]string{ConfigFile: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      basic:
        order: ${env.NOPE}
        http_enabled: ${env.NOPE}
        http_authenticator: {type: basic}
`},
			want: []string{
				`config.yml:6: config.dynamic.authc.basic.order: environment variable NOPE is not set (or is empty); set it, or give a default: ${env.NOPE:-value}`,
				`config.yml:7: config.dynamic.authc.basic.http_enabled: environment variable NOPE is not set (or is empty); set it, or give a default: ${env.NOPE:-value}`,
			},
		},
		{
			name: "an unset variable in a key is an error at the key",
			files: map[string]string{InternalUsersFile: `_meta: {type: internalusers, config_version: 2}
${env.NOPE}:
  hash: "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"
`},
			want: []string{`internal_users.yml:2: ${env.NOPE}: environment variable NOPE is not set (or is empty); set it, or give a default: ${env.NOPE:-value}`},
		},
		{
			name: "config map keys are substituted and duplicates found",
			files: map[string]string{ConfigFile: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      ldap:
        order: 0
        http_authenticator: {type: basic}
        authentication_backend:
          type: ldap
          config:
            bind_dn: cn=a
            ${env.KEY}: cn=b
`},
			want: []string{`config.yml:12: config.dynamic.authc.ldap.authentication_backend.config.bind_dn: duplicate key "bind_dn" (written ${env.KEY}; first at line 11); OpenSearch rejects a file with duplicate keys; keep one`},
		},
		{
			name: "role names in roles.yml are substituted, their content is not",
			files: map[string]string{
				RolesFile: "_meta: {type: roles, config_version: 2}\n${env.ROLE}:\n  index_permissions: [{index_patterns: [\"${env.UNREAD}\"]}]\n",
				InternalUsersFile: `_meta: {type: internalusers, config_version: 2}
admin:
  hash: "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"
  opendistro_security_roles: [ops_role]
`},
			check: func(t *testing.T, s *Settings) {
				if !s.Roles["ops_role"] || s.Roles["${env.ROLE}"] {
					t.Errorf("roles = %v, want ops_role", s.Roles)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, tt.files), env)
			assertProblems(t, s, ps, tt.want...)
			if tt.check != nil && s != nil {
				tt.check(t, s)
			}
		})
	}
}
