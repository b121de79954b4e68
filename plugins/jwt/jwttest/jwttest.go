// Package jwttest makes keys and signed tokens for tests and benchmarks of
// the jwt realm. It signs with the standard library only, so that the
// realm's verifier (go-jose) is checked against an independent signer.
package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// Algorithms are every algorithm the realm verifies.
var Algorithms = []string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// Key is a signing key and its public half.
type Key struct {
	// Alg is the algorithm Sign uses.
	Alg string
	// Private is []byte (HMAC), *rsa.PrivateKey, *ecdsa.PrivateKey or
	// ed25519.PrivateKey.
	Private any
	// Public is what verifies: []byte, *rsa.PublicKey, *ecdsa.PublicKey or
	// ed25519.PublicKey.
	Public any
}

// NewKey generates a fresh key for alg: a 64-byte HMAC secret, RSA 2048,
// the EC curve of the algorithm, or Ed25519.
func NewKey(alg string) (*Key, error) {
	k := &Key{Alg: alg}
	switch alg {
	case "HS256", "HS384", "HS512":
		secret := make([]byte, 64)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		k.Private, k.Public = secret, secret
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		k.Private, k.Public = priv, &priv.PublicKey
	case "ES256", "ES384", "ES512":
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		priv, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			return nil, err
		}
		k.Private, k.Public = priv, &priv.PublicKey
	case "EdDSA":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		k.Private, k.Public = priv, pub
	default:
		return nil, fmt.Errorf("jwttest: unsupported algorithm %q", alg)
	}
	return k, nil
}

var shared sync.Map // name -> *Key

// Shared returns a key for alg generated once per process and name, so
// that many tests do not each pay for RSA key generation. It panics on an
// unsupported algorithm.
func Shared(alg, name string) *Key {
	if k, ok := shared.Load(alg + "/" + name); ok {
		return k.(*Key)
	}
	k, err := NewKey(alg)
	if err != nil {
		panic(err)
	}
	actual, _ := shared.LoadOrStore(alg+"/"+name, k)
	return actual.(*Key)
}

// SigningKey is the key as a signing_key entry: base64 of the secret for
// HMAC, a PEM PUBLIC KEY block otherwise.
func (k *Key) SigningKey() string {
	if b, ok := k.Public.([]byte); ok {
		return base64.StdEncoding.EncodeToString(b)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.PublicDER()}))
}

// PublicDER is the SubjectPublicKeyInfo DER of an asymmetric key, nil for
// HMAC.
func (k *Key) PublicDER() []byte {
	if _, ok := k.Public.([]byte); ok {
		return nil
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public)
	if err != nil {
		panic(err)
	}
	return der
}

// JWK is the public JWK with kid (omitted when ""), alg (omitted when
// withAlg is false) and use "sig". HMAC secrets are "oct" keys.
func (k *Key) JWK(kid string, withAlg bool) json.RawMessage {
	jwk := jose.JSONWebKey{Key: k.Public, KeyID: kid, Use: "sig"}
	if withAlg {
		jwk.Algorithm = k.Alg
	}
	b, err := jwk.MarshalJSON()
	if err != nil {
		panic(err)
	}
	return b
}

// Set is a JWKS document of the given JWKs.
func Set(jwks ...json.RawMessage) []byte {
	b, err := json.Marshal(map[string]any{"keys": jwks})
	if err != nil {
		panic(err)
	}
	return b
}

// Sign returns a compact JWS of claims with header {"alg": k.Alg, "typ":
// "JWT"} plus extra members (which may override alg and typ).
func (k *Key) Sign(claims any, extra map[string]any) string {
	h := map[string]any{"alg": k.Alg, "typ": "JWT"}
	for name, v := range extra {
		h[name] = v
	}
	hb, err := json.Marshal(h)
	if err != nil {
		panic(err)
	}
	pb, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	return SignRaw(h["alg"].(string), k.Private, hb, pb)
}

// SignRaw encodes header and payload as given and signs them with alg and
// key, whatever the header says: the tool for forged tokens. An HMAC alg
// takes any []byte key (a PEM public key's bytes, for a key-confusion
// attack). It panics when alg and key do not go together.
func SignRaw(alg string, key any, header, payload []byte) string {
	input := b64(header) + "." + b64(payload)
	return input + "." + b64(signature(alg, key, []byte(input)))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func signature(alg string, key any, input []byte) []byte {
	hashes := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}
	h := hashes[alg[len(alg)-3:]]
	var err error
	var sig []byte
	switch alg[:2] {
	case "HS":
		m := hmac.New(h.New, key.([]byte))
		m.Write(input)
		return m.Sum(nil)
	case "RS":
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), h, digest(h, input))
	case "PS":
		sig, err = rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), h, digest(h, input), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES":
		priv := key.(*ecdsa.PrivateKey)
		var r, s *big.Int
		if r, s, err = ecdsa.Sign(rand.Reader, priv, digest(h, input)); err == nil {
			size := (priv.Curve.Params().BitSize + 7) / 8
			sig = make([]byte, 2*size)
			r.FillBytes(sig[:size])
			s.FillBytes(sig[size:])
		}
	case "Ed":
		return ed25519.Sign(key.(ed25519.PrivateKey), input)
	default:
		panic("jwttest: unsupported algorithm " + alg)
	}
	if err != nil {
		panic(err)
	}
	return sig
}

func digest(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}
