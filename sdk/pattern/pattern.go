// Package pattern matches strings the way OpenSearch's WildcardMatcher does:
// `*` matches everything, `/regex/` is a full-match regular expression, a
// string with `*` or `?` is a glob, anything else matches exactly. Matching is
// case-sensitive. Role mappings, LDAP skip_users, exclude_roles and attribute
// allow-lists all use it.
package pattern

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Matcher matches strings against one pattern.
type Matcher struct {
	source string
	kind   kind
	lit    string
	re     *regexp.Regexp
}

type kind int

const (
	none kind = iota
	any
	exact
	prefix
	contains
	glob
	regex
)

// Compile parses one pattern. Only a bad `/regex/` (or a lone `/`) fails.
// Regular expressions use Go's RE2 syntax, which lacks Java's backreferences
// and lookaround; such a pattern is an error, never a silent non-match.
func Compile(s string) (Matcher, error) {
	m := Matcher{source: s}
	switch {
	case strings.TrimSpace(s) == "":
		m.kind = none
	case s == "*":
		m.kind = any
	case s == "/":
		return m, fmt.Errorf("pattern %q: a regular expression must be written /regex/", s)
	case len(s) > 1 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/"):
		re, err := CompileWhole(s[1 : len(s)-1])
		if err != nil {
			return m, fmt.Errorf("pattern %q: %w", s, err)
		}
		m.kind, m.re = regex, re
	case !strings.ContainsAny(s, "*?"):
		m.kind, m.lit = exact, s
	case strings.HasSuffix(s, "*") && !strings.ContainsAny(s[:len(s)-1], "*?"):
		m.kind, m.lit = prefix, s[:len(s)-1]
	case len(s) > 2 && strings.HasPrefix(s, "*") && strings.HasSuffix(s, "*") && !strings.ContainsAny(s[1:len(s)-1], "*?"):
		m.kind, m.lit = contains, s[1:len(s)-1]
	default:
		m.kind, m.lit = glob, s
	}
	return m, nil
}

// CompileWhole compiles expr to match whole strings only, as Java's
// Matcher.matches() does. expr is compiled alone first: with an unbalanced
// ")" of its own ("nobody)|(.*") it would close the anchoring group and
// match anything, where Java refuses it (found by review). Constructs Go
// reads other than Java are refused too (see javaDifference and
// anchorDifference); the flag i, ., \s and \S are rewritten to match what
// Java's match (see javaRewrite).
func CompileWhole(expr string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(expr); err != nil {
		return nil, err
	}
	if d := javaDifference(expr); d != "" {
		return nil, fmt.Errorf("%s means something else in Java's regular expressions, which OpenSearch uses", d)
	}
	expr, d := javaRewrite(expr)
	if d == "" {
		d = anchorDifference(expr)
	}
	if d != "" {
		return nil, fmt.Errorf("%s means something else in Java's regular expressions, which OpenSearch uses", d)
	}
	return regexp.Compile(`^(?:` + expr + `)$`)
}

// anchorDifference names an anchor of expr (rewritten by javaRewrite) that
// Java's Pattern may place elsewhere than Go, for a whole match: a $ that
// more of expr, able to match a line terminator, follows (Java's $ also
// matches before a final \n, \r\n, \r, U+0085, U+2028 or U+2029, so that
// /a$\n/ matches "a\n" there, found by review), or ^ or $ under the flag m
// (Java's also match at \r, U+0085, U+2028 and U+2029, and its ^ not at the
// end). "" when there is none.
func anchorDifference(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "" // Compile reports it
	}
	return anchorWalk(re, false)
}

// anchorWalk is anchorDifference for re, which what can match a line
// terminator follows if terminatorAfter.
func anchorWalk(re *syntax.Regexp, terminatorAfter bool) string {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine:
		return "^ or $ under the flag m"
	case syntax.OpEndText:
		if re.Flags&syntax.WasDollar != 0 && terminatorAfter {
			return `$ before what can match a line terminator (\z is the end of the input in both)`
		}
	case syntax.OpConcat:
		// after[k]: what can match a line terminator follows re.Sub[k].
		after := make([]bool, len(re.Sub))
		follows := terminatorAfter
		for k := len(re.Sub) - 1; k >= 0; k-- {
			after[k] = follows
			follows = follows || matchesTerminator(re.Sub[k])
		}
		for k, sub := range re.Sub {
			if d := anchorWalk(sub, after[k]); d != "" {
				return d
			}
		}
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		again := re.Op != syntax.OpRepeat || re.Max == -1 || re.Max > 1
		return anchorWalk(re.Sub[0], terminatorAfter || again && matchesTerminator(re.Sub[0]))
	default:
		for _, sub := range re.Sub {
			if d := anchorWalk(sub, terminatorAfter); d != "" {
				return d
			}
		}
	}
	return ""
}

// matchesTerminator reports whether re can match a string with a line
// terminator (as Java's $ reads it) in it.
func matchesTerminator(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpLiteral:
		return strings.ContainsAny(string(re.Rune), "\n\r\u0085\u2028\u2029")
	case syntax.OpCharClass:
		for k := 0; k < len(re.Rune); k += 2 {
			for _, t := range "\n\r\u0085\u2028\u2029" {
				if re.Rune[k] <= t && t <= re.Rune[k+1] {
					return true
				}
			}
		}
		return false
	}
	for _, sub := range re.Sub {
		if matchesTerminator(sub) {
			return true
		}
	}
	return false
}

