package sdk

import "testing"

func TestSuggest(t *testing.T) {
	keys := []string{"challenge", "config", "type", "http_enabled", "internalProxies", "backend_roles", "order"}
	tests := []struct {
		name, in, want string
	}{
		{name: "one letter missing", in: "chalenge", want: "challenge"},
		{name: "transposed letters", in: "chllaenge", want: "challenge"},
		{name: "case only", in: "internalproxies", want: "internalProxies"},
		{name: "one letter dropped at the end", in: "http_enable", want: "http_enabled"},
		{name: "legacy spelling", in: "backendroles", want: "backend_roles"},
		{name: "short key, one edit", in: "typ", want: "type"},
		{name: "short key, too far", in: "tp", want: ""},
		{name: "unrelated", in: "signing_key", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Suggest(tt.in, keys); got != tt.want {
				t.Errorf("Suggest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"abc", "", 3}, {"kitten", "sitting", 3},
		{"ab", "ba", 1}, {"order", "ordr", 1}, {"äöü", "aöü", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
