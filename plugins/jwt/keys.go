package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
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
//   - bare base64 of a SubjectPublicKeyInfo (or certificate) DER;
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
		key = raw // an HMAC secret unless it parses as a public key
		if pub, err := x509.ParsePKIXPublicKey(raw); err == nil {
			key = pub
		} else if cert, err := x509.ParseCertificate(raw); err == nil {
			key = cert.PublicKey
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

// pemBody finds the first PEM block in s by its text markers, tolerating
// missing line breaks around them. ok is false when s has no BEGIN marker.
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
