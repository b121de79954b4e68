package jwks

import (
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// A refresh_rate_limit_count so large (or a window so short) that the
// spacing of refreshes rounds down to nothing would be "no limit": every
// token with a made-up kid would fetch the key set (found by review). Such
// settings are config problems that say the allowed range.
func TestReadOptions_RefreshRateLimitBounds(t *testing.T) {
	tests := []struct {
		name         string
		config       string // JSON, as realmd hands it to the plugin
		wantKey      string // "" means no problem
		wantMessage  string
		wantInterval time.Duration // when no problem; a problem keeps the default 1s
	}{
		{name: "defaults", config: `{}`, wantInterval: time.Second},
		{name: "largest count", config: `{"refresh_rate_limit_count": 1000}`, wantInterval: 10 * time.Millisecond},
		{name: "shortest window for one refresh", config: `{"refresh_rate_limit_time_window_ms": 10, "refresh_rate_limit_count": 1}`, wantInterval: 10 * time.Millisecond},
		{name: "count zero is one per window", config: `{"refresh_rate_limit_time_window_ms": 60000, "refresh_rate_limit_count": 0}`, wantInterval: time.Minute},
		{name: "count one over the maximum", config: `{"refresh_rate_limit_count": 1001}`,
			wantKey: "refresh_rate_limit_count", wantMessage: "between 0 (one refresh per window) and 1000, not 1001"},
		{name: "count of a trillion", config: `{"refresh_rate_limit_count": 1000000000000}`,
			wantKey: "refresh_rate_limit_count", wantMessage: "(a Java int, as OpenSearch reads it), not \"1000000000000\""},
		{name: "count of the largest int64", config: `{"refresh_rate_limit_count": 9223372036854775807}`,
			wantKey: "refresh_rate_limit_count", wantMessage: "(a Java int, as OpenSearch reads it), not \"9223372036854775807\""},
		{name: "negative count", config: `{"refresh_rate_limit_count": -1}`,
			wantKey: "refresh_rate_limit_count", wantMessage: "between 0"},
		{name: "window shorter than the minimum spacing", config: `{"refresh_rate_limit_time_window_ms": 9, "refresh_rate_limit_count": 0}`,
			wantKey: "refresh_rate_limit_time_window_ms", wantMessage: "at least 10 ms"},
		{name: "short window with the default count", config: `{"refresh_rate_limit_time_window_ms": 50}`,
			wantKey: "refresh_rate_limit_time_window_ms", wantMessage: "5ms apart, closer than the minimum 10ms: the window must be at least 100 ms"},
		{name: "zero window", config: `{"refresh_rate_limit_time_window_ms": 0}`,
			wantKey: "refresh_rate_limit_time_window_ms", wantMessage: "positive"},
		{name: "negative window", config: `{"refresh_rate_limit_time_window_ms": -10000}`,
			wantKey: "refresh_rate_limit_time_window_ms", wantMessage: "positive"},
		{name: "huge window", config: `{"refresh_rate_limit_time_window_ms": 9223372036854775807}`,
			wantKey: "refresh_rate_limit_time_window_ms", wantMessage: "(a Java int, as OpenSearch reads it), not \"9223372036854775807\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := sdk.NewConfig([]byte(tt.config), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			o := ReadOptions(cfg, JWTKeys, true)
			ps := cfg.Problems()
			switch {
			case tt.wantKey == "" && len(ps) != 0:
				t.Fatalf("problems = %v, want none", ps)
			case tt.wantKey != "" && (len(ps) != 1 || ps[0].Key != tt.wantKey || !strings.Contains(ps[0].Message, tt.wantMessage)):
				t.Fatalf("problems = %v, want one at %s containing %q", ps, tt.wantKey, tt.wantMessage)
			}
			// A refused value leaves the default rate limit in its place.
			want := tt.wantInterval
			if tt.wantKey != "" {
				want = time.Second
			}
			o.URL = "https://idp.example/jwks"
			if o, err = o.withDefaults(); err != nil {
				t.Fatal(err)
			}
			if got := o.refreshInterval(); got != want {
				t.Errorf("refresh interval = %s, want %s", got, want)
			}
		})
	}
}

// max_jwks_response_size_bytes had no upper bound: the body is read whole
// into memory, and at 2^63-1 the read limit overflowed so that every key
// set read as empty (found by review).
func TestReadOptions_ResponseSizeBounds(t *testing.T) {
	tests := []struct {
		name        string
		config      string // JSON, as realmd hands it to the plugin
		wantProblem bool
		wantBytes   int64
	}{
		{name: "default", config: `{}`, wantBytes: 1 << 20},
		{name: "largest", config: `{"max_jwks_response_size_bytes": 16777216}`, wantBytes: 16 << 20},
		{name: "one over the largest", config: `{"max_jwks_response_size_bytes": 16777217}`, wantProblem: true},
		{name: "largest int64", config: `{"max_jwks_response_size_bytes": 9223372036854775807}`, wantProblem: true},
		{name: "zero", config: `{"max_jwks_response_size_bytes": 0}`, wantProblem: true},
		{name: "negative", config: `{"max_jwks_response_size_bytes": -1}`, wantProblem: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := sdk.NewConfig([]byte(tt.config), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			o := ReadOptions(cfg, JWTKeys, true)
			ps := cfg.Problems()
			if tt.wantProblem {
				if len(ps) != 1 || ps[0].Key != "max_jwks_response_size_bytes" || !strings.Contains(ps[0].Message, "between 1 and 16777216") {
					t.Fatalf("problems = %v, want one at max_jwks_response_size_bytes naming the range", ps)
				}
				tt.wantBytes = DefaultMaxResponseBytes
			} else if len(ps) != 0 {
				t.Fatalf("problems = %v, want none", ps)
			}
			if o.MaxResponseBytes != tt.wantBytes {
				t.Errorf("MaxResponseBytes = %d, want %d", o.MaxResponseBytes, tt.wantBytes)
			}
		})
	}
}
