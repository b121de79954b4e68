package jwt

import "testing"

// Every want here is what java.net.URI(String) of OpenJDK 17 answers.
func TestJavaURI_MatchesJava(t *testing.T) {
	tests := []struct {
		uri  string
		want bool
	}{
		{"https://idp.example.com/jwks", true},
		{"https://idp.example.com:8443/realms/x/protocol/openid-connect/certs?a=b#frag", true},
		{"http://127.0.0.1/jwks", true},
		{"", true},
		{"/relative/path", true},
		{"urn:ietf:params:oauth:jwk", true},
		{"mailto:a@b", true},
		{"http:///jwks", true},
		{"http://user:pw@host/", true},
		{"http://[::1]:80/x", true},
		{"http://[::ffff:01.2.3.4]/", true},
		{"http://[fe80::1%eth0]/", true},
		{"http://idp.example.com/é", true},
		{"http://host_name/", true},
		{"http://a.1/", true},
		{"http://[v1.x]/", false},
		{"https://", false},
		{"https://idp.example.com/a b", false},
		{"https://idp.example.com/a|b", false},
		{"https://idp/%zz", false},
		{"https://idp/%4", false},
		{"https://[x]/jwks", false},
		{"https://[::1/jwks", false},
		{"https://[1::2:3:4:5:6:7:8]/", false},
		{"https://[::1%]/", false},
		{"https://host:99999999999/", true},
		{"https://host:80x/", true},
		{":jwks", false},
		{"1http://x", false},
		{"http://a\u00a0b/", false},
		{"http://x/#a#b", false},
		{"http://x/\u2028", false},
		{"http://x/?{}", false},
	}
	for _, tt := range tests {
		if got := javaURI(tt.uri); got != tt.want {
			t.Errorf("javaURI(%q) = %v, want %v (Java)", tt.uri, got, tt.want)
		}
	}
}
