package jwt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
	"github.com/realmd/realmd/sdk"
)

// BenchmarkExtract measures in-process verification: header extraction,
// parsing, signature, claim checks and credentials, for a token of typical
// size. Distinct tokens are used in turn so nothing is memoised.
func BenchmarkExtract(b *testing.B) {
	for _, alg := range []string{"HS256", "RS256", "ES256", "PS256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			key := jwttest.Shared(alg, "bench")
			a := newAuth(b, map[string]any{"signing_key": key.SigningKey(), "roles_key": "roles"})
			a.now = time.Now
			reqs := make([]*sdk.Request, 256)
			for i := range reqs {
				reqs[i] = bearer(key.Sign(map[string]any{
					"sub": fmt.Sprintf("user-%d", i), "roles": "admin,dev", "iss": "https://idp.example",
					"aud": "realmd", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
				}, map[string]any{"kid": "k1"}))
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				c, err := a.Extract(ctx, reqs[i%len(reqs)])
				if err != nil || c == nil {
					b.Fatalf("Extract = %v, %v", c, err)
				}
			}
		})
	}
}
