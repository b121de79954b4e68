package config

import (
	"strings"
	"testing"
)

func TestCanonicalType(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		slot slot
		want string
		msg  string // substring of the problem, "" for none
	}{
		{name: "authenticators keep their names", raw: "basic", slot: authenticatorSlot, want: "basic"},
		{name: "third-party authenticator", raw: "apikey", slot: authenticatorSlot, want: "apikey"},
		{name: "extended-proxy", raw: "extended-proxy", slot: authenticatorSlot, want: "extended-proxy"},
		{name: "basic class", raw: "org.opensearch.security.http.HTTPBasicAuthenticator", slot: authenticatorSlot, want: "basic"},
		{name: "2.x jwt class", raw: "com.amazon.dlic.auth.http.jwt.HTTPJwtAuthenticator", slot: authenticatorSlot, want: "jwt"},
		{name: "main jwt class", raw: "org.opensearch.security.auth.http.jwt.keybyjwks.HTTPJwtKeyByJWKSAuthenticator", slot: authenticatorSlot, want: "jwt"},
		{name: "intern", raw: "intern", slot: authcBackendSlot, want: TypeInternal},
		{name: "internal", raw: "internal", slot: authcBackendSlot, want: TypeInternal},
		{name: "internal class", raw: "org.opensearch.security.auth.internal.InternalAuthenticationBackend", slot: authcBackendSlot, want: TypeInternal},
		{name: "intern as authz", raw: "intern", slot: authzBackendSlot, want: TypeInternal},
		{name: "noop", raw: "noop", slot: authcBackendSlot, want: TypeNoop},
		{name: "noop authc class", raw: "org.opensearch.security.auth.internal.NoOpAuthenticationBackend", slot: authcBackendSlot, want: TypeNoop},
		{name: "noop authz class", raw: "org.opensearch.security.auth.internal.NoOpAuthorizationBackend", slot: authzBackendSlot, want: TypeNoop},
		{name: "ldap2", raw: "ldap2", slot: authcBackendSlot, want: TypeLDAP},
		{name: "2.x ldap class", raw: "com.amazon.dlic.auth.ldap.backend.LDAPAuthenticationBackend", slot: authcBackendSlot, want: TypeLDAP},
		{name: "main ldap class", raw: "org.opensearch.security.auth.ldap.backend.LDAPAuthenticationBackend", slot: authcBackendSlot, want: TypeLDAP},
		{name: "ldap2 class", raw: "org.opensearch.security.auth.ldap2.LDAPAuthenticationBackend2", slot: authcBackendSlot, want: TypeLDAP},
		{name: "ldap authz class", raw: "org.opensearch.security.auth.ldap.backend.LDAPAuthorizationBackend", slot: authzBackendSlot, want: TypeLDAP},
		{name: "ldap2 authz class", raw: "com.amazon.dlic.auth.ldap2.LDAPAuthorizationBackend2", slot: authzBackendSlot, want: TypeLDAP},
		{name: "a name with a dot that is not a class", raw: "my.plugin-v2", slot: authcBackendSlot, want: "my.plugin-v2"},
		{name: "unknown class", raw: "com.example.Realm", slot: authcBackendSlot, msg: "is a Java class name, and realmd cannot load Java classes"},
		{name: "authz class as authc backend", raw: "org.opensearch.security.auth.ldap.backend.LDAPAuthorizationBackend", slot: authcBackendSlot,
			msg: "is OpenSearch's class for an authorization backend (type ldap), which cannot be used as an authentication backend"},
		{name: "backend class as authenticator", raw: "org.opensearch.security.auth.internal.InternalAuthenticationBackend", slot: authenticatorSlot,
			msg: "class for an authentication backend (type internal), which cannot be used as an HTTP authenticator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := canonicalType(tt.raw, tt.slot)
			if got != tt.want || (tt.msg == "") != (msg == "") || !strings.Contains(msg, tt.msg) {
				t.Errorf("canonicalType(%q) = %q, %q; want %q, message containing %q", tt.raw, got, msg, tt.want, tt.msg)
			}
		})
	}
}
