package pattern

import "testing"

func TestMatch_OpenSearchSemantics(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		input   string
		want    bool
	}{
		{"blank never matches", "", "", false},
		{"star matches everything", "*", "anything", true},
		{"exact is case-sensitive", "Admin", "admin", false},
		{"exact matches itself", "admin", "admin", true},
		{"prefix", "kibana*", "kibanaserver", true},
		{"prefix miss", "kibana*", "xkibana", false},
		{"contains", "*dev*", "the-dev-team", true},
		{"question mark is one character", "us?r", "user", true},
		{"question mark is not zero characters", "us?r", "usr", false},
		{"glob with inner star", "cn=*,ou=people", "cn=alice,ou=people", true},
		{"glob backtracks", "a*b*c", "axxbyyc", true},
		{"glob rejects", "a*b*c", "axxbyy", false},
		{"glob star is a wildcard where the input has a literal star", "a*b", "a*xb", true},
		{"glob question mark after a star in the input", "x*y?", "x*zy1", true},
		{"regex is a full match", "/ab+/", "abbb", true},
		{"regex does not match a substring", "/b+/", "abbb", false},
		{"regex alternation is anchored as a whole", "/a|b/", "ab", false},
		{"unicode glob", "§Ä?", "§ÄÖ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Compile(tt.pattern)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.pattern, err)
			}
			if got := m.Match(tt.input); got != tt.want {
				t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.input, got, tt.want)
			}
		})
	}
}

func TestCompile_BadPatternsAreErrors(t *testing.T) {
	for _, p := range []string{"/", "/(unclosed/", "/(?=lookahead)/", "/a{2,1}/",
		// Found by review: an unbalanced ")" closed the anchoring group and
		// matched everything; Java refuses it.
		"/nobody)|(.*/", "/admin)|(?:x/",
		// Read differently by Go and Java: a POSIX class, a class intersection.
		"/[[:alpha:]]/", "/[a-z&&[^b]]/",
		// Found by review: a nested class is a union in Java, in Go a class
		// and a literal "]"; \v is any vertical whitespace in Java, VT in Go.
		"/[ab[cd]]/", "/[^a[b]]/", "/[]a[b]]/", `/a\vb/`, `/[\v]/`,
		// Octal escapes: a backreference in Java, or read to another length.
		`/\12/`, `/\0101/`, `/[\0101]/`,
		// The flag U: Unicode classes in Java, lazy repetition in Go.
		"/(?U)a+/", "/(?iU:a)/", "/(?-U)a/",
	} {
		if _, err := Compile(p); err == nil {
			t.Errorf("Compile(%q) succeeded, want an error", p)
		}
	}
}

func TestSet_MatchAny(t *testing.T) {
	set, err := CompileSet([]string{"admin", "dev*"})
	if err != nil {
		t.Fatal(err)
	}
	if !set.MatchAny([]string{"x", "developers"}) {
		t.Error("want a match on developers")
	}
	if set.MatchAny([]string{"x", "y"}) {
		t.Error("want no match")
	}
	if _, err := CompileSet([]string{"ok", "/(/", "/"}); err == nil {
		t.Error("want an error naming the bad patterns")
	}
}

// An expression that Go and Java read alike still compiles, also with
// brackets, escapes and & outside a class.
func TestCompileWhole_KeepsWhatJavaReadsAlike(t *testing.T) {
	for expr, match := range map[string]string{
		`a|b`:          "b",
		`[a-z]+&&x`:    "ab&&x",
		`\[[:]x`:       "[:x",
		`(?i)admin`:    "ADMIN",
		`cn=[^,]+,o=x`: "cn=a,o=x",
		`[]a]+`:        "]a",
		`[^]a]`:        "b",
		`\[a\[b]`:      "[a[b]",
		`[\[a]`:        "[",
		`\Q[a[b]\v\E`:  `[a[b]\v`,
		`(?s:.)`:       "\n",
		`\x{41}`:       "A",
	} {
		re, err := CompileWhole(expr)
		if err != nil {
			t.Errorf("CompileWhole(%q): %v", expr, err)
			continue
		}
		if !re.MatchString(match) || re.MatchString(match+"tail") {
			t.Errorf("CompileWhole(%q) does not match exactly %q", expr, match)
		}
	}
}
