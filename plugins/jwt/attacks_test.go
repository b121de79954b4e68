package jwt

import (
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"strings"
	"testing"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
)

// attack is a forged or broken token and the reason it must be refused for.
type attack struct {
	name   string
	config map[string]any // default: the shared HMAC secret
	token  string
	reason string // a substring of the rejection
}

func runAttacks(t *testing.T, attacks []attack) {
	t.Helper()
	for _, tt := range attacks {
		t.Run(tt.name, func(t *testing.T) {
			config := tt.config
			if config == nil {
				config = map[string]any{"signing_key": secretKey}
			}
			a := newAuth(t, config)
			c, err := a.Authenticate(context.Background(), tt.token)
			if c != nil || !IsRejected(err) {
				t.Fatalf("Authenticate = %+v, %v; want a rejection", c, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("rejected for %q, want a reason containing %q", err, tt.reason)
			}
			if c, err := a.Extract(context.Background(), bearer(tt.token)); c != nil || err != nil {
				t.Fatalf("Extract = %+v, %v; want no credentials and no error", c, err)
			}
		})
	}
}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hs256 signs header and payload with key bytes, whatever they are.
func hs256(key []byte, header, payload string) string {
	return jwttest.SignRaw("HS256", key, []byte(header), []byte(payload))
}

func nested(open, close string, depth int) string {
	return strings.Repeat(open, depth) + strings.Repeat(close, depth)
}

func TestAttacks_AlgorithmConfusion(t *testing.T) {
	payload := `{"sub":"admin"}`
	var attacks []attack
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		h := `{"alg":"` + alg + `","typ":"JWT"}`
		attacks = append(attacks,
			attack{name: "alg " + alg + " without signature", token: enc(h) + "." + enc(payload) + ".", reason: "unsigned token"},
			attack{name: "alg " + alg + " with a signature", token: hs256(secret, h, payload), reason: "unsigned token"},
		)
	}
	rsaKey, ecKey := jwttest.Shared("RS256", "attack"), jwttest.Shared("ES256", "attack")
	rsaPEM, ecPEM := rsaKey.SigningKey(), ecKey.SigningKey()
	h := `{"alg":"HS256","typ":"JWT"}`
	pkcs1 := x509.MarshalPKCS1PublicKey(rsaKey.Public.(*rsa.PublicKey))
	attacks = append(attacks,
		attack{name: "HS256 signed with the RSA public key PEM", config: map[string]any{"signing_key": rsaPEM},
			token: hs256([]byte(rsaPEM), h, payload), reason: "no configured key admits HS256"},
		attack{name: "HS256 signed with the RSA public key DER", config: map[string]any{"signing_key": rsaPEM},
			token: hs256(rsaKey.PublicDER(), h, payload), reason: "no configured key admits HS256"},
		attack{name: "HS256 signed with an RSA public key given as bare PKCS#1 base64 (found by review)",
			config: map[string]any{"signing_key": base64.StdEncoding.EncodeToString(pkcs1)},
			token:  hs256(pkcs1, h, payload), reason: "no configured key admits HS256"},
		attack{name: "HS256 signed with the EC public key PEM", config: map[string]any{"signing_key": ecPEM},
			token: hs256([]byte(ecPEM), h, payload), reason: "no configured key admits HS256"},
		attack{name: "HS256 signed with the EC public key DER", config: map[string]any{"signing_key": ecPEM},
			token: hs256(ecKey.PublicDER(), h, payload), reason: "no configured key admits HS256"},
		attack{name: "RS256 token against an EC key", config: map[string]any{"signing_key": ecPEM},
			token: rsaKey.Sign(claims(), nil), reason: "no configured key admits RS256"},
		attack{name: "ES384 token against a P-256 key", config: map[string]any{"signing_key": ecPEM},
			token: jwttest.Shared("ES384", "attack").Sign(claims(), nil), reason: "no configured key admits ES384"},
		attack{name: "P-384 signature labelled ES256", config: map[string]any{"signing_key": ecPEM},
			token: jwttest.Shared("ES384", "attack").Sign(claims(), map[string]any{"alg": "ES256"}), reason: "signature does not verify"},
		attack{name: "RS256 signature labelled PS256", config: map[string]any{"signing_key": rsaPEM},
			token: jwttest.SignRaw("RS256", rsaKey.Private, []byte(`{"alg":"PS256"}`), []byte(payload)), reason: "signature does not verify"},
		attack{name: "PS256 signature labelled RS256", config: map[string]any{"signing_key": rsaPEM},
			token: jwttest.SignRaw("PS256", rsaKey.Private, []byte(`{"alg":"RS256"}`), []byte(payload)), reason: "signature does not verify"},
		attack{name: "EdDSA token against an RSA key", config: map[string]any{"signing_key": rsaPEM},
			token: jwttest.Shared("EdDSA", "attack").Sign(claims(), nil), reason: "no configured key admits EdDSA"},
		attack{name: "HS384 with a 32-byte secret", config: map[string]any{"signing_key": base64.StdEncoding.EncodeToString(secret[:32])},
			token: jwttest.SignRaw("HS384", secret[:32], []byte(`{"alg":"HS384"}`), []byte(payload)), reason: "too short for HS384"},
		attack{name: "HS512 with a 48-byte secret", config: map[string]any{"signing_key": base64.StdEncoding.EncodeToString(secret[:48])},
			token: jwttest.SignRaw("HS512", secret[:48], []byte(`{"alg":"HS512"}`), []byte(payload)), reason: "too short for HS512"},
		attack{name: "lower-case algorithm name", token: jwttest.SignRaw("HS256", secret, []byte(`{"alg":"hs256"}`), []byte(payload)), reason: `unsupported algorithm "hs256"`},
		attack{name: "no algorithm", token: hs256(secret, `{"typ":"JWT"}`, payload), reason: `unsupported algorithm ""`},
		attack{name: "algorithm that is not a string", token: hs256(secret, `{"alg":["HS256"]}`, payload), reason: "alg is not a string"},
		attack{name: "duplicate alg members", token: hs256(secret, `{"alg":"HS256","alg":"none"}`, payload), reason: "duplicate member names"},
		attack{name: "embedded attacker jwk is not trusted", config: map[string]any{"signing_key": rsaPEM},
			token:  jwttest.Shared("RS256", "attacker").Sign(claims(), map[string]any{"jwk": json.RawMessage(jwttest.Shared("RS256", "attacker").JWK("", true))}),
			reason: "signature does not verify"},
	)
	runAttacks(t, attacks)
}

