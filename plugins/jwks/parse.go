package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	jjson "github.com/go-jose/go-jose/v4/json"
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

// maxDocumentDepth bounds the nesting of a key-set document: a JWK's
// deepest member is a list of strings (x5c, key_ops), at depth 3.
const maxDocumentDepth = 16

// knownKeyTypes are the JWK "kty" values Nimbus reads (RFC 7518 and 8037).
// An entry of another type is left out of the set, in OpenSearch as here.
var knownKeyTypes = map[string]bool{"RSA": true, "EC": true, "oct": true, "OKP": true}

// parseKeySet reads a JWKS document: a JSON object whose member "keys"
// (exactly so spelled, and only once) is an array. More than maxKeys
// entries (when maxKeys > 0) is an error. Single entries that are unusable
// (encryption keys, weak keys, invalid parameters, entries that are not
// objects) are skipped and logged: one odd key must not take the whole
// provider down. A skipped entry of a known key type still counts as
// OpenSearch counts it: it keeps its kid from a later entry, and a token
// without kid needs the set to have exactly one entry.
func parseKeySet(body []byte, maxKeys int, logger hclog.Logger) (*keySet, error) {
	doc, err := DecodeObject(body, maxDocumentDepth)
	if err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	var entries []json.RawMessage
	if raw, ok := doc["keys"]; !ok || json.Unmarshal(raw, &entries) != nil || entries == nil {
		return nil, errors.New(`not a JSON Web Key Set: no "keys" array`)
	}
	if maxKeys > 0 && len(entries) > maxKeys {
		return nil, fmt.Errorf("key set has %d keys, more than the allowed %d", len(entries), maxKeys)
	}
	ks := &keySet{byID: map[string]*Key{}}
	for i, raw := range entries {
		var head struct {
			KeyType string `json:"kty"`
			KeyID   string `json:"kid"`
		}
		if err := jjson.Unmarshal(raw, &head); err != nil || !knownKeyTypes[head.KeyType] {
			logger.Debug("skipping an entry that is not a key of a known type", "index", i)
			continue
		}
		ks.entries++
		k, err := parseKey(raw)
		if err != nil {
			logger.Debug("skipping unusable key", "index", i, "kid", head.KeyID, "error", err)
		} else {
			ks.keys = append(ks.keys, k)
		}
		// The first entry with a kid owns it, usable or not (nil).
		if _, dup := ks.byID[head.KeyID]; head.KeyID != "" && !dup {
			ks.byID[head.KeyID] = k
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
