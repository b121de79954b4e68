package jwt

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
	"github.com/realmd/realmd/sdk"
)

func TestReadConfig_Problems(t *testing.T) {
	tests := []struct {
		name     string
		config   map[string]any
		wantKeys []string
	}{
		{name: "HMAC key of 10 bytes is a config error", config: map[string]any{"signing_key": "AQMDBAMGBwgDCg=="}, wantKeys: []string{"signing_key[0]"}},
		{name: "the second key of a comma string is named by index", config: map[string]any{"signing_key": secretKey + ", AQMDBAMGBwgDCg=="}, wantKeys: []string{"signing_key[1]"}},
		{name: "the second key of a list is named by index", config: map[string]any{"signing_key": []any{secretKey, "not base64!"}}, wantKeys: []string{"signing_key[1]"}},
		{name: "two PEM blocks in one entry", config: map[string]any{"signing_key": []any{jwttest.Shared("RS256", "cfg").SigningKey() + jwttest.Shared("ES256", "cfg").SigningKey()}}, wantKeys: []string{"signing_key[0]"}},
		{name: "an empty first entry among keys", config: map[string]any{"signing_key": []any{"", secretKey}}, wantKeys: []string{"signing_key[0]"}},
		{name: "an empty middle part of a comma string", config: map[string]any{"signing_key": ",," + secretKey}, wantKeys: []string{"signing_key[0]"}},
		{name: "an empty middle claim name in a comma path", config: map[string]any{"signing_key": secretKey, "roles_key": "a,,b"}, wantKeys: []string{"roles_key[1]"}},
		{name: "clock skew beyond a Java int", config: map[string]any{"signing_key": secretKey, "jwt_clock_skew_tolerance_seconds": 1 << 40}, wantKeys: []string{"jwt_clock_skew_tolerance_seconds"}},
		{name: "JWKS timeout beyond a Java int", config: map[string]any{"jwks_uri": "https://idp/jwks", "jwks_request_timeout_ms": 1 << 40}, wantKeys: []string{"jwks_request_timeout_ms"}},
		{name: "clock skew that is no number", config: map[string]any{"signing_key": secretKey, "jwt_clock_skew_tolerance_seconds": "soon"}, wantKeys: []string{"jwt_clock_skew_tolerance_seconds"}},
		{name: "empty header name", config: map[string]any{"signing_key": secretKey, "jwt_header": " "}, wantKeys: []string{"jwt_header"}},
		{name: "relative jwks_uri", config: map[string]any{"jwks_uri": "/keys"}, wantKeys: []string{"jwks_uri"}},
		{name: "zero token size", config: map[string]any{"signing_key": secretKey, "max_token_size_bytes": 0}, wantKeys: []string{"max_token_size_bytes"}},
		{name: "empty claim name in a path", config: map[string]any{"signing_key": secretKey, "roles_key": []any{"a", ""}}, wantKeys: []string{"roles_key[1]"}},
		{name: "unknown key", config: map[string]any{"signing_key": secretKey, "signingkey": "x"}, wantKeys: []string{"signingkey"}},
		{name: "bad JWKS timeout", config: map[string]any{"jwks_uri": "https://idp/jwks", "jwks_request_timeout_ms": 0}, wantKeys: []string{"jwks_request_timeout_ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys []string
			for _, p := range problems(tt.config) {
				keys = append(keys, p.Key)
			}
			if !slices.Equal(keys, tt.wantKeys) {
				t.Fatalf("problems at %v, want %v", keys, tt.wantKeys)
			}
		})
	}
}