func TestAttacks_SignatureAndForm(t *testing.T) {
	good := sign(claims())
	parts := strings.Split(good, ".")
	other := &jwttest.Key{Alg: "HS256", Private: []byte(strings.Repeat("o", 64))}
	rsaKey := jwttest.Shared("RS256", "attack")
	rsaToken := rsaKey.Sign(claims(), nil)
	rparts := strings.Split(rsaToken, ".")
	ecToken := jwttest.Shared("ES256", "attack").Sign(claims(), nil)
	eparts := strings.Split(ecToken, ".")
	tampered := parts[0] + "." + enc(`{"sub":"admin"}`) + "." + parts[2]
	sp := strings.Split(hs256(secret, `{"alg":"HS256"}`, `{"sub":"a"}`), ".")
	sh := strings.Split(hs256(secret, `{"alg":"HS256" }`, `{"sub":"a"}`), ".")
	runAttacks(t, []attack{
		{name: "stripped HMAC signature", token: parts[0] + "." + parts[1] + ".", reason: "signature does not verify"},
		{name: "stripped RSA signature", config: map[string]any{"signing_key": rsaKey.SigningKey()}, token: rparts[0] + "." + rparts[1] + ".", reason: "signature does not verify"},
		{name: "stripped EC signature", config: map[string]any{"signing_key": jwttest.Shared("ES256", "attack").SigningKey()}, token: eparts[0] + "." + eparts[1] + ".", reason: "signature does not verify"},
		{name: "signature from another key", token: other.Sign(claims(), nil), reason: "signature does not verify"},
		{name: "payload changed after signing", token: tampered, reason: "signature does not verify"},
		{name: "line break inside a segment (found by fuzzing)", token: parts[0] + "." + parts[1][:10] + "\n" + parts[1][10:] + "." + parts[2], reason: "not base64url"},
		{name: "carriage return inside the signature", token: parts[0] + "." + parts[1] + "." + parts[2][:5] + "\r" + parts[2][5:], reason: "not base64url"},
		{name: "payload with stray low bits (found by fuzzing)", token: sp[0] + "." + strayBits(sp[1]) + "." + sp[2], reason: "payload is not canonical base64url"},
		{name: "signature with stray low bits", token: parts[0] + "." + parts[1] + "." + strayBits(parts[2]), reason: "signature is not canonical base64url"},
		{name: "header with stray low bits", token: strayBits(sh[0]) + "." + sh[1] + "." + sh[2], reason: "header is not canonical base64url"},
		{name: "two parts", token: parts[0] + "." + parts[1], reason: "three dot-separated parts"},
		{name: "four parts", token: good + ".x", reason: "three dot-separated parts"},
		{name: "JWE", token: "a.b.c.d.e", reason: "encrypted tokens"},
		{name: "padded base64 header", token: signedInput(base64.URLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JW"}`)) + "." + parts[1]), reason: "not base64url"},
		{name: "standard base64 alphabet", token: signedInput(base64.RawStdEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","x":"??>"}`)) + "." + parts[1]), reason: "not base64url"},
		{name: "header is not JSON", token: hs256(secret, `alg=HS256`, `{}`), reason: "not a JSON object"},
		{name: "header with trailing data", token: hs256(secret, `{"alg":"HS256"} {}`, `{"sub":"a"}`), reason: "header: not a JSON object"},
		{name: "claims are an array", token: hs256(secret, `{"alg":"HS256"}`, `["sub","admin"]`), reason: "claims are not a JSON object"},
		{name: "claims with trailing data", token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"a"} x`), reason: "data after the JSON object"},
		{name: "claims are not JSON", token: hs256(secret, `{"alg":"HS256"}`, `sub=admin`), reason: "claims are not a JSON object"},
		{name: "crit header", token: hs256(secret, `{"alg":"HS256","crit":["exp"],"exp":1}`, `{"sub":"a"}`), reason: "critical header"},
		{name: "crit header naming b64", token: hs256(secret, `{"alg":"HS256","crit":["b64"],"b64":false}`, `{"sub":"a"}`), reason: "critical header"},
		{name: "b64 without crit", token: hs256(secret, `{"alg":"HS256","b64":false}`, `{"sub":"a"}`), reason: "b64"},
		{name: "empty token parts", token: "..", reason: "header"},
		{name: "no subject", token: sign(claims("sub", nil)), reason: "no subject"},
		{name: "empty subject", token: sign(claims("sub", "")), reason: "no subject"},
		{name: "null subject", token: hs256(secret, `{"alg":"HS256"}`, `{"sub":null}`), reason: "no subject"},
	})
}

// Duplicate claim names are refused at every level, as OpenSearch's jjwt
// (Jackson's STRICT_DUPLICATE_DETECTION) refuses them: otherwise a token
// could name one user to one parser and another to the next (found by
// review).
func TestAttacks_DuplicateClaims(t *testing.T) {
	roles := map[string]any{"signing_key": secretKey, "roles_key": "roles"}
	runAttacks(t, []attack{
		{name: "duplicate sub", token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"guest","sub":"admin"}`), reason: "claims: duplicate member names"},
		{name: "duplicate roles", config: roles, token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"bob","roles":"reader","roles":"all_access"}`), reason: "duplicate member names"},
		{name: "duplicate spelled with an escape", token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"guest","s\u0075b":"admin"}`), reason: "duplicate member names"},
		{name: "duplicate inside a nested object", config: map[string]any{"signing_key": secretKey, "roles_key": "realm_access,roles"},
			token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"bob","realm_access":{"roles":["reader"],"roles":["all_access"]}}`), reason: "duplicate member names"},
		{name: "duplicate inside an object in a list", token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"bob","x":[{"a":1,"a":2}]}`), reason: "duplicate member names"},
	})
	// The same names in different objects are no duplicates.
	a := newAuth(t, roles)
	c, err := a.Authenticate(context.Background(), hs256(secret, `{"alg":"HS256"}`, `{"sub":"bob","a":{"sub":"x","roles":[{"sub":1},{"sub":2}]}}`))
	if err != nil || c == nil || c.Username != "bob" {
		t.Fatalf("same names in different objects: %+v, %v", c, err)
	}
}

