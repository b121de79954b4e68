package config

import (
	"strings"
	"testing"
)

// The message for a Java class name suggests the types realmd serves in
// that slot. It used to suggest "basic, jwt or ldap" everywhere, so
// following it with authentication_backend.type: basic gave another error.
func TestCanonicalType_JavaClassNameSuggestsTheSlotsTypes(t *testing.T) {
	tests := []struct {
		name     string
		slot     slot
		want     string
		wantNone []string // types of other slots, never suggested here
	}{
		{name: "http_authenticator", slot: authenticatorSlot,
			want: "name a realmd type for an HTTP authenticator instead (basic or jwt, or a plugin listed in realmd.yml)", wantNone: []string{"ldap", "internal", "noop"}},
		{name: "authentication_backend", slot: authcBackendSlot,
			want: "name a realmd type for an authentication backend instead (internal, noop or ldap, or a plugin listed in realmd.yml)", wantNone: []string{"basic", "jwt"}},
		{name: "authorization_backend", slot: authzBackendSlot,
			want: "name a realmd type for an authorization backend instead (internal, noop or ldap, or a plugin listed in realmd.yml)", wantNone: []string{"basic", "jwt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, msg := canonicalType("com.example.security.Realm", tt.slot)
			if typ != "" || !strings.Contains(msg, tt.want) {
				t.Fatalf("canonicalType = %q, %q; want a message containing %q", typ, msg, tt.want)
			}
			for _, other := range tt.wantNone {
				if strings.Contains(msg, other) {
					t.Errorf("message %q suggests %q, which this slot refuses", msg, other)
				}
			}
		})
	}
}

// Every type the message suggests is one the slot accepts: a name in the
// slot's alias table, or (for authenticators, which core serves through
// built-in plugins) not a type of another slot.
func TestBuiltinTypes_AreAcceptedInTheirSlot(t *testing.T) {
	for s, list := range builtinTypes {
		for _, typ := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
			if typ == "or" {
				continue
			}
			got, msg := canonicalType(typ, s)
			if msg != "" || got == "" {
				t.Errorf("%s: suggested type %q is refused: %q", s, typ, msg)
			}
			if s == authenticatorSlot {
				if _, backend := typeAliases[authcBackendSlot][typ]; backend {
					t.Errorf("%s: suggested type %q is a backend type", s, typ)
				}
			} else if _, ok := typeAliases[s][typ]; !ok {
				t.Errorf("%s: suggested type %q is not in the slot's alias table", s, typ)
			}
		}
	}
}
