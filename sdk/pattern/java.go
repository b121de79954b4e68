package pattern

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// javaRewrite returns expr rewritten so that Go matches what Java's Pattern
// matches, or, as diff, a construct it cannot rewrite. expr compiles in Go
// and javaDifference finds nothing in it.
//
// The flag i folds ASCII letters only, as Java's CASE_INSENSITIVE does
// without UNICODE_CASE (which Go cannot spell: (?u) is an error); Go's folds
// all of Unicode, so that (?i)sysadmin matched ſysadmin and (?i)é matched É
// (found by review). The flag is dropped and each ASCII letter it covers
// written as both cases. \p{..} under the flag is refused: Java reads
// (?i)\p{Lu} as any cased letter, Go as the letters that fold to one.
func javaRewrite(expr string) (out string, diff string) {
	var b strings.Builder
	fold := false
	var outer []bool // the flag of each enclosing group
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case strings.HasPrefix(expr[i:], `\Q`):
			text, _, _ := strings.Cut(expr[i+2:], `\E`)
			n := 2 + len(text) + 2
			if !fold {
				b.WriteString(expr[i:min(i+n, len(expr))])
			} else {
				for _, r := range text {
					if !writeFolded(&b, r) {
						b.WriteString(regexp.QuoteMeta(string(r)))
					}
				}
			}
			i += n
		case c == '\\':
			n, r, class := escape(expr[i:])
			switch {
			case class == 0 && fold && writeFolded(&b, r):
			case fold && (class == 'p' || class == 'P'):
				return "", expr[i:i+n] + " under the flag i"
			default:
				b.WriteString(expr[i : i+n])
			}
			i += n
		case c == '[':
			n, class, d := foldClass(expr[i:], fold)
			if d != "" {
				return "", d
			}
			b.WriteString(class)
			i += n
		case strings.HasPrefix(expr[i:], "(?P<") || strings.HasPrefix(expr[i:], "(?<"):
			n := strings.IndexByte(expr[i:], '>') + 1
			outer = append(outer, fold)
			b.WriteString(expr[i : i+n])
			i += n
		case strings.HasPrefix(expr[i:], "(?"):
			end := i + 2 + len(expr[i+2:]) - len(strings.TrimLeft(expr[i+2:], "ims-"))
			on, set := true, fold
			var pos, neg string
			for _, f := range expr[i+2 : end] {
				switch {
				case f == '-':
					on = false
				case f == 'i':
					set = on
				case on:
					pos += string(f)
				default:
					neg += string(f)
				}
			}
			flags := pos
			if neg != "" {
				flags += "-" + neg
			}
			if expr[end] == ')' { // (?i): the rest of this group
				fold = set
				if flags != "" {
					b.WriteString("(?" + flags + ")")
				}
			} else { // (?i:...)
				outer = append(outer, fold)
				fold = set
				b.WriteString("(?" + flags + ":")
			}
			i = end + 1
		case c == '(':
			outer = append(outer, fold)
			b.WriteByte(c)
			i++
		case c == ')':
			fold = outer[len(outer)-1]
			outer = outer[:len(outer)-1]
			b.WriteByte(c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(expr[i:])
			if !fold || !writeFolded(&b, r) {
				b.WriteString(expr[i : i+n])
			}
			i += n
		}
	}
	return b.String(), ""
}

// foldClass returns the class that s starts with, its length in s, and
// under the flag i, the class with the other case of each ASCII letter in
// it added: (?i)[^a-c] is [^a-cA-C], as in Java.
func foldClass(s string, fold bool) (n int, class string, diff string) {
	i := 1
	if strings.HasPrefix(s[i:], "^") {
		i++
	}
	var lo, hi []rune // the ranges the class lists
	for first := true; first || s[i] != ']'; first = false {
		r, m := utf8.DecodeRuneInString(s[i:])
		if r == '\\' {
			var class byte
			m, r, class = escape(s[i:])
			if class != 0 {
				if fold && (class == 'p' || class == 'P') {
					return 0, "", s[i:i+m] + " under the flag i"
				}
				i += m
				continue
			}
		}
		i += m
		to := r
		if s[i] == '-' && s[i+1] != ']' {
			i++
			to, m = utf8.DecodeRuneInString(s[i:])
			if to == '\\' {
				m, to, _ = escape(s[i:])
			}
			i += m
		}
		lo, hi = append(lo, r), append(hi, to)
	}
	if !fold {
		return i + 1, s[:i+1], ""
	}
	open := "["
	if s[1] == '^' {
		open = "[^"
	}
	var added strings.Builder
	for k := range lo {
		for _, d := range [][3]rune{{'A', 'Z', 'a' - 'A'}, {'a', 'z', 'A' - 'a'}} {
			if from, to := max(lo[k], d[0]), min(hi[k], d[1]); from <= to {
				added.WriteString(string(from+d[2]) + "-" + string(to+d[2]))
			}
		}
	}
	// The added ranges go first: a "-" may end the class. A "]" or "-" they
	// now precede is escaped, as it is no longer first.
	rest := s[len(open) : i+1]
	if added.Len() > 0 && (rest[0] == ']' || rest[0] == '-') {
		rest = `\` + rest
	}
	return i + 1, open + added.String() + rest, ""
}

// escape reads the escape s starts with (s compiles in Go): its length, and
// the character it stands for, or the letter of the class it names (d, s, w,
// p, b, A, z and their negations).
func escape(s string) (n int, r rune, class byte) {
	switch c := s[1]; c {
	case 'x':
		hex, n := s[2:4], 4
		if s[2] == '{' {
			end := strings.IndexByte(s, '}')
			hex, n = s[3:end], end+1
		}
		v, _ := strconv.ParseUint(hex, 16, 32)
		return n, rune(v), 0
	case 'p', 'P':
		if s[2] == '{' {
			return strings.IndexByte(s, '}') + 1, 0, c
		}
		_, m := utf8.DecodeRuneInString(s[2:])
		return 2 + m, 0, c
	case 'd', 'D', 's', 'S', 'w', 'W', 'b', 'B', 'A', 'z':
		return 2, 0, c
	case 'a':
		return 2, '\a', 0
	case 'f':
		return 2, '\f', 0
	case 't':
		return 2, '\t', 0
	case 'n':
		return 2, '\n', 0
	case 'r':
		return 2, '\r', 0
	}
	return 2, rune(s[1]), 0 // an escaped punctuation character
}

// writeFolded writes r, if it is an ASCII letter, as the class of both its
// cases, and reports whether it did.
func writeFolded(b *strings.Builder, r rune) bool {
	switch {
	case 'a' <= r && r <= 'z':
		b.WriteString("[" + string(r) + string(r-'a'+'A') + "]")
	case 'A' <= r && r <= 'Z':
		b.WriteString("[" + string(r) + string(r-'A'+'a') + "]")
	default:
		return false
	}
	return true
}
