package jwt

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// now is the fixed clock of the tests.
var now = time.Unix(1_750_000_000, 0)

// secret is a 64-byte HMAC secret and secretKey its signing_key form.
var (
	secret    = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	secretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg=="
)

// newAuth builds a provisioned Authenticator from a config map on the fixed
// clock; the config must be valid.
func newAuth(t testing.TB, config map[string]any) *Authenticator {
	t.Helper()
	cfg := configOf(config, t.TempDir())
	c := ReadConfig(cfg)
	if err := cfg.Err(); err != nil {
		t.Fatalf("config refused: %v", err)
	}
	a := New(c, nil)
	a.now = func() time.Time { return now }
	if err := a.Provision(context.Background()); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	t.Cleanup(func() { a.Cleanup() })
	return a
}

// problems returns the problem keys of a config.
func problems(config map[string]any) []sdk.Problem {
	cfg := configOf(config, "")
	ReadConfig(cfg)
	return cfg.Problems()
}

// configOf makes an sdk.Config the way realmd sends it: as JSON.
func configOf(config map[string]any, dir string) *sdk.Config {
	raw, err := json.Marshal(config)
	if err != nil {
		panic(err)
	}
	cfg, err := sdk.NewConfig(raw, dir, nil)
	if err != nil {
		panic(err)
	}
	return cfg
}

// withHeader is a request with one header.
func withHeader(name, value string) *sdk.Request {
	return &sdk.Request{Header: map[string][]string{name: {value}}}
}

// bearer is a request with Authorization: Bearer token.
func bearer(token string) *sdk.Request { return withHeader("Authorization", "Bearer "+token) }

// claims are {"sub": "Leonard McCoy"} plus pairs of extra claims.
func claims(kv ...any) map[string]any {
	c := map[string]any{"sub": "Leonard McCoy"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

// unix is a NumericDate offset from the fixed clock.
func unix(d time.Duration) int64 { return now.Add(d).Unix() }
