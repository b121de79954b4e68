package ldap

import (
	"encoding/hex"
	"errors"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// normalizeDN returns s as a DN the directory and go-ldap accept, and
// whether s is a non-empty DN at all. A DN go-ldap parses is returned as
// written. One it refuses but Java's LdapName (and so OpenSearch) accepts,
// such as an escaped character that needs no escape (`CN=AA BB\/CC`) or a
// quoted value (`cn="Doe, John"`), is rewritten in RFC 4514 form
// (`CN=AA BB/CC`, `cn=Doe\, John`).
func normalizeDN(s string) (string, bool) {
	if !strings.Contains(s, "=") {
		return "", false
	}
	if d, err := goldap.ParseDN(s); err == nil {
		return s, len(d.RDNs) > 0
	}
	n, err := rewriteDN(s)
	if err != nil {
		return "", false
	}
	if d, err := goldap.ParseDN(n); err != nil || len(d.RDNs) == 0 {
		return "", false
	}
	return n, true
}

// isDN reports whether s parses as a non-empty DN (see normalizeDN).
func isDN(s string) bool {
	_, ok := normalizeDN(s)
	return ok
}

// dnKey returns the key under which two DNs are one, as OpenSearch's
// Set<LdapName> holds them: that of Java's LdapName (see ldapNameKey). A
// DN Java refuses but go-ldap reads is keyed by go-ldap's normal form, and
// any other string folded as written; the first byte keeps the three
// kinds of key apart.
func dnKey(dn string) string {
	if k, ok := ldapNameKey(dn); ok {
		return "L" + k
	}
	if n, ok := normalizeDN(dn); ok {
		if d, err := goldap.ParseDN(n); err == nil {
			return "G" + strings.ToLower(d.String())
		}
	}
	return "S" + strings.ToLower(strings.TrimSpace(dn))
}

// rewriteDN reads s as Java's RFC 2253 parser does and writes it in RFC
// 4514 form: RDNs separated by ',' or ';', attribute values joined by '+',
// a value quoted ("...") or not, where '\' escapes any character or starts
// a pair of hex digits; unescaped spaces around a value are dropped. A
// #hex value is kept as written.
func rewriteDN(s string) (string, error) {
	var b strings.Builder
	i := 0
	skipSpace := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	for {
		skipSpace()
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return "", errors.New("attribute type without '='")
		}
		typ := strings.TrimSpace(s[i : i+eq])
		if typ == "" || strings.ContainsAny(typ, ",;+\"\\") {
			return "", errors.New("invalid attribute type")
		}
		i += eq + 1
		skipSpace()
		var val []byte
		raw := ""
		switch {
		case i < len(s) && s[i] == '"':
			i++
			closed := false
			for i < len(s) && !closed {
				switch c := s[i]; c {
				case '"':
					closed = true
					i++
				case '\\':
					c, n, err := unescape(s[i:])
					if err != nil {
						return "", err
					}
					val = append(val, c)
					i += n
				default:
					val = append(val, c)
					i++
				}
			}
			if !closed {
				return "", errors.New("unterminated quoted value")
			}
			skipSpace()
		case i < len(s) && s[i] == '#':
			j := i
			for j < len(s) && !strings.ContainsRune(",;+ ", rune(s[j])) {
				j++
			}
			raw = s[i:j]
			i = j
			skipSpace()
		default:
			kept := 0 // length of val up to its last escaped byte: never trimmed
			for i < len(s) && !strings.ContainsRune(",;+", rune(s[i])) {
				if s[i] == '\\' {
					c, n, err := unescape(s[i:])
					if err != nil {
						return "", err
					}
					val = append(val, c)
					kept = len(val)
					i += n
					continue
				}
				val = append(val, s[i])
				i++
			}
			for len(val) > kept && val[len(val)-1] == ' ' {
				val = val[:len(val)-1]
			}
		}
		b.WriteString(typ)
		b.WriteByte('=')
		if raw != "" {
			b.WriteString(raw)
		} else {
			b.WriteString(escapeDNValue(val))
		}
		if i == len(s) {
			return b.String(), nil
		}
		switch s[i] {
		case ',', ';':
			b.WriteByte(',')
		case '+':
			b.WriteByte('+')
		default:
			return "", errors.New("text after a quoted value")
		}
		i++
	}
}

// unescape reads the escape at the start of s ("\xx" in hex, or '\' and
// any character) and returns the byte it stands for and its length. An
// escaped multi-byte character is returned a byte at a time: its
// continuation bytes follow unescaped and are copied as they are.
func unescape(s string) (byte, int, error) {
	if len(s) < 2 {
		return 0, 0, errors.New("'\\' at the end")
	}
	if len(s) >= 3 {
		if v, err := hex.DecodeString(s[1:3]); err == nil {
			return v[0], 3, nil
		}
	}
	return s[1], 2, nil
}

// escapeDNValue writes an attribute value as RFC 4514 asks: the special
// characters, a leading '#' or space and a trailing space escaped with
// '\', control bytes in hex.
func escapeDNValue(v []byte) string {
	var b strings.Builder
	for i, c := range v {
		switch {
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
