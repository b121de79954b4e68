package jwt

import (
	"fmt"
	"strings"
	"time"

	"github.com/realmd/realmd/plugins/jwks"
	"github.com/realmd/realmd/sdk"
)

// Defaults (spec 3.2), and realmd's own limits.
const (
	DefaultHeader    = "Authorization"
	DefaultClockSkew = 30 * time.Second
	// DefaultMaxTokenSize bounds a token (header, payload and signature,
	// encoded); larger tokens are refused before any parsing.
	DefaultMaxTokenSize = 16 << 10
	maxTokenSizeLimit   = 1 << 20
	// maxJSONDepth bounds the nesting of the token's header and claims.
	maxJSONDepth = 32
	// NoExpCacheTTL is how long the identity of a token without exp may be
	// cached. A token with exp is cached until exp (realmd caps both by
	// cache.ttl_minutes).
	NoExpCacheTTL = 5 * time.Minute
)

// Config is the jwt authenticator's configuration.
type Config struct {
	// SigningKeys are the static keys (signing_key), tried in order:
	// *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte (HMAC).
	SigningKeys []any
	// JWKS, when JWKS.URL or JWKS.DiscoveryURL is set, selects JWKS mode:
	// keys come from the provider and SigningKeys is ignored.
	JWKS jwks.Options
	// JWKSTLS is the TLS setup for the provider connection (jwks.*).
	JWKSTLS jwks.TLSOptions
	// Header is the request header with the token (jwt_header).
	Header string
	// URLParameter is the query parameter read when the header is absent
	// or empty (jwt_url_parameter); "" means none.
	URLParameter string
	// Claims are the claim rules.
	Claims ClaimRules
	// MaxTokenSize bounds the encoded token in bytes (max_token_size_bytes).
	MaxTokenSize int
}

// ClaimRules say which claims a token must carry and how its identity is
// read from them.
type ClaimRules struct {
	// SubjectKey is the path to the user name; empty means ["sub"].
	SubjectKey []string
	// RolesKey is the path to the backend roles; empty means no roles.
	RolesKey []string
	// RequiredAudience, when non-empty, must intersect the token's aud.
	RequiredAudience []string
	// RequiredIssuer, when non-empty, must equal the token's iss.
	RequiredIssuer string
	// ClockSkew is tolerated on exp, nbf and iat.
	ClockSkew time.Duration
	// OmitEmptyClaims treats top-level null claims, and registered claims
	// that are blank, [] or {}, as absent (no check, no attribute), as
	// OpenSearch's static mode (jjwt) drops them.
	OmitEmptyClaims bool
	// StrictTimeBounds refuses exp at exactly now - skew and nbf at exactly
	// now + skew, as Nimbus does (JWKS and openid modes: valid while
	// exp + skew > now and nbf - skew < now). Otherwise both bounds are
	// inclusive, as in jjwt (static mode).
	StrictTimeBounds bool
	// KeepSpaces takes the user name and every role as the token spells
	// them, untrimmed, as OpenSearch's JWKS mode (Nimbus) does. Otherwise a
	// subject at subject_key and every role are trimmed, as OpenSearch's
	// static mode does; the default sub is never trimmed in either mode.
	KeepSpaces bool
	// NumericSubject takes a sub that is a JSON number as the string
	// Nimbus makes of it (gsonNumber: 123 is "123", 1e2 is "100.0"), for
	// the user name and attr.jwt.sub, as OpenSearch's JWKS mode does.
	// Otherwise a sub must be a string, as jjwt (static mode) requires.
	NumericSubject bool
	// WholeSecondDates renders exp, nbf and iat as whole seconds in the
	// attributes (jjwtSeconds: 1.5e9 is 1500000000), as OpenSearch's static
	// mode (jjwt) keeps them. Otherwise they keep the token's spelling.
	WholeSecondDates bool
}

// jwksMode reports whether keys come from a provider.
func (c *Config) jwksMode() bool { return c.JWKS.URL != "" || c.JWKS.DiscoveryURL != "" }

