package ldap

import (
	"encoding/hex"
	"strings"
	"unicode"
)

// A DN is read once, as Java's LdapName reads it (OpenSearch's
// LDAPAuthorizationBackend tells a DN from a role name with new
// LdapName, and keeps role DNs in a Set<LdapName>): parseDN is that
// reading, isDN, dnKey and lookupDN are what realmd needs of it.

// dnAttr is one attribute of an RDN, as Java's Rdn holds it.
type dnAttr struct {
	typ string // as written, without the spaces around it
	val string // the value as Rdn.unescapeValue returns it; "" for #hex
	hex []byte // the bytes of a #hex value (Rdn.decodeHexPairs); nil for text
	bin bool   // a #hex value
}

// parseDN reads s as Java's Rfc2253Parser and Rdn.unescapeValue read it
// and returns its RDNs in the order written, each with its attributes in
// the order written; false when Java's LdapName refuses s. "" has no RDN;
// a ',' or ';' at the end adds an empty one, as in Java (cn=a, is two
// RDNs). The bytes of s are first decoded as Java decodes UTF-8 (see
// javaChars), and so are the octets of a run of \xx escapes.
func parseDN(s string) ([][]dnAttr, bool) {
	c := javaChars([]byte(s))
	n, p := len(c), 0
	if n == 0 {
		return nil, true
	}
	skipSpace := func() {
		for p < n && javaSpace(c[p]) {
			p++
		}
	}
	var rdns [][]dnAttr
	for {
		// Rfc2253Parser.doParse: one RDN, its attributes joined by '+'.
		var rdn []dnAttr
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
				return nil, false
			}
			typ := string(c[beg:p])
			skipSpace()
			if p >= n || c[p] != '=' {
				return nil, false
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
					return nil, false
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
					return nil, false
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
			a, ok := javaValue(c[beg:end])
			if !ok {
				return nil, false
			}
			a.typ = typ
			rdn = append(rdn, a)
			skipSpace()
			if p >= n || c[p] != '+' {
				break
			}
			p++
		}
		rdns = append(rdns, rdn)
		if p >= n {
			return rdns, true
		}
		if c[p] != ',' && c[p] != ';' {
			return nil, false
		}
		p++
	}
}

// javaValue reads an attribute value as Rdn.unescapeValue does; false
// when Java refuses it.
func javaValue(v []rune) (dnAttr, bool) {
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
		return dnAttr{}, true
	}
	if v[beg] == '#' {
		// Rdn.decodeHexPairs: the bytes as written, not their BER.
		b := []byte{}
		i := beg + 1
		for ; i+1 < end; i += 2 {
			hi, lo := javaHexDigit(v[i]), javaHexDigit(v[i+1])
			if hi < 0 || lo < 0 {
				break
			}
			b = append(b, byte(hi<<4|lo))
		}
		return dnAttr{hex: b, bin: true}, i == end
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
			return dnAttr{}, false
		}
		val = append(val, javaChars(octets)...)
		i += 3*len(octets) - 1
	}
	if len(val) == 0 {
		return dnAttr{}, false // Java's charAt(-1) throws, as for cn=""
	}
	if javaSpace(val[len(val)-1]) && esc != end-1 {
		val = val[:len(val)-1]
	}
	return dnAttr{val: string(val)}, true
}

// isDN reports whether OpenSearch takes s for a DN: s is not empty and
// Java's LdapName reads it (LDAPAuthorizationBackend.isValidDn).
func isDN(s string) bool {
	if s == "" {
		return false
	}
	_, ok := parseDN(s)
	return ok
}

