package jwt

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
	"github.com/realmd/realmd/sdk"
)

// idp serves a key set at /jwks and counts the requests.
type idp struct {
	srv  *httptest.Server
	body atomic.Value // []byte
	code atomic.Int32 // status to answer; 0 is 200
	hits atomic.Int32
}

func newIDP(t testing.TB, jwks ...json.RawMessage) *idp {
	t.Helper()
	p := &idp{}
	p.body.Store(jwttest.Set(jwks...))
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		if c := p.code.Load(); c != 0 {
			w.WriteHeader(int(c))
		}
		w.Write(p.body.Load().([]byte))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) serve(jwks ...json.RawMessage) { p.body.Store(jwttest.Set(jwks...)) }

// quickRefresh lets the key set refresh every 10 ms instead of every second;
// after a sleep of refreshInterval the next unknown kid fetches the set.
var quickRefresh = map[string]any{"refresh_rate_limit_time_window_ms": 10, "refresh_rate_limit_count": 1}

const refreshInterval = 10 * time.Millisecond

func (p *idp) auth(t testing.TB, extra map[string]any) *Authenticator {
	t.Helper()
	config := map[string]any{"jwks_uri": p.srv.URL + "/jwks"}
	maps.Copy(config, extra)
	return newAuth(t, config)
}

// mccoy are the claims of OpenSearch's TestJwts.MC_COY.
func mccoy(kv ...any) map[string]any {
	c := claims("aud", "TestAudience", "iss", "TestIssuer", "roles", "role1,role2")
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		}
	}
	return c
}

