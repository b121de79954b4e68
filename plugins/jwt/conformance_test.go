package jwt

import (
	"os"
	"testing"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
	"github.com/realmd/realmd/sdk"
	"github.com/realmd/realmd/sdk/realmtest"
)

func TestMain(m *testing.M) {
	realmtest.ServeIfChild(Plugin())
	os.Exit(m.Run())
}

func TestConformance(t *testing.T) {
	es := jwttest.Shared("ES256", "conformance")
	p := newIDP(t, es.JWK("kid/1", true))
	challenge := &sdk.Challenge{WWWAuthenticate: `Bearer realm="OpenSearch Security"`}
	user := func(name string, roles ...string) *sdk.Credentials {
		return &sdk.Credentials{Username: name, BackendRoles: roles, CacheTTL: realmtest.AnyTTL,
			Attributes: map[string]string{"attr.jwt.sub": name, "attr.jwt.roles": joinRoles(roles)}}
	}
	hs := func(name string, roles ...string) string {
		return hmacKey.Sign(map[string]any{"sub": name, "roles": joinRoles(roles)}, nil)
	}
	realmtest.Run(t, realmtest.Suite{Authenticators: []realmtest.Authenticator{
		{
			Type:        "jwt",
			Config:      map[string]any{"signing_key": secretKey, "roles_key": "roles", "jwt_url_parameter": "token"},
			Invalid:     map[string]any{"signing_key": []any{secretKey, "AQMDBAMGBwgDCg=="}, "jwt_clock_skew_tolerance_seconds": 1 << 40},
			InvalidKeys: []string{"signing_key[1]", "jwt_clock_skew_tolerance_seconds"},
			Challenge:   challenge,
			Cases: []realmtest.ExtractCase{
				{Name: "alice", Request: *bearer(hs("alice", "admin", "dev")), Want: user("alice", "admin", "dev")},
				{Name: "bob in the URL parameter", Request: sdk.Request{Query: map[string][]string{"token": {hs("bob", "ops")}}}, Want: user("bob", "ops")},
				{Name: "no token", Request: sdk.Request{}},
				{Name: "Basic header", Request: *withHeader("Authorization", "Basic YTpi")},
				{Name: "forged token", Request: *bearer(jwttest.Shared("HS256", "conformance-other").Sign(map[string]any{"sub": "mallory"}, nil))},
			},
		},
		{
			Type: "jwt",
			// A generous limit: the kit sends the unknown kid dozens of times.
			Config: map[string]any{"jwks_uri": p.srv.URL + "/jwks", "roles_key": "roles", "refresh_rate_limit_count": 1000},
			Cases: []realmtest.ExtractCase{
				{Name: "carol from the key set", Request: *bearer(es.Sign(map[string]any{"sub": "carol", "roles": "r"}, map[string]any{"kid": "kid/1"})),
					Want: user("carol", "r")},
				{Name: "unknown kid", Request: *bearer(es.Sign(map[string]any{"sub": "dave"}, map[string]any{"kid": "kid/unknown"}))},
			},
		},
	}})
}

func joinRoles(roles []string) string {
	s := ""
	for i, r := range roles {
		if i > 0 {
			s += ","
		}
		s += r
	}
	return s
}
