package ldap

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf16"
)

// isDN is OpenSearch's isValidDn: a non-empty string Java's LdapName
// reads, as JDK 17 and JDK 25 answer. The DNs marked "was" were answered
// otherwise when realmd read DNs as go-ldap does (found by review).
func TestIsDN(t *testing.T) {
	tests := []struct {
		name, dn string
		want     bool
	}{
		{name: "a DN", dn: "cn=ceo,ou=groups,o=TEST", want: true},
		{name: "one short RDN", dn: "a=b", want: true},
		{name: "a role name", dn: "humanresources"},
		{name: "a dashed role name", dn: "role2-role2"},
		{name: "empty", dn: ""},
		{name: "no type", dn: "=x"},
		{name: "an escape that needs none", dn: `CN=AA BB\/CC,o=TEST`, want: true},
		{name: "a quoted value", dn: `cn="quoted, value",o=x`, want: true},
		{name: "an unterminated quote", dn: `cn="unterminated,o=x`},
		{name: "text after a quoted value", dn: `cn="a"b,o=x`},
		{name: "a backslash at the end", dn: `cn=x\`},
		{name: "specials Java takes as they are", dn: `cn=a<b>"c=d,o=x`, want: true},
		{name: "an empty value", dn: "cn=", want: true},
		{name: "a hex escape that is not UTF-8", dn: `cn=\c4`, want: true},
		{name: "two commas", dn: "cn=a,,o=x"},
		{name: "a space after the last comma", dn: "cn=a, "},
		{name: "a '+' before a comma", dn: "cn=x+,o=y"},
		{name: "was: a #hex value", dn: "cn=#0401", want: true},
		{name: "was: an empty #hex value", dn: "cn=#", want: true},
		{name: "was: a comma at the end", dn: "cn=a,", want: true},
		{name: "was: a semicolon at the end", dn: "cn=x;", want: true},
		{name: "was: a '+' at the end", dn: "cn=a+", want: true},
		{name: "was: an empty quoted value", dn: `cn=""`},
		{name: "was: an escaped letter that is no hex pair", dn: `cn=\g`},
		{name: "was: an escape in the type", dn: `c\6e=x`},
		{name: "was: '_' in the type", dn: "_cn=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isDN(tt.dn); got != tt.want {
				t.Errorf("isDN(%q) = %v, want %v", tt.dn, got, tt.want)
			}
		})
	}
}

// lookupDN writes a DN as the directory reads it, with the values Java's
// LdapName reads, as OpenSearch's LdapHelper.escapeDn sends it (found by
// review: OpenSearch's LdapBackendTest names a user CN=AA BB\/CC ..., which
// go-ldap's ParseDN refuses).
func TestLookupDN(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{name: "RFC 4514 already", in: `cn=Special\, Sign, ou=people,o=TEST`, want: `cn=Special\, Sign,ou=people,o=TEST`, ok: true},
		{name: "escaped character that needs no escape", in: `CN=AA BB\/CC (DD) my\, company end\=with\=whitespace\ ,ou=people,o=TEST`,
			want: `CN=AA BB/CC (DD) my\, company end\=with\=whitespace\ ,ou=people,o=TEST`, ok: true},
		{name: "quoted value", in: `CN="AA BB/CC (DD) my, company end=with=whitespace  " , ou=people;o=TEST`,
			want: `CN=AA BB/CC (DD) my\, company end\=with\=whitespace\ ,ou=people,o=TEST`, ok: true},
		// Rdn.unescapeValue drops the last space inside quotes too.
		{name: "quoted value ending in one space", in: `cn="a " , o=x`, want: `cn=a,o=x`, ok: true},
		{name: "quoted value with escapes and specials", in: `cn="a \"b\" <c>; #d\/",o=x`, want: `cn=a \"b\" \<c\>\; #d/,o=x`, ok: true},
		{name: "hex escape and multi-valued RDN", in: `cn=a\2Fb\/c+uid=\#x,o=x`, want: `cn=a/b/c+uid=\#x,o=x`, ok: true},
		{name: "unquoted specials Java accepts", in: `cn=a<b>"c\/,o=x`, want: `cn=a\<b\>\"c/,o=x`, ok: true},
		{name: "a #hex value as its bytes", in: "cn=#0A0b , o=x", want: "cn=#0a0b,o=x", ok: true},
		{name: "hex escapes that are not UTF-8 as U+FFFD", in: `cn=a\c4\c4b,o=x`, want: "cn=a\uFFFD\uFFFDb,o=x", ok: true},
		{name: "a '+' at the end", in: "cn=a+", want: "cn=a", ok: true},
		{name: "a control character in hex", in: "cn=a\\0Db", want: `cn=a\0db`, ok: true},
		{name: "an empty RDN names no entry", in: "cn=a,"},
		{name: "unterminated quote", in: `cn="a,o=x`},
		{name: "text after a quoted value", in: `cn="a"b,o=x`},
		{name: "no attribute type", in: `=a\/b`},
		{name: "not a DN", in: `a\/b`},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := lookupDN(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("lookupDN(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// javaChars decodes every sequence of one to four bytes from the alphabet
// of testdata/JavaUTF8.java as Java's String(bytes, UTF_8) does: the same
// U+FFFD, as many times (java_utf8.sha256, written with JDK 17 and JDK 25
// alike; JavaUTF8.java -v lists the lines when this fails).
func TestJavaChars_AsJDK(t *testing.T) {
	want, err := os.ReadFile("testdata/java_utf8.sha256")
	if err != nil {
		t.Fatal(err)
	}
	alphabet, err := hex.DecodeString("00417f808f909fa0bfc0c1c2dfe0e1ecedeeeff0f1f3f4f5f7f8ff")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for n := 1; n <= 4; n++ {
		idx := make([]int, n)
		for {
			b := make([]byte, n)
			for i := range b {
				b[i] = alphabet[idx[i]]
			}
			fmt.Fprintf(h, "%x:", b)
			for _, c := range utf16.Encode(javaChars(b)) {
				fmt.Fprintf(h, "%04x", c)
			}
			fmt.Fprint(h, "\n")
			i := n - 1
			for ; i >= 0; i-- {
				if idx[i]++; idx[i] < len(alphabet) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				break
			}
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.TrimSpace(string(want)) {
		t.Errorf("javaChars decodes otherwise than Java: SHA-256 %s, Java's %s", got, strings.TrimSpace(string(want)))
	}
	// A few by hand, as JDK 17 decodes them.
	for in, want := range map[string]string{
		"\xc4": "\uFFFD", "\xc4\xc4": "\uFFFD\uFFFD", "\xe2\x82": "\uFFFD", "\xe2\x82A": "\uFFFDA",
		"\xed\xa0\x80": "\uFFFD", "\xf0\x9f\x98": "\uFFFD", "\xf0\x9f\x98\x80": "\U0001F600",
		"\xf4\x90\x80\x80": "\uFFFD\uFFFD\uFFFD\uFFFD", "\xe0\x80\x80": "\uFFFD\uFFFD\uFFFD", "\xe1\x80\xe1\x80\x80": "\uFFFD\u1000",
	} {
		if got := string(javaChars([]byte(in))); got != want {
			t.Errorf("javaChars(%q) = %q, want %q", in, got, want)
		}
	}
}
