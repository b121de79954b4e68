package jwt

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
	"github.com/realmd/realmd/sdk"
)

// hmacKey signs with the tests' shared secret.
var hmacKey = &jwttest.Key{Alg: "HS256", Private: secret, Public: secret}

// staticCase is one request against a static-mode authenticator.
type staticCase struct {
	name   string
	config map[string]any // signing_key defaults to secretKey
	req    *sdk.Request
	// wantUser "" means no credentials.
	wantUser  string
	wantRoles []string
	wantAttrs map[string]string // checked when non-nil, exactly
	someAttrs map[string]string // checked when non-nil, these entries only
	wantTTL   time.Duration     // checked when non-zero
}

func runStatic(t *testing.T, tests []staticCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := map[string]any{"signing_key": secretKey}
			maps.Copy(config, tt.config)
			a := newAuth(t, config)
			c, err := a.Extract(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if tt.wantUser == "" {
				if c != nil {
					t.Fatalf("credentials = %+v, want none", c)
				}
				return
			}
			if c == nil {
				t.Fatalf("no credentials, want user %q", tt.wantUser)
			}
			if c.Username != tt.wantUser {
				t.Errorf("user = %q, want %q", c.Username, tt.wantUser)
			}
			if !slices.Equal(c.BackendRoles, tt.wantRoles) {
				t.Errorf("roles = %q, want %q", c.BackendRoles, tt.wantRoles)
			}
			if tt.wantAttrs != nil && !maps.Equal(c.Attributes, tt.wantAttrs) {
				t.Errorf("attributes = %v, want %v", c.Attributes, tt.wantAttrs)
			}
			for k, v := range tt.someAttrs {
				if c.Attributes[k] != v {
					t.Errorf("attribute %s = %q, want %q", k, c.Attributes[k], v)
				}
			}
			if tt.wantTTL != 0 && c.CacheTTL != tt.wantTTL {
				t.Errorf("CacheTTL = %v, want %v", c.CacheTTL, tt.wantTTL)
			}
		})
	}
}

func sign(c map[string]any) string { return hmacKey.Sign(c, nil) }

