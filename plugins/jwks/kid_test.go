package jwks

import "testing"

func TestUnescapeKID(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "plain kid is unchanged", in: "kid/1", want: "kid/1"},
		{name: "escaped slash loses its backslash", in: `kid\/1`, want: "kid/1"},
		{name: "double backslash is one backslash", in: `a\\b`, want: `a\b`},
		{name: "quote escapes", in: `\"x\'`, want: `"x'`},
		{name: "control escapes", in: `a\tb\nc\rd\be\ff`, want: "a\tb\nc\rd\be\ff"},
		{name: "unicode escape", in: `caf\u00e9`, want: "café"},
		{name: "unicode escape with several u", in: `\uuu0041`, want: "A"},
		{name: "surrogate pair", in: `\ud83d\ude00`, want: "😀"},
		{name: "octal escapes", in: `\101\60\0`, want: "A0\x00"},
		{name: "octal escape of at most three digits", in: `\1011`, want: "A1"},
		{name: "trailing backslash is dropped", in: `abc\`, want: "abc"},
		{name: "unknown escape drops the backslash", in: `\q`, want: "q"},
		{name: "incomplete unicode escape is an error", in: `\u12`, wantErr: true},
		{name: "non-hex unicode escape is an error", in: `\uzzzz`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnescapeKID(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Fatalf("UnescapeKID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzUnescapeKID checks that kid unescaping never panics and never makes
// a kid longer.
func FuzzUnescapeKID(f *testing.F) {
	for _, s := range []string{`kid\/1`, `\u00e9\ud83d\ude00`, `\377\1`, `\u12`, `\`, "a\\\xff", `\ud800x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, kid string) {
		out, err := UnescapeKID(kid)
		if err == nil && len(out) > len(kid) {
			t.Fatalf("unescaped %q into %q, which is longer", kid, out)
		}
	})
}
