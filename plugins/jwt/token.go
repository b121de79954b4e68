package jwt

import (
	"strings"

	"github.com/realmd/realmd/sdk"
)

// ExtractToken finds the token in r exactly as OpenSearch does (spec 3.2,
// "Common token handling"):
//   - the value of header (its last line when repeated, as OpenSearch's
//     REST layer keeps it); when header is Authorization, a
//     value matching ^\s*Basic\s (any case) counts as no token;
//   - when that is empty and urlParameter is set, the query parameter
//     (its last value when repeated: OpenSearch's RestUtils keeps the last);
//   - if "bearer " occurs anywhere in the value (any case), the token is
//     everything after its first occurrence; otherwise the whole value.
//
// It returns "" when r carries no token.
func ExtractToken(r *sdk.Request, header, urlParameter string) string {
	v := r.HeaderValue(header)
	if strings.EqualFold(header, DefaultHeader) && isBasic(v) {
		v = ""
	}
	if v == "" && urlParameter != "" {
		if q := r.Query[urlParameter]; len(q) > 0 {
			v = q[len(q)-1]
		}
	}
	if v == "" {
		return ""
	}
	if i := indexFold(v, "bearer "); i >= 0 {
		v = v[i+len("bearer "):]
	}
	return v
}

// isBasic matches ^\s*Basic\s (case-insensitive) with Java's \s.
func isBasic(v string) bool {
	v = strings.TrimLeft(v, " \t\n\v\f\r")
	return len(v) > 5 && strings.EqualFold(v[:5], "basic") && strings.ContainsRune(" \t\n\v\f\r", rune(v[5]))
}

// indexFold is strings.Index with ASCII case folding (sub must be lower
// case). Unlike lower-casing the whole value first, it keeps byte offsets
// exact for any input.
func indexFold(s, sub string) int {
	n := len(sub)
outer:
	for i := 0; i+n <= len(s); i++ {
		for j := 0; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				continue outer
			}
		}
		return i
	}
	return -1
}
