package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"slices"
)

// Algorithms are the JWS algorithms realmd verifies. "none" is never one.
var Algorithms = []string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// Minimum key strengths.
const (
	MinRSABits  = 2048
	MinHMACSize = 32 // bytes, for HS256; HS384 needs 48 and HS512 64
)

// IsSupported reports whether alg is one of Algorithms (case-sensitive, as
// RFC 7515 requires).
func IsSupported(alg string) bool { return slices.Contains(Algorithms, alg) }

// CheckKey refuses keys too weak or of a kind realmd does not verify with:
// RSA under 2048 bits, curves other than P-256, P-384 and P-521, HMAC secrets
// under 32 bytes.
func CheckKey(key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N == nil || k.N.BitLen() < MinRSABits {
			return fmt.Errorf("RSA key is shorter than %d bits", MinRSABits)
		}
	case *ecdsa.PublicKey:
		if curveAlg(k.Curve) == "" {
			return fmt.Errorf("elliptic curve %s is not supported (use P-256, P-384 or P-521)", curveName(k.Curve))
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("Ed25519 key has %d bytes, not %d", len(k), ed25519.PublicKeySize)
		}
	case []byte:
		if len(k) < MinHMACSize {
			return fmt.Errorf("HMAC secret has %d bytes; at least %d are required", len(k), MinHMACSize)
		}
	default:
		return fmt.Errorf("unsupported key type %T", key)
	}
	return nil
}

// Fits reports, as an error, whether key may verify a token signed with alg.
// The key decides the family and the token never does: an RSA key admits
// only RS* and PS*, an EC key only the ES algorithm of its curve, an Ed25519
// key only EdDSA, and an HMAC secret only HS* algorithms whose hash is no
// longer than the secret (HS384 needs 48 bytes, HS512 64).
func Fits(key any, alg string) error {
	ok := false
	switch k := key.(type) {
	case *rsa.PublicKey:
		ok = slices.Contains([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}, alg)
	case *ecdsa.PublicKey:
		ok = alg == curveAlg(k.Curve)
	case ed25519.PublicKey:
		ok = alg == "EdDSA"
	case []byte:
		switch alg {
		case "HS256":
			ok = len(k) >= 32
		case "HS384":
			if ok = len(k) >= 48; !ok && len(k) >= 32 {
				return fmt.Errorf("HMAC secret of %d bytes is too short for HS384 (48 required)", len(k))
			}
		case "HS512":
			if ok = len(k) >= 64; !ok && len(k) >= 32 {
				return fmt.Errorf("HMAC secret of %d bytes is too short for HS512 (64 required)", len(k))
			}
		}
	}
	if !ok {
		return fmt.Errorf("a %s key cannot verify %s", KeyKind(key), alg)
	}
	return nil
}

// KeyKind names a key's family for messages: RSA, EC P-256, Ed25519, HMAC.
func KeyKind(key any) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC " + curveName(k.Curve)
	case ed25519.PublicKey:
		return "Ed25519"
	case []byte:
		return "HMAC"
	}
	return fmt.Sprintf("%T", key)
}

func curveAlg(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "ES256"
	case elliptic.P384():
		return "ES384"
	case elliptic.P521():
		return "ES512"
	}
	return ""
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "unknown"
	}
	return c.Params().Name
}
