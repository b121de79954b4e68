package sdk

import (
	"math"
	"strconv"
	"strings"
)

// JavaDouble writes f as Java's Double.toString does (JDK 19 and later,
// which OpenSearch 3 runs on), which is also the text Jackson and Gson
// write for a Double: the shortest decimal that reads back as f, in plain
// notation with at least one fraction digit when 1e-3 <= |f| < 1e7
// ("100.0", "0.001", "-0.0"), else as d.dddE±n ("1.0E21", "1.0E-4"); NaN,
// Infinity and -Infinity by name. core writes config.yml's floats for a
// realm this way, as OpenSearch hands a realm's Settings Jackson's text;
// the jwt realm writes a numeric sub this way, as Nimbus prints it.
//
// Java picks among two-digit decimals too when the shortest has one
// digit, which changes the result for a few subnormal numbers only
// (Double.MIN_VALUE is "4.9E-324" there, "5.0E-324" here).
func JavaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0 && math.Signbit(f):
		return "-0.0"
	case f == 0:
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-05
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
