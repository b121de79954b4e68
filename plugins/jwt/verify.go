package jwt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"

	"github.com/realmd/realmd/plugins/jwks"
)

// errRejected marks a token that is refused: bad signature, expired, wrong
// audience, malformed. It is "no credentials", never a technical failure.
var errRejected = errors.New("token rejected")

func reject(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRejected, fmt.Sprintf(format, args...))
}

// header is the part of the JOSE header realmd reads itself.
type header struct {
	Alg string
	KID string
	// CTY is the content type (cty), which must be a string; static mode
	// refuses a non-blank one (jjwtHeader).
	CTY string
}

// keySource yields the keys a token may be verified with. Errors are
// rejections (errRejected) or technical failures (sdk.ErrUnavailable).
type keySource interface {
	// candidates returns the keys for h, in the order to try them.
	candidates(ctx context.Context, h header) ([]any, error)
	// retry returns keys to try once more after every candidate failed, or
	// nil (a JWKS set refreshes for a token without kid).
	retry(ctx context.Context, h header) ([]any, error)
}

// verified is a token whose form and signature hold.
type verified struct {
	header header
	claims map[string]any
	// payload is the claims' JSON, for what needs their document order.
	payload []byte
}

// verify checks token's form and signature and returns its header and
// claims. It does not check exp, nbf, iat, aud or iss (see
// ClaimRules.check). With jjwt (static mode, where OpenSearch parses with
// jjwt), it also refuses what jjwt refuses and Nimbus (JWKS mode) does not.
func verify(ctx context.Context, token string, maxSize int, keys keySource, jjwt bool) (verified, error) {
	if len(token) > maxSize {
		return verified{}, reject("token of %d bytes is larger than %d", len(token), maxSize)
	}
	if i := strings.IndexFunc(token, notTokenChar); i >= 0 {
		// Go's base64 decoders skip CR and LF, so without this check a
		// token with line breaks inside a segment would verify.
		return verified{}, reject("character %q at offset %d is not base64url", token[i], i)
	}
	if strings.Count(token, ".") != 2 {
		if strings.Count(token, ".") == 4 {
			return verified{}, reject("encrypted tokens (JWE) are not supported")
		}
		return verified{}, reject("not a compact JWS: want three dot-separated parts")
	}
	h64, rest, _ := strings.Cut(token, ".")
	p64, s64, _ := strings.Cut(rest, ".")
	for i, seg := range [...]string{h64, p64, s64} {
		if !canonical(seg) {
			return verified{}, reject("the %s is not canonical base64url: its last character has stray low bits", [...]string{"header", "payload", "signature"}[i])
		}
	}
	h, err := parseHeader(h64, jjwt)
	if err != nil {
		return verified{}, err
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(h.Alg)})
	if err != nil {
		return verified{}, reject("malformed token: %v", err)
	}
	cands, err := keys.candidates(ctx, h)
	if err != nil {
		return verified{}, err
	}
	payload, ok := verifyWith(jws, cands)
	if !ok {
		more, err := keys.retry(ctx, h)
		if err != nil {
			return verified{}, err
		}
		if payload, ok = verifyWith(jws, more); !ok {
			return verified{}, reject("signature does not verify with any %s key", h.Alg)
		}
	}
	claims, err := parseClaims(payload)
	if err != nil {
		return verified{}, err
	}
	if jjwt {
		for name := range claims {
			if !jjwtName(name) {
				return verified{}, reject("claims: a claim name is blank or begins or ends with white space")
			}
		}
	}
	return verified{header: h, claims: claims, payload: payload}, nil
}

// jjwtName reports whether jjwt takes a top-level member name as it is.
// jjwt's ParameterMap trims every header and claim name (Strings.clean,
// Java's whitespace rule) and refuses a blank one, so "sub " would be a
// second sub that wins over the first. realmd refuses such names in
// static mode rather than follow the trim.
func jjwtName(name string) bool {
	first, _ := utf8.DecodeRuneInString(name)
	last, _ := utf8.DecodeLastRuneInString(name)
	return name != "" && !javaWhitespace(first) && !javaWhitespace(last)
}

