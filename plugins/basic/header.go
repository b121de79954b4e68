package basic

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/realmd/realmd/sdk"
)

// This file reproduces OpenSearch's HTTPHelper.extractCredentials, including
// the Java library behaviour it leans on (String.trim, String.split,
// Base64.getDecoder, new String(bytes, UTF_8)).

// parseAuthorization reads a Basic Authorization header value. A nil result
// with a nil error means the value carries no basic credentials; an error
// wraps sdk.ErrMalformed.
func parseAuthorization(value string) (*sdk.Credentials, error) {
	if !hasBasicPrefix(sdk.JavaTrim(value)) {
		return nil, nil
	}
	token := javaSplitSpace(value)[1]
	raw, err := javaBase64Decode(token)
	if err != nil {
		return nil, fmt.Errorf("decoding basic credentials: %w: %w", sdk.ErrMalformed, err)
	}
	decoded := javaUTF8(raw)
	colon := strings.IndexByte(decoded, ':')
	if colon <= 0 {
		// No colon, or an empty user name: no credentials.
		return nil, nil
	}
	password := decoded[colon+1:]
	if password == "" {
		// OpenSearch's AuthCredentials refuses an empty password, and the
		// exception skips the domain.
		return nil, fmt.Errorf("basic credentials with an empty password: %w", sdk.ErrMalformed)
	}
	return &sdk.Credentials{
		Username: decoded[:colon],
		Password: []byte(password),
		CacheTTL: sdk.CacheForever,
	}, nil
}

// hasBasicPrefix is toLowerCase().startsWith("basic "). Only ASCII letters
// lower-case to "basic", so the comparison is ASCII-only (Unicode folding
// would wrongly match "ſ" or the Kelvin sign).
func hasBasicPrefix(s string) bool {
	const prefix = "basic "
	if len(s) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// javaSplitSpace is String.split(" "): a leading empty string is kept,
// trailing empty strings are dropped. For a value whose trimmed form starts
// with "basic " the result always has at least two elements.
func javaSplitSpace(s string) []string {
	parts := strings.Split(s, " ")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	for len(parts) < 2 { // unreachable after hasBasicPrefix; keeps [1] safe
		parts = append(parts, "")
	}
	return parts
}

var errBase64 = errors.New("invalid base64")

// javaBase64Decode is Base64.getDecoder().decode: the standard alphabet,
// padding optional but complete when present, no line breaks, nothing after
// the padding, and a final unit of one character is an error. Unused bits in
// the last unit are ignored, as Java does.
func javaBase64Decode(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") { // Go's decoder skips these; Java does not
		return nil, errBase64
	}
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		if strings.Contains(s, "=") {
			return nil, errBase64
		}
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, errBase64
	}
	return b, nil
}

// javaUTF8 is new String(b, UTF_8): each maximal ill-formed subsequence
// becomes one U+FFFD, as Java's decoder does (Go's per-byte replacement would
// differ for truncated sequences), and so does an encoded surrogate.
func javaUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			n = illFormedLen(b)
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

// illFormedLen is the length of the maximal subpart at the start of b,
// which does not begin with a well-formed sequence: a valid lead byte and
// the continuation bytes that could still have completed it (or, for an
// encoded surrogate, the whole three bytes).
func illFormedLen(b []byte) int {
	var need int
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEF:
		// Java treats ED A0..BF like any three-byte sequence and replaces
		// a whole encoded surrogate with one U+FFFD.
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if b[n] < lo || b[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}
