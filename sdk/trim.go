package sdk

import "strings"

// JavaTrim is Java's String.trim, which OpenSearch applies to user names,
// roles and header values: it strips every character up to U+0020 (the C0
// controls and the space) from both ends, and nothing else. Realms use it
// instead of strings.TrimSpace, which also strips Unicode spaces such as
// U+00A0 and keeps controls, so that "admin\u00a0" stays a name of its own
// and "\x01admin" is "admin", as in OpenSearch.
func JavaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}
