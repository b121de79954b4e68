package config

import (
	"fmt"
	"regexp"
)

// slot is the place a type name is written in.
type slot int

const (
	authenticatorSlot slot = iota // http_authenticator.type
	authcBackendSlot              // authentication_backend.type
	authzBackendSlot              // authorization_backend.type
)

func (s slot) String() string {
	switch s {
	case authenticatorSlot:
		return "an HTTP authenticator"
	case authcBackendSlot:
		return "an authentication backend"
	}
	return "an authorization backend"
}

// Canonical type names of the backends OpenSearch ships.
const (
	TypeInternal = "internal"
	TypeNoop     = "noop"
	TypeLDAP     = "ldap"
)

// typeAliases is the one table of type aliases: for each slot, the names
// OpenSearch accepts (DynamicConfigModel's authImplMap, both the
// com.amazon.dlic and the org.opensearch.security class names) mapped to
// realmd's canonical type. A name not in its slot's table is kept as
// written: a built-in or third-party plugin type that the catalog resolves.
var typeAliases = map[slot]map[string]string{
	authenticatorSlot: {
		"org.opensearch.security.http.HTTPBasicAuthenticator":                                    "basic",
		"org.opensearch.security.http.HTTPProxyAuthenticator":                                    "proxy",
		"org.opensearch.security.http.proxy.HTTPExtendedProxyAuthenticator":                      "extended-proxy",
		"org.opensearch.security.http.HTTPClientCertAuthenticator":                               "clientcert",
		"com.amazon.dlic.auth.http.kerberos.HTTPSpnegoAuthenticator":                             "kerberos",
		"org.opensearch.security.auth.http.kerberos.HTTPSpnegoAuthenticator":                     "kerberos",
		"com.amazon.dlic.auth.http.jwt.HTTPJwtAuthenticator":                                     "jwt",
		"org.opensearch.security.auth.http.jwt.HTTPJwtAuthenticator":                             "jwt",
		"org.opensearch.security.auth.http.jwt.keybyjwks.HTTPJwtKeyByJWKSAuthenticator":          "jwt",
		"com.amazon.dlic.auth.http.jwt.keybyoidc.HTTPJwtKeyByOpenIdConnectAuthenticator":         "openid",
		"org.opensearch.security.auth.http.jwt.keybyoidc.HTTPJwtKeyByOpenIdConnectAuthenticator": "openid",
		"com.amazon.dlic.auth.http.saml.HTTPSamlAuthenticator":                                   "saml",
		"org.opensearch.security.auth.http.saml.HTTPSamlAuthenticator":                           "saml",
	},
	authcBackendSlot: {
		"intern":   TypeInternal,
		"internal": TypeInternal,
		"org.opensearch.security.auth.internal.InternalAuthenticationBackend": TypeInternal,
		"noop": TypeNoop,
		"org.opensearch.security.auth.internal.NoOpAuthenticationBackend": TypeNoop,
		"ldap":  TypeLDAP,
		"ldap2": TypeLDAP,
		"com.amazon.dlic.auth.ldap.backend.LDAPAuthenticationBackend":         TypeLDAP,
		"org.opensearch.security.auth.ldap.backend.LDAPAuthenticationBackend": TypeLDAP,
		"com.amazon.dlic.auth.ldap2.LDAPAuthenticationBackend2":               TypeLDAP,
		"org.opensearch.security.auth.ldap2.LDAPAuthenticationBackend2":       TypeLDAP,
	},
	authzBackendSlot: {
		// OpenSearch's buildAAA checks intern/internal before its alias
		// table, so for authz they are the internal users as a role source.
		"intern":   TypeInternal,
		"internal": TypeInternal,
		"org.opensearch.security.auth.internal.InternalAuthenticationBackend": TypeInternal,
		"noop": TypeNoop,
		"org.opensearch.security.auth.internal.NoOpAuthorizationBackend": TypeNoop,
		"ldap":  TypeLDAP,
		"ldap2": TypeLDAP,
		"com.amazon.dlic.auth.ldap.backend.LDAPAuthorizationBackend":         TypeLDAP,
		"org.opensearch.security.auth.ldap.backend.LDAPAuthorizationBackend": TypeLDAP,
		"com.amazon.dlic.auth.ldap2.LDAPAuthorizationBackend2":               TypeLDAP,
		"org.opensearch.security.auth.ldap2.LDAPAuthorizationBackend2":       TypeLDAP,
	},
}

// ownClass lists the authentication_backend names whose OpenSearch class
// differs from the one their canonical type stands for. OpenSearch matches
// user name auth failure listeners to backends by class name, and every
// other name in typeAliases loads its type's class: intern, internal and
// InternalAuthenticationBackend are one class, noop and
// NoOpAuthenticationBackend one, ldap and LDAPAuthenticationBackend one.
// ldap2 loads LDAPAuthenticationBackend2, so a listener for ldap never
// sees an ldap2 domain, nor the reverse.
var ownClass = map[string]string{
	"ldap2": "ldap2",
	"com.amazon.dlic.auth.ldap2.LDAPAuthenticationBackend2":         "ldap2",
	"org.opensearch.security.auth.ldap2.LDAPAuthenticationBackend2": "ldap2",
}

// backendClass is the class key of an authentication_backend written raw
// and resolved to typ (Component.Class).
func backendClass(raw, typ string) string {
	if c, ok := ownClass[raw]; ok {
		return c
	}
	return typ
}

// javaClassRE matches a fully qualified Java class name.
var javaClassRE = regexp.MustCompile(`^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$`)

// canonicalType resolves raw, written in slot s, to realmd's type name. It
// returns a message instead when raw is a Java class name realmd cannot
// map to one of its types.
func canonicalType(raw string, s slot) (string, string) {
	if t, ok := typeAliases[s][raw]; ok {
		return t, ""
	}
	if !javaClassRE.MatchString(raw) {
		return raw, ""
	}
	for _, other := range []slot{authenticatorSlot, authcBackendSlot, authzBackendSlot} {
		if t, ok := typeAliases[other][raw]; ok && other != s {
			return "", fmt.Sprintf("%q is OpenSearch's class for %s (type %s), which cannot be used as %s here", raw, other, t, s)
		}
	}
	return "", fmt.Sprintf("%q is a Java class name, and realmd cannot load Java classes; "+
		"name a realmd type for %s instead (%s, or a plugin listed in %s)", raw, s, builtinTypes[s], RealmdFile)
}

// builtinTypes names, for each slot, the types realmd serves there without
// a third-party plugin (the built-in plugins' types and core's noop), for
// the message that refuses a Java class name: a type from another slot
// would only be refused next.
var builtinTypes = map[slot]string{
	authenticatorSlot: "basic or jwt",
	authcBackendSlot:  "internal, noop or ldap",
	authzBackendSlot:  "internal, noop or ldap",
}