// lookupDN returns the DN s (see isDN) in RFC 4514 form, with the values
// Java reads in it, to be sent to the directory: `CN=AA BB\/CC` as
// `CN=AA BB/CC`, `cn="Doe, John"` as `cn=Doe\, John`, `cn=\c4` (not
// UTF-8) as Java's U+FFFD. OpenSearch sends the DN rebuilt from its
// LdapName too (LdapHelper.escapeDn). False when s is no DN or has an
// empty RDN (cn=a,), which names no entry (escapeDn throws on it).
func lookupDN(s string) (string, bool) {
	rdns, ok := parseDN(s)
	if !ok || len(rdns) == 0 {
		return "", false
	}
	var b strings.Builder
	for i, rdn := range rdns {
		if len(rdn) == 0 {
			return "", false
		}
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdn {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(a.typ)
			b.WriteByte('=')
			if a.bin {
				b.WriteByte('#')
				b.WriteString(hex.EncodeToString(a.hex))
			} else {
				b.WriteString(escapeDNValue(a.val))
			}
		}
	}
	return b.String(), true
}

// escapeDNValue writes an attribute value as RFC 4514 asks: the special
// characters, a leading '#' or space and a trailing space escaped with
// '\', control characters in hex.
func escapeDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case strings.IndexByte(`"+,;<>\=`, c) >= 0,
			c == '#' && i == 0,
			c == ' ' && (i == 0 || i == len(v)-1):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			b.WriteByte('\\')
			b.WriteString(hex.EncodeToString([]byte{c}))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// javaChars returns the characters of b as Java's String(bytes, UTF_8)
// decodes them: a byte sequence that is not UTF-8 becomes U+FFFD, as
// many times as Java writes it (TestJavaChars_AsJDK checks this against
// the JDK).
func javaChars(b []byte) []rune {
	const repl = unicode.ReplacementChar
	cont := func(i int) bool { return i < len(b) && b[i]&0xC0 == 0x80 }
	c := make([]rune, 0, len(b))
	for i := 0; i < len(b); {
		b1 := b[i]
		switch {
		case b1 < 0x80:
			c = append(c, rune(b1))
			i++
		case b1 >= 0xC2 && b1 <= 0xDF:
			if cont(i + 1) {
				c = append(c, rune(b1&0x1F)<<6|rune(b[i+1]&0x3F))
				i += 2
			} else {
				c = append(c, repl)
				i++
			}
		case b1 >= 0xE0 && b1 <= 0xEF:
			// A second byte that cannot follow b1 ends the sequence at b1.
			bad2 := i+1 < len(b) && (!cont(i+1) || b1 == 0xE0 && b[i+1] < 0xA0)
			switch {
			case i+2 >= len(b) && !bad2:
				// Cut short by the end: one U+FFFD for what is left.
				return append(c, repl)
			case bad2:
				c = append(c, repl)
				i++
			case !cont(i + 2):
				c = append(c, repl)
				i += 2
			default:
				r := rune(b1&0x0F)<<12 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F)
				if r >= 0xD800 && r <= 0xDFFF {
					r = repl // an encoded surrogate: one U+FFFD for three bytes
				}
				c = append(c, r)
				i += 3
			}
		case b1 >= 0xF0 && b1 <= 0xF7:
			bad2 := i+1 < len(b) && (b1 > 0xF4 || !cont(i+1) ||
				b1 == 0xF0 && b[i+1] < 0x90 || b1 == 0xF4 && b[i+1] > 0x8F)
			switch {
			case b1 > 0xF4 || bad2:
				c = append(c, repl)
				i++
			case i+3 >= len(b):
				// Cut short by the end: one U+FFFD for b1 and the next
				// byte; a third byte that is not a continuation is read
				// again, any other end is dropped.
				c = append(c, repl)
				if i+2 < len(b) && !cont(i+2) {
					i += 2
					continue
				}
				return c
			case !cont(i + 2):
				c = append(c, repl)
				i += 2
			case !cont(i + 3):
				c = append(c, repl)
				i += 3
			default:
				c = append(c, rune(b1&0x07)<<18|rune(b[i+1]&0x3F)<<12|rune(b[i+2]&0x3F)<<6|rune(b[i+3]&0x3F))
				i += 4
			}
		default:
			c = append(c, repl)
			i++
		}
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
