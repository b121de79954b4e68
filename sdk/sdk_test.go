package sdk

import "testing"

// A repeated header is its last line, as OpenSearch reads it (found by
// review: wrong-then-right Authorization lines were 401 in realmd, 200 in
// OpenSearch).
func TestRequest_HeaderValueIsTheLastLine(t *testing.T) {
	r := &Request{Header: map[string][]string{
		"Authorization": {"Basic d3Jvbmc=", "Basic cmlnaHQ="},
		"X-One":         {"only"},
		"X-Empty":       {},
	}}
	for _, tt := range []struct{ name, header, want string }{
		{"repeated", "Authorization", "Basic cmlnaHQ="},
		{"any spelling", "authorization", "Basic cmlnaHQ="},
		{"once", "X-One", "only"},
		{"no value", "X-Empty", ""},
		{"absent", "X-None", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.HeaderValue(tt.header); got != tt.want {
				t.Errorf("HeaderValue(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}