// Registered claims of the wrong JSON type are refused, as OpenSearch's
// jjwt (RequiredTypeConverter: MalformedJwtException) refuses them, even
// when subject_key reads the user name elsewhere (found by review).
func TestAttacks_RegisteredClaimTypes(t *testing.T) {
	tok := func(payload string) string { return hs256(secret, `{"alg":"HS256"}`, payload) }
	runAttacks(t, []attack{
		{name: "numeric sub", token: tok(`{"sub":123}`), reason: "sub is not a string"},
		{name: "object sub", token: tok(`{"sub":{"name":"admin"}}`), reason: "sub is not a string"},
		{name: "boolean sub", token: tok(`{"sub":true}`), reason: "sub is not a string"},
		{name: "list sub", token: tok(`{"sub":["admin"]}`), reason: "sub is not a string"},
		{name: "numeric iss", token: tok(`{"sub":"bob","iss":5}`), reason: "iss is not a string"},
		{name: "numeric jti", token: tok(`{"sub":"bob","jti":7}`), reason: "jti is not a string"},
		{name: "numeric aud", token: tok(`{"sub":"bob","aud":5}`), reason: "aud is neither a string nor a list of strings"},
		{name: "object aud", token: tok(`{"sub":"bob","aud":{"x":"api"}}`), reason: "aud is neither"},
		{name: "numeric aud element with required_audience", config: map[string]any{"signing_key": secretKey, "required_audience": "api"},
			token: tok(`{"sub":"bob","aud":["api",5]}`), reason: "aud is not a list of strings"},
		{name: "numeric sub with subject_key elsewhere", config: map[string]any{"signing_key": secretKey, "subject_key": "name"},
			token: tok(`{"sub":1,"name":"bob"}`), reason: "sub is not a string"},
	})
	// null counts as absent, and other claims may hold anything.
	a := newAuth(t, map[string]any{"signing_key": secretKey, "subject_key": "name"})
	c, err := a.Authenticate(context.Background(), tok(`{"sub":null,"iss":null,"jti":null,"aud":["a",null],"name":"bob","n":1}`))
	if err != nil || c == nil || c.Username != "bob" {
		t.Fatalf("null registered claims: %+v, %v", c, err)
	}
}

