package basic

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/realmd/realmd/sdk"
)

// FuzzExtract feeds arbitrary Authorization values to the basic
// authenticator: it must never panic, and whatever it accepts must be a
// well-formed credential.
func FuzzExtract(f *testing.F) {
	for _, seed := range []string{
		"", "Basic", "Basic ", "Basic  YWRtaW46YWRtaW4=", "basic YWRtaW46YWRtaW4=", "Basic YWRtaW46",
		"Basic YWRtaW4", "Basic Og==", "Basic wrongheader", "Bearer x.y.z", " Basic YWRtaW46YWRtaW4=",
		"Basic YWJjOmFiYzphYmM=", "Basic w6TDtsO8OsOf", "Basic ////", "Basic YWRtaW46YWRtaW4=\r\n",
		"\x01Basic YWRtaW46YWRtaW4=", // Java's trim drops control characters too
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		r := &sdk.Request{Header: map[string][]string{"Authorization": {value}}}
		c, err := authenticator{}.Extract(context.Background(), r)
		if err != nil {
			if !errors.Is(err, sdk.ErrMalformed) {
				t.Fatalf("%q: error %v does not wrap ErrMalformed", value, err)
			}
			if c != nil {
				t.Fatalf("%q: credentials and an error", value)
			}
			return
		}
		if c == nil {
			return
		}
		if c.Username == "" || len(c.Password) == 0 || strings.Contains(c.Username, ":") {
			t.Fatalf("%q: accepted user %q with %d password bytes", value, c.Username, len(c.Password))
		}
		if !utf8.ValidString(c.Username) {
			t.Fatalf("%q: user name is not UTF-8", value)
		}
		javaTrim := strings.TrimFunc(value, func(r rune) bool { return r <= ' ' }) // Java's String.trim
		if !strings.HasPrefix(strings.ToLower(javaTrim), "basic ") {
			t.Fatalf("%q: credentials from a header that is not Basic", value)
		}
	})
}