// Scenarios of OpenSearch's HTTPJwtKeyByJWKSAuthenticatorTest and the
// key-set tests (spec section 6).
func TestJWKS_OpenSearchScenarios(t *testing.T) {
	rsa1, rsa2, ec1 := jwttest.Shared("RS256", "rsa1"), jwttest.Shared("RS256", "rsa2"), jwttest.Shared("ES256", "ec1")
	oct1 := jwttest.Shared("HS256", "oct1")
	kid := func(k string) map[string]any { return map[string]any{"kid": k} }
	set := []json.RawMessage{rsa1.JWK("kid/1", true), ec1.JWK("kid/ec1", true), oct1.JWK("kid/a", true)}
	tests := []struct {
		name     string
		config   map[string]any
		req      *sdk.Request
		wantUser string
		want     func(t *testing.T, c *sdk.Credentials)
	}{
		{name: "RSA key from the set", req: bearer(rsa1.Sign(mccoy(), kid("kid/1"))), wantUser: "Leonard McCoy",
			want: func(t *testing.T, c *sdk.Credentials) {
				if c.Attributes["attr.jwt.aud"] != `["TestAudience"]` || len(c.Attributes) != 4 || len(c.BackendRoles) != 0 {
					t.Errorf("credentials = %+v; want aud as a JSON list, 4 attributes, no roles", c)
				}
			}},
		{name: "EC key from the set", req: bearer(ec1.Sign(mccoy(), kid("kid/ec1"))), wantUser: "Leonard McCoy"},
		{name: "invalid EC signature", req: bearer(jwttest.Shared("ES256", "other").Sign(mccoy(), kid("kid/ec1")))},
		{name: "bare token without Bearer", req: withHeader("Authorization", rsa1.Sign(mccoy(), kid("kid/1"))), wantUser: "Leonard McCoy"},
		{name: "roles", config: map[string]any{"roles_key": "roles"}, req: bearer(rsa1.Sign(mccoy(), kid("kid/1"))), wantUser: "Leonard McCoy",
			want: func(t *testing.T, c *sdk.Credentials) {
				if !slices.Equal(c.BackendRoles, []string{"role1", "role2"}) {
					t.Errorf("roles = %q", c.BackendRoles)
				}
			}},
		{name: "bad signature", req: bearer(rsa2.Sign(mccoy(), kid("kid/1")))},
		{name: "invalid token", req: bearer("invalid.token.string")},
		{name: "missing token", req: &sdk.Request{}},
		{name: "Basic header is ignored", req: withHeader("Authorization", "Basic dXNlcjpwYXNz")},
		{name: "every key-set setting", config: map[string]any{"cache_jwks_endpoint": false, "jwks_request_timeout_ms": 10000,
			"jwks_queued_thread_timeout_ms": 5000, "refresh_rate_limit_time_window_ms": 20000, "refresh_rate_limit_count": 5,
			"max_jwks_keys": 20, "max_jwks_response_size_bytes": 2048000},
			req: bearer(rsa1.Sign(mccoy(), kid("kid/1"))), wantUser: "Leonard McCoy"},
		{name: "URL parameter", config: map[string]any{"jwt_url_parameter": "access_token"},
			req: &sdk.Request{Query: map[string][]string{"access_token": {rsa1.Sign(mccoy(), kid("kid/1"))}}}, wantUser: "Leonard McCoy"},
		{name: "required issuer and audience", config: map[string]any{"required_issuer": "TestIssuer", "required_audience": "TestAudience"},
			req: bearer(rsa1.Sign(mccoy(), kid("kid/1"))), wantUser: "Leonard McCoy"},
		{name: "wrong issuer", config: map[string]any{"required_issuer": "Wrong Issuer"}, req: bearer(rsa1.Sign(mccoy(), kid("kid/1")))},
		{name: "wrong audience", config: map[string]any{"required_audience": "Wrong Audience"}, req: bearer(rsa1.Sign(mccoy(), kid("kid/1")))},
		{name: "no audience with a required audience", config: map[string]any{"required_audience": "TestAudience"},
			req: bearer(rsa1.Sign(mccoy("aud", nil), kid("kid/1")))},
		{name: "oct key with an escaped kid", req: bearer(oct1.Sign(mccoy(), kid(`kid\/a`))), wantUser: "Leonard McCoy"},
		{name: "peculiar escaping of an RSA kid", req: bearer(rsa1.Sign(mccoy(), kid(`kid\/1`))), wantUser: "Leonard McCoy"},
		{name: "expired inside the skew", req: bearer(oct1.Sign(mccoy("exp", unix(-20*time.Second)), kid("kid/a"))), wantUser: "Leonard McCoy"},
		{name: "expired outside the skew", req: bearer(oct1.Sign(mccoy("exp", unix(-40*time.Second)), kid("kid/a")))},
		{name: "nbf inside the skew", req: bearer(oct1.Sign(mccoy("nbf", unix(20*time.Second)), kid("kid/a"))), wantUser: "Leonard McCoy"},
		{name: "nbf outside the skew", req: bearer(oct1.Sign(mccoy("nbf", unix(40*time.Second)), kid("kid/a")))},
		{name: "nested subject and roles", config: map[string]any{"subject_key": "attributes,sub", "roles_key": []any{"attributes", "roles"}},
			req: bearer(rsa1.Sign(mccoy("sub", nil, "attributes", map[string]any{"sub": "nested", "roles": "a,b"}), kid("kid/1"))), wantUser: "nested",
			want: func(t *testing.T, c *sdk.Credentials) {
				if !slices.Equal(c.BackendRoles, []string{"a", "b"}) {
					t.Errorf("roles = %q", c.BackendRoles)
				}
			}},
		{name: "subject and roles keep their spaces, as Nimbus reads them (found by review)", config: map[string]any{"subject_key": "asub", "roles_key": "roles"},
			req: bearer(rsa1.Sign(mccoy("asub", " admin ", "roles", "a, b , a,a"), kid("kid/1"))), wantUser: " admin ",
			want: func(t *testing.T, c *sdk.Credentials) {
				if !slices.Equal(c.BackendRoles, []string{"a", " b ", " a"}) {
					t.Errorf("roles = %q, want untrimmed", c.BackendRoles)
				}
			}},
		{name: "the default sub keeps its spaces (found by review)", req: bearer(rsa1.Sign(mccoy("sub", " admin"), kid("kid/1"))), wantUser: " admin"},
		{name: "JWK alg differs from the token's", req: bearer(jwttest.SignRaw("RS384", rsa1.Private, []byte(`{"alg":"RS384","kid":"kid/1"}`), []byte(`{"sub":"x"}`)))},
		{name: "HS256 forged with the RSA JWK's key material", req: bearer(jwttest.SignRaw("HS256", rsa1.PublicDER(), []byte(`{"alg":"HS256","kid":"kid/1"}`), []byte(`{"sub":"x"}`)))},
		{name: "no kid with several keys", req: bearer(rsa1.Sign(mccoy(), nil))},
		{name: "alg none with a known kid", req: bearer(enc(`{"alg":"none","kid":"kid/1"}`) + "." + enc(`{"sub":"x"}`) + ".")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newIDP(t, set...)
			a := p.auth(t, tt.config)
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
			if c == nil || c.Username != tt.wantUser {
				t.Fatalf("credentials = %+v, want user %q", c, tt.wantUser)
			}
			if tt.want != nil {
				tt.want(t, c)
			}
		})
	}
}

