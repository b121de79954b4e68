package jwt

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/realmd/realmd/plugins/jwks"
	"github.com/realmd/realmd/sdk"
)

// FuzzParseToken feeds header values through extraction, parsing and
// verification. Properties: no panic, never an error in static mode, and
// credentials only for a token whose HMAC signature an independent check
// accepts.
func FuzzParseToken(f *testing.F) {
	valid := sign(claims("roles", "a,b", "nested", map[string]any{"x": []any{1, "y"}}))
	for _, s := range []string{
		"Bearer " + valid, valid, "Basic Zm9vOmJhcg==", "bearer ", "",
		"Bearer " + enc(`{"alg":"none"}`) + "." + enc(`{"sub":"a"}`) + ".",
		"Bearer " + hs256(secret, `{"alg":"HS256","crit":["x"]}`, `{"sub":"a"}`),
		"Bearer " + hs256(secret, `{"alg":"HS256"}`, `{"sub":"a","x":`+nested("[", "]", 40)+`}`),
		"Bearer a.b.c.d.e",
	} {
		f.Add(s)
	}
	a := New(Config{SigningKeys: []any{secret}, Header: DefaultHeader, MaxTokenSize: DefaultMaxTokenSize,
		Claims: ClaimRules{RolesKey: []string{"roles"}, ClockSkew: DefaultClockSkew}}, nil)
	a.now = func() time.Time { return now }
	f.Fuzz(func(t *testing.T, value string) {
		r := withHeader("Authorization", value)
		c, err := a.Extract(context.Background(), r)
		if err != nil {
			t.Fatalf("static mode returned an error: %v", err)
		}
		if c == nil {
			return
		}
		token := ExtractToken(r, DefaultHeader, "")
		if !independentHMAC(token, secret) {
			t.Fatalf("credentials %+v for a token whose signature does not verify: %q", c, token)
		}
		if c.Username == "" || c.Username != sdk.JavaTrim(c.Username) {
			t.Fatalf("bad user name %q", c.Username)
		}
	})
}

// FuzzClaims feeds payloads, as if signed, through claim parsing, checks
// and identity extraction. Properties: no panic, bounded depth accepted
// only, and every attribute named attr.jwt.*.
func FuzzClaims(f *testing.F) {
	for _, s := range []string{
		`{"sub":"a","roles":"x, y,,x","exp":1750000100.5,"aud":["a",1]}`,
		`{"sub":{"a":[1,{"b":null}]},"roles":[1,true,null,"r"],"nbf":-1e308}`,
		`{"sub":"a","exp":"soon","iat":1e400}`,
		`[` + nested("{", "}", 3) + `]`,
		`{"a":` + nested("[", "]", 33) + `}`,
		"{\"sub\":\"\\ud800\",\"x\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	rules := &ClaimRules{SubjectKey: []string{"sub"}, RolesKey: []string{"roles"}, RequiredAudience: []string{"a"}, ClockSkew: DefaultClockSkew,
		OmitEmptyClaims: true}
	f.Fuzz(func(t *testing.T, payload []byte) {
		claims, err := parseClaims(payload)
		if err != nil {
			if !IsRejected(err) {
				t.Fatalf("parse error is not a rejection: %v", err)
			}
			return
		}
		if _, _, err := jwks.ScanJSON(payload, maxJSONDepth); err != nil {
			t.Fatal("accepted claims nested too deeply")
		}
		rules.omitEmpty(claims)
		rules.check(claims, now)
		rules.subject(claims)
		for _, r := range rules.roles(claims) {
			if r == "" || r != sdk.JavaTrim(r) {
				t.Fatalf("bad role %q", r)
			}
		}
		for k, v := range rules.attributes(claims, payload) {
			if !strings.HasPrefix(k, "attr.jwt.") {
				t.Fatalf("attribute %q", k)
			}
			_ = utf8.ValidString(v)
		}
	})
}
