package jwt

import (
	"context"
	"testing"

	"github.com/realmd/realmd/plugins/jwks"
	"github.com/realmd/realmd/plugins/jwt/jwttest"
)

func TestRoundTrip_EveryAlgorithm(t *testing.T) {
	if len(jwttest.Algorithms) != 13 || len(jwks.Algorithms) != 13 {
		t.Fatalf("want 13 algorithms, have %d and %d", len(jwttest.Algorithms), len(jwks.Algorithms))
	}
	ctx := context.Background()
	for _, alg := range jwttest.Algorithms {
		key := jwttest.Shared(alg, "roundtrip")
		other := jwttest.Shared(alg, "roundtrip-other")
		token := key.Sign(claims("sub", "user-"+alg, "exp", unix(3600e9)), map[string]any{"kid": "k-" + alg})
		forged := other.Sign(claims("sub", "user-"+alg), map[string]any{"kid": "k-" + alg})
		t.Run("static/"+alg, func(t *testing.T) {
			a := newAuth(t, map[string]any{"signing_key": key.SigningKey()})
			c, err := a.Extract(ctx, bearer(token))
			if err != nil || c == nil || c.Username != "user-"+alg {
				t.Fatalf("Extract = %+v, %v", c, err)
			}
			if c, err := a.Extract(ctx, bearer(forged)); c != nil || err != nil {
				t.Fatalf("token of another %s key: %+v, %v", alg, c, err)
			}
		})
		t.Run("jwks/"+alg, func(t *testing.T) {
			p := newIDP(t, key.JWK("k-"+alg, true))
			a := p.auth(t, nil)
			c, err := a.Extract(ctx, bearer(token))
			if err != nil || c == nil || c.Username != "user-"+alg {
				t.Fatalf("Extract = %+v, %v", c, err)
			}
			if c, err := a.Extract(ctx, bearer(forged)); c != nil || err != nil {
				t.Fatalf("token of another %s key: %+v, %v", alg, c, err)
			}
		})
	}
}
