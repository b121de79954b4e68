package ldap

import (
	"encoding/hex"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ldapNameKey returns the key under which Java's LdapName, and so
// OpenSearch's Set<LdapName> of role DNs, holds s, and false when Java's
// LdapName refuses s or it has no RDN. Two DNs get one key exactly when
// LdapName's RDNs are equal (the basis of its hashCode): s is read as
// Java's Rfc2253Parser and Rdn.unescapeValue read it, and each attribute
// is keyed as Rdn's RdnEntry compares it: the type upper-cased, a #hex
// value as '#' and its bytes in lower-case hex (Rdn's escapeBinaryValue),
// a string value upper-cased as String.toUpperCase(Locale.ENGLISH) does
// (so é and É, ß and SS, ſ and S are equal; the Kelvin sign and K, İ and
// I are not). The attributes of an RDN are sorted, as Rdn sorts them.
//
// A byte of s that is not UTF-8 (a Java string has none; Java decodes an
// escaped one to U+FFFD) is kept as the byte: two such DNs may get two
// keys where Java has one, never one key where Java has two.
func ldapNameKey(s string) (string, bool) {
	c := javaChars(s)
	n, p := len(c), 0
	skipSpace := func() {
		for p < n && javaSpace(c[p]) {
			p++
		}
	}
	var rdns []string
	for {
		// Rfc2253Parser.doParse: one RDN, its attributes joined by '+'.
		var attrs []string
		for p < n {
			skipSpace()
			beg := p
			for p < n && (javaLetterOrDigit(c[p]) || c[p] == '.' || c[p] == '-' || c[p] == ' ') {
				p++
			}
			for p > beg && c[p-1] == ' ' {
				p--
			}
			if p == beg {
				return "", false
			}
			typ := c[beg:p]
			skipSpace()
			if p >= n || c[p] != '=' {
				return "", false
			}
			p++
			skipSpace()
			beg = p
			end := -1
			switch {
			case p < n && c[p] == '#':
				p++
				for p < n && javaLetterOrDigit(c[p]) {
					p++
				}
			case p < n && c[p] == '"':
				p++
				for p < n && c[p] != '"' {
					if c[p] == '\\' {
						p++
					}
					p++
				}
				if p >= n {
					return "", false
				}
				p++
			default:
				esc := -1
				for p < n && c[p] != ',' && c[p] != ';' && c[p] != '+' {
					if c[p] == '\\' {
						p++
						esc = p
					}
					p++
				}
				if p > n {
					return "", false
				}
				for end = p; end > beg; end-- {
					if !javaSpace(c[end-1]) || esc == end-1 {
						break
					}
				}
			}
			if end < 0 {
				end = p
			}
			val, ok := javaValueComparable(c[beg:end])
			if !ok {
				return "", false
			}
			skipSpace()
			var k strings.Builder
			for _, r := range typ {
				k.WriteRune(unicode.ToUpper(r))
			}
			k.WriteByte('=')
			k.WriteString(val)
			attrs = append(attrs, k.String())
			if p >= n || c[p] != '+' {
				break
			}
			p++
		}
		sort.Strings(attrs)
		rdns = append(rdns, strings.Join(attrs, "+"))
		if p >= n {
			break
		}
		if c[p] != ',' && c[p] != ';' {
			return "", false
		}
		p++
	}
	return strings.Join(rdns, ","), true
}

// javaValueComparable reads an attribute value as Rdn.unescapeValue does
// and returns RdnEntry's getValueComparable of it, with '\', '+' and ','
// escaped by '\' and a byte that is not UTF-8 written as '\' and two hex
// digits; false when Java refuses the value.
func javaValueComparable(v []rune) (string, bool) {
	beg, end := 0, len(v)
	for beg < end && javaSpace(v[beg]) {
		beg++
	}
	for beg < end && javaSpace(v[end-1]) {
		end--
	}
	if end != len(v) && beg < end && v[end-1] == '\\' {
		end++
	}
	if beg >= end {
		return "", true
	}
	if v[beg] == '#' {
		// Rdn.decodeHexPairs: the bytes as written, not their BER.
		var b strings.Builder
		b.WriteByte('#')
		i := beg + 1
		for ; i+1 < end; i += 2 {
			hi, lo := javaHexDigit(v[i]), javaHexDigit(v[i+1])
			if hi < 0 || lo < 0 {
				break
			}
			b.WriteString(hex.EncodeToString([]byte{byte(hi<<4 | lo)}))
		}
		return b.String(), i == end
	}
	if v[beg] == '"' && v[end-1] == '"' {
		beg++
		end--
	}
	var val []rune
	esc := -1
	for i := beg; i < end; i++ {
		if v[i] != '\\' || i+1 >= end {
			val = append(val, v[i])
			continue
		}
		if !javaLetterOrDigit(v[i+1]) {
			i++
			val = append(val, v[i])
			esc = i
			continue
		}
		// Rdn.getUtf8Octets: a run of \xx, decoded together.
		var octets []byte
		for j := i; j+2 < end && v[j] == '\\'; j += 3 {
			hi, lo := javaHexDigit(v[j+1]), javaHexDigit(v[j+2])
			if hi < 0 || lo < 0 {
				break
			}
			octets = append(octets, byte(hi<<4|lo))
		}
		if len(octets) == 0 {
			return "", false
		}
		val = append(val, javaChars(string(octets))...)
		i += 3*len(octets) - 1
	}
	if len(val) == 0 {
		return "", false // Java's charAt(-1) throws, as for cn=""
	}
	if javaSpace(val[len(val)-1]) && esc != end-1 {
		val = val[:len(val)-1]
	}
	var b strings.Builder
	for _, r := range val {
		switch {
		case r > unicode.MaxRune:
			b.WriteByte('\\')
			b.WriteString(hex.EncodeToString([]byte{byte(r - badByte)}))
		case r == '\\' || r == '+' || r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			writeJavaUpper(&b, r)
		}
	}
	return b.String(), true
}

// writeJavaUpper writes r as String.toUpperCase(Locale.ENGLISH) does.
func writeJavaUpper(b *strings.Builder, r rune) {
	if u, ok := javaSpecialUpper[r]; ok {
		b.WriteString(u)
	} else {
		b.WriteRune(unicode.ToUpper(r))
	}
}

// badByte+b stands for a byte b that is not UTF-8 in javaChars' result.
const badByte = unicode.MaxRune + 1

// javaChars returns the characters of s, a byte that is not UTF-8 as
// badByte plus the byte.
func javaChars(s string) []rune {
	c := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = badByte + rune(s[i])
		}
		c = append(c, r)
		i += size
	}
	return c
}

// javaSpace is Rdn's and Rfc2253Parser's isWhitespace.
func javaSpace(r rune) bool { return r == ' ' || r == '\r' }

// javaLetterOrDigit is Character.isLetterOrDigit of a Java char: a
// character outside the BMP is two chars, neither a letter.
func javaLetterOrDigit(r rune) bool {
	return r <= 0xFFFF && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// javaHexDigit is Character.digit(c, 16) of a Java char: any decimal
// digit (U+0663 is 3) and the Latin and full-width letters a to f.
func javaHexDigit(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= 'a' && r <= 'f':
		return int(r-'a') + 10
	case r >= 'A' && r <= 'F':
		return int(r-'A') + 10
	case r >= 0xFF21 && r <= 0xFF26:
		return int(r-0xFF21) + 10
	case r >= 0xFF41 && r <= 0xFF46:
		return int(r-0xFF41) + 10
	case r <= 0xFFFF && unicode.IsDigit(r):
		// Decimal digits come in runs of ten, from 0 to 9.
		z := r
		for unicode.IsDigit(z - 1) {
			z--
		}
		return int(r-z) % 10
	}
	return -1
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