// A typo in a jwt domain's config names the key it most likely meant.
func TestReadConfig_UnknownKeySuggestsTheKnownKey(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		want   string
	}{
		{name: "subject key without underscore", config: map[string]any{"signing_key": secretKey, "subjectkey": "sub"},
			want: `subjectkey: unknown key "subjectkey"; did you mean "subject_key"?`},
		{name: "misspelt JWKS URI", config: map[string]any{"jwks_url": "https://idp/jwks"},
			want: `jwks_url: unknown key "jwks_url"; did you mean "jwks_uri"?`},
		{name: "TLS key under jwks", config: map[string]any{"jwks_uri": "https://idp/jwks", "jwks": map[string]any{"verify_hostname": true}},
			want: `jwks.verify_hostname: unknown key "jwks.verify_hostname"; did you mean "jwks.verify_hostnames"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := problems(tt.config)
			if len(ps) != 1 || ps[0].Error() != tt.want {
				t.Fatalf("problems %q, want [%q]", ps, tt.want)
			}
		})
	}
}

// A key nothing resembles is answered with the keys a jwt domain reads.
func TestReadConfig_UnknownKeyListsTheKnownKeys(t *testing.T) {
	ps := problems(map[string]any{"signing_key": secretKey, "colour": "blue"})
	if len(ps) != 1 || ps[0].Key != "colour" {
		t.Fatalf("problems %q, want one for colour", ps)
	}
	for _, k := range []string{"signing_key", "jwks_uri", "subject_key", "roles_key", "jwt_header", "jwks.verify_hostnames"} {
		if !strings.Contains(ps[0].Message, k) {
			t.Errorf("problem %q does not list %q", ps[0].Message, k)
		}
	}
}

// A jwt domain with no key loads, as in OpenSearch, with a warning that
// goes back to realmd with the answer (to be shown at its line); the plugin
// does not log it, or every pass of the factory would log it again.
func TestReadConfig_NoKeyIsAWarningNotALogLine(t *testing.T) {
	const msg = "no signing_key and no jwks_uri: this jwt domain will not authenticate anybody"
	tests := []struct {
		name   string
		config map[string]any
		want   []sdk.Problem
	}{
		{name: "no config", config: map[string]any{}, want: []sdk.Problem{{Key: "", Message: msg}}},
		{name: "a blank signing_key", config: map[string]any{"signing_key": " "}, want: []sdk.Problem{{Key: "signing_key", Message: msg}}},
		{name: "a key", config: map[string]any{"signing_key": secretKey}},
		{name: "a JWKS endpoint", config: map[string]any{"jwks_uri": "https://idp/jwks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(tt.config)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			cfg, err := sdk.NewConfig(raw, "", hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn}))
			if err != nil {
				t.Fatal(err)
			}
			ReadConfig(cfg)
			if ps := cfg.Problems(); len(ps) > 0 {
				t.Fatalf("problems: %v", ps)
			}
			if got := cfg.Warnings(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("warnings %q, want %q", got, tt.want)
			}
			if logs.Len() > 0 {
				t.Errorf("the factory logged:\n%s", logs.String())
			}
		})
	}
}

// OpenSearch splits comma strings with Java's String.split, which drops
// trailing empty parts, and passes over a blank signing_key after the
// first (its parser is null and fails); both load (found by review).
func TestReadConfig_TrailingEmptyEntriesLoad(t *testing.T) {
	tests := []struct {
		name         string
		config       map[string]any
		wantKeys     int
		wantRoles    []string
		wantSubject  []string
		wantWarnings []string
	}{
		{name: "signing_key with a trailing comma", config: map[string]any{"signing_key": secretKey + ","}, wantKeys: 1},
		{name: "signing_key with trailing commas between keys", config: map[string]any{"signing_key": secretKey + "," + secretKey + ",,"}, wantKeys: 2},
		{name: "signing_key with a trailing blank part", config: map[string]any{"signing_key": secretKey + ", "}, wantKeys: 1,
			wantWarnings: []string{"signing_key[1]"}},
		{name: "a YAML list with a blank later key", config: map[string]any{"signing_key": []any{secretKey, " ", secretKey}}, wantKeys: 2,
			wantWarnings: []string{"signing_key[1]"}},
		{name: "roles_key with a trailing comma", config: map[string]any{"signing_key": secretKey, "roles_key": "roles,"}, wantKeys: 1,
			wantRoles: []string{"roles"}},
		{name: "subject_key with a trailing comma", config: map[string]any{"signing_key": secretKey, "subject_key": "a,b,"}, wantKeys: 1,
			wantSubject: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := configOf(tt.config, "")
			c := ReadConfig(cfg)
			if ps := cfg.Problems(); len(ps) > 0 {
				t.Fatalf("problems: %v", ps)
			}
			var warned []string
			for _, w := range cfg.Warnings() {
				warned = append(warned, w.Key)
			}
			if !slices.Equal(warned, tt.wantWarnings) {
				t.Errorf("warnings at %v, want %v", warned, tt.wantWarnings)
			}
			if len(c.SigningKeys) != tt.wantKeys {
				t.Errorf("%d signing keys, want %d", len(c.SigningKeys), tt.wantKeys)
			}
			if !slices.Equal(c.Claims.RolesKey, tt.wantRoles) || !slices.Equal(c.Claims.SubjectKey, tt.wantSubject) {
				t.Errorf("roles_key %q, subject_key %q, want %q, %q", c.Claims.RolesKey, c.Claims.SubjectKey, tt.wantRoles, tt.wantSubject)
			}
		})
	}
}

// jjwt ignores a blank expected issuer and raises a negative clock skew to
// 0, so OpenSearch loads such configs and uses them that way; realmd does
// too, with a warning (found by review).
func TestReadConfig_IgnoredClaimRulesWarn(t *testing.T) {
	tests := []struct {
		name        string
		config      map[string]any
		wantIssuer  string
		wantSkew    time.Duration
		wantWarning string // key, or "" for none
	}{
		{name: "blank required_issuer is no requirement", config: map[string]any{"required_issuer": " \t"}, wantSkew: DefaultClockSkew, wantWarning: "required_issuer"},
		{name: "blank required_issuer in JWKS mode must be matched, as OpenSearch's JwtVerifier ignores only null or empty (found by review)",
			config: map[string]any{"jwks_uri": "https://idp/jwks", "required_issuer": " \t"}, wantIssuer: " \t", wantSkew: DefaultClockSkew},
		{name: "a non-blank required_issuer is not changed", config: map[string]any{"required_issuer": " https://idp "}, wantIssuer: " https://idp ", wantSkew: DefaultClockSkew},
		{name: "negative clock skew is 0", config: map[string]any{"jwt_clock_skew_tolerance_seconds": -5}, wantSkew: 0, wantWarning: "jwt_clock_skew_tolerance_seconds"},
		{name: "zero clock skew is fine", config: map[string]any{"jwt_clock_skew_tolerance_seconds": 0}, wantSkew: 0},
		{name: "negative clock skew in JWKS mode is 0 too", config: map[string]any{"jwks_uri": "https://idp/jwks", "jwt_clock_skew_tolerance_seconds": -1}, wantSkew: 0, wantWarning: "jwt_clock_skew_tolerance_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := map[string]any{"signing_key": secretKey}
			maps.Copy(config, tt.config)
			cfg := configOf(config, "")
			c := ReadConfig(cfg)
			if ps := cfg.Problems(); len(ps) > 0 {
				t.Fatalf("problems: %v", ps)
			}
			var warned string
			for _, w := range cfg.Warnings() {
				warned += w.Key
			}
			if warned != tt.wantWarning {
				t.Errorf("warnings at %q, want %q", warned, tt.wantWarning)
			}
			if c.Claims.RequiredIssuer != tt.wantIssuer || c.Claims.ClockSkew != tt.wantSkew {
				t.Errorf("issuer %q, skew %v, want %q, %v", c.Claims.RequiredIssuer, c.Claims.ClockSkew, tt.wantIssuer, tt.wantSkew)
			}
		})
	}
	runStatic(t, []staticCase{
		{name: "blank required_issuer accepts any issuer", config: map[string]any{"required_issuer": "  "},
			req: bearer(sign(claims("iss", "https://idp"))), wantUser: "Leonard McCoy"},
		{name: "negative clock skew refuses exp just past", config: map[string]any{"jwt_clock_skew_tolerance_seconds": -30},
			req: bearer(sign(claims("exp", unix(-1*time.Second))))},
		{name: "negative clock skew accepts exp now", config: map[string]any{"jwt_clock_skew_tolerance_seconds": -30},
			req: bearer(sign(claims("exp", unix(0)))), wantUser: "Leonard McCoy"},
	})
}

func TestReadConfig_AcceptsEveryOpenSearchKey(t *testing.T) {
	config := map[string]any{
		"signing_key": secretKey, "jwks_uri": "https://idp.example/jwks", "jwt_header": "Authorization",
		"jwt_url_parameter": "token", "subject_key": "sub", "roles_key": "roles", "required_audience": "a,b",
		"required_issuer": "iss", "jwt_clock_skew_tolerance_seconds": 30, "jwks_request_timeout_ms": 5000,
		"jwks_queued_thread_timeout_ms": 2500, "refresh_rate_limit_time_window_ms": 10000, "refresh_rate_limit_count": 10,
		"cache_jwks_endpoint": true, "max_jwks_keys": -1, "max_jwks_response_size_bytes": 1048576,
		"jwks": map[string]any{"enable_ssl": false, "verify_hostnames": true, "trust_all": false, "pemtrustedcas_filepath": "ca.pem"},
	}
	if ps := problems(config); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
}

// The jwt domains of OpenSearch's shipped config.yml and of its
// multitenancy test config (compat/opensearch) are accepted as they are.
func TestReadConfig_OpenSearchSamples(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
	}{
		{name: "config/config.yml", config: map[string]any{
			"jwks_uri": "https://your-jwks-endpoint.com/.well-known/jwks.json", "signing_key": "base64 encoded HMAC key or public RSA/ECDSA pem key",
			"jwt_header": "Authorization", "jwt_url_parameter": nil, "jwt_clock_skew_tolerance_seconds": 30, "roles_key": nil, "subject_key": nil}},
		{name: "src/test/resources/multitenancy/config.yml", config: map[string]any{
			"signing_key": "bjBkNDBjYjg0LWJlZTMtMTFlNi1hZjdjLWNiOWFiYTM1YWJjNQ==", "jwt_header": "Authorization",
			"jwt_url_parameter": nil, "roles_key": "roles", "subject_key": "username"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ps := problems(tt.config); len(ps) > 0 {
				t.Fatalf("problems: %v", ps)
			}
		})
	}
}

func TestReadConfig_Modes(t *testing.T) {
	t.Run("jwks_uri selects JWKS mode and ignores signing_key", func(t *testing.T) {
		cfg := configOf(map[string]any{"jwks_uri": "https://idp/jwks", "signing_key": "base64 encoded HMAC key or public RSA/ECDSA pem key"}, "")
		c := ReadConfig(cfg)
		if err := cfg.Err(); err != nil {
			t.Fatal(err)
		}
		if !c.jwksMode() || c.SigningKeys != nil {
			t.Fatalf("config = %+v, want JWKS mode without signing keys", c)
		}
	})
	t.Run("blank jwks_uri falls back to static mode", func(t *testing.T) {
		cfg := configOf(map[string]any{"jwks_uri": " ", "signing_key": secretKey}, "")
		c := ReadConfig(cfg)
		if c.jwksMode() || len(c.SigningKeys) != 1 {
			t.Fatalf("config = %+v, want static mode with one key", c)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		cfg := configOf(map[string]any{"signing_key": secretKey}, "")
		c := ReadConfig(cfg)
		if c.Header != "Authorization" || c.Claims.ClockSkew != 30*time.Second || c.MaxTokenSize != 16384 || c.URLParameter != "" {
			t.Fatalf("defaults = %+v", c)
		}
		if c.JWKS.RequestTimeout != 5*time.Second || c.JWKS.QueueTimeout != 2500*time.Millisecond ||
			c.JWKS.RefreshLimit != 10 || c.JWKS.RefreshWindow != 10*time.Second || !c.JWKS.HTTPCache ||
			c.JWKS.MaxKeys != -1 || c.JWKS.MaxResponseBytes != 1<<20 {
			t.Fatalf("JWKS defaults = %+v", c.JWKS)
		}
	})
	t.Run("comma strings are nested paths and lists", func(t *testing.T) {
		cfg := sdk.NewConfigMap(map[string]any{"signing_key": secretKey + "," + jwttest.Shared("ES256", "cfg").SigningKey(),
			"subject_key": "attributes, sub", "roles_key": []any{"a", "b"}, "required_audience": "x, y"}, "", nil)
		c := ReadConfig(cfg)
		if err := cfg.Err(); err != nil {
			t.Fatal(err)
		}
		if len(c.SigningKeys) != 2 || !slices.Equal(c.Claims.SubjectKey, []string{"attributes", "sub"}) ||
			!slices.Equal(c.Claims.RolesKey, []string{"a", "b"}) || !slices.Equal(c.Claims.RequiredAudience, []string{"x", "y"}) {
			t.Fatalf("config = %+v", c)
		}
	})
}
