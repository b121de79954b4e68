package jwt

import (
	"encoding/json"
	"math"
	"testing"
)

// Expected values are Java's (BigInteger.longValue, the long cast,
// Double.toString), printed by a JDK.
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
	for _, tt := range []struct {
		in   float64
		want string
	}{
		{100, "100.0"}, {1, "1.0"}, {1e21, "1.0E21"}, {1e-4, "1.0E-4"}, {0.001, "0.001"},
		{1e7, "1.0E7"}, {9999999, "9999999.0"}, {1.2345678901234567e19, "1.2345678901234567E19"},
		{math.Copysign(0, -1), "-0.0"}, {2.5, "2.5"}, {0.999e-3, "9.99E-4"}, {123456.789, "123456.789"},
		{1e-5, "1.0E-5"}, {0.30000000000000004, "0.30000000000000004"}, {math.Inf(1), "Infinity"},
	} {
		if got := javaDouble(tt.in); got != tt.want {
			t.Errorf("javaDouble(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
