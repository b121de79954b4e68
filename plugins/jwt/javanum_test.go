package jwt

import (
	"encoding/json"
	"math"
	"testing"
)

// Expected values are Java's (BigInteger.longValue, the long cast),
// printed by a JDK.
func TestJavaNumbers(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"-10000000000000000000", 8446744073709551616},
		{"18446744073709551617", 1},
		{"9223372036854775808", math.MinInt64},
		{"-9223372036854775809", math.MaxInt64},
		{"1e19", math.MaxInt64},
		{"-1e19", math.MinInt64},
		{"9.3e18", math.MaxInt64},
		{"-0.9", 0},
		{"1750003600.9", 1750003600},
	} {
		if got := jacksonLong(json.Number(tt.in)); got != tt.want {
			t.Errorf("jacksonLong(%s) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
