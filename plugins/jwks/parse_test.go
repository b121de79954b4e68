package jwks

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
)

func TestParseKeySet(t *testing.T) {
	rsaJWK := jwttest.Shared("RS256", "parse").JWK("r", true)
	ecJWK := jwttest.Shared("ES384", "parse").JWK("e", true)
	edJWK := jwttest.Shared("EdDSA", "parse").JWK("d", false)
	octJWK := jwttest.Shared("HS256", "parse").JWK("o", true)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakJWK, _ := jose.JSONWebKey{Key: &weak.PublicKey, KeyID: "weak"}.MarshalJSON()
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }

	tests := []struct {
		name    string
		body    []byte
		maxKeys int
		wantIDs []string
		wantErr string
	}{
		{name: "every key type", body: jwttest.Set(rsaJWK, ecJWK, edJWK, octJWK), wantIDs: []string{"r", "e", "d", "o"}},
		{name: "encryption key is skipped", body: jwttest.Set(rsaJWK, withMember(ecJWK, "use", "enc")), wantIDs: []string{"r"}},
		{name: "unknown key type is skipped", body: jwttest.Set(raw(`{"kty":"XYZ","kid":"x"}`), rsaJWK), wantIDs: []string{"r"}},
		{name: "RSA 1024 is skipped", body: jwttest.Set(weakJWK, rsaJWK), wantIDs: []string{"r"}},
		{name: "short oct key is skipped", body: jwttest.Set(raw(`{"kty":"oct","kid":"s","k":"c2hvcnQ"}`)), wantIDs: nil},
		{name: "alg that does not fit the key is skipped", body: jwttest.Set(withMember(rsaJWK, "alg", "ES256"), ecJWK), wantIDs: []string{"e"}},
		{name: "encryption alg is skipped", body: jwttest.Set(withMember(rsaJWK, "alg", "RSA-OAEP")), wantIDs: nil},
		{name: "private members are reduced to the public key", body: jwttest.Set(privateJWK(t)), wantIDs: []string{"p"}},
		{name: "empty set", body: []byte(`{"keys":[]}`), wantIDs: nil},
		{name: "more keys than allowed", body: jwttest.Set(rsaJWK, ecJWK), maxKeys: 1, wantErr: "more than the allowed 1"},
		{name: "no keys member", body: []byte(`{"kty":"RSA"}`), wantErr: `no "keys" array`},
		{name: "not JSON", body: []byte(`<html>`), wantErr: "not a JSON Web Key Set"},
		{name: "keys is not a list", body: []byte(`{"keys":{}}`), wantErr: "not a JSON Web Key Set"},
		// Nimbus wants "keys" as spelled; encoding/json would match any case.
		{name: "Keys is not keys", body: []byte(`{"Keys":[` + string(rsaJWK) + `]}`), wantErr: `no "keys" array`},
		{name: "KEYS is not keys", body: []byte(`{"KEYS":[` + string(rsaJWK) + `]}`), wantErr: `no "keys" array`},
		// Gson refuses a repeated member; encoding/json keeps the last.
		{name: "keys given twice", body: []byte(`{"keys":[],"keys":[` + string(rsaJWK) + `]}`), wantErr: "duplicate member names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseKeySet(tt.body, tt.maxKeys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
				if _, private := k.Public.(*rsa.PrivateKey); private {
					t.Errorf("key %s kept its private half", k.ID)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Fatalf("ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

// TestKeySet_SkippedEntriesCount: an entry realmd cannot use still counts
// as Nimbus counts it, so a set never yields a key OpenSearch would not
// select (SelfRefreshingKeySet: a token without kid needs exactly one
// entry; a kid names its first entry).
func TestKeySet_SkippedEntriesCount(t *testing.T) {
	rsaJWK := jwttest.Shared("RS256", "count").JWK("k", true)
	other := jwttest.Shared("RS256", "count-other").JWK("k", true)
	noKID := jwttest.Shared("RS256", "count").JWK("", true)
	tests := []struct {
		name    string
		body    []byte
		kid     string
		want    bool // a usable key is found
		wantErr error
	}{
		{name: "no kid, one entry", body: jwttest.Set(noKID), want: true},
		{name: "no kid, a second entry for encryption", body: jwttest.Set(noKID, withMember(other, "use", "enc")), wantErr: nil},
		{name: "no kid, a second entry with an encryption alg", body: jwttest.Set(noKID, withMember(other, "alg", "RSA-OAEP")), wantErr: nil},
		{name: "no kid, the only entry is unusable", body: jwttest.Set(withMember(noKID, "use", "enc")), wantErr: ErrUnusableKey},
		{name: "no kid, an entry of an unknown type does not count", body: jwttest.Set(noKID, json.RawMessage(`{"kty":"XYZ"}`)), want: true},
		{name: "kid whose first entry is unusable", body: jwttest.Set(withMember(other, "use", "enc"), rsaJWK), kid: "k", wantErr: ErrUnusableKey},
		{name: "kid whose first entry is usable", body: jwttest.Set(rsaJWK, withMember(other, "use", "enc")), kid: "k", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := parseKeySet(tt.body, 0, hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			k, found, err := ks.key(tt.kid)
			if !errors.Is(err, tt.wantErr) || (k != nil) != tt.want {
				t.Fatalf("key(%q) = %v, found %v, %v; want a key: %v, error %v", tt.kid, k, found, err, tt.want, tt.wantErr)
			}
			if tt.want && k.Public.(*rsa.PublicKey).N.Cmp(jwttest.Shared("RS256", "count").Public.(*rsa.PublicKey).N) != 0 {
				t.Fatalf("key(%q) is not the first entry's key", tt.kid)
			}
		})
	}
}

func withMember(jwk json.RawMessage, name, value string) json.RawMessage {
	var m map[string]any
	if err := json.Unmarshal(jwk, &m); err != nil {
		panic(err)
	}
	m[name] = value
	b, _ := json.Marshal(m)
	return b
}

func privateJWK(t *testing.T) json.RawMessage {
	k := jwttest.Shared("RS256", "parse").Private.(*rsa.PrivateKey)
	b, err := jose.JSONWebKey{Key: k, KeyID: "p"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParseKeySet feeds provider answers to the key-set parser. Properties:
// no panic, and every key it keeps passes CheckKey and fits its own alg.
func FuzzParseKeySet(f *testing.F) {
	f.Add(jwttest.Set(jwttest.Shared("RS256", "fuzz").JWK("r", true), jwttest.Shared("ES256", "fuzz").JWK("e", false)))
	f.Add(jwttest.Set(jwttest.Shared("EdDSA", "fuzz").JWK("d", true), jwttest.Shared("HS512", "fuzz").JWK("o", true)))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},{"kty":"RSA","n":"AQ","e":"AQ"},{"kty":"oct","k":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"X25519","x":"AA"},null,1,"x",[]]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := ParseKeySet(body, 100)
		if err != nil {
			return
		}
		for _, k := range keys {
			if err := CheckKey(k.Public); err != nil {
				t.Fatalf("kept a key CheckKey refuses: %v", err)
			}
			if k.Algorithm != "" {
				if err := Fits(k.Public, k.Algorithm); err != nil {
					t.Fatalf("kept a key that does not fit its alg: %v", err)
				}
			}
		}
	})
}
