package sdk

import "testing"

func TestJavaTrim(t *testing.T) {
	for in, want := range map[string]string{
		"  bob  ":               "bob",
		"\x00\t\r\n\x1fbob\x01": "bob",
		"bob\u00a0":             "bob\u00a0", // Java keeps Unicode spaces
		"\u3000bob\u2003":       "\u3000bob\u2003",
		"bob\x7f":               "bob\x7f", // DEL is above U+0020
		" \x01 ":                "",
	} {
		if got := JavaTrim(in); got != want {
			t.Errorf("JavaTrim(%q) = %q, want %q", in, got, want)
		}
	}
}
