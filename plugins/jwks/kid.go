package jwks

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
)

// MaxKIDLength bounds the kid a lookup accepts; longer ones cannot match a
// provider's key and are refused before any refresh.
const MaxKIDLength = 1024

// UnescapeKID undoes Java string escapes in a token's kid, as OpenSearch does
// before the lookup (commons-lang StringEscapeUtils.unescapeJava): \\ \" \'
// \b \f \n \r \t, octal \0 to \377, \uXXXX (UTF-16, surrogate pairs
// joined), and a backslash before any other character is dropped, so
// "kid\/1" is "kid/1". An incomplete \u escape is an error.
func UnescapeKID(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	var pending rune = -1 // a high surrogate waiting for its pair
	flush := func() {
		if pending >= 0 {
			b.WriteRune(utf16.DecodeRune(pending, 0))
			pending = -1
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			flush()
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 == len(s) { // a trailing lone backslash is dropped
			break
		}
		n := s[i+1]
		switch {
		case n == 'u':
			j := i + 1
			for j < len(s) && s[j] == 'u' {
				j++
			}
			if j < len(s) && s[j] == '+' {
				j++
			}
			if j+4 > len(s) {
				return "", errors.New("incomplete unicode escape in kid")
			}
			v, err := strconv.ParseUint(s[j:j+4], 16, 16)
			if err != nil {
				return "", errors.New("invalid unicode escape in kid")
			}
			r := rune(v)
			switch {
			case utf16.IsSurrogate(r) && r < 0xdc00:
				flush()
				pending = r
			case utf16.IsSurrogate(r) && pending >= 0:
				b.WriteRune(utf16.DecodeRune(pending, r))
				pending = -1
			default:
				flush()
				b.WriteRune(r)
			}
			i = j + 4
			continue
		case n >= '0' && n <= '7':
			max := 2
			if n <= '3' {
				max = 3
			}
			j := i + 1
			for j < len(s) && j-(i+1) < max && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i+1:j], 8, 16)
			flush()
			b.WriteRune(rune(v))
			i = j
			continue
		}
		flush()
		switch n {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		default: // \\ \" \' and any other escaped character stand for themselves
			b.WriteByte(n)
		}
		i += 2
	}
	flush()
	return b.String(), nil
}