// In static mode a token with a content type (cty) is refused: OpenSearch's
// jjwt then reads the payload as content, not claims, and parseClaimsJws
// fails. A blank cty counts as absent, as jjwt drops it (found by review).
func TestAttacks_StaticContentTypeRefused(t *testing.T) {
	runAttacks(t, []attack{
		{name: "cty JWT", token: hs256(secret, `{"alg":"HS256","cty":"JWT"}`, `{"sub":"bob"}`), reason: "content type (cty)"},
		{name: "cty json", token: hs256(secret, `{"alg":"HS256","cty":"application/json"}`, `{"sub":"bob"}`), reason: "content type (cty)"},
		{name: "cty that is not a string", token: hs256(secret, `{"alg":"HS256","cty":1}`, `{"sub":"bob"}`), reason: "cty is not a string"},
	})
	a := newAuth(t, map[string]any{"signing_key": secretKey})
	for _, h := range []string{`{"alg":"HS256","cty":""}`, `{"alg":"HS256","cty":" \t"}`, `{"alg":"HS256","cty":null}`} {
		if c, err := a.Authenticate(context.Background(), hs256(secret, h, `{"sub":"bob"}`)); err != nil || c == nil {
			t.Errorf("header %s: %+v, %v; want bob", h, c, err)
		}
	}
}

