package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	"github.com/hashicorp/go-hclog"
)

// ParseKeySet reads a JWKS document ({"keys": [...]}) as the Set does, for
// callers with a key set from elsewhere (a file, a test).
func ParseKeySet(body []byte, maxKeys int) ([]*Key, error) {
	ks, err := parseKeySet(body, maxKeys, hclog.NewNullLogger())
	if err != nil {
		return nil, err
	}
	return ks.keys, nil
}

// parseKeySet reads a JWKS document. A document that is not a JSON object
// with a "keys" array, or that has more than maxKeys entries (when
// maxKeys > 0), is an error. Single entries that are unusable (unknown key
// type, encryption keys, weak keys, invalid parameters) are skipped and
// logged: one odd key must not take the whole provider down.
func parseKeySet(body []byte, maxKeys int, logger hclog.Logger) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`not a JSON Web Key Set: no "keys" array`)
	}
	if maxKeys > 0 && len(doc.Keys) > maxKeys {
		return nil, fmt.Errorf("key set has %d keys, more than the allowed %d", len(doc.Keys), maxKeys)
	}
	ks := &keySet{byID: map[string]*Key{}}
	for i, raw := range doc.Keys {
		k, err := parseKey(raw)
		if err != nil {
			logger.Debug("skipping unusable key", "index", i, "error", err)
			continue
		}
		ks.keys = append(ks.keys, k)
		if _, dup := ks.byID[k.ID]; k.ID != "" && !dup {
			ks.byID[k.ID] = k
		}
	}
	return ks, nil
}

// parseKey converts one JWK into a verification key.
func parseKey(raw json.RawMessage) (*Key, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return nil, fmt.Errorf("key use is %q, not sig", jwk.Use)
	}
	var pub any
	switch k := jwk.Key.(type) {
	case *rsa.PublicKey:
		pub = k
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PublicKey:
		pub = k
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case ed25519.PublicKey:
		pub = k
	case ed25519.PrivateKey:
		pub = k.Public()
	case []byte:
		pub = k
	default:
		return nil, fmt.Errorf("unsupported key type %T", jwk.Key)
	}
	if err := CheckKey(pub); err != nil {
		return nil, err
	}
	if jwk.Algorithm != "" && !IsSupported(jwk.Algorithm) {
		return nil, fmt.Errorf("unsupported algorithm %q", jwk.Algorithm)
	}
	if jwk.Algorithm != "" {
		if err := Fits(pub, jwk.Algorithm); err != nil {
			return nil, err
		}
	}
	return &Key{ID: jwk.KeyID, Algorithm: jwk.Algorithm, Public: pub}, nil
}