func TestJWKS_KeyRotation(t *testing.T) {
	rsa1, rsa2 := jwttest.Shared("RS256", "rsa1"), jwttest.Shared("RS256", "rsa2")
	p := newIDP(t, rsa1.JWK("kid/1", true))
	a := p.auth(t, quickRefresh)
	ctx := context.Background()
	if c, err := a.Extract(ctx, bearer(rsa1.Sign(mccoy(), map[string]any{"kid": "kid/1"}))); c == nil || err != nil {
		t.Fatalf("before rotation: %v, %v", c, err)
	}
	if c, err := a.Extract(ctx, bearer(rsa2.Sign(mccoy(), map[string]any{"kid": "kid/2"}))); c != nil || err != nil {
		t.Fatalf("unknown kid before rotation: %v, %v; want no credentials", c, err)
	}
	p.serve(rsa1.JWK("kid/1", true), rsa2.JWK("kid/2", true))
	time.Sleep(refreshInterval) // the set was fetched less than an interval ago
	if c, err := a.Extract(ctx, bearer(rsa2.Sign(mccoy(), map[string]any{"kid": "kid/2"}))); c == nil || err != nil {
		t.Fatalf("new kid after rotation: %v, %v", c, err)
	}
}

func TestJWKS_WithoutKID(t *testing.T) {
	rsa1, rsa2 := jwttest.Shared("RS256", "rsa1"), jwttest.Shared("RS256", "rsa2")
	ctx := context.Background()
	t.Run("single key without alg is used", func(t *testing.T) {
		p := newIDP(t, rsa1.JWK("", false))
		if c, err := p.auth(t, nil).Extract(ctx, bearer(rsa1.Sign(mccoy(), nil))); c == nil || err != nil {
			t.Fatalf("%v, %v", c, err)
		}
	})
	t.Run("single key rotated: a failed signature refreshes once", func(t *testing.T) {
		p := newIDP(t, rsa1.JWK("", true))
		a := p.auth(t, quickRefresh)
		if c, _ := a.Extract(ctx, bearer(rsa1.Sign(mccoy(), nil))); c == nil {
			t.Fatal("first key refused")
		}
		p.serve(rsa2.JWK("", true))
		time.Sleep(refreshInterval)
		if c, err := a.Extract(ctx, bearer(rsa2.Sign(mccoy(), nil))); c == nil || err != nil {
			t.Fatalf("rotated key: %v, %v", c, err)
		}
		if p.hits.Load() != 2 {
			t.Fatalf("key set fetched %d times, want 2", p.hits.Load())
		}
	})
	// OpenSearch's JwtVerifier unescapes the kid before it asks whether
	// there is one, so a kid that unescapes to "" (a lone backslash) is no
	// kid there, for the lookup and for the refresh after a failed
	// signature alike.
	for _, kid := range []string{`\`, ""} {
		t.Run(fmt.Sprintf("kid %q unescapes to none: a failed signature refreshes once", kid), func(t *testing.T) {
			p := newIDP(t, rsa1.JWK("", true))
			a := p.auth(t, quickRefresh)
			if c, _ := a.Extract(ctx, bearer(rsa1.Sign(mccoy(), map[string]any{"kid": kid}))); c == nil {
				t.Fatal("first key refused")
			}
			p.serve(rsa2.JWK("", true))
			time.Sleep(refreshInterval)
			if c, err := a.Extract(ctx, bearer(rsa2.Sign(mccoy(), map[string]any{"kid": kid}))); c == nil || err != nil {
				t.Fatalf("rotated key: %v, %v", c, err)
			}
			if p.hits.Load() != 2 {
				t.Fatalf("key set fetched %d times, want 2", p.hits.Load())
			}
		})
	}
}

func TestJWKS_UnavailableIsAnError(t *testing.T) {
	rsa1 := jwttest.Shared("RS256", "rsa1")
	token := rsa1.Sign(mccoy(), map[string]any{"kid": "kid/1"})
	big := make([]json.RawMessage, 12)
	for i := range big {
		big[i] = rsa1.JWK(strings.Repeat("k", i+1), true)
	}
	tests := []struct {
		name   string
		setup  func(p *idp)
		config map[string]any
	}{
		{name: "HTTP error", setup: func(p *idp) { p.code.Store(http.StatusServiceUnavailable) }},
		{name: "malformed key set", setup: func(p *idp) { p.body.Store([]byte(`{"keys": "nope"`)) }},
		{name: "response over the size limit", setup: func(p *idp) { p.serve(big...) }, config: map[string]any{"max_jwks_response_size_bytes": 1024}},
		{name: "more keys than allowed", setup: func(p *idp) { p.serve(big...) }, config: map[string]any{"max_jwks_keys": 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newIDP(t, rsa1.JWK("kid/1", true))
			tt.setup(p)
			c, err := p.auth(t, tt.config).Extract(context.Background(), bearer(token))
			if c != nil || !errors.Is(err, sdk.ErrUnavailable) {
				t.Fatalf("Extract = %v, %v; want an error wrapping sdk.ErrUnavailable", c, err)
			}
		})
	}
	t.Run("nobody listening", func(t *testing.T) {
		p := newIDP(t)
		a := p.auth(t, nil)
		p.srv.Close()
		if _, err := a.Extract(context.Background(), bearer(token)); !errors.Is(err, sdk.ErrUnavailable) {
			t.Fatalf("err = %v, want unavailable", err)
		}
	})
}

func TestJWKS_HostileKIDs(t *testing.T) {
	rsa1 := jwttest.Shared("RS256", "rsa1")
	p := newIDP(t, rsa1.JWK("kid/1", true))
	a := p.auth(t, map[string]any{"refresh_rate_limit_count": 3, "refresh_rate_limit_time_window_ms": 3600000})
	ctx := context.Background()
	kids := []string{"../../../../etc/passwd", `..\..\windows\win.ini`, "' OR '1'='1' --", "1; DROP TABLE keys", "%00", `\u0000`,
		"kid/1\x00", " kid/1", `\u12`, strings.Repeat("A", 1024), "file:///etc/passwd", "http://169.254.169.254/"}
	for _, kid := range kids {
		c, err := a.Extract(ctx, bearer(rsa1.Sign(mccoy(), map[string]any{"kid": kid})))
		if c != nil || err != nil {
			t.Fatalf("kid %q: credentials %+v, err %v; want no credentials", kid, c, err)
		}
	}
	// The first lookup loads the set, which answers the first kid. Three
	// refreshes an hour means one every 20 minutes, so later unknown kids
	// are refused at once without any request.
	if got := p.hits.Load(); got != 1 {
		t.Fatalf("key set fetched %d times, want 1", got)
	}
	if c, err := a.Extract(ctx, bearer(rsa1.Sign(mccoy(), map[string]any{"kid": "kid/1"}))); c == nil || err != nil {
		t.Fatalf("the real kid after the flood: %v, %v", c, err)
	}
}

// jwksExtract signs payload, exactly as given, with the shared rsa1 key
// under kid/1 and extracts it in JWKS mode with the extra config.
func jwksExtract(t *testing.T, extra map[string]any, payload string) *sdk.Credentials {
	t.Helper()
	rsa1 := jwttest.Shared("RS256", "rsa1")
	a := newIDP(t, rsa1.JWK("kid/1", true)).auth(t, extra)
	c, err := a.Extract(context.Background(), bearer(jwttest.SignRaw("RS256", rsa1.Private, []byte(`{"alg":"RS256","kid":"kid/1"}`), []byte(payload))))
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return c
}

// JWKS mode refuses duplicate claim names too: at the top level as Nimbus
// (Gson's map adapter) does (found by review); in a nested object where
// Gson would keep the last value, deliberately (see the README's
// differences).
func TestJWKS_DuplicateClaimsRefused(t *testing.T) {
	for _, payload := range []string{
		`{"sub":"guest","sub":"admin"}`,
		`{"sub":"bob","roles":"reader","roles":"all_access"}`,
		`{"sub":"bob","attributes":{"roles":"reader","roles":"all_access"}}`,
	} {
		if c := jwksExtract(t, map[string]any{"roles_key": "roles"}, payload); c != nil {
			t.Errorf("%s accepted as %q roles %q; want no credentials", payload, c.Username, c.BackendRoles)
		}
	}
	if c := jwksExtract(t, nil, `{"sub":"bob","attributes":{"sub":"x"}}`); c == nil || c.Username != "bob" {
		t.Errorf("distinct claims: credentials = %+v, want bob", c)
	}
}

// JWKS mode takes member names as they are, as Nimbus does: "sub " is a
// claim of its own, not a second sub (static mode refuses it, as jjwt
// would trim it).
func TestJWKS_MemberNamesAreNotTrimmed(t *testing.T) {
	c := jwksExtract(t, nil, `{"sub":"bob","sub ":"admin"," ":1}`)
	if c == nil || c.Username != "bob" || c.Attributes["attr.jwt.sub "] != "admin" {
		t.Fatalf("credentials = %+v, want bob with attr.jwt.sub  = admin", c)
	}
	rsa1 := jwttest.Shared("RS256", "rsa1")
	a := newIDP(t, rsa1.JWK("kid/1", true)).auth(t, nil)
	c, err := a.Extract(context.Background(), bearer(jwttest.SignRaw("RS256", rsa1.Private, []byte(`{"alg":"RS256","kid":"kid/1","x ":1}`), []byte(`{"sub":"bob"}`))))
	if err != nil || c == nil {
		t.Fatalf("header member name with a space: %+v, %v; want bob", c, err)
	}
}

// JWKS mode does not apply jjwt's compression rule: zip is no JWS header
// parameter for Nimbus, which keeps it as a custom one.
func TestJWKS_ZipIsNotRefused(t *testing.T) {
	rsa1 := jwttest.Shared("RS256", "rsa1")
	a := newIDP(t, rsa1.JWK("kid/1", true)).auth(t, nil)
	c, err := a.Extract(context.Background(), bearer(jwttest.SignRaw("RS256", rsa1.Private, []byte(`{"alg":"RS256","kid":"kid/1","zip":"XYZ"}`), []byte(`{"sub":"bob"}`))))
	if err != nil || c == nil {
		t.Fatalf("zip XYZ: %+v, %v; want bob", c, err)
	}
}

// JWKS mode refuses registered claims of the wrong JSON type too, as
// Nimbus's JWTClaimsSet.parse (getString, getStringList) does (found by
// review). A numeric sub is the exception (TestJWKS_NumericSubject).
func TestJWKS_RegisteredClaimTypes(t *testing.T) {
	for _, payload := range []string{
		`{"sub":true}`,
		`{"sub":{"name":"admin"}}`,
		`{"sub":["bob"],"name":"bob"}`,
		`{"sub":"bob","iss":{"a":1}}`,
		`{"sub":"bob","jti":false}`,
		`{"sub":"bob","aud":["api",5]}`,
	} {
		if c := jwksExtract(t, map[string]any{"subject_key": "name"}, payload); c != nil {
			t.Errorf("%s accepted as %q; want no credentials", payload, c.Username)
		}
	}
	if c := jwksExtract(t, nil, `{"sub":"bob","iss":"i","jti":"j","aud":["api"]}`); c == nil || c.Username != "bob" {
		t.Errorf("well-typed claims: credentials = %+v, want bob", c)
	}
}

// JWKS mode takes a numeric sub as the user name, as Nimbus's
// JWTClaimsSet.parse does (String.valueOf of the number Gson read: a Long,
// or a Double when the literal has a '.' or does not fit a long). Static
// mode (jjwt) refuses it. Found by review: realmd refused such tokens in
// both modes.
func TestJWKS_NumericSubject(t *testing.T) {
	for _, tt := range []struct{ sub, want string }{
		{"123", "123"},
		{"-0", "0"},
		{"1.0", "1.0"},
		{"1e2", "100.0"},
		{"2.50", "2.5"},
		{"1e21", "1.0E21"},
		{"0.0001", "1.0E-4"},
		{"12345678901234567890", "1.2345678901234567E19"},
	} {
		c := jwksExtract(t, nil, `{"sub":`+tt.sub+`}`)
		if c == nil || c.Username != tt.want || c.Attributes["attr.jwt.sub"] != tt.want {
			t.Errorf("sub %s: credentials = %+v, want user and attr.jwt.sub %q", tt.sub, c, tt.want)
		}
	}
	if c := jwksExtract(t, map[string]any{"subject_key": "name"}, `{"sub":1,"name":"bob"}`); c == nil || c.Username != "bob" || c.Attributes["attr.jwt.sub"] != "1" {
		t.Errorf("numeric sub beside subject_key: credentials = %+v, want bob with attr.jwt.sub 1", c)
	}
}

// JWKS mode reads the claims whatever cty says, as OpenSearch's Nimbus path
// does (SignedJWT.getJWTClaimsSet); only a cty that is not a string is
// refused (Nimbus's header parser).
func TestJWKS_ContentTypeIgnored(t *testing.T) {
	rsa1 := jwttest.Shared("RS256", "rsa1")
	a := newIDP(t, rsa1.JWK("kid/1", true)).auth(t, nil)
	c, err := a.Extract(context.Background(), bearer(rsa1.Sign(mccoy(), map[string]any{"kid": "kid/1", "cty": "JWT"})))
	if err != nil || c == nil || c.Username != "Leonard McCoy" {
		t.Fatalf("cty JWT: %+v, %v; want Leonard McCoy", c, err)
	}
	c, err = a.Extract(context.Background(), bearer(rsa1.Sign(mccoy(), map[string]any{"kid": "kid/1", "cty": 5})))
	if err != nil || c != nil {
		t.Fatalf("numeric cty: %+v, %v; want no credentials", c, err)
	}
}

// JWKS mode: Nimbus also computes exp * 1000 in a long, so an exp beyond
// math.MaxInt64/1000 seconds is in the past (found by review).
func TestJWKS_HugeExpIsExpired(t *testing.T) {
	if c := jwksExtract(t, nil, `{"sub":"bob","exp":10000000000000000}`); c != nil {
		t.Errorf("exp 1e16 accepted as %q; want no credentials", c.Username)
	}
	if c := jwksExtract(t, nil, `{"sub":"bob","exp":9223372036854775}`); c == nil {
		t.Errorf("largest exp whose milliseconds fit a long refused")
	}
}

// JWKS mode keeps null and empty claims as attributes, as Nimbus's claims
// set does; only static mode (jjwt) drops them.
func TestJWKS_EmptyClaimsKeepTheirAttribute(t *testing.T) {
	c := jwksExtract(t, nil, `{"sub":"bob","dept":null,"iss":""}`)
	want := map[string]string{"attr.jwt.sub": "bob", "attr.jwt.dept": "null", "attr.jwt.iss": ""}
	if c == nil || !maps.Equal(c.Attributes, want) {
		t.Fatalf("credentials = %+v, want attributes %v", c, want)
	}
}

// JWKS mode: Nimbus's DefaultJWTClaimsVerifier accepts while
// exp + skew > now and nbf - skew < now, strictly, so the exact bounds are
// refused; static mode (jjwt) accepts them (found by review).
func TestJWKS_TimeBoundsAreStrict(t *testing.T) {
	for _, tt := range []struct {
		name    string
		payload string
		ok      bool
	}{
		{"exp exactly at now - skew", fmt.Sprintf(`{"sub":"bob","exp":%d}`, unix(-30*time.Second)), false},
		{"exp one second later", fmt.Sprintf(`{"sub":"bob","exp":%d}`, unix(-29*time.Second)), true},
		{"nbf exactly at now + skew", fmt.Sprintf(`{"sub":"bob","nbf":%d}`, unix(30*time.Second)), false},
		{"nbf one second earlier", fmt.Sprintf(`{"sub":"bob","nbf":%d}`, unix(29*time.Second)), true},
		// Nimbus reads dates with JSONObjectUtils.getLong: a fraction is
		// dropped, so this exp is at the bound (found by review).
		{"exp a fraction after now - skew", fmt.Sprintf(`{"sub":"bob","exp":%d.5}`, unix(-30*time.Second)), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if c := jwksExtract(t, nil, tt.payload); (c != nil) != tt.ok {
				t.Fatalf("credentials = %+v, want accepted %v", c, tt.ok)
			}
		})
	}
}

func TestJWKS_DiscoveryOptionForOIDC(t *testing.T) {
	rsa1 := jwttest.Shared("RS256", "rsa1")
	p := newIDP(t, rsa1.JWK("kid/1", true))
	disc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"jwks_uri":"` + p.srv.URL + `/jwks"}`))
	}))
	t.Cleanup(disc.Close)
	cfg := configOf(map[string]any{"subject_key": "sub"}, "")
	c := Config{Header: DefaultHeader, MaxTokenSize: DefaultMaxTokenSize, Claims: ReadClaimRules(cfg)}
	c.JWKS.DiscoveryURL = disc.URL
	a := New(c, nil)
	if err := a.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Cleanup()
	if cr, err := a.Extract(context.Background(), bearer(rsa1.Sign(mccoy(), map[string]any{"kid": "kid/1"}))); cr == nil || err != nil {
		t.Fatalf("%v, %v", cr, err)
	}
}

