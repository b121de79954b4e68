package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/realmd/realmd/plugins/jwks"
)

// ParseSigningKey reads one signing_key entry, as OpenSearch does and a
// little more:
//   - PEM "PUBLIC KEY" (X.509 SubjectPublicKeyInfo: RSA, EC or Ed25519),
//     "RSA PUBLIC KEY" (PKCS#1) or "CERTIFICATE" (its public key). Line
//     breaks may be anywhere, as in OpenSearch's own tests;
//   - bare base64 of a SubjectPublicKeyInfo, certificate or PKCS#1 RSA
//     public key DER (other key material is refused, see bareKey);
//   - anything else that is base64 is an HMAC secret: the decoded bytes.
//
// The result is *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or
// []byte. Keys that are too weak are refused: RSA under 2048 bits, curves
// other than P-256/P-384/P-521, HMAC secrets under 32 bytes.
func ParseSigningKey(s string) (any, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty key")
	}
	var key any
	if label, body, ok, err := pemBody(s); err != nil {
		return nil, err
	} else if ok {
		der, err := decodeBase64(body)
		if err != nil {
			return nil, fmt.Errorf("PEM %s block: %w", label, err)
		}
		if key, err = parseDER(label, der); err != nil {
			return nil, err
		}
	} else {
		raw, err := decodeBase64(s)
		if err != nil {
			return nil, errors.New("neither PEM nor base64")
		}
		if key, err = bareKey(raw); err != nil {
			return nil, err
		}
	}
	switch key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, []byte:
	default:
		return nil, fmt.Errorf("unsupported public key type %T (use RSA, EC or Ed25519)", key)
	}
	if err := jwks.CheckKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// bareKey reads the bytes of a key given as bare base64: a
// SubjectPublicKeyInfo, a certificate or a PKCS#1 RSA public key, else an
// HMAC secret. Bytes shaped like key material that Go cannot use (an
// RSASSA-PSS or unsupported-curve key, a private key) are an error, never a
// secret: a public key's bytes are public, and HS256 tokens signed with
// them would verify (key confusion). OpenSearch takes them as a secret.
func bareKey(raw []byte) (any, error) {
	if pub, err := x509.ParsePKIXPublicKey(raw); err == nil {
		return pub, nil
	}
	if cert, err := x509.ParseCertificate(raw); err == nil {
		return cert.PublicKey, nil
	}
	if pub, err := x509.ParsePKCS1PublicKey(raw); err == nil {
		return pub, nil
	}
	if _, err := x509.ParsePKCS8PrivateKey(raw); err == nil {
		return nil, errors.New("this is a private key (PKCS#8): give the public key, never the private key")
	}
	if _, err := x509.ParsePKCS1PrivateKey(raw); err == nil {
		return nil, errors.New("this is an RSA private key: give the public key, never the private key")
	}
	if _, err := x509.ParseECPrivateKey(raw); err == nil {
		return nil, errors.New("this is an EC private key: give the public key, never the private key")
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(raw, &spki); err == nil && len(rest) == 0 {
		return nil, fmt.Errorf("a public key of a kind realmd cannot use (algorithm %v); refusing to take its bytes as an HMAC secret: use an RSA key (rsaEncryption), EC P-256/P-384/P-521 or Ed25519", spki.Algorithm.Algorithm)
	}
	var cert struct {
		TBS       asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}
	if rest, err := asn1.Unmarshal(raw, &cert); err == nil && len(rest) == 0 {
		return nil, errors.New("a certificate realmd cannot read; refusing to take its bytes as an HMAC secret")
	}
	return raw, nil
}

func parseDER(label string, der []byte) (any, error) {
	switch label {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("reading public key: %w", err)
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("reading RSA public key: %w", err)
		}
		return k, nil
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("reading certificate: %w", err)
		}
		return c.PublicKey, nil
	}
	if strings.Contains(label, "PRIVATE KEY") {
		return nil, fmt.Errorf("PEM %s block: give the public key, never the private key", label)
	}
	return nil, fmt.Errorf("unsupported PEM block %q (use PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)", label)
}

// pemBody finds the PEM block in s by its text markers, tolerating missing
// line breaks around them. ok is false when s has no BEGIN marker. Anything
// but white space after the END line is an error: a second block there
// would otherwise be dropped without a word.
func pemBody(s string) (label, body string, ok bool, err error) {
	const begin, dashes = "-----BEGIN ", "-----"
	i := strings.Index(s, begin)
	if i < 0 {
		return "", "", false, nil
	}
	rest := s[i+len(begin):]
	j := strings.Index(rest, dashes)
	if j < 0 {
		return "", "", false, errors.New("PEM BEGIN line is not terminated")
	}
	label, rest = rest[:j], rest[j+len(dashes):]
	end := "-----END " + label + dashes
	k := strings.Index(rest, end)
	if k < 0 {
		return "", "", false, fmt.Errorf("PEM %s block has no END line", label)
	}
	switch after := strings.TrimSpace(rest[k+len(end):]); {
	case strings.Contains(after, begin):
		return "", "", false, errors.New("more than one PEM block in one entry: give each key as an entry of its own")
	case after != "":
		return "", "", false, fmt.Errorf("text after the PEM %s block's END line", label)
	}
	return label, rest[:k], true, nil
}

// decodeBase64 decodes standard base64, padding optional, ignoring
// whitespace (line breaks of wrapped keys).
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, errors.New("no base64 data")
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}
