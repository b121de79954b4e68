package basic

import (
	"errors"
	"testing"

	"github.com/realmd/realmd/sdk"
)

// TestBasic_Extract covers spec 3.1 and the header cases of
// HttpIntegrationTests.testHTTPBasic, value by value.
func TestBasic_Extract(t *testing.T) {
	const none = "" // no credentials
	tests := []struct {
		name     string
		header   []string // Authorization values; nil means no header
		user     string   // expected user name; none means no credentials
		password string
		err      error
	}{
		{name: "no header gives no credentials", header: nil, user: none},
		{name: "empty value gives no credentials", header: []string{""}, user: none},
		{name: "Basic alone gives no credentials", header: []string{"Basic"}, user: none},
		{name: "Basic and a space gives no credentials", header: []string{"Basic "}, user: none},
		{name: "Basic and spaces gives no credentials", header: []string{"Basic   "}, user: none},
		{name: "other scheme gives no credentials", header: []string{"Bearer dXNlcjpwYXNz"}, user: none},
		{name: "scheme without a space gives no credentials", header: []string{"Basicx dXNlcjpwYXNz"}, user: none},
		{name: "tab after the scheme gives no credentials", header: []string{"Basic\tdXNlcjpwYXNz"}, user: none},
		{name: "long s does not fold to s", header: []string{"Ba\u017fic dXNlcjpwYXNz"}, user: none},
		{name: "plain credentials", header: []string{"Basic dXNlcjpwYXNz"}, user: "user", password: "pass"},
		{name: "scheme is case-insensitive", header: []string{"bAsIc dXNlcjpwYXNz"}, user: "user", password: "pass"},
		{name: "last of several headers wins, as OpenSearch reads them", header: []string{"Basic dXNlcjpwYQ==", "Basic dXNlcjpwYXNz"}, user: "user", password: "pass"},
		{name: "trailing space is dropped by split", header: []string{"Basic dXNlcjpwYXNz "}, user: "user", password: "pass"},
		{name: "words after the token are ignored", header: []string{"Basic dXNlcjpwYXNz more words"}, user: "user", password: "pass"},
		{name: "leading tab is trimmed before the check only", header: []string{"\tBasic dXNlcjpwYXNz"}, user: "user", password: "pass"},
		{name: "two spaces give an empty token and no credentials", header: []string{"Basic  dXNlcjpwYXNz"}, user: none},
		{name: "leading space makes Basic the token", header: []string{" Basic dXNlcjpwYXNz"}, err: sdk.ErrMalformed},
		{name: "space inside the token cuts it", header: []string{"Basic dXNl cjpwYXNz"}, user: none},
		{name: "padding is optional", header: []string{"Basic dXNlcjpwYXM"}, user: "user", password: "pas"},
		{name: "full padding", header: []string{"Basic dXNlcjpwYQ=="}, user: "user", password: "pa"},
		{name: "incomplete padding is malformed", header: []string{"Basic dXNlcjpwYQ="}, err: sdk.ErrMalformed},
		{name: "padding alone is malformed", header: []string{"Basic ===="}, err: sdk.ErrMalformed},
		{name: "padding after a full unit is malformed", header: []string{"Basic dXNlcjpwYXNz="}, err: sdk.ErrMalformed},
		{name: "data after padding is malformed", header: []string{"Basic dXNlcg==dXNl"}, err: sdk.ErrMalformed},
		{name: "one dangling character is malformed", header: []string{"Basic dXNlc"}, err: sdk.ErrMalformed},
		{name: "URL-safe alphabet is malformed", header: []string{"Basic dXNlcjpwPj8-"}, err: sdk.ErrMalformed},
		{name: "standard alphabet with plus", header: []string{"Basic dXNlcjpwPj8+"}, user: "user", password: "p>?>"},
		{name: "line break in the token is malformed", header: []string{"Basic dXNlcjpw\nYXNz"}, err: sdk.ErrMalformed},
		{name: "tab in the token is malformed", header: []string{"Basic dXNlcjpw\tYXNz"}, err: sdk.ErrMalformed},
		{name: "non-zero unused bits are ignored", header: []string{"Basic dXNlcjphYh=="}, user: "user", password: "ab"},
		{name: "wrongheader decodes to no colon", header: []string{"Basic wrongheader"}, user: none},
		{name: "no colon gives no credentials", header: []string{"Basic dXNlcg=="}, user: none},
		{name: "empty user name gives no credentials", header: []string{"Basic OnB3"}, user: none},
		{name: "colon alone gives no credentials", header: []string{"Basic Og=="}, user: none},
		{name: "empty password is malformed", header: []string{"Basic dXNlcjo="}, err: sdk.ErrMalformed},
		{name: "password may contain colons", header: []string{"Basic YWJjOmFiYzphYmM="}, user: "abc", password: "abc:abc"},
		{name: "unicode user name", header: []string{"Basic wqfDhMOWw5zDpMO2w7zDnzpwdw=="}, user: "§ÄÖÜäöüß", password: "pw"},
		{name: "special characters in the user name", header: []string{"Basic IicrLSw7Xz8qQDw+ISQlJi8oKT0jOnB3"}, user: `"'+-,;_?*@<>!$%&/()=#`, password: "pw"},
		{name: "truncated UTF-8 becomes one replacement character", header: []string{"Basic dXPigjpwdw=="}, user: "us\uFFFD", password: "pw"},
		{name: "ill-formed bytes are replaced as Java does", header: []string{"Basic 8J+YOnB3/w=="}, user: "\uFFFD", password: "pw\uFFFD"},
	}
	a, err := newAuthenticator(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &sdk.Request{Method: "GET", Path: "/"}
			if tt.header != nil {
				r.Header = map[string][]string{"Authorization": tt.header}
			}
			got, err := a.Extract(t.Context(), r)
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) || got != nil {
					t.Fatalf("Extract = %+v, %v; want an error wrapping %v", got, err, tt.err)
				}
			case err != nil:
				t.Fatalf("Extract: unexpected error %v", err)
			case tt.user == none:
				if got != nil {
					t.Fatalf("Extract = credentials for %q, want none", got.Username)
				}
			case got == nil:
				t.Fatalf("Extract = no credentials, want %q", tt.user)
			default:
				if got.Username != tt.user || string(got.Password) != tt.password || got.CacheTTL != sdk.CacheForever {
					t.Errorf("Extract = %q (password ok %v, ttl %v), want %q, CacheForever",
						got.Username, string(got.Password) == tt.password, got.CacheTTL, tt.user)
				}
			}
		})
	}
}