// An attacker's tokens with made-up kids must not keep a real key rotation
// out: refreshes are spaced and shared, so the rotated key is found at the
// latest by the first refresh one interval after the last, and kids the set
// does not hold are refused as no credentials, not reported as an
// unavailable provider.
func TestJWKS_UnknownKIDFloodDoesNotHideRotation(t *testing.T) {
	oldKey, newKey := jwttest.Shared("RS256", "rsa1"), jwttest.Shared("RS256", "rsa2")
	forger := jwttest.Shared("RS256", "forger")
	p := newIDP(t, oldKey.JWK("old", true))
	const window, limit = time.Second, 10
	a := p.auth(t, map[string]any{"refresh_rate_limit_time_window_ms": window.Milliseconds(), "refresh_rate_limit_count": limit})
	ctx := context.Background()
	start := time.Now()
	if c, err := a.Extract(ctx, bearer(oldKey.Sign(mccoy(), map[string]any{"kid": "old"}))); c == nil || err != nil {
		t.Fatalf("before the flood: %v, %v", c, err)
	}
	forge := func(who string) error {
		kid := fmt.Sprintf("forged-%s-%d", who, rand.Int64())
		c, err := a.Extract(ctx, bearer(forger.Sign(mccoy(), map[string]any{"kid": kid})))
		if c != nil || err != nil {
			return fmt.Errorf("forged kid %s: credentials %v, err %v; want no credentials", kid, c, err)
		}
		return nil
	}
	// More forged tokens one after the other than the limit allows
	// refreshes in the window, then a concurrent burst.
	for i := range limit + 2 {
		if err := forge(fmt.Sprint(i)); err != nil {
			t.Error(err)
		}
	}
	const attackers = 8
	var wg sync.WaitGroup
	errs := make(chan error, attackers)
	for i := range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := forge(fmt.Sprint("burst-", i)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// The provider rotates. A genuine token with the new kid may be refused
	// (never 503) while the set was fetched less than an interval ago, and
	// must get in once an interval has passed.
	p.serve(newKey.JWK("new", true))
	genuine := bearer(newKey.Sign(mccoy(), map[string]any{"kid": "new"}))
	if c, err := a.Extract(ctx, genuine); err != nil {
		t.Fatalf("genuine token with the rotated kid right after the rotation: err %v, want credentials or none", err)
	} else if c == nil {
		time.Sleep(window / limit)
		if c, err := a.Extract(ctx, genuine); c == nil || err != nil {
			t.Fatalf("genuine token with the rotated kid one interval after the rotation: credentials %v, err %v", c, err)
		}
	}

	// Never more often than the limit: fetches are spaced window/limit
	// apart (elapsed time only loosens this bound on a slow machine).
	interval := window / limit
	if max := 1 + int32(time.Since(start)/interval) + 1; p.hits.Load() > max {
		t.Fatalf("key set fetched %d times in %s, more than the limit allows (%d)", p.hits.Load(), time.Since(start), max)
	}
}

// JWKS mode refuses the header members Nimbus's JWSHeader.parse refuses
// (OpenSearch's JWKS mode) though realmd does not use them: typ, x5t and
// x5t#S256 that are not strings, jku and x5u that are not strings
// java.net.URI accepts, x5c that is not a list of strings, jwk that is not
// a public JWK; and crit, unless it is null or [] (Nimbus then has no
// critical parameter to understand). null counts as absent, as there. (An x5c entry that is not
// a base64 DER certificate go-jose refuses; Nimbus does not look inside.)
func TestJWKS_HeaderMembersNimbusRefuses(t *testing.T) {
	rsa1 := jwttest.Shared("RS256", "rsa1")
	cert := base64.StdEncoding.EncodeToString(selfSigned(t, rsa1.Private.(*rsa.PrivateKey)))
	ec := jwttest.Shared("ES256", "ec1")
	privateEC, err := json.Marshal(map[string]any{"kty": "EC", "crv": "P-256",
		"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
		"d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		member string
		value  string
		ok     bool
	}{
		{"typ string", "typ", `"JWT"`, true},
		{"typ null", "typ", `null`, true},
		{"typ number", "typ", `5`, false},
		{"typ object", "typ", `{}`, false},
		{"jku URL", "jku", `"https://idp.example.com/jwks"`, true},
		{"jku empty", "jku", `""`, true},
		{"jku null", "jku", `null`, true},
		{"jku number", "jku", `5`, false},
		{"jku with a space", "jku", `"https://idp.example.com/a b"`, false},
		{"jku with a bad IPv6 literal", "jku", `"https://[x]/jwks"`, false},
		{"jku with a bad escape", "jku", `"https://idp/%zz"`, false},
		{"x5u URL", "x5u", `"https://idp.example.com/cert.pem"`, true},
		{"x5u list", "x5u", `["https://idp.example.com/cert.pem"]`, false},
		{"x5u without authority", "x5u", `"https://"`, false},
		{"x5c certificate", "x5c", `["` + cert + `"]`, true},
		{"x5c not a certificate", "x5c", `["MIIB"]`, false},
		{"x5c empty", "x5c", `[]`, true},
		{"x5c null", "x5c", `null`, true},
		{"x5c string", "x5c", `"MIIB"`, false},
		{"x5c number element", "x5c", `[1]`, false},
		{"x5c null element", "x5c", `[null]`, false},
		{"x5t string", "x5t", `"abc"`, true},
		{"x5t number", "x5t", `5`, false},
		{"x5t#S256 boolean", "x5t#S256", `true`, false},
		{"jwk public RSA key", "jwk", string(rsa1.JWK("x", true)), true},
		{"jwk public EC key", "jwk", string(ec.JWK("", false)), true},
		{"jwk null", "jwk", `null`, true},
		{"jwk string", "jwk", `"key"`, false},
		{"jwk empty object", "jwk", `{}`, false},
		{"jwk RSA without modulus", "jwk", `{"kty":"RSA","e":"AQAB"}`, false},
		{"jwk private EC key", "jwk", string(privateEC), false},
		{"crit null", "crit", `null`, true},
		{"crit empty list", "crit", `[]`, true},
		{"crit empty string", "crit", `""`, false},
		{"crit listing typ", "crit", `["typ"]`, false},
		{"jwk symmetric key", "jwk", `{"kty":"oct","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}`, false},
	}
	a := newIDP(t, rsa1.JWK("kid/1", true)).auth(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fmt.Sprintf(`{"alg":"RS256","kid":"kid/1",%q:%s}`, tt.member, tt.value)
			c, err := a.Extract(context.Background(), bearer(jwttest.SignRaw("RS256", rsa1.Private, []byte(h), []byte(`{"sub":"bob"}`))))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if got := c != nil; got != tt.ok {
				t.Fatalf("%s: credentials %+v; want accepted %v", h, c, tt.ok)
			}
		})
	}
}

// JWKS mode: OpenSearch's JwtVerifier skips the issuer check only for a
// null or empty required_issuer, so a blank one must equal iss (found by
// review: realmd ignored it, as static mode's jjwt does).
func TestJWKS_BlankRequiredIssuerIsRequired(t *testing.T) {
	if c := jwksExtract(t, map[string]any{"required_issuer": " "}, `{"sub":"bob","iss":"https://idp"}`); c != nil {
		t.Errorf("iss https://idp accepted under required_issuer \" \"; want no credentials")
	}
	if c := jwksExtract(t, map[string]any{"required_issuer": " "}, `{"sub":"bob","iss":" "}`); c == nil {
		t.Errorf("iss \" \" refused under required_issuer \" \"")
	}
}