// notTokenChar reports runes outside the compact serialization's alphabet:
// base64url and the dot.
func notTokenChar(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.')
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// canonical reports whether seg, unpadded base64url, is the only encoding
// of the bytes it decodes to: the low bits its last character does not use
// are zero. Go's decoder ignores those bits, and go-jose re-encodes the
// payload before it checks the signature, so without this check a token
// whose text was never signed (the signed token with its last character
// bumped) would verify. seg holds only alphabet characters (notTokenChar).
func canonical(seg string) bool {
	var unused uint
	switch len(seg) % 4 {
	case 0, 1: // nothing unused, or not decodable (the decoder says so)
		return true
	case 2:
		unused = 4
	case 3:
		unused = 2
	}
	v := strings.IndexByte(base64URLAlphabet, seg[len(seg)-1])
	return v&(1<<unused-1) == 0
}

// verifyWith tries each key in turn.
func verifyWith(jws *jose.JSONWebSignature, keys []any) ([]byte, bool) {
	for _, k := range keys {
		if payload, err := jws.Verify(k); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// parseHeader decodes and checks the JOSE header: bounded depth, no
// duplicate members, a supported algorithm (never none), no crit (but an
// empty one) and no b64;
// alg, kid and cty must be strings. What the library OpenSearch parses the
// header with refuses is refused too: jjwt in static mode (jjwtHeader),
// Nimbus in JWKS mode (nimbusHeader).
func parseHeader(h64 string, jjwt bool) (header, error) {
	raw, err := base64.RawURLEncoding.DecodeString(h64)
	if err != nil {
		return header{}, reject("header is not base64url")
	}
	members, err := jwks.DecodeObject(raw, maxJSONDepth)
	if err != nil {
		return header{}, reject("header: %v", err)
	}
	check := nimbusHeader
	if jjwt {
		check = jjwtHeader
	}
	if err := check(members); err != nil {
		return header{}, err
	}
	var h header
	if err := stringMember(members, "alg", &h.Alg); err != nil {
		return header{}, reject("header: %v", err)
	}
	if err := stringMember(members, "kid", &h.KID); err != nil {
		return header{}, reject("header: %v", err)
	}
	if err := stringMember(members, "cty", &h.CTY); err != nil {
		return header{}, reject("header: %v", err)
	}
	switch {
	case strings.EqualFold(h.Alg, "none"):
		return header{}, reject("unsigned token (alg %q)", h.Alg)
	case !jwks.IsSupported(h.Alg):
		return header{}, reject("unsupported algorithm %q", h.Alg)
	case critical(members["crit"]):
		return header{}, reject("critical header parameters are not supported")
	case members["b64"] != nil:
		return header{}, reject("unencoded payloads (b64) are not supported")
	case len(h.KID) > jwks.MaxKIDLength:
		return header{}, reject("kid is longer than %d bytes", jwks.MaxKIDLength)
	}
	return h, nil
}

// critical reports whether a crit header member, raw (nil when absent),
// may list parameters to understand. null and [] list none, in both of
// OpenSearch's libraries (jjwt drops empty values; Nimbus reads an empty
// set). A blank string or {}, which jjwt also drops, go-jose cannot read
// as a list and refuses.
func critical(raw json.RawMessage) bool {
	if raw == nil {
		return false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return true
	}
	list, ok := v.([]any)
	return v != nil && (!ok || len(list) > 0)
}

// jjwtHeader refuses what jjwt refuses in a header and realmd would
// otherwise accept: a member name jjwt would trim or refuse (jjwtName); a
// content type (cty: jjwt reads such a payload as content, not claims); a
// compression algorithm (zip, or the older calg: realmd does not inflate
// payloads); typ, jku or x5u that are not strings. A value jjwt drops as
// empty (null, blank, [] or {}) counts as absent.
func jjwtHeader(members map[string]json.RawMessage) error {
	for name, raw := range members {
		if !jjwtName(name) {
			return reject("header: a member name is blank or begins or ends with white space")
		}
		switch name {
		case "cty":
			var cty string
			if json.Unmarshal(raw, &cty) == nil && !javaBlank(cty) {
				return reject("content type (cty) %q: the payload is not claims", cty)
			}
		case "zip", "calg":
			if !jjwtEmptyJSON(raw) {
				return reject("compressed payloads (%s) are not supported", name)
			}
		case "typ", "jku", "x5u":
			if len(raw) > 0 && raw[0] != '"' && !jjwtEmptyJSON(raw) {
				return reject("header: %s is not a string", name)
			}
		}
	}
	return nil
}

// nimbusHeader refuses what Nimbus's JWSHeader.parse refuses (OpenSearch's
// JWKS mode) in header members realmd does not use itself and go-jose
// would accept: typ, x5t and x5t#S256 that are not strings; jku and x5u
// that are not strings java.net.URI accepts (javaURI). null counts as
// absent, as there. go-jose already refuses an x5c that is not a list of
// certificates and a jwk that is not a public JWK.
func nimbusHeader(members map[string]json.RawMessage) error {
	for name, raw := range members {
		switch name {
		case "typ", "x5t", "x5t#S256", "jku", "x5u":
		default:
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) != nil || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return reject("header: %s is not a string", name)
		}
		if (name == "jku" || name == "x5u") && !javaURI(s) {
			return reject("header: %s is not a URI that Java accepts (RFC 2396: no spaces, no unescaped %%, a valid host)", name)
		}
	}
	return nil
}

// jjwtEmptyJSON reports whether raw is a value jjwt drops as empty
// (jjwtEmpty).
func jjwtEmptyJSON(raw json.RawMessage) bool {
	var v any
	return json.Unmarshal(raw, &v) == nil && jjwtEmpty(v)
}

// javaBlank reports whether s has no text in the sense of jjwt's
// Strings.hasText: only characters for which Java's Character.isWhitespace
// holds.
func javaBlank(s string) bool {
	return strings.TrimFunc(s, javaWhitespace) == ""
}

func javaWhitespace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f:
		return true
	case 0xa0, 0x2007, 0x202f: // non-breaking spaces are not whitespace
		return false
	}
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp)
}