// javaDifference names a construct of expr that Go's RE2 reads other than
// Java's Pattern: a POSIX class inside brackets ([[:alpha:]]: in Java the
// characters ":alph"), a class inside a class ([ab[cd]]: in Java the union
// of both, in Go a class and a literal "]"), a class intersection
// ([a-z&&[^b]]: in Go the character "&"), \v (in Java any vertical
// whitespace, in Go only U+000B), an octal escape (\12: in Java a
// backreference, and \0101 is "A" there but "\b1" in Go) or the flag U (in
// Java Unicode classes, in Go lazy repetition), a repetition of a flag
// group (Java refuses *, + and ? there and repeats nothing by {n}; Go
// repeats what came before the group: K(?s)*_ is K*_) or a group name used
// twice (Java refuses it; both found by review). "" when there is none.
func javaDifference(expr string) string {
	inClass := false
	names := map[string]bool{}
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '\\' && i+1 < len(expr):
			i++ // the escaped character
			switch e := expr[i]; {
			case e == 'Q' && !inClass: // literal text up to \E
				end := strings.Index(expr[i:], `\E`)
				if end < 0 {
					return ""
				}
				i += end + 1
			case e == 'v':
				return `\v`
			case e >= '0' && e <= '7':
				return "the octal escape " + expr[i-1:i+1] + ` (use \x{...})`
			}
		case c == '[' && inClass:
			if strings.HasPrefix(expr[i:], "[:") {
				return "the POSIX class " + expr[i:min(len(expr), i+strings.Index(expr[i:]+":]", ":]")+2)] + " (list its characters instead, e.g. a-zA-Z for [:alpha:])"
			}
			return "a class inside a class (in Java their union)"
		case c == '[':
			inClass = true
			// A "]" first in a class (after an optional "^") is a literal.
			if strings.HasPrefix(expr[i+1:], "^") {
				i++
			}
			if strings.HasPrefix(expr[i+1:], "]") {
				i++
			}
		case c == ']' && inClass:
			inClass = false
		case c == '&' && inClass && strings.HasPrefix(expr[i:], "&&"):
			return "the class intersection &&"
		case c == '(' && !inClass && (strings.HasPrefix(expr[i:], "(?<") || strings.HasPrefix(expr[i:], "(?P<")):
			name := expr[strings.IndexByte(expr[i:], '<')+i+1:]
			name = name[:strings.IndexByte(name, '>')]
			if names[name] {
				return "the group name " + name + " used twice"
			}
			names[name] = true
		case c == '(' && !inClass && strings.HasPrefix(expr[i:], "(?"):
			flags := expr[i+2:]
			flags = flags[:len(flags)-len(strings.TrimLeft(flags, "imsU-"))]
			if strings.Contains(flags, "U") {
				return "the flag U"
			}
			if after := expr[i+2+len(flags):]; strings.HasPrefix(after, ")") && len(after) > 1 && strings.ContainsRune("*+?{", rune(after[1])) {
				return "a repetition of the flag group " + expr[i:i+3+len(flags)+1]
			}
		}
	}
	return ""
}

// MustCompile is Compile for patterns known to be valid; it panics otherwise.
func MustCompile(s string) Matcher {
	m, err := Compile(s)
	if err != nil {
		panic(err)
	}
	return m
}

// String returns the pattern as written.
func (m Matcher) String() string { return m.source }

// Match reports whether s matches.
func (m Matcher) Match(s string) bool {
	switch m.kind {
	case any:
		return true
	case exact:
		return s == m.lit
	case prefix:
		return strings.HasPrefix(s, m.lit)
	case contains:
		return strings.Contains(s, m.lit)
	case glob:
		return matchGlob(m.lit, s)
	case regex:
		return m.re.MatchString(s)
	}
	return false
}

// matchGlob matches `*` (any run, also empty) and `?` (one character),
// iteratively with backtracking to the last star: linear in practice, no
// recursion on hostile input.
func matchGlob(p, s string) bool {
	pr, sr := []rune(p), []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(sr) {
		switch {
		case pi < len(pr) && pr[pi] == '*': // a star in the pattern is always a wildcard, even facing a '*' in s
			star, mark = pi, si
			pi++
		case pi < len(pr) && (pr[pi] == '?' || pr[pi] == sr[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}

// Set is a list of patterns; it matches when any of them does.
type Set []Matcher

// CompileSet compiles every pattern; the error names each bad one.
func CompileSet(patterns []string) (Set, error) {
	set := make(Set, 0, len(patterns))
	var errs []string
	for _, p := range patterns {
		m, err := Compile(p)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		set = append(set, m)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return set, nil
}

// Match reports whether any pattern matches s.
func (set Set) Match(s string) bool {
	for _, m := range set {
		if m.Match(s) {
			return true
		}
	}
	return false
}

// MatchAny reports whether any pattern matches any of ss.
func (set Set) MatchAny(ss []string) bool {
	for _, s := range ss {
		if set.Match(s) {
			return true
		}
	}
	return false
}
