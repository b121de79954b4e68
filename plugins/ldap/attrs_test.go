package ldap

import (
	"maps"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/realmd/realmd/sdk/pattern"
)

func entry(dn string, attrs ...*goldap.EntryAttribute) *goldap.Entry {
	return &goldap.Entry{DN: dn, Attributes: attrs}
}

func attr(name string, values ...string) *goldap.EntryAttribute {
	a := &goldap.EntryAttribute{Name: name, Values: values}
	for _, v := range values {
		a.ByteValues = append(a.ByteValues, []byte(v))
	}
	return a
}

func TestUserAttributes_Rules(t *testing.T) {
	all := pattern.Set{pattern.MustCompile("*")}
	e := entry("uid=u,o=x",
		attr("uid", "u", "second"),
		attr("userPassword", "secret"),
		attr("sambaNTPassword", "hash"),
		attr("jpegPhoto", "text-looking"),
		attr("userCertificate;binary", "x"),
		attr("guid", "\xff\xfe"),
		attr("control", "a\x01b"),
		attr("empty", ""),
		attr("none"),
		attr("exact", "123456"),
		attr("long", "1234567"),
		attr("utf16", "😀😀😀"), // 6 UTF-16 units
	)
	tests := []struct {
		name   string
		maxLen int
		allow  pattern.Set
		want   map[string]string
	}{
		{name: "first value of text attributes within the length", maxLen: 6, allow: all, want: map[string]string{
			AttrOriginalUsername: "login", AttrDN: "uid=u,o=x",
			"attr.ldap.uid": "u", "attr.ldap.exact": "123456", "attr.ldap.utf16": "😀😀😀",
		}},
		{name: "length 0 keeps name and DN", maxLen: 0, allow: all, want: map[string]string{
			AttrOriginalUsername: "login", AttrDN: "uid=u,o=x",
		}},
		{name: "allowlist", maxLen: 36, allow: pattern.Set{pattern.MustCompile("l*")}, want: map[string]string{
			AttrOriginalUsername: "login", AttrDN: "uid=u,o=x", "attr.ldap.long": "1234567",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := userAttributes("login", e, tt.maxLen, tt.allow); !maps.Equal(got, tt.want) {
				t.Fatalf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestDNKey_FoldsEquivalentDNs(t *testing.T) {
	tests := []struct {
		a, b  string
		equal bool
	}{
		{a: "cn=Special\\, Sign,ou=people,o=TEST", b: "CN=special\\2C sign, OU=People,O=test", equal: true},
		{a: "cn=a,o=x", b: "cn=b,o=x"},
		{a: "not a dn", b: "NOT A DN", equal: true},
		{a: `CN=AA BB\/CC (DD) my\, company,o=TEST`, b: `cn="AA BB/CC (DD) my, company",o=test`, equal: true},
	}
	for _, tt := range tests {
		if got := dnKey(tt.a) == dnKey(tt.b); got != tt.equal {
			t.Errorf("dnKey(%q) == dnKey(%q) is %v, want %v", tt.a, tt.b, got, tt.equal)
		}
	}
}