func stringMember(m map[string]json.RawMessage, name string, dst *string) error {
	raw, ok := m[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s is not a string", name)
	}
	return nil
}

// trailingData reports whether b has anything but white space after what
// dec has read.
func trailingData(b []byte, dec *json.Decoder) bool {
	return len(bytes.TrimSpace(b[dec.InputOffset():])) > 0
}

// parseClaims decodes the payload: a JSON object of bounded depth, numbers
// kept as written (json.Number), without duplicate member names in any
// object (OpenSearch's parsers refuse them: Jackson's
// STRICT_DUPLICATE_DETECTION at every depth in static mode, Gson's map
// adapter at the top level in JWKS mode; there Gson keeps the last of a
// nested duplicate, which realmd refuses rather than follow). Every
// member has one colon outside strings, and a decoded object keeps one
// entry per distinct name (escapes undone, so "a" and "\u0061" are one),
// so the payload has a duplicate exactly when it has more colons than the
// decoded objects have entries: one scan, one decode.
func parseClaims(payload []byte) (map[string]any, error) {
	_, members, err := jwks.ScanJSON(payload, maxJSONDepth)
	if err != nil {
		return nil, reject("claims: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, reject("claims are not a JSON object")
	}
	if trailingData(payload, dec) {
		return nil, reject("claims: data after the JSON object")
	}
	if entries(claims) != members {
		return nil, reject("claims: duplicate member names")
	}
	return claims, nil
}

// entries counts the members of every object in v, nested ones included.
func entries(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		n = len(v)
		for _, e := range v {
			n += entries(e)
		}
	case []any:
		for _, e := range v {
			n += entries(e)
		}
	}
	return n
}
