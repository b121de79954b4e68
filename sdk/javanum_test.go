package sdk

import (
	"math"
	"testing"
)

// Expected values are Java's Double.toString, printed by a JDK.
func TestJavaDouble(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{
		{100, "100.0"}, {1, "1.0"}, {1e21, "1.0E21"}, {1e-4, "1.0E-4"}, {0.001, "0.001"},
		{1e7, "1.0E7"}, {9999999, "9999999.0"}, {1.2345678901234567e19, "1.2345678901234567E19"},
		{math.Copysign(0, -1), "-0.0"}, {2.5, "2.5"}, {0.999e-3, "9.99E-4"}, {123456.789, "123456.789"},
		{1e-5, "1.0E-5"}, {0.30000000000000004, "0.30000000000000004"}, {math.Inf(1), "Infinity"},
	} {
		if got := JavaDouble(tt.in); got != tt.want {
			t.Errorf("JavaDouble(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