// jjwt (OpenSearch's static mode) trims every header and claim name with
// Java's whitespace rule and the later member wins, so "sub " is a second
// sub there; a blank name makes it refuse the token. realmd refuses both
// in static mode (found by review).
func TestAttacks_StaticMemberNamesAsJJWTReadsThem(t *testing.T) {
	tok := func(payload string) string { return hs256(secret, `{"alg":"HS256"}`, payload) }
	const claimName, headerName = "claims: a claim name is blank", "header: a member name is blank"
	runAttacks(t, []attack{
		{name: "a second sub with a trailing space", token: tok(`{"sub":"alice","sub ":"admin"}`), reason: claimName},
		{name: "sub with a leading space only", token: tok(`{" sub":"admin"}`), reason: claimName},
		{name: "exp hidden behind a trailing space", token: tok(`{"sub":"alice","exp":1750003600,"exp ":1749990000}`), reason: claimName},
		{name: "nbf behind a tab", token: tok(`{"sub":"alice","\tnbf":1760000000}`), reason: claimName},
		{name: "escaped white space", token: tok(`{"sub":"alice","roles\u2003":"admin"}`), reason: claimName},
		{name: "empty claim name", token: tok(`{"sub":"alice","":"x"}`), reason: claimName},
		{name: "blank claim name", token: tok(`{"sub":"alice","\u000b":"x"}`), reason: claimName},
		{name: "alg shadowed by a spaced alg", token: hs256(secret, `{"alg":"HS256"," alg":"RS256"}`, `{"sub":"alice"}`), reason: headerName},
		{name: "cty behind a space", token: hs256(secret, `{"alg":"HS256"," cty":"text/plain"}`, `{"sub":"alice"}`), reason: headerName},
		{name: "crit behind a space", token: hs256(secret, `{"alg":"HS256","crit ":["x"]}`, `{"sub":"alice"}`), reason: headerName},
		{name: "empty header member name", token: hs256(secret, `{"alg":"HS256","":1}`, `{"sub":"alice"}`), reason: headerName},
	})
	// Names jjwt keeps as they are: inner white space, and the non-breaking
	// spaces Java does not count as white space; nested names are not
	// trimmed at all.
	a := newAuth(t, map[string]any{"signing_key": secretKey})
	for _, payload := range []string{`{"sub":"bob","a b":1}`, `{"sub":"bob","x\u00a0":1}`, `{"sub":"bob","n":{" sub ":1,"":2}}`} {
		if c, err := a.Authenticate(context.Background(), tok(payload)); err != nil || c == nil || c.Username != "bob" {
			t.Errorf("%s: %+v, %v; want bob", payload, c, err)
		}
	}
}

// Header members jjwt (OpenSearch's static mode) refuses: a compression
// (realmd never inflates; jjwt refuses an unknown zip and a payload that
// does not inflate) and typ, jku or x5u that are not strings. Values jjwt
// drops as empty count as absent; JWKS mode (Nimbus) is not concerned
// (found by review).
func TestAttacks_StaticHeaderMembersJJWTRefuses(t *testing.T) {
	tok := func(header string) string { return hs256(secret, header, `{"sub":"bob"}`) }
	runAttacks(t, []attack{
		{name: "unknown zip", token: tok(`{"alg":"HS256","zip":"XYZ"}`), reason: "compressed payloads (zip)"},
		{name: "zip DEF", token: tok(`{"alg":"HS256","zip":"DEF"}`), reason: "compressed payloads (zip)"},
		{name: "zip that is not a string", token: tok(`{"alg":"HS256","zip":1}`), reason: "compressed payloads (zip)"},
		{name: "calg DEF", token: tok(`{"alg":"HS256","calg":"DEF"}`), reason: "compressed payloads (calg)"},
		{name: "numeric typ", token: tok(`{"alg":"HS256","typ":5}`), reason: "typ is not a string"},
		{name: "typ list", token: tok(`{"alg":"HS256","typ":["JWT"]}`), reason: "typ is not a string"},
		{name: "numeric jku", token: tok(`{"alg":"HS256","jku":5}`), reason: "jku is not a string"},
		{name: "x5u object", token: tok(`{"alg":"HS256","x5u":{"a":1}}`), reason: "x5u is not a string"},
	})
	a := newAuth(t, map[string]any{"signing_key": secretKey})
	for _, h := range []string{
		`{"alg":"HS256","zip":null}`, `{"alg":"HS256","zip":" "}`, `{"alg":"HS256","calg":""}`, `{"alg":"HS256","zip":[]}`,
		`{"alg":"HS256","typ":"JWT"}`, `{"alg":"HS256","typ":null}`, `{"alg":"HS256","typ":{}}`, `{"alg":"HS256","typ":[]}`,
		`{"alg":"HS256","jku":"https://idp/jwks","x5u":"https://idp/cert"}`,
		// jjwt drops an empty crit, so it lists nothing to understand.
		`{"alg":"HS256","crit":null}`, `{"alg":"HS256","crit":[]}`,
	} {
		if c, err := a.Authenticate(context.Background(), tok(h)); err != nil || c == nil {
			t.Errorf("header %s: %+v, %v; want bob", h, c, err)
		}
	}
}