func TestBasic_InputsAndChallenge(t *testing.T) {
	a, _ := newAuthenticator(nil)
	if in := a.Inputs(); len(in.Headers) != 1 || in.Headers[0] != "Authorization" || len(in.Query) > 0 || in.PeerCertificates || in.ClientAddress {
		t.Errorf("Inputs = %+v, want the Authorization header only", in)
	}
	want := sdk.Challenge{WWWAuthenticate: `Basic realm="OpenSearch Security"`, Body: "Unauthorized", ContentType: "text/plain; charset=UTF-8"}
	if got := a.(sdk.Challenger).Challenge(); got != want {
		t.Errorf("Challenge = %+v, want %+v", got, want)
	}
}

func TestJavaUTF8_ReplacesMaximalSubparts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "valid text is unchanged", in: "aé€😀", want: "aé€😀"},
		{name: "lone continuation byte", in: "a\x80b", want: "a\uFFFDb"},
		{name: "two lone continuation bytes", in: "\x80\x80", want: "\uFFFD\uFFFD"},
		{name: "truncated three-byte sequence", in: "\xe2\x82a", want: "\uFFFDa"},
		{name: "truncated four-byte sequence", in: "\xf0\x9f\x98a", want: "\uFFFDa"},
		{name: "overlong lead C0", in: "\xc0\xafa", want: "\uFFFD\uFFFDa"},
		{name: "E0 with a too-low second byte", in: "\xe0\x80\x80", want: "\uFFFD\uFFFD\uFFFD"},
		{name: "encoded surrogate is one character", in: "\xed\xa0\x80", want: "\uFFFD"},
		{name: "truncated surrogate then ASCII", in: "\xed\xa0a", want: "\uFFFDa"},
		{name: "above U+10FFFF", in: "\xf4\x90\x80\x80", want: "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{name: "invalid lead FF", in: "\xff", want: "\uFFFD"},
		{name: "sequence cut at the end", in: "a\xe2\x82", want: "a\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := javaUTF8([]byte(tt.in)); got != tt.want {
				t.Errorf("javaUTF8(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
