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
//
// Without the flag s, Java's . matches no line terminator (\n, \r, U+0085,
// U+2028, U+2029), Go's only no \n, so that /a.b/ matched "a\rb" (found by
// review): such a . is written as the class of all but these. Java's \s is
// [ \t\n\x0B\f\r], Go's lacks \x0B, so that /\S/ matched "\v" (found by
// review): \s and \S are written as Java's class, also inside a class.
func javaRewrite(expr string) (out string, diff string) {
	var b strings.Builder
	var fl groupFlags      // the flags i and s in effect
	var outer []groupFlags // those of each enclosing group
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case strings.HasPrefix(expr[i:], `\Q`):
			text, _, _ := strings.Cut(expr[i+2:], `\E`)
			n := 2 + len(text) + 2
			if !fl.fold {
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
			case class == 0 && fl.fold && writeFolded(&b, r):
			case fl.fold && (class == 'p' || class == 'P'):
				return "", expr[i:i+n] + " under the flag i"
			case class == 's':
				b.WriteString("[" + javaSpace + "]")
			case class == 'S':
				b.WriteString("[^" + javaSpace + "]")
			default:
				b.WriteString(expr[i : i+n])
			}
			i += n
		case c == '[':
			n, class, d := foldClass(expr[i:], fl.fold)
			if d != "" {
				return "", d
			}
			b.WriteString(class)
			i += n
		case strings.HasPrefix(expr[i:], "(?P<") || strings.HasPrefix(expr[i:], "(?<"):
			n := strings.IndexByte(expr[i:], '>') + 1
			outer = append(outer, fl)
			b.WriteString(expr[i : i+n])
			i += n
		case strings.HasPrefix(expr[i:], "(?"):
			end := i + 2 + len(expr[i+2:]) - len(strings.TrimLeft(expr[i+2:], "ims-"))
			on, set := true, fl
			var pos, neg string
			for _, f := range expr[i+2 : end] {
				switch f {
				case '-':
					on = false
					continue
				case 'i': // dropped: the letters are folded here
					set.fold = on
					continue
				case 's': // kept: . is rewritten only without it
					set.dotall = on
				}
				if on {
					pos += string(f)
				} else {
					neg += string(f)
				}
			}
			flags := pos
			if neg != "" {
				flags += "-" + neg
			}
			if expr[end] == ')' { // (?i): the rest of this group
				fl = set
				if flags != "" {
					b.WriteString("(?" + flags + ")")
				}
			} else { // (?i:...)
				outer = append(outer, fl)
				fl = set
				b.WriteString("(?" + flags + ":")
			}
			i = end + 1
		case c == '(':
			outer = append(outer, fl)
			b.WriteByte(c)
			i++
		case c == ')':
			fl = outer[len(outer)-1]
			outer = outer[:len(outer)-1]
			b.WriteByte(c)
			i++
		case c == '.' && !fl.dotall:
			b.WriteString(`[^\n\r\x{85}\x{2028}\x{2029}]`)
			i++
		default:
			r, n := utf8.DecodeRuneInString(expr[i:])
			if !fl.fold || !writeFolded(&b, r) {
				b.WriteString(expr[i : i+n])
			}
			i += n
		}
	}
	return b.String(), ""
}

// groupFlags are the flags javaRewrite rewrites for: i (fold) and s
// (dotall).
type groupFlags struct{ fold, dotall bool }

// javaSpace lists what Java's \s matches, as class items; javaNotSpace all
// other characters.
const (
	javaSpace    = `\t\n\x0B\f\r `
	javaNotSpace = `\x00-\x08\x0E-\x1F\x21-\x{10FFFF}`
)

// foldClass returns the class that s starts with, its length in s, and
// under the flag i, the class with the other case of each ASCII letter in
// it added: (?i)[^a-c] is [^a-cA-C], as in Java. \s and \S in it are
// written as the characters Java's match: [^\S] is [^\x00-\x08...].
func foldClass(s string, fold bool) (n int, class string, diff string) {
	i := 1
	if strings.HasPrefix(s[i:], "^") {
		i++
	}
	open := s[:i]
	var body strings.Builder // the items, \s and \S written as Java's
	var lo, hi []rune        // the ranges the class lists
	for first := true; first || s[i] != ']'; first = false {
		start := i
		r, m := utf8.DecodeRuneInString(s[i:])
		if r == '\\' {
			var class byte
			m, r, class = escape(s[i:])
			if class != 0 {
				switch {
				case fold && (class == 'p' || class == 'P'):
					return 0, "", s[i:i+m] + " under the flag i"
				case class == 's':
					body.WriteString(javaSpace)
				case class == 'S':
					body.WriteString(javaNotSpace)
				default:
					body.WriteString(s[i : i+m])
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
		body.WriteString(s[start:i])
		lo, hi = append(lo, r), append(hi, to)
	}
	rest := body.String() + "]"
	if !fold {
		return i + 1, open + rest, ""
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