func TestAttacks_SizeAndNesting(t *testing.T) {
	big := strings.Repeat("x", DefaultMaxTokenSize)
	runAttacks(t, []attack{
		{name: "oversized header", token: hs256(secret, `{"alg":"HS256","pad":"`+big+`"}`, `{"sub":"a"}`), reason: "larger than 16384"},
		{name: "oversized payload", token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"a","pad":"`+big+`"}`), reason: "larger than 16384"},
		{name: "oversized garbage without dots", token: big + "xx", reason: "larger than 16384"},
		{name: "payload nested one level too deep", token: sign(claims("x", deep(maxJSONDepth))), reason: "nested deeper than 32"},
		{name: "array bomb in the payload", token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"a","x":`+nested("[", "]", 5000)+`}`), reason: "nested deeper"},
		{name: "object bomb in the payload", token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"a","x":`+strings.Repeat(`{"a":`, 2000)+`1`+strings.Repeat("}", 2000)+`}`), reason: "nested deeper"},
		{name: "array bomb in the header", token: hs256(secret, `{"alg":"HS256","x":`+nested("[", "]", 5000)+`}`, `{"sub":"a"}`), reason: "nested deeper"},
		{name: "bomb with bracket characters hidden in strings does not fool the depth check",
			token: hs256(secret, `{"alg":"HS256"}`, `{"sub":"a","s":"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]","x":`+nested("[", "]", 40)+`}`), reason: "nested deeper"},
	})
	// With the limit raised, a bomb of a megabyte is still refused for its
	// depth before any decoder recurses into it.
	a := newAuth(t, map[string]any{"signing_key": secretKey, "max_token_size_bytes": 1 << 20})
	_, err := a.Authenticate(context.Background(), hs256(secret, `{"alg":"HS256"}`, `{"sub":"a","x":`+nested("[", "]", 300000)+`}`))
	if !IsRejected(err) || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("megabyte bomb: err = %v", err)
	}
	// Depth exactly at the limit is fine.
	c, err := a.Authenticate(context.Background(), sign(claims("x", deep(maxJSONDepth-1))))
	if err != nil || c == nil {
		t.Fatalf("claims at the depth limit: %v, %v", c, err)
	}
}

// deep is a value that nests n levels of objects: with the claims object
// itself, the token has n+1 levels.
func deep(n int) any {
	var v any = "leaf"
	for range n {
		v = map[string]any{"a": v}
	}
	return v
}

func TestAttacks_KIDIsIrrelevantInStaticMode(t *testing.T) {
	a := newAuth(t, map[string]any{"signing_key": secretKey})
	for _, kid := range []string{"../../../../etc/passwd", "' OR '1'='1' --", "\x00", strings.Repeat("k", 1024)} {
		c, err := a.Authenticate(context.Background(), hmacKey.Sign(claims(), map[string]any{"kid": kid}))
		if err != nil || c == nil || c.Username != "Leonard McCoy" {
			t.Fatalf("kid %q: %v, %v", kid, c, err)
		}
	}
	_, err := a.Authenticate(context.Background(), hmacKey.Sign(claims(), map[string]any{"kid": strings.Repeat("k", 1025)}))
	if !IsRejected(err) || !strings.Contains(err.Error(), "kid is longer") {
		t.Fatalf("long kid: %v", err)
	}
}

// signedInput appends a valid HS256 signature over input, however the
// input is encoded.
func signedInput(input string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// strayBits returns seg with the lowest bit of its last character set, a
// bit the decoder ignores: the same bytes, a different text. seg's length
// mod 4 must be 2 or 3, so that the bit is unused.
func strayBits(seg string) string {
	if n := len(seg) % 4; n != 2 && n != 3 {
		panic(fmt.Sprintf("segment of length %d has no unused bits", len(seg)))
	}
	last := strings.IndexByte(base64URLAlphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(base64URLAlphabet[last|1])
}

// independentHMAC checks an HS256, HS384 or HS512 signature without
// go-jose, for the fuzz property.
func independentHMAC(token string, key []byte) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var h struct{ Alg string }
	if json.Unmarshal(hb, &h) != nil {
		return false
	}
	hashes := map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}
	newHash, ok := hashes[h.Alg]
	if !ok {
		return false
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return false
	}
	m := hmac.New(newHash, key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	return hmac.Equal(sig, m.Sum(nil))
}
