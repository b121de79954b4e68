package ldap

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// dnKeyJavaPairs are pairs of DNs and whether a HashSet<LdapName> holds
// them as one (LdapName.equals and hashCode), as JDK 17 and JDK 25 answer.
// (LdapName.equals alone also holds two DNs equal when the strings are
// equal ignoring case char by char, as cn=\u0130,o=x and cn=I,o=x, while
// their hashCodes differ: a HashSet keeps them apart, and so does dnKey.)
var dnKeyJavaPairs = []struct {
	a, b string
	one  bool
}{
	// Values compare upper-cased as String.toUpperCase(Locale.ENGLISH),
	// beyond ASCII too (found by review).
	{"cn=\u00c9,o=x", "cn=\u00e9,o=x", true},
	{`cn=\C3\89,o=x`, "cn=\u00e9,o=x", true},
	{"cn=Stra\u00dfe,o=x", "cn=STRASSE,o=x", true},
	{"cn=\u017fam,o=x", "cn=Sam,o=x", true},
	{"cn=\u0131,o=x", "cn=I,o=x", true},
	{"cn=\ufb00,o=x", "cn=FF,o=x", true},
	{"cn=\u01c5,o=x", "cn=\u01c6,o=x", true},
	{"cn=\u0390,o=x", "cn=\u0399\u0308\u0301,o=x", true},
	{"cn=\u0130,o=x", "cn=I,o=x", false},
	{"cn=\u0130,o=x", "cn=i, o=x", false},
	{"cn=\u212a,o=x", "cn=K,o=x", false},
	{"cn=\u212a,o=x", "cn=k, o=x", false},
	// A #hex value is its bytes, not the text of its BER (found by review),
	// compared as '#' and lower-case hex, as Rdn does.
	{"cn=#04024869,o=x", "cn=Hi,o=x", false},
	{"cn=#04024869,o=x", "cn=#04024869,O=X", true},
	{"cn=#4A,o=x", "cn=#4a,o=x", true},
	{`cn=\#4a,o=x`, "cn=#4a,o=x", false},
	{`cn=\#04024869,o=x`, "cn=#04024869,o=x", true},
	// Types ignore case; an OID is not its name.
	{"CN=a,O=x", "cn=a,o=x", true},
	{"cn=a,o=x", "2.5.4.3=a,o=x", false},
	// A multi-valued RDN in any order; an escaped separator is a value.
	{"cn=a+sn=b,o=x", "SN=B + CN=A,o=x", true},
	{"cn=a+sn=b,o=x", "cn=a,sn=b,o=x", false},
	{`cn=a\+sn=b,o=x`, "cn=a+sn=b,o=x", false},
	{`cn=a\,o=x`, "cn=a,o=x", false},
	{`cn=a\2C o=x`, `cn=a\, O=X`, true},
	{"cn=a,o=x", "cn=a;o=x", true},
	{`cn="a, b",o=x`, `cn=a\, b,o=x`, true},
	// Spaces around a value go, an escaped one stays; a hex-escaped space
	// at the end goes too, as Rdn.unescapeValue drops it.
	{"cn= a ,o=x", "cn=a,o=x", true},
	{`cn=a\ ,o=x`, "cn=a,o=x", false},
	{`cn=a\20,o=x`, "cn=a,o=x", true},
	// Character.digit reads any decimal digit: \ + two U+0663 is the byte 0x33.
	{"cn=\\\u0663\u0663,o=x", "cn=3,o=x", true},
	{"cn=\\\u0663\u0663,o=x", "cn=\u0663\u0663,o=x", false},
	{"cn=a,", "cn=a", false},
	{"cn=a,", "cn=A,", true},
	{"cn=x;", "cn=x,", true},
	{"cn=a+", "cn=a", true},
	// A hex escape that is not UTF-8 is U+FFFD, as many times as Java's
	// String(bytes, UTF_8) writes it (found by review: realmd kept the bytes).
	{`cn=\c4,o=x`, `cn=\c5,o=x`, true},
	{`cn=\c4,o=x`, `cn=\EF\BF\BD,o=x`, true},
	{`cn=a\c4b,o=x`, `cn=A\ffB,o=x`, true},
	{`cn=\e2\82,o=x`, `cn=\c4,o=x`, true},
	{`cn=\ed\a0\80,o=x`, `cn=\c4,o=x`, true},
	{`cn=\f0\9f\98,o=x`, `cn=\c4,o=x`, true},
	{`cn=\c4\c4,o=x`, `cn=\c4,o=x`, false},
	{`cn=\c0\af,o=x`, `cn=\c4\c4,o=x`, true},
	{`cn=\c0\af,o=x`, `cn=\c4,o=x`, false},
	{"cn=#0401,o=x", "cn=#0401,O=X", true},
}

func TestDNKey_AsJavaLdapNameSet(t *testing.T) {
	for _, tt := range dnKeyJavaPairs {
		if got := dnKey(tt.a) == dnKey(tt.b); got != tt.one {
			t.Errorf("dnKey(%q) == dnKey(%q) is %v, want %v (keys %q, %q)", tt.a, tt.b, got, tt.one, dnKey(tt.a), dnKey(tt.b))
		}
	}
}

// A DN Java refuses is not keyed as an LdapName, and the string as
// written is keyed apart from one.
func TestDNKey_NotLdapName(t *testing.T) {
	for _, s := range []string{`cn=""`, `cn=\g`, "cn=#041", "not a dn", `c\6e=x`} {
		if _, ok := ldapNameKey(s); ok {
			t.Errorf("ldapNameKey(%q) is a key; Java's LdapName refuses it", s)
		}
	}
	if dnKey("x") == dnKey("Lx") || dnKey("cn=a") == dnKey("Scn=a") {
		t.Error("keys of a DN and of a string that is none are one")
	}
}

// javaSpecialUpper and unicode.ToUpper upper-case every character as
// String.toUpperCase(Locale.ENGLISH) in JDK 25 (testdata/java_upper.txt)
// does, except where Unicode 16 added the character or its capital, which
// Go's Unicode 15 tables do not know (JDK 21 does not either).
func TestJavaUpper(t *testing.T) {
	b, err := os.ReadFile("testdata/java_upper.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := map[rune]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var u []rune
		for _, f := range strings.Fields(l) {
			n, err := strconv.ParseUint(f, 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			u = append(u, rune(n))
		}
		want[u[0]] = string(u[1:])
	}
	known := func(r rune) bool {
		return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co)
	}
	skipped := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		w, ok := want[r]
		if !ok {
			w = string(r)
		}
		var got strings.Builder
		writeJavaUpper(&got, r)
		if got.String() != w {
			if !known(r) || strings.IndexFunc(w, func(u rune) bool { return !known(u) }) >= 0 {
				skipped++
				continue
			}
			t.Errorf("U+%04X upper-cases to %q, Java to %q", r, got.String(), w)
		}
	}
	if skipped > 100 {
		t.Errorf("%d characters Go does not know upper-case otherwise in Java", skipped)
	}
}
