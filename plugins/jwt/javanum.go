package jwt

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// gsonNumber renders the JSON number n as OpenSearch's JWKS mode does:
// Nimbus reads numbers with Gson's LONG_OR_DOUBLE policy (a Long when the
// literal has no '.' and fits one, else a Double) and String.valueOf
// prints them. So 123 is "123", -0 is "0", 1.0 is "1.0", 1e2 is "100.0"
// and 12345678901234567890 is "1.2345678901234567E19".
func gsonNumber(n json.Number) string {
	s := n.String()
	if !strings.Contains(s, ".") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
	}
	f, _ := strconv.ParseFloat(s, 64) // ±Inf beyond the range, as Double.valueOf
	return javaDouble(f)
}

// javaDouble is Java's Double.toString (JDK 19 and later, which
// OpenSearch 3 runs on): the shortest decimal that reads back as f, in
// plain notation with at least one fraction digit when 1e-3 <= |f| < 1e7
// ("100.0", "0.001"), else as d.dddE±n ("1.0E21", "1.0E-4").
//
// Java picks among two-digit decimals too when the shortest has one
// digit, which changes the result for a few subnormal numbers only
// (Double.MIN_VALUE is "4.9E-324" there, "5.0E-324" here).
func javaDouble(f float64) string {
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
