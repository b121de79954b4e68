package jwks

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
)

func TestFits_KeyDecidesTheAlgorithmFamily(t *testing.T) {
	rsaKey := jwttest.Shared("RS256", "alg").Public
	p256 := jwttest.Shared("ES256", "alg").Public
	p384 := jwttest.Shared("ES384", "alg").Public
	p521 := jwttest.Shared("ES512", "alg").Public
	ed := jwttest.Shared("EdDSA", "alg").Public
	h32 := []byte(strings.Repeat("s", 32))
	h48 := []byte(strings.Repeat("s", 48))
	h64 := []byte(strings.Repeat("s", 64))

	admits := map[string][]string{
		"RSA":       {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
		"P-256":     {"ES256"},
		"P-384":     {"ES384"},
		"P-521":     {"ES512"},
		"Ed25519":   {"EdDSA"},
		"HMAC 32 B": {"HS256"},
		"HMAC 48 B": {"HS256", "HS384"},
		"HMAC 64 B": {"HS256", "HS384", "HS512"},
	}
	keys := map[string]any{"RSA": rsaKey, "P-256": p256, "P-384": p384, "P-521": p521, "Ed25519": ed,
		"HMAC 32 B": h32, "HMAC 48 B": h48, "HMAC 64 B": h64}
	for name, key := range keys {
		for _, alg := range append(Algorithms, "none", "None", "HS1", "") {
			want := false
			for _, a := range admits[name] {
				want = want || a == alg
			}
			t.Run(name+"/"+alg, func(t *testing.T) {
				err := Fits(key, alg)
				if (err == nil) != want {
					t.Fatalf("Fits(%s, %q) = %v, want ok=%v", name, alg, err, want)
				}
			})
		}
	}
}

func TestCheckKey_RefusesWeakKeys(t *testing.T) {
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  any
		ok   bool
	}{
		{name: "RSA 1024 is too short", key: &weakRSA.PublicKey},
		{name: "RSA 2048 is fine", key: jwttest.Shared("RS256", "alg").Public, ok: true},
		{name: "P-224 is not supported", key: &p224.PublicKey},
		{name: "P-256 is fine", key: jwttest.Shared("ES256", "alg").Public, ok: true},
		{name: "HMAC of 31 bytes is too short", key: []byte(strings.Repeat("x", 31))},
		{name: "HMAC of 32 bytes is fine", key: []byte(strings.Repeat("x", 32)), ok: true},
		{name: "a string is no key", key: "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckKey(tt.key); (err == nil) != tt.ok {
				t.Fatalf("CheckKey = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