// ReadConfig reads the jwt authenticator's config (spec 3.2), recording
// every problem in cfg. It does no I/O.
func ReadConfig(cfg *sdk.Config) Config {
	c := Config{
		Header:       cfg.String("jwt_header", DefaultHeader),
		URLParameter: strings.TrimSpace(cfg.String("jwt_url_parameter", "")),
		MaxTokenSize: cfg.Int("max_token_size_bytes", DefaultMaxTokenSize),
		Claims:       ReadClaimRules(cfg),
	}
	if strings.TrimSpace(c.Header) == "" {
		cfg.Problem("jwt_header", "must not be empty")
		c.Header = DefaultHeader
	}
	if c.MaxTokenSize <= 0 || c.MaxTokenSize > maxTokenSizeLimit {
		cfg.Problem("max_token_size_bytes", "must be between 1 and %d, not %d", maxTokenSizeLimit, c.MaxTokenSize)
		c.MaxTokenSize = DefaultMaxTokenSize
	}

	// The key-set settings are read in both modes so that they are
	// validated and never reported as unknown.
	c.JWKS = jwks.ReadOptions(cfg, jwks.JWTKeys, true)
	c.JWKSTLS = jwks.ReadTLS(cfg, "jwks")
	if uri := strings.TrimSpace(cfg.String("jwks_uri", "")); uri != "" {
		if err := jwks.CheckURL(uri); err != nil {
			cfg.Problem("jwks_uri", "%v", err)
		}
		c.JWKS.URL = uri
		c.Claims.StrictTimeBounds, c.Claims.KeepSpaces, c.Claims.NumericSubject = true, true, true
		if cfg.Has("signing_key") {
			cfg.Logger().Debug("jwks_uri is set: signing_key is ignored")
		}
		cfg.Ignore("signing_key")
		return c
	}
	c.Claims.OmitEmptyClaims, c.Claims.WholeSecondDates = true, true
	if c.Claims.RequiredIssuer != "" && javaBlank(c.Claims.RequiredIssuer) {
		// jjwt's requireIssuer ignores a blank issuer; OpenSearch's JWKS
		// mode (JwtVerifier) ignores only an empty one.
		cfg.Warn("required_issuer", "blank: ignored, no issuer is required (as in OpenSearch's static mode)")
		c.Claims.RequiredIssuer = ""
	}
	c.SigningKeys = readSigningKeys(cfg)
	return c
}

// readSigningKeys reads signing_key: a YAML list or a comma string. A blank
// entry after the first is skipped with a warning: OpenSearch keeps a null
// parser for it, which fails and is passed over on every token. A blank
// first entry among keys stays a problem: OpenSearch's domain then never
// authenticates anybody.
func readSigningKeys(cfg *sdk.Config) []any {
	entries := cfg.List("signing_key", nil)
	blank := 0
	for _, e := range entries {
		if strings.TrimSpace(e) == "" {
			blank++
		}
	}
	if blank == len(entries) {
		// OpenSearch loads such a domain and never authenticates with it.
		key := ""
		if cfg.Has("signing_key") {
			key = "signing_key"
		}
		cfg.Warn(key, "no signing_key and no jwks_uri: this jwt domain will not authenticate anybody")
		return nil
	}
	var keys []any
	for i, e := range entries {
		if i > 0 && strings.TrimSpace(e) == "" {
			cfg.Warn(fmt.Sprintf("signing_key[%d]", i), "empty key: ignored")
			continue
		}
		key, err := ParseSigningKey(e)
		if err != nil {
			cfg.Problem(fmt.Sprintf("signing_key[%d]", i), "%v", err)
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

// ReadClaimRules reads subject_key, roles_key, required_audience,
// required_issuer and jwt_clock_skew_tolerance_seconds, the keys
// OpenSearch's openid realm shares (an openid plugin is not built yet:
// exported for it). As OpenSearch's jjwt does, a negative tolerance is 0,
// with a warning. (A blank required_issuer is no requirement in static
// mode only: ReadConfig.)
func ReadClaimRules(cfg *sdk.Config) ClaimRules {
	r := ClaimRules{
		SubjectKey:       readPath(cfg, "subject_key"),
		RolesKey:         readPath(cfg, "roles_key"),
		RequiredIssuer:   cfg.String("required_issuer", ""),
		RequiredAudience: nonEmpty(cfg.List("required_audience", nil)),
	}
	skew := cfg.Int("jwt_clock_skew_tolerance_seconds", int(DefaultClockSkew/time.Second)) // a Java int, as in OpenSearch
	if skew < 0 {
		cfg.Warn("jwt_clock_skew_tolerance_seconds", "negative (%d): no tolerance (0) is used, as in OpenSearch", skew)
		skew = 0
	}
	r.ClockSkew = time.Duration(skew) * time.Second
	return r
}

// readPath reads a claim path: a list, or a comma string (spec 8.10: "a,b"
// is the nested path a -> b).
func readPath(cfg *sdk.Config, key string) []string {
	path := cfg.List(key, nil)
	for i, p := range path {
		if p == "" {
			cfg.Problem(fmt.Sprintf("%s[%d]", key, i), "empty claim name in path")
		}
	}
	return path
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