// Scenarios of OpenSearch's HTTPJwtAuthenticatorTest (spec section 6).
func TestStatic_OpenSearchScenarios(t *testing.T) {
	other := &jwttest.Key{Alg: "HS256", Private: []byte(strings.Repeat("x", 64))}
	rsaKey := jwttest.Shared("RS256", "static")
	es512 := jwttest.Shared("ES512", "static")
	rsaB64 := base64.StdEncoding.EncodeToString(rsaKey.PublicDER())
	runStatic(t, []staticCase{
		{name: "no signing key gives no credentials", config: map[string]any{"signing_key": nil}, req: bearer(sign(claims()))},
		{name: "empty signing key gives no credentials", config: map[string]any{"signing_key": ""}, req: bearer(sign(claims()))},
		{name: "missing token", req: &sdk.Request{}},
		{name: "token signed with another key", req: bearer(other.Sign(claims(), nil))},
		{name: "list claim becomes a JSON attribute", req: bearer(sign(claims("list", []any{"a", "b", "c"}))),
			wantUser: "Leonard McCoy", wantAttrs: map[string]string{"attr.jwt.sub": "Leonard McCoy", "attr.jwt.list": `["a","b","c"]`}},
		{name: "nested claims are flattened", req: bearer(sign(claims("active_tenant", map[string]any{"tenant_id": "enterprise", "roles": []any{"admin", "user"}}))),
			wantUser: "Leonard McCoy", wantAttrs: map[string]string{"attr.jwt.sub": "Leonard McCoy",
				"attr.jwt.active_tenant.tenant_id": "enterprise", "attr.jwt.active_tenant.roles": `["admin","user"]`}},
		{name: "mixed list keeps JSON spelling", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"Leonard McCoy","list":["a",1,null,2.0]}`), nil)),
			wantUser: "Leonard McCoy", wantAttrs: map[string]string{"attr.jwt.sub": "Leonard McCoy", "attr.jwt.list": `["a",1,null,2.0]`}},
		{name: "expired with zero clock skew", config: map[string]any{"jwt_clock_skew_tolerance_seconds": 0},
			req: bearer(sign(claims("exp", unix(-10*time.Second), "nbf", unix(-time.Hour))))},
		{name: "expired 10 s ago is fine with 60 s clock skew", config: map[string]any{"jwt_clock_skew_tolerance_seconds": 60},
			req: bearer(sign(claims("exp", unix(-10*time.Second), "nbf", unix(-time.Hour), "iat", unix(-time.Hour)))), wantUser: "Leonard McCoy",
			someAttrs: map[string]string{"attr.jwt.exp": "1749999990"}},
		{name: "Bearer prefix", req: bearer(sign(claims("exp", unix(time.Hour)))), wantUser: "Leonard McCoy", wantTTL: time.Hour,
			wantAttrs: map[string]string{"attr.jwt.sub": "Leonard McCoy", "attr.jwt.exp": "1750003600"}},
		{name: "Bearer in the wrong position", req: withHeader("Authorization", sign(claims())+"Bearer  123")},
		{name: "Basic header is ignored", req: withHeader("Authorization", "Basic Zm9vOmJhcg==")},
		{name: "roles as a comma string", config: map[string]any{"roles_key": "roles"},
			req: bearer(sign(claims("roles", "role1, role2"))), wantUser: "Leonard McCoy", wantRoles: []string{"role1", "role2"}},
		{name: "null roles claim gives no roles", config: map[string]any{"roles_key": "roles"},
			req: bearer(hmacKey.Sign(rawClaims(`{"sub":"Leonard McCoy","roles":null}`), nil)), wantUser: "Leonard McCoy"},
		{name: "non-string roles claim is converted", config: map[string]any{"roles_key": "roles"},
			req: bearer(sign(claims("roles", 123))), wantUser: "Leonard McCoy", wantRoles: []string{"123"}},
		{name: "missing roles claim gives no roles", config: map[string]any{"roles_key": "roles"},
			req: bearer(sign(claims())), wantUser: "Leonard McCoy"},
		{name: "roles array", config: map[string]any{"roles_key": "roles"},
			req: bearer(sign(claims("sub", "John Doe", "roles", []any{"a", "b", "3rd"}))), wantUser: "John Doe", wantRoles: []string{"a", "b", "3rd"}},
		{name: "roles are trimmed, deduplicated, empty ones dropped", config: map[string]any{"roles_key": "roles"},
			req: bearer(sign(claims("roles", " a ,b,, a,"))), wantUser: "Leonard McCoy", wantRoles: []string{"a", "b"}},
		{name: "array roles are converted element by element", config: map[string]any{"roles_key": "roles"},
			req: bearer(sign(claims("roles", []any{" x ", 7, nil, true, "", "x"}))), wantUser: "Leonard McCoy", wantRoles: []string{"x", "7", "true"}},
		{name: "wrong subject key", config: map[string]any{"subject_key": "missing"}, req: bearer(sign(claims()))},
		{name: "alternative subject", config: map[string]any{"subject_key": "asub"},
			req: bearer(sign(claims("asub", "Dr. Who"))), wantUser: "Dr. Who"},
		{name: "non-string alternative subject is converted", config: map[string]any{"subject_key": "asub"},
			req: bearer(sign(claims("asub", false))), wantUser: "false"},
		{name: "a subject_key's value is trimmed", config: map[string]any{"subject_key": "sub"}, req: bearer(sign(claims("sub", "  bob  "))), wantUser: "bob"},
		{name: "the default sub is not trimmed, as OpenSearch takes getSubject() (found by review)", req: bearer(sign(claims("sub", " admin"))), wantUser: " admin"},
		{name: "subject is trimmed as Java trims: controls go, Unicode spaces stay (found by review)", config: map[string]any{"subject_key": "sub", "roles_key": "roles"},
			req:      bearer(sign(claims("sub", "\x01admin\u00a0\x1f", "roles", []any{"all_access\u3000", "\tops\x7f"}))),
			wantUser: "admin\u00a0", wantRoles: []string{"all_access\u3000", "ops\x7f"}},
		{name: "blank subject_key value gives no credentials", config: map[string]any{"subject_key": "sub"}, req: bearer(sign(claims("sub", "  ")))},
		{name: "URL parameter", config: map[string]any{"jwt_url_parameter": "abc"},
			req: &sdk.Request{Query: map[string][]string{"abc": {sign(claims())}}}, wantUser: "Leonard McCoy"},
		{name: "expired", req: bearer(sign(claims("exp", unix(-time.Hour))))},
		{name: "not valid yet", req: bearer(sign(claims("nbf", unix(time.Hour))))},
		{name: "RS256 with a PEM key", config: map[string]any{"signing_key": "-----BEGIN PUBLIC KEY-----\n" + rsaB64 + "-----END PUBLIC KEY-----"},
			req: bearer(rsaKey.Sign(claims(), nil)), wantUser: "Leonard McCoy"},
		{name: "RS256 with a PEM key with line breaks", config: map[string]any{"signing_key": "-----BEGIN PUBLIC KEY-----\n" + wrap(rsaB64, 64) + "\n-----END PUBLIC KEY-----"},
			req: bearer(rsaKey.Sign(claims(), nil)), wantUser: "Leonard McCoy"},
		{name: "ES512 with a bare base64 key", config: map[string]any{"signing_key": base64.StdEncoding.EncodeToString(es512.PublicDER())},
			req: bearer(es512.Sign(claims(), nil)), wantUser: "Leonard McCoy"},
		{name: "required audience present", config: map[string]any{"required_audience": "test_audience"},
			req: bearer(sign(claims("aud", "test_audience"))), wantUser: "Leonard McCoy", someAttrs: map[string]string{"attr.jwt.aud": `["test_audience"]`}},
		// jjwt keeps aud as a set: a string aud is rendered as a list, as in
		// JWKS mode (found by review).
		{name: "aud list stays a list", req: bearer(sign(claims("aud", []any{"a", "b"}))),
			wantUser: "Leonard McCoy", someAttrs: map[string]string{"attr.jwt.aud": `["a","b"]`}},
		{name: "required audience wrong", config: map[string]any{"required_audience": "test_audience"},
			req: bearer(sign(claims("aud", "wrong_audience")))},
		{name: "required audience missing", config: map[string]any{"required_audience": "test_audience"}, req: bearer(sign(claims()))},
		{name: "one of several required audiences", config: map[string]any{"required_audience": "test_audience,test_audience_2"},
			req: bearer(sign(claims("aud", []any{"other", "test_audience_2"}))), wantUser: "Leonard McCoy"},
		{name: "none of several required audiences", config: map[string]any{"required_audience": "test_audience,test_audience_2"},
			req: bearer(sign(claims("aud", []any{"other", "more"})))},
		{name: "required issuer", config: map[string]any{"required_issuer": "test_issuer"},
			req: bearer(sign(claims("iss", "test_issuer"))), wantUser: "Leonard McCoy"},
		{name: "required issuer wrong", config: map[string]any{"required_issuer": "test_issuer"},
			req: bearer(sign(claims("iss", "wrong_issuer")))},
		{name: "required issuer missing", config: map[string]any{"required_issuer": "test_issuer"}, req: bearer(sign(claims()))},
	})
}

// rawClaims lets a test choose the exact JSON of the claims.
type rawClaims string

func (r rawClaims) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// The cxf-generated HS512 token of OpenSearch's testParsePrevGeneratedJwt,
// with its secret: a vector from another JOSE implementation.
const (
	cxfToken  = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJob3JzdCIsIm5iZiI6ODU0MTEzNTMzLCJzYW1sX25pZiI6InUiLCJleHAiOjQ4NTM4NDMxMzMsInNhbWxfc2kiOiJNT0NLU0FNTF8zIn0.MQ9lidZ774EPHjDNB43O4d2Q1SGtG4-lASoLXDPdtE0qJGvZOYDUCN3h2HxBIX5NmwXQQvjJ2PUzN6f6FgY0Iw"
	cxfSecret = "thisIsSecretThatIsVeryHardToCrackItsPracticallyImpossibleToDothisIsSecretThatIsVeryHardToCrackItsPracticallyImpossibleToDo"
)

func TestStatic_TokenFromAnotherImplementation(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte(cxfSecret))
	runStatic(t, []staticCase{
		{name: "cxf HS512 token verifies", config: map[string]any{"signing_key": key}, req: bearer(cxfToken), wantUser: "horst",
			wantAttrs: map[string]string{"attr.jwt.sub": "horst", "attr.jwt.nbf": "854113533", "attr.jwt.exp": "4853843133",
				"attr.jwt.saml_nif": "u", "attr.jwt.saml_si": "MOCKSAML_3"}},
		{name: "another secret does not verify it", config: map[string]any{"signing_key": base64.StdEncoding.EncodeToString([]byte("additionalData" + cxfSecret))},
			req: bearer(cxfToken)},
	})
}

func TestStatic_MultipleSigningKeys(t *testing.T) {
	k1 := &jwttest.Key{Alg: "HS256", Private: []byte(strings.Repeat("1", 32))}
	k2 := &jwttest.Key{Alg: "HS512", Private: []byte(strings.Repeat("2", 64))}
	b64 := func(k *jwttest.Key) string { return base64.StdEncoding.EncodeToString(k.Private.([]byte)) }
	rsaKey, ecKey, edKey := jwttest.Shared("PS384", "multi"), jwttest.Shared("ES256", "multi"), jwttest.Shared("EdDSA", "multi")
	mixed := []any{b64(k1), rsaKey.SigningKey(), ecKey.SigningKey(), edKey.SigningKey(), b64(k2)}
	runStatic(t, []staticCase{
		{name: "comma string, first key", config: map[string]any{"signing_key": b64(k1) + "," + b64(k2)},
			req: bearer(k1.Sign(claims(), nil)), wantUser: "Leonard McCoy"},
		{name: "comma string, second key", config: map[string]any{"signing_key": b64(k1) + "," + b64(k2)},
			req: bearer(k2.Sign(claims("sub", "Stephen Crawford"), nil)), wantUser: "Stephen Crawford"},
		{name: "comma string with spaces", config: map[string]any{"signing_key": b64(k1) + " , " + b64(k2)},
			req: bearer(k2.Sign(claims("sub", "Stephen Crawford"), nil)), wantUser: "Stephen Crawford"},
		{name: "mixed list, RSA", config: map[string]any{"signing_key": mixed},
			req: bearer(rsaKey.Sign(claims("sub", "Craig Perkins"), nil)), wantUser: "Craig Perkins"},
		{name: "mixed list, EC", config: map[string]any{"signing_key": mixed},
			req: bearer(ecKey.Sign(claims("sub", "Darshit Chanpura"), nil)), wantUser: "Darshit Chanpura"},
		{name: "mixed list, Ed25519", config: map[string]any{"signing_key": mixed},
			req: bearer(edKey.Sign(claims("sub", "Derek Ho"), nil)), wantUser: "Derek Ho"},
		{name: "HS512 skips the 32-byte key and verifies with the 64-byte one", config: map[string]any{"signing_key": mixed},
			req: bearer(k2.Sign(claims(), nil)), wantUser: "Leonard McCoy"},
		{name: "no key verifies", config: map[string]any{"signing_key": mixed},
			req: bearer((&jwttest.Key{Alg: "HS256", Private: []byte(strings.Repeat("9", 32))}).Sign(claims(), nil))},
	})
}

// Scenarios of OpenSearch's JwtAuthenticationTests, NestedClaimsTests and
// UrlParamTests.
func TestStatic_IntegrationScenarios(t *testing.T) {
	nested := claims("sub", nil, "attributes", map[string]any{"sub": "nested-user", "roles": "r1,r2", "deep": map[string]any{"x": "y"}})
	runStatic(t, []staticCase{
		{name: "custom header jwt-auth", config: map[string]any{"jwt_header": "jwt-auth"},
			req: withHeader("Jwt-Auth", "Bearer "+sign(claims())), wantUser: "Leonard McCoy"},
		{name: "custom header ignores Authorization", config: map[string]any{"jwt_header": "jwt-auth"}, req: bearer(sign(claims()))},
		{name: "nested subject_key and roles_key as lists", config: map[string]any{"subject_key": []any{"attributes", "sub"}, "roles_key": []any{"attributes", "roles"}},
			req: bearer(sign(nested)), wantUser: "nested-user", wantRoles: []string{"r1", "r2"},
			someAttrs: map[string]string{"attr.jwt.attributes.deep.x": "y", "attr.jwt.attributes.roles": "r1,r2"}},
		{name: "nested path as a comma string", config: map[string]any{"subject_key": "attributes,sub", "roles_key": "attributes, roles"},
			req: bearer(sign(nested)), wantUser: "nested-user", wantRoles: []string{"r1", "r2"}},
		{name: "wrong subject nesting gives no credentials", config: map[string]any{"subject_key": []any{"attributes", "missing"}}, req: bearer(sign(nested))},
		{name: "subject path through a non-object gives no credentials", config: map[string]any{"subject_key": []any{"attributes", "sub", "x"}}, req: bearer(sign(nested))},
		{name: "wrong roles nesting gives no roles", config: map[string]any{"subject_key": []any{"attributes", "sub"}, "roles_key": []any{"attr", "roles"}},
			req: bearer(sign(nested)), wantUser: "nested-user"},
		{name: "token in the URL parameter", config: map[string]any{"jwt_url_parameter": "token"},
			req: &sdk.Request{Query: map[string][]string{"token": {sign(claims())}}}, wantUser: "Leonard McCoy"},
		{name: "malformed token", req: bearer("not.a.token")},
		{name: "garbage", req: bearer("%%%")},
	})
}

func TestStatic_CacheTTL(t *testing.T) {
	runStatic(t, []staticCase{
		{name: "until exp", req: bearer(sign(claims("exp", unix(90*time.Second)))), wantUser: "Leonard McCoy", wantTTL: 90 * time.Second},
		{name: "without exp for a bounded time", req: bearer(sign(claims())), wantUser: "Leonard McCoy", wantTTL: NoExpCacheTTL},
	})
	// Inside the clock skew after exp the token is accepted but not cached.
	a := newAuth(t, map[string]any{"signing_key": secretKey})
	c, err := a.Extract(context.Background(), bearer(sign(claims("exp", unix(-5*time.Second)))))
	if err != nil || c == nil {
		t.Fatalf("Extract = %v, %v", c, err)
	}
	if c.CacheTTL != 0 {
		t.Fatalf("CacheTTL = %v, want 0", c.CacheTTL)
	}
}

// Static mode: jjwt's ParameterMap drops a top-level null claim and an
// empty registered claim (null, blank, [] or {}) before it converts them,
// so they give no attribute and are not checked; nested nulls and empty
// custom claims stay (found by review).
func TestStatic_EmptyClaimsAreAbsent(t *testing.T) {
	runStatic(t, []staticCase{
		{name: "null custom claim and blank registered claims", req: bearer(hmacKey.Sign(rawClaims(
			`{"sub":"bob","dept":null,"iss":"","jti":" \t","aud":[],"exp":null,"n":{"x":null},"e":"","l":[]}`), nil)),
			wantUser: "bob", wantAttrs: map[string]string{"attr.jwt.sub": "bob", "attr.jwt.n.x": "null", "attr.jwt.e": "", "attr.jwt.l": "[]"}},
		{name: "empty registered claims of another type are absent, not refused", req: bearer(hmacKey.Sign(rawClaims(
			`{"sub":"bob","aud":{},"iss":[],"exp":"","nbf":" "}`), nil)),
			wantUser: "bob", wantAttrs: map[string]string{"attr.jwt.sub": "bob"}},
		{name: "blank aud with a required audience is no audience", config: map[string]any{"required_audience": "api"},
			req: bearer(hmacKey.Sign(rawClaims(`{"sub":"bob","aud":""}`), nil))},
	})
}

func TestStatic_TimeClaims(t *testing.T) {
	runStatic(t, []staticCase{
		{name: "exp just outside the skew", req: bearer(sign(claims("exp", unix(-31*time.Second))))},
		{name: "exp just inside the skew", req: bearer(sign(claims("exp", unix(-29*time.Second)))), wantUser: "Leonard McCoy"},
		// jjwt's bounds are inclusive; JWKS mode's are not (see
		// TestJWKS_TimeBoundsAreStrict).
		{name: "exp exactly at now - skew", req: bearer(sign(claims("exp", unix(-30*time.Second)))), wantUser: "Leonard McCoy"},
		{name: "nbf exactly at now + skew", req: bearer(sign(claims("nbf", unix(30*time.Second)))), wantUser: "Leonard McCoy"},
		{name: "nbf just outside the skew", req: bearer(sign(claims("nbf", unix(31*time.Second))))},
		{name: "nbf just inside the skew", req: bearer(sign(claims("nbf", unix(29*time.Second)))), wantUser: "Leonard McCoy"},
		{name: "iat in the future beyond the skew", req: bearer(sign(claims("iat", unix(time.Hour))))},
		{name: "iat in the past", req: bearer(sign(claims("iat", unix(-time.Hour)))), wantUser: "Leonard McCoy"},
		// jjwt reads dates with Number.longValue: a fraction is dropped
		// (found by review).
		{name: "fractional exp is truncated", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":1750000100.5}`), nil)), wantUser: "a", wantTTL: 100 * time.Second},
		{name: "fractional nbf just after now + skew is truncated to it", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","nbf":1750000030.5}`), nil)), wantUser: "a"},
		{name: "fractional iat just after now + skew is truncated to it", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","iat":1750000030.9}`), nil)), wantUser: "a"},
		{name: "fractional exp in exponent form is truncated", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":1.7500001005e9}`), nil)), wantUser: "a", wantTTL: 100 * time.Second},
		{name: "exp as a string", req: bearer(sign(claims("exp", "1750003600")))},
		{name: "exp out of range", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":1e400}`), nil))},
		// OpenSearch computes exp * 1000 in a long: beyond math.MaxInt64/1000
		// seconds it overflows into the past, so the token is expired
		// (found by review). nbf that large is refused as not valid yet.
		{name: "largest exp whose milliseconds fit a long is valid", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":9223372036854775}`), nil)), wantUser: "a"},
		{name: "fractional exp is a double: 9223372036854775.4 rounds up and overflows", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":9223372036854775.4}`), nil))},
		{name: "fractional exp below the limit is valid", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":9223372036854774.0}`), nil)), wantUser: "a"},
		{name: "exp one second later overflows and is expired", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":9223372036854776}`), nil))},
		{name: "exp 1e16 is expired", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":10000000000000000}`), nil))},
		{name: "exp 1e300 is expired", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":1e300}`), nil))},
		{name: "exp beyond int64 is expired", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":99999999999999999999}`), nil))},
		{name: "nbf beyond the millisecond range is not valid yet", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","nbf":10000000000000000}`), nil))},
		{name: "null exp counts as absent", req: bearer(hmacKey.Sign(rawClaims(`{"sub":"a","exp":null}`), nil)), wantUser: "a"},
	})
}

// Claims that flatten to one attribute name: OpenSearch adds them in
// document order and the later wins; realmd's answer changed from run to
// run (found by review: map iteration order).
func TestAttributes_CollisionsFollowDocumentOrder(t *testing.T) {
	tests := []struct {
		payload string
		want    map[string]string
	}{
		{payload: `{"sub":"a","a.b":"x","a":{"b":"y"}}`, want: map[string]string{"attr.jwt.sub": "a", "attr.jwt.a.b": "y"}},
		{payload: `{"sub":"a","a":{"b":"y"},"a.b":"x"}`, want: map[string]string{"attr.jwt.sub": "a", "attr.jwt.a.b": "x"}},
		{payload: `{"a":{"b.c":1,"b":{"c":2,"d":[3]}},"a.b.d":"z"}`, want: map[string]string{"attr.jwt.a.b.c": "2", "attr.jwt.a.b.d": "z"}},
		{payload: `{"a":{"b":{"c":2},"b.c":1}}`, want: map[string]string{"attr.jwt.a.b.c": "1"}},
		// Without a collision nothing is walked twice.
		{payload: `{"a":{"b":1},"c":[{"d":2}]}`, want: map[string]string{"attr.jwt.a.b": "1", "attr.jwt.c": `[{"d":2}]`}},
	}
	var rules ClaimRules
	for _, tt := range tests {
		claims, err := parseClaims([]byte(tt.payload))
		if err != nil {
			t.Fatal(err)
		}
		for range 50 { // map order differs from run to run
			if got := rules.attributes(claims, []byte(tt.payload)); !maps.Equal(got, tt.want) {
				t.Fatalf("%s: attributes %v, want %v", tt.payload, got, tt.want)
			}
		}
	}
}

// iss and aud are compared as they are, never trimmed: jjwt keeps claim
// values as the token gives them (its ParameterMap trims names only) and
// compares the issuer with equals; OpenSearch's audience check is
// Collections.disjoint; Nimbus does the same in JWKS mode.
func TestClaims_IssuerAndAudienceAreNotTrimmed(t *testing.T) {
	rsa1 := jwttest.Shared("RS256", "rsa1")
	p := newIDP(t, rsa1.JWK("kid/1", true))
	tests := []struct {
		name   string
		config map[string]any
		claims map[string]any
		ok     bool
	}{
		{"issuer equal", map[string]any{"required_issuer": "TestIssuer"}, claims("iss", "TestIssuer"), true},
		{"issuer with a leading space", map[string]any{"required_issuer": "TestIssuer"}, claims("iss", " TestIssuer"), false},
		{"issuer with a trailing tab", map[string]any{"required_issuer": "TestIssuer"}, claims("iss", "TestIssuer\t"), false},
		{"required issuer with a trailing space", map[string]any{"required_issuer": "TestIssuer "}, claims("iss", "TestIssuer"), false},
		{"audience equal", map[string]any{"required_audience": []any{"api"}}, claims("aud", "api"), true},
		{"audience with a trailing space", map[string]any{"required_audience": []any{"api"}}, claims("aud", "api "), false},
		{"audience list with a leading space", map[string]any{"required_audience": []any{"api"}}, claims("aud", []any{" api"}), false},
		{"required audience with a space", map[string]any{"required_audience": []any{" api"}}, claims("aud", "api"), false},
	}
	for _, tt := range tests {
		for _, mode := range []string{"static", "JWKS"} {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				var a *Authenticator
				var token string
				if mode == "static" {
					config := maps.Clone(tt.config)
					config["signing_key"] = secretKey
					a = newAuth(t, config)
					token = sign(tt.claims)
				} else {
					a = p.auth(t, tt.config)
					token = rsa1.Sign(tt.claims, map[string]any{"kid": "kid/1"})
				}
				c, err := a.Extract(context.Background(), bearer(token))
				if err != nil || (c != nil) != tt.ok {
					t.Fatalf("credentials %+v, err %v; want accepted %v", c, err, tt.ok)
				}
			})
		}
	}
}

// Static mode: jjwt keeps exp, nbf and iat as whole seconds (its canonical
// value, Date.getTime() / 1000 of longValue() * 1000 in a long), and
// OpenSearch's attributes print that, so a fraction or an exponent is not
// kept and a date whose milliseconds overflow a long wraps as there.
// Found by review: realmd printed the token's spelling.
func TestStatic_DateAttributesAreWholeSeconds(t *testing.T) {
	exp := fmt.Sprintf("%d.9", unix(time.Hour))
	runStatic(t, []staticCase{
		{name: "fractions and exponents", req: bearer(hmacKey.Sign(rawClaims(
			`{"sub":"bob","exp":`+exp+`,"nbf":1.5e9,"iat":-1.5}`), nil)),
			wantUser: "bob", wantAttrs: map[string]string{"attr.jwt.sub": "bob", "attr.jwt.exp": exp[:len(exp)-2],
				"attr.jwt.nbf": "1500000000", "attr.jwt.iat": "-1"}},
		{name: "milliseconds that overflow a long wrap", req: bearer(hmacKey.Sign(rawClaims(
			`{"sub":"bob","iat":-10000000000000000,"x":{"iat":-1e17}}`), nil)),
			wantUser: "bob", wantAttrs: map[string]string{"attr.jwt.sub": "bob",
				"attr.jwt.iat": "8446744073709551", "attr.jwt.x.iat": "-1e17"}},
		{name: "a double's milliseconds wrap too", req: bearer(hmacKey.Sign(rawClaims(
			`{"sub":"bob","iat":-1e17}`), nil)),
			wantUser: "bob", wantAttrs: map[string]string{"attr.jwt.sub": "bob", "attr.jwt.iat": "-7766279631452241"}},
		{name: "a double beyond a long is Long.MIN_VALUE, whose milliseconds wrap to 0", req: bearer(hmacKey.Sign(rawClaims(
			`{"sub":"bob","iat":-1e19}`), nil)),
			wantUser: "bob", wantAttrs: map[string]string{"attr.jwt.sub": "bob", "attr.jwt.iat": "0"}},
		{name: "other numbers keep their spelling", req: bearer(hmacKey.Sign(rawClaims(
			`{"sub":"bob","n":{"exp":1.5},"auth_time":1.5}`), nil)),
			wantUser: "bob", wantAttrs: map[string]string{"attr.jwt.sub": "bob", "attr.jwt.n.exp": "1.5", "attr.jwt.auth_time": "1.5"}},
	})
}
