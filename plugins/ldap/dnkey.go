package ldap

import (
	"encoding/hex"
	"sort"
	"strings"
	"unicode"
)

// dnKey returns the key under which two DNs are one, as OpenSearch's
// Set<LdapName> holds them: that of Java's LdapName (see ldapNameKey).
// Any other string is folded as written; the first byte keeps the two
// kinds of key apart.
func dnKey(dn string) string {
	if k, ok := ldapNameKey(dn); ok {
		return "L" + k
	}
	return "S" + strings.ToLower(strings.TrimSpace(dn))
}

// ldapNameKey returns the key under which Java's LdapName, and so
// OpenSearch's Set<LdapName> of role DNs, holds s, and false when Java's
// LdapName refuses s (see parseDN). Two DNs get one key exactly when
// LdapName's RDNs are equal (the basis of its hashCode): each attribute
// is keyed as Rdn's RdnEntry compares it: the type upper-cased, a #hex
// value as '#' and its bytes in lower-case hex (Rdn's escapeBinaryValue),
// a string value upper-cased as String.toUpperCase(Locale.ENGLISH) does
// (so é and É, ß and SS, ſ and S are equal; the Kelvin sign and K, İ and
// I are not). The attributes of an RDN are sorted, as Rdn sorts them.
func ldapNameKey(s string) (string, bool) {
	rdns, ok := parseDN(s)
	if !ok {
		return "", false
	}
	keys := make([]string, len(rdns))
	for i, rdn := range rdns {
		attrs := make([]string, len(rdn))
		for j, a := range rdn {
			var k strings.Builder
			for _, r := range a.typ {
				k.WriteRune(unicode.ToUpper(r))
			}
			k.WriteByte('=')
			if a.bin {
				k.WriteByte('#')
				k.WriteString(hex.EncodeToString(a.hex))
			} else {
				for _, r := range a.val {
					if r == '\\' || r == '+' || r == ',' {
						k.WriteByte('\\')
					}
					writeJavaUpper(&k, r)
				}
			}
			attrs[j] = k.String()
		}
		sort.Strings(attrs)
		keys[i] = strings.Join(attrs, "+")
	}
	return strings.Join(keys, ","), true
}

// writeJavaUpper writes r as String.toUpperCase(Locale.ENGLISH) does.
func writeJavaUpper(b *strings.Builder, r rune) {
	if u, ok := javaSpecialUpper[r]; ok {
		b.WriteString(u)
	} else {
		b.WriteRune(unicode.ToUpper(r))
	}
}

// javaSpecialUpper holds the characters that String.toUpperCase upper-cases
// to more than one character (Unicode's SpecialCasing.txt); any other is
// upper-cased as unicode.ToUpper does. The same with JDK 17 and 25;
// TestJavaUpper checks every character against testdata/java_upper.txt,
// written by testdata/JavaUpper.java.
var javaSpecialUpper = map[rune]string{
	0x00DF: "SS", 0x0149: "\u02BCN", 0x01F0: "J\u030C", 0x0390: "\u0399\u0308\u0301",
	0x03B0: "\u03A5\u0308\u0301", 0x0587: "\u0535\u0552", 0x1E96: "H\u0331", 0x1E97: "T\u0308",
	0x1E98: "W\u030A", 0x1E99: "Y\u030A", 0x1E9A: "A\u02BE", 0x1F50: "\u03A5\u0313",
	0x1F52: "\u03A5\u0313\u0300", 0x1F54: "\u03A5\u0313\u0301", 0x1F56: "\u03A5\u0313\u0342", 0x1F80: "\u1F08\u0399",
	0x1F81: "\u1F09\u0399", 0x1F82: "\u1F0A\u0399", 0x1F83: "\u1F0B\u0399", 0x1F84: "\u1F0C\u0399",
	0x1F85: "\u1F0D\u0399", 0x1F86: "\u1F0E\u0399", 0x1F87: "\u1F0F\u0399", 0x1F88: "\u1F08\u0399",
	0x1F89: "\u1F09\u0399", 0x1F8A: "\u1F0A\u0399", 0x1F8B: "\u1F0B\u0399", 0x1F8C: "\u1F0C\u0399",
	0x1F8D: "\u1F0D\u0399", 0x1F8E: "\u1F0E\u0399", 0x1F8F: "\u1F0F\u0399", 0x1F90: "\u1F28\u0399",
	0x1F91: "\u1F29\u0399", 0x1F92: "\u1F2A\u0399", 0x1F93: "\u1F2B\u0399", 0x1F94: "\u1F2C\u0399",
	0x1F95: "\u1F2D\u0399", 0x1F96: "\u1F2E\u0399", 0x1F97: "\u1F2F\u0399", 0x1F98: "\u1F28\u0399",
	0x1F99: "\u1F29\u0399", 0x1F9A: "\u1F2A\u0399", 0x1F9B: "\u1F2B\u0399", 0x1F9C: "\u1F2C\u0399",
	0x1F9D: "\u1F2D\u0399", 0x1F9E: "\u1F2E\u0399", 0x1F9F: "\u1F2F\u0399", 0x1FA0: "\u1F68\u0399",
	0x1FA1: "\u1F69\u0399", 0x1FA2: "\u1F6A\u0399", 0x1FA3: "\u1F6B\u0399", 0x1FA4: "\u1F6C\u0399",
	0x1FA5: "\u1F6D\u0399", 0x1FA6: "\u1F6E\u0399", 0x1FA7: "\u1F6F\u0399", 0x1FA8: "\u1F68\u0399",
	0x1FA9: "\u1F69\u0399", 0x1FAA: "\u1F6A\u0399", 0x1FAB: "\u1F6B\u0399", 0x1FAC: "\u1F6C\u0399",
	0x1FAD: "\u1F6D\u0399", 0x1FAE: "\u1F6E\u0399", 0x1FAF: "\u1F6F\u0399", 0x1FB2: "\u1FBA\u0399",
	0x1FB3: "\u0391\u0399", 0x1FB4: "\u0386\u0399", 0x1FB6: "\u0391\u0342", 0x1FB7: "\u0391\u0342\u0399",
	0x1FBC: "\u0391\u0399", 0x1FC2: "\u1FCA\u0399", 0x1FC3: "\u0397\u0399", 0x1FC4: "\u0389\u0399",
	0x1FC6: "\u0397\u0342", 0x1FC7: "\u0397\u0342\u0399", 0x1FCC: "\u0397\u0399", 0x1FD2: "\u0399\u0308\u0300",
	0x1FD3: "\u0399\u0308\u0301", 0x1FD6: "\u0399\u0342", 0x1FD7: "\u0399\u0308\u0342", 0x1FE2: "\u03A5\u0308\u0300",
	0x1FE3: "\u03A5\u0308\u0301", 0x1FE4: "\u03A1\u0313", 0x1FE6: "\u03A5\u0342", 0x1FE7: "\u03A5\u0308\u0342",
	0x1FF2: "\u1FFA\u0399", 0x1FF3: "\u03A9\u0399", 0x1FF4: "\u038F\u0399", 0x1FF6: "\u03A9\u0342",
	0x1FF7: "\u03A9\u0342\u0399", 0x1FFC: "\u03A9\u0399", 0xFB00: "FF", 0xFB01: "FI",
	0xFB02: "FL", 0xFB03: "FFI", 0xFB04: "FFL", 0xFB05: "ST",
	0xFB06: "ST", 0xFB13: "\u0544\u0546", 0xFB14: "\u0544\u0535", 0xFB15: "\u0544\u053B",
	0xFB16: "\u054E\u0546", 0xFB17: "\u0544\u053D",
}
